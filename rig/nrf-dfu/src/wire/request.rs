//! Control-point requests in their canonical layouts (the `nrf_dfu_request_*_t` structs of SDK
//! 17.1 `nrf_dfu_req_handler.h`, as pc-nrfutil 6.1.7 packs them): what a client sends.
//!
//! [`Request::decode`] is strict (exact lengths). What a particular bootloader makes of
//! short, long or unknown requests is [`super::Dialect::device_decode`]'s job.

use super::error::RequestError;
use super::opcode::{ObjectType, Opcode};

/// One control-point request. Multi-byte fields are little-endian on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Request {
    /// `00`: ask for the protocol version (serial 15+ answers 1).
    ProtocolVersion,
    /// `01 <type:u8> <size:u32>`: create an object of `size` bytes. The type byte is kept raw
    /// because the bootloader, not the codec, rejects bad types (with a per-SDK code).
    Create { object_type: u8, size: u32 },
    /// `02 <count:u16>`: packet receipt notification every `count` packets; 0 disables.
    SetPrn { count: u16 },
    /// `03`: offset and running CRC of everything received so far.
    CrcGet,
    /// `04`: execute the object last named by SELECT/CREATE.
    Execute,
    /// `06 <type:u8>`: select an object type; answers max size, offset and CRC.
    Select { object_type: u8 },
    /// `07`: ask the serial MTU.
    MtuGet,
    /// `08 <data...>`: object data over serial (BLE uses the Packet characteristic instead).
    Write { data: Vec<u8> },
    /// `09 <id:u8>`: the device echoes `id`.
    Ping { id: u8 },
    /// `0A`: chip part, variant and memory sizes.
    HardwareVersion,
    /// `0B <image:u8>`: version of image 0 (bootloader), 1 (SoftDevice if present), next (app).
    FirmwareVersion { image: u8 },
    /// `0C`: abort the DFU; the device closes its transports and resets.
    Abort,
}

impl Request {
    /// CREATE for a typed object.
    pub fn create(object_type: ObjectType, size: u32) -> Request {
        Request::Create {
            object_type: object_type.as_u8(),
            size,
        }
    }

    /// SELECT for a typed object.
    pub fn select(object_type: ObjectType) -> Request {
        Request::Select {
            object_type: object_type.as_u8(),
        }
    }

    pub fn opcode(&self) -> Opcode {
        match self {
            Request::ProtocolVersion => Opcode::ProtocolVersion,
            Request::Create { .. } => Opcode::ObjectCreate,
            Request::SetPrn { .. } => Opcode::ReceiptNotifSet,
            Request::CrcGet => Opcode::CrcGet,
            Request::Execute => Opcode::ObjectExecute,
            Request::Select { .. } => Opcode::ObjectSelect,
            Request::MtuGet => Opcode::MtuGet,
            Request::Write { .. } => Opcode::ObjectWrite,
            Request::Ping { .. } => Opcode::Ping,
            Request::HardwareVersion => Opcode::HardwareVersion,
            Request::FirmwareVersion { .. } => Opcode::FirmwareVersion,
            Request::Abort => Opcode::Abort,
        }
    }

    /// The object type byte of SELECT/CREATE, whatever its value.
    pub fn raw_object_type(&self) -> Option<u8> {
        match self {
            Request::Create { object_type, .. } | Request::Select { object_type } => {
                Some(*object_type)
            }
            _ => None,
        }
    }

    /// The object type of SELECT/CREATE when it is 1 or 2; `None` for other requests and for
    /// bad type bytes (see [`Request::raw_object_type`]).
    pub fn object_type(&self) -> Option<ObjectType> {
        self.raw_object_type()
            .and_then(|t| ObjectType::try_from(t).ok())
    }

