//! Device side: what a bootloader of a given dialect makes of raw control-point bytes.
//!
//! 15+ transports read parameters at fixed offsets without a length check: BLE
//! `on_ctrl_pt_write` in `nrf_dfu_ble.c` (15.x and 16.0 read; it is wrapped in
//! `lint -save -e415 -e416: Out-of-bounds access on p_ble_write_evt->data`) and serial
//! `nrf_dfu_serial_on_packet_received` in `nrf_dfu_serial.c` (16.0 read); 17.1's
//! `on_ctrl_pt_write` is the same. Bytes past the end of a message are
//! therefore whatever the receive buffer still holds: the SoftDevice event buffer on BLE, the
//! reused RX buffer on serial. The model takes those stale bytes from the caller (typically the
//! previous message) and reads zeros beyond them. 12/14 (`nrf_ble_dfu.c`, `nrf_serial_dfu.c`)
//! check lengths first and answer `60 <op> 03`.

use std::cell::Cell;

use super::dialect::{Dialect, LengthRule, Transport};
use super::opcode::Opcode;
use super::request::Request;
use super::response::Response;
use super::result::ResultCode;

/// A request the bootloader hands to its request handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    pub request: Request,
    /// How many of the bytes the bootloader read lay past the end of the message (taken from
    /// the stale buffer, or zero). Non-zero only under [`LengthRule::FixedOffsets`] or for an
    /// empty message (whose opcode byte is stale in every SDK).
    pub stale_bytes: usize,
}

/// Outcome of [`Dialect::device_decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecode {
    /// Handled: pass to the request handler.
    Request(DeviceRequest),
    /// Refused by the transport or handler before any state changes: send these bytes.
    Reply { response: Response, bytes: Vec<u8> },
    /// Serial only: an empty frame whose stale opcode byte is OBJECT_WRITE. The transport
    /// computes the payload length as `0 - 1` in a u16, i.e. 65535; the request handler's
    /// size check then rejects the write (INVALID_PARAMETER, or OPERATION_NOT_PERMITTED before
    /// an init packet is executed), reported only at a PRN boundary like any write error.
    WriteLengthUnderflow,
}

impl Dialect {
    /// Decode `raw` as this bootloader does, with zeros past the end of the message.
    pub fn device_decode(&self, raw: &[u8]) -> DeviceDecode {
        self.device_decode_with_stale(raw, &[])
    }

    /// Decode `raw` as this bootloader does; byte `i >= raw.len()` reads as `stale[i]` (the
    /// receive buffer's earlier contents, indexed from the opcode byte), or 0 beyond `stale`.
    pub fn device_decode_with_stale(&self, raw: &[u8], stale: &[u8]) -> DeviceDecode {
        let stale_reads = Cell::new(0usize);
        let read = |i: usize| -> u8 {
            match raw.get(i) {
                Some(b) => *b,
                None => {
                    stale_reads.set(stale_reads.get() + 1);
                    stale.get(i).copied().unwrap_or(0)
                }
            }
        };

        let op_byte = read(0);
        let op = match Opcode::from_u8(op_byte) {
            Some(op) if self.is_supported(op) => op,
            _ => {
                return self.reply(Response::Error {
                    op: op_byte,
                    result: self.unsupported_result(),
                })
            }
        };
        if self.length_rule() == LengthRule::Exact {
            if let Some(required) = self.required_len(op) {
                if raw.len() != required {
                    return self.reply(Response::Error {
                        op: op_byte,
                        result: ResultCode::InvalidParameter,
                    });
                }
            }
        }

        let request = if op == Opcode::ObjectWrite {
            match self.transport() {
                // BLE 15+ never sets write.p_data/len for a control-point write.
                Transport::Ble => Request::Write { data: Vec::new() },
                Transport::Uart => match raw.split_first() {
                    Some((_, payload)) => Request::Write {
                        data: payload.to_vec(),
                    },
                    None => return DeviceDecode::WriteLengthUnderflow,
                },
            }
        } else if self.parses_parameters(op) {
            let at = |i: usize| read(1 + i);
            match Request::from_params(op, &at, &[]) {
                Some(request) => request,
                None => {
                    return self.reply(Response::Error {
                        op: op_byte,
                        result: self.unsupported_result(),
                    })
                }
            }
        } else {
            // Parameters not parsed by this transport reach the handler zero-initialised.
            match Request::from_params(op, &|_| 0, &[]) {
                Some(request) => request,
                None => {
                    return self.reply(Response::Error {
                        op: op_byte,
                        result: self.unsupported_result(),
                    })
                }
            }
        };
        DeviceDecode::Request(DeviceRequest {
            request,
            stale_bytes: stale_reads.get(),
        })
    }

    fn reply(&self, response: Response) -> DeviceDecode {
        let bytes = self.encode_response(&response);
        DeviceDecode::Reply { response, bytes }
    }
}
