//! Control-point responses: `60 <request opcode> <result> [payload]` (SDK 17.1 `nrf_dfu_ble.c`
//! `ble_dfu_req_handler_callback`, `nrf_dfu_serial.c` `dfu_req_handler_rsp_clbk`).
//!
//! Decoding needs the opcode of the request being answered, because the payload layout is
//! not self-describing. Encoding here is canonical (full payloads); what a given bootloader
//! actually puts on the wire is [`super::Dialect::encode_response`].

use super::error::{ExpectedLen, ResponseError, ResponseKind};
use super::opcode::{FirmwareType, Opcode};
use super::result::{ExtError, ResultCode};

/// First byte of every response.
pub const RESPONSE_OPCODE: u8 = 0x60;

/// One control-point response or notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Response {
    /// SELECT success: `60 06 01 <max_size:u32> <offset:u32> <crc:u32>` (15 bytes).
    Select {
        max_size: u32,
        offset: u32,
        crc: u32,
    },
    /// CRC_GET success, and also the unsolicited PRN notification after OBJECT_WRITEs:
    /// `60 03 01 <offset:u32> <crc:u32>` (11 bytes).
    Crc { offset: u32, crc: u32 },
    /// CREATE success `60 01 01`.
    Create,
    /// EXECUTE success `60 04 01`.
    Execute,
    /// SET_PRN success `60 02 01`.
    SetPrn,
    /// ABORT success `60 0C 01` (the device then closes its transports and resets).
    Abort,
    /// PROTOCOL_VERSION success `60 00 01 <version:u8>` (serial 15+; the value is 1).
    ProtocolVersion { version: u8 },
    /// MTU_GET success `60 07 01 <mtu:u16>` (17.1 UART: 131).
    Mtu { mtu: u16 },
    /// PING success `60 09 01 <id:u8>`.
    Ping { id: u8 },
    /// HARDWARE_VERSION success `60 0A 01` + five u32 (23 bytes).
    HardwareVersion {
        part: u32,
        variant: u32,
        rom_size: u32,
        ram_size: u32,
        rom_page_size: u32,
    },
    /// FIRMWARE_VERSION success `60 0B 01 <type:u8> <version:u32> <addr:u32> <len:u32>` (16 bytes).
    FirmwareVersion {
        image_type: FirmwareType,
        version: u32,
        addr: u32,
        len: u32,
    },
    /// Success without its payload, `60 <op> 01`: what BLE 15.0+ bootloaders send for
    /// PROTOCOL_VERSION, MTU_GET, PING, HARDWARE_VERSION and FIRMWARE_VERSION because their
    /// BLE response encoder adds no payload for those opcodes. Only meaningful for those five.
    Bare { op: Opcode },
    /// Failure `60 <op> <result>`. `op` is the raw request opcode echoed by the device (it may
    /// be an unknown value); `result` is neither SUCCESS nor EXT_ERROR.
    Error { op: u8, result: ResultCode },
    /// Extended failure `60 <op> 0B <ext>` (SDK 13/14 and later).
    ExtendedError { op: u8, ext: ExtError },
}

/// Opcodes whose success payload the BLE 15.0+ encoder drops (`ble_dfu_req_handler_callback` in
/// `nrf_dfu_ble.c` adds a payload only to SELECT and CRC_GET replies).
pub(crate) fn payload_dropped_on_ble(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::ProtocolVersion
            | Opcode::MtuGet
            | Opcode::Ping
            | Opcode::HardwareVersion
            | Opcode::FirmwareVersion
    )
}

/// The opcode byte a response to `request` carries. OBJECT_WRITE is never answered by itself:
/// the PRN notification (or a write error, at a PRN boundary) is formatted as a CRC_GET reply.
/// Only a device that does not know the opcode at all answers `60 08 <error>`.
pub fn answering_opcode(request: u8) -> u8 {
    if request == Opcode::ObjectWrite.as_u8() {
        Opcode::CrcGet.as_u8()
    } else {
        request
    }
}