    /// Canonical length in bytes including the opcode; `None` for WRITE (1 + data length).
    pub fn fixed_len(op: Opcode) -> Option<usize> {
        Some(match op {
            Opcode::ObjectCreate => 6,
            Opcode::ReceiptNotifSet => 3,
            Opcode::ObjectSelect | Opcode::Ping | Opcode::FirmwareVersion => 2,
            Opcode::ObjectWrite | Opcode::Response => return None,
            Opcode::ProtocolVersion
            | Opcode::CrcGet
            | Opcode::ObjectExecute
            | Opcode::MtuGet
            | Opcode::HardwareVersion
            | Opcode::Abort => 1,
        })
    }

    pub fn encoded_len(&self) -> usize {
        match self {
            Request::Write { data } => 1 + data.len(),
            other => Request::fixed_len(other.opcode()).unwrap_or(1),
        }
    }

    /// The bytes a client writes to the control point (BLE) or puts in a SLIP frame (serial).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Append the encoding to `out` (avoids an allocation per OBJECT_WRITE).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.opcode().as_u8());
        match self {
            Request::Create { object_type, size } => {
                out.push(*object_type);
                out.extend_from_slice(&size.to_le_bytes());
            }
            Request::SetPrn { count } => out.extend_from_slice(&count.to_le_bytes()),
            Request::Select { object_type } => out.push(*object_type),
            Request::Write { data } => out.extend_from_slice(data),
            Request::Ping { id } => out.push(*id),
            Request::FirmwareVersion { image } => out.push(*image),
            Request::ProtocolVersion
            | Request::CrcGet
            | Request::Execute
            | Request::MtuGet
            | Request::HardwareVersion
            | Request::Abort => {}
        }
    }

    /// Decode a request in its canonical layout: exact lengths, known opcodes only.
    pub fn decode(bytes: &[u8]) -> Result<Request, RequestError> {
        let (&first, params) = bytes.split_first().ok_or(RequestError::Empty)?;
        let op = match Opcode::from_u8(first) {
            Some(Opcode::Response) | None => return Err(RequestError::UnknownOpcode(first)),
            Some(op) => op,
        };
        if let Some(expected) = Request::fixed_len(op) {
            if bytes.len() != expected {
                return Err(RequestError::Length {
                    op,
                    len: bytes.len(),
                    expected,
                });
            }
        }
        // Lengths are checked above, so the reads below see zeros only for impossible input.
        let at = |i: usize| params.get(i).copied().unwrap_or(0);
        Request::from_params(op, &at, params).ok_or(RequestError::UnknownOpcode(first))
    }

    /// Build the request for `op` reading parameter byte `i` (after the opcode) through `at`.
    /// Shared with the device decoder, which reads past the end like the bootloader does.
    /// `None` for [`Opcode::Response`], which is not a request.
    pub(crate) fn from_params(
        op: Opcode,
        at: &dyn Fn(usize) -> u8,
        write_data: &[u8],
    ) -> Option<Request> {
        Some(match op {
            Opcode::ProtocolVersion => Request::ProtocolVersion,
            Opcode::ObjectCreate => Request::Create {
                object_type: at(0),
                size: u32::from_le_bytes([at(1), at(2), at(3), at(4)]),
            },
            Opcode::ReceiptNotifSet => Request::SetPrn {
                count: u16::from_le_bytes([at(0), at(1)]),
            },
            Opcode::CrcGet => Request::CrcGet,
            Opcode::ObjectExecute => Request::Execute,
            Opcode::ObjectSelect => Request::Select { object_type: at(0) },
            Opcode::MtuGet => Request::MtuGet,
            Opcode::ObjectWrite => Request::Write {
                data: write_data.to_vec(),
            },
            Opcode::Ping => Request::Ping { id: at(0) },
            Opcode::HardwareVersion => Request::HardwareVersion,
            Opcode::FirmwareVersion => Request::FirmwareVersion { image: at(0) },
            Opcode::Abort => Request::Abort,
            Opcode::Response => return None,
        })
    }
}
