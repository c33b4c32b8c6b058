//! Control-point opcodes (`nrf_dfu_op_t`), object types (`nrf_dfu_obj_type_t`) and firmware types
//! (`nrf_dfu_firmware_type_t`, answered by FW_VERSION), all in SDK 17.1 `nrf_dfu_req_handler.h`.

use std::fmt;

/// A control-point opcode (`nrf_dfu_op_t`, SDK 15+ numbering; 12/14 use the same values).
///
/// 0x05 is not an opcode: nrfutil calls it "ReadError" and iOS "no such opcode", and no SDK
/// from 12 to 17 handles it, so `Opcode::from_u8(0x05)` is `None` and a device answers it as
/// an unknown opcode (see [`super::Dialect::unsupported_result`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Opcode {
    ProtocolVersion = 0x00,
    ObjectCreate = 0x01,
    ReceiptNotifSet = 0x02,
    CrcGet = 0x03,
    ObjectExecute = 0x04,
    ObjectSelect = 0x06,
    MtuGet = 0x07,
    ObjectWrite = 0x08,
    Ping = 0x09,
    HardwareVersion = 0x0A,
    FirmwareVersion = 0x0B,
    Abort = 0x0C,
    /// First byte of every response; never a request.
    Response = 0x60,
}

impl Opcode {
    /// Every opcode a client may send (all but [`Opcode::Response`]).
    pub const REQUESTS: [Opcode; 12] = [
        Opcode::ProtocolVersion,
        Opcode::ObjectCreate,
        Opcode::ReceiptNotifSet,
        Opcode::CrcGet,
        Opcode::ObjectExecute,
        Opcode::ObjectSelect,
        Opcode::MtuGet,
        Opcode::ObjectWrite,
        Opcode::Ping,
        Opcode::HardwareVersion,
        Opcode::FirmwareVersion,
        Opcode::Abort,
    ];

    /// The opcode with this value, or `None` for values no SDK defines (0x05, 0x0D..0x5F, ...).
    pub fn from_u8(value: u8) -> Option<Opcode> {
        Some(match value {
            0x00 => Opcode::ProtocolVersion,
            0x01 => Opcode::ObjectCreate,
            0x02 => Opcode::ReceiptNotifSet,
            0x03 => Opcode::CrcGet,
            0x04 => Opcode::ObjectExecute,
            0x06 => Opcode::ObjectSelect,
            0x07 => Opcode::MtuGet,
            0x08 => Opcode::ObjectWrite,
            0x09 => Opcode::Ping,
            0x0A => Opcode::HardwareVersion,
            0x0B => Opcode::FirmwareVersion,
            0x0C => Opcode::Abort,
            0x60 => Opcode::Response,
            _ => return None,
        })
    }

    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The SDK name without its `NRF_DFU_OP_` prefix, e.g. `OBJECT_SELECT`.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::ProtocolVersion => "PROTOCOL_VERSION",
            Opcode::ObjectCreate => "OBJECT_CREATE",
            Opcode::ReceiptNotifSet => "RECEIPT_NOTIF_SET",
            Opcode::CrcGet => "CRC_GET",
            Opcode::ObjectExecute => "OBJECT_EXECUTE",
            Opcode::ObjectSelect => "OBJECT_SELECT",
            Opcode::MtuGet => "MTU_GET",
            Opcode::ObjectWrite => "OBJECT_WRITE",
            Opcode::Ping => "PING",
            Opcode::HardwareVersion => "HARDWARE_VERSION",
            Opcode::FirmwareVersion => "FIRMWARE_VERSION",
            Opcode::Abort => "ABORT",
            Opcode::Response => "RESPONSE",
        }
    }

    /// Short label used in messages and logs, e.g. `SELECT`.
    pub fn label(self) -> &'static str {
        match self {
            Opcode::ProtocolVersion => "PROTOCOL_VERSION",
            Opcode::ObjectCreate => "CREATE",
            Opcode::ReceiptNotifSet => "SET_PRN",
            Opcode::CrcGet => "CRC_GET",
            Opcode::ObjectExecute => "EXECUTE",
            Opcode::ObjectSelect => "SELECT",
            Opcode::MtuGet => "MTU_GET",
            Opcode::ObjectWrite => "WRITE",
            Opcode::Ping => "PING",
            Opcode::HardwareVersion => "HW_VERSION",
            Opcode::FirmwareVersion => "FW_VERSION",
            Opcode::Abort => "ABORT",
            Opcode::Response => "RESPONSE",
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl From<Opcode> for u8 {
    fn from(op: Opcode) -> u8 {
        op as u8
    }
}

/// "0x06 (SELECT)" or "0x05 (unknown)": how messages name a raw opcode byte.
pub(crate) struct OpByte(pub u8);

impl fmt::Display for OpByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Opcode::from_u8(self.0) {
            Some(op) => write!(f, "0x{:02X} ({})", self.0, op.label()),
            None => write!(f, "0x{:02X} (unknown)", self.0),
        }
    }
}

/// The two DFU object types. SELECT and CREATE carry the type as a raw byte (see
/// [`super::Request::raw_object_type`]) because a device must answer bad values itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ObjectType {
    /// The init packet (`NRF_DFU_OBJ_TYPE_COMMAND`).
    Command = 1,
    /// Firmware image data (`NRF_DFU_OBJ_TYPE_DATA`).
    Data = 2,
}

impl ObjectType {
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectType::Command => "command",
            ObjectType::Data => "data",
        })
    }
}

/// An object type byte that is neither 1 (command) nor 2 (data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("object type 0x{0:02X} is neither 1 (command object) nor 2 (data object)")]
pub struct InvalidObjectType(pub u8);

impl TryFrom<u8> for ObjectType {
    type Error = InvalidObjectType;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(ObjectType::Command),
            2 => Ok(ObjectType::Data),
            other => Err(InvalidObjectType(other)),
        }
    }
}

/// Image kind in a FW_VERSION response (`nrf_dfu_firmware_type_t`, SDK 15+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FirmwareType {
    /// 0x00
    Softdevice,
    /// 0x01
    Application,
    /// 0x02
    Bootloader,
    /// 0xFF: the requested image index does not exist (the result is still SUCCESS).
    Unknown,
    /// Any other byte; no SDK sends one, kept so decoding never fails on it.
    Other(u8),
}

impl FirmwareType {
    pub fn from_u8(value: u8) -> FirmwareType {
        match value {
            0x00 => FirmwareType::Softdevice,
            0x01 => FirmwareType::Application,
            0x02 => FirmwareType::Bootloader,
            0xFF => FirmwareType::Unknown,
            other => FirmwareType::Other(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            FirmwareType::Softdevice => 0x00,
            FirmwareType::Application => 0x01,
            FirmwareType::Bootloader => 0x02,
            FirmwareType::Unknown => 0xFF,
            FirmwareType::Other(v) => v,
        }
    }
}