impl Response {
    /// The request opcode byte this response carries (byte 1).
    pub fn request_opcode(&self) -> u8 {
        match self {
            Response::Select { .. } => Opcode::ObjectSelect.as_u8(),
            Response::Crc { .. } => Opcode::CrcGet.as_u8(),
            Response::Create => Opcode::ObjectCreate.as_u8(),
            Response::Execute => Opcode::ObjectExecute.as_u8(),
            Response::SetPrn => Opcode::ReceiptNotifSet.as_u8(),
            Response::Abort => Opcode::Abort.as_u8(),
            Response::ProtocolVersion { .. } => Opcode::ProtocolVersion.as_u8(),
            Response::Mtu { .. } => Opcode::MtuGet.as_u8(),
            Response::Ping { .. } => Opcode::Ping.as_u8(),
            Response::HardwareVersion { .. } => Opcode::HardwareVersion.as_u8(),
            Response::FirmwareVersion { .. } => Opcode::FirmwareVersion.as_u8(),
            Response::Bare { op } => op.as_u8(),
            Response::Error { op, .. } | Response::ExtendedError { op, .. } => *op,
        }
    }

    /// The result code (byte 2).
    pub fn result(&self) -> ResultCode {
        match self {
            Response::Error { result, .. } => *result,
            Response::ExtendedError { .. } => ResultCode::ExtError,
            _ => ResultCode::Success,
        }
    }

    pub fn is_success(&self) -> bool {
        self.result() == ResultCode::Success
    }

    /// The canonical encoding (full payloads; bare only for [`Response::Bare`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(23);
        out.extend_from_slice(&[
            RESPONSE_OPCODE,
            self.request_opcode(),
            self.result().as_u8(),
        ]);
        let mut put = |v: u32| out.extend_from_slice(&v.to_le_bytes());
        match self {
            Response::Select {
                max_size,
                offset,
                crc,
            } => {
                put(*max_size);
                put(*offset);
                put(*crc);
            }
            Response::Crc { offset, crc } => {
                put(*offset);
                put(*crc);
            }
            Response::HardwareVersion {
                part,
                variant,
                rom_size,
                ram_size,
                rom_page_size,
            } => {
                for v in [*part, *variant, *rom_size, *ram_size, *rom_page_size] {
                    put(v);
                }
            }
            Response::FirmwareVersion {
                image_type,
                version,
                addr,
                len,
            } => {
                out.push(image_type.as_u8());
                for v in [*version, *addr, *len] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            Response::ProtocolVersion { version } => out.push(*version),
            Response::Mtu { mtu } => out.extend_from_slice(&mtu.to_le_bytes()),
            Response::Ping { id } => out.push(*id),
            Response::ExtendedError { ext, .. } => out.push(ext.as_u8()),
            Response::Create
            | Response::Execute
            | Response::SetPrn
            | Response::Abort
            | Response::Bare { .. }
            | Response::Error { .. } => {}
        }
        out
    }

    /// Decode the response to a request with opcode `request`.
    ///
    /// A 3-byte success to PROTOCOL_VERSION, MTU_GET, PING, HARDWARE_VERSION or
    /// FIRMWARE_VERSION decodes as [`Response::Bare`] whatever the dialect: the value is simply
    /// not available (BLE 15.0+ sends it that way).
    pub fn decode(bytes: &[u8], request: Opcode) -> Result<Response, ResponseError> {
        Response::decode_raw(bytes, request.as_u8())
    }

    /// Decode the response to a request whose opcode byte is `request`, known or not (a device
    /// answers unknown opcodes with an error response that echoes them).
    pub fn decode_raw(bytes: &[u8], request: u8) -> Result<Response, ResponseError> {
        let [first, op, result, payload @ ..] = bytes else {
            return Err(ResponseError::Truncated { len: bytes.len() });
        };
        if *first != RESPONSE_OPCODE {
            return Err(ResponseError::NotAResponse { first: *first });
        }
        let expected = answering_opcode(request);
        // A refused OBJECT_WRITE (BLE 12/14 control point: unknown opcode) echoes 0x08 itself.
        let echoed_failure = *op == request && *result != ResultCode::Success.as_u8();
        if *op != expected && !echoed_failure {
            return Err(ResponseError::OtherOpcode {
                request,
                expected,
                got: *op,
            });
        }
        let len = bytes.len();
        match ResultCode::from_u8(*result) {
            ResultCode::Success => decode_success(request, payload, len),
            ResultCode::ExtError => match payload {
                [ext] => Ok(Response::ExtendedError {
                    op: *op,
                    ext: ExtError::from_u8(*ext),
                }),
                _ => Err(length(
                    ResponseKind::Extended { op: *op },
                    len,
                    ExpectedLen::Exactly(4),
                )),
            },
            result if payload.is_empty() => Ok(Response::Error { op: *op, result }),
            result => Err(length(
                ResponseKind::Error { op: *op, result },
                len,
                ExpectedLen::Exactly(3),
            )),
        }
    }
}

fn length(what: ResponseKind, len: usize, expected: ExpectedLen) -> ResponseError {
    ResponseError::Length {
        what,
        len,
        expected,
    }
}

/// Little-endian u32 at `at`; callers check the payload length first.
fn le_u32(payload: &[u8], at: usize) -> u32 {
    payload
        .get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

fn decode_success(request: u8, payload: &[u8], len: usize) -> Result<Response, ResponseError> {
    let op = match Opcode::from_u8(request) {
        Some(Opcode::Response) | None => return Err(ResponseError::NoLayout { op: request }),
        Some(op) => op,
    };
    // Payload length after the 3-byte header, for the full (non-bare) form.
    let full = match op {
        Opcode::ObjectSelect => 12,
        Opcode::CrcGet | Opcode::ObjectWrite => 8,
        Opcode::ProtocolVersion | Opcode::Ping => 1,
        Opcode::MtuGet => 2,
        Opcode::HardwareVersion => 20,
        Opcode::FirmwareVersion => 13,
        Opcode::ObjectCreate | Opcode::ObjectExecute | Opcode::ReceiptNotifSet | Opcode::Abort => 0,
        Opcode::Response => return Err(ResponseError::NoLayout { op: request }),
    };
    if payload.is_empty() && payload_dropped_on_ble(op) {
        return Ok(Response::Bare { op });
    }
    if payload.len() != full {
        let expected = if payload_dropped_on_ble(op) {
            ExpectedLen::FullOrBare(3 + full)
        } else {
            ExpectedLen::Exactly(3 + full)
        };
        return Err(length(ResponseKind::Success(op), len, expected));
    }
    let p = payload;
    Ok(match op {
        Opcode::ObjectSelect => Response::Select {
            max_size: le_u32(p, 0),
            offset: le_u32(p, 4),
            crc: le_u32(p, 8),
        },
        Opcode::CrcGet | Opcode::ObjectWrite => Response::Crc {
            offset: le_u32(p, 0),
            crc: le_u32(p, 4),
        },
        Opcode::ObjectCreate => Response::Create,
        Opcode::ObjectExecute => Response::Execute,
        Opcode::ReceiptNotifSet => Response::SetPrn,
        Opcode::Abort => Response::Abort,
        Opcode::ProtocolVersion => Response::ProtocolVersion {
            version: p.first().copied().unwrap_or(0),
        },
        Opcode::Ping => Response::Ping {
            id: p.first().copied().unwrap_or(0),
        },
        Opcode::MtuGet => Response::Mtu {
            mtu: u16::from_le_bytes([
                p.first().copied().unwrap_or(0),
                p.get(1).copied().unwrap_or(0),
            ]),
        },
        Opcode::HardwareVersion => Response::HardwareVersion {
            part: le_u32(p, 0),
            variant: le_u32(p, 4),
            rom_size: le_u32(p, 8),
            ram_size: le_u32(p, 12),
            rom_page_size: le_u32(p, 16),
        },
        Opcode::FirmwareVersion => Response::FirmwareVersion {
            image_type: FirmwareType::from_u8(p.first().copied().unwrap_or(0xFF)),
            version: le_u32(p, 1),
            addr: le_u32(p, 5),
            len: le_u32(p, 9),
        },
        Opcode::Response => return Err(ResponseError::NoLayout { op: request }),
    })
}
