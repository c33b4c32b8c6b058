//! Result codes (`nrf_dfu_result_t`, SDK 17.1 `nrf_dfu_req_handler.h`) and extended error codes
//! (`nrf_dfu_ext_error_code_t`, `nrf_dfu_handling_error.h`). Unknown values stay representable so a
//! reply never fails to decode because of its code byte.

use std::fmt;

/// The third byte of every response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// 0x00 `INVALID`
    Invalid,
    /// 0x01 `SUCCESS`
    Success,
    /// 0x02 `OP_CODE_NOT_SUPPORTED`
    OpCodeNotSupported,
    /// 0x03 `INVALID_PARAMETER`
    InvalidParameter,
    /// 0x04 `INSUFFICIENT_RESOURCES`
    InsufficientResources,
    /// 0x05 `INVALID_OBJECT`
    InvalidObject,
    /// 0x06: not in SDK 12-17 headers; nrfutil lists it as "InvalidSignature", iOS as
    /// "signature mismatch". Kept as a named value because those clients name it.
    InvalidSignature,
    /// 0x07 `UNSUPPORTED_TYPE`
    UnsupportedType,
    /// 0x08 `OPERATION_NOT_PERMITTED`
    OperationNotPermitted,
    /// 0x0A `OPERATION_FAILED`
    OperationFailed,
    /// 0x0B `EXT_ERROR`: the next byte is an [`ExtError`] (SDK 13/14 and later).
    ExtError,
    /// Any other value (0x09, 0x0C..0xFF).
    Unknown(u8),
}

impl ResultCode {
    /// Every named code, in value order.
    pub const NAMED: [ResultCode; 11] = [
        ResultCode::Invalid,
        ResultCode::Success,
        ResultCode::OpCodeNotSupported,
        ResultCode::InvalidParameter,
        ResultCode::InsufficientResources,
        ResultCode::InvalidObject,
        ResultCode::InvalidSignature,
        ResultCode::UnsupportedType,
        ResultCode::OperationNotPermitted,
        ResultCode::OperationFailed,
        ResultCode::ExtError,
    ];

    pub fn from_u8(value: u8) -> ResultCode {
        match value {
            0x00 => ResultCode::Invalid,
            0x01 => ResultCode::Success,
            0x02 => ResultCode::OpCodeNotSupported,
            0x03 => ResultCode::InvalidParameter,
            0x04 => ResultCode::InsufficientResources,
            0x05 => ResultCode::InvalidObject,
            0x06 => ResultCode::InvalidSignature,
            0x07 => ResultCode::UnsupportedType,
            0x08 => ResultCode::OperationNotPermitted,
            0x0A => ResultCode::OperationFailed,
            0x0B => ResultCode::ExtError,
            other => ResultCode::Unknown(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            ResultCode::Invalid => 0x00,
            ResultCode::Success => 0x01,
            ResultCode::OpCodeNotSupported => 0x02,
            ResultCode::InvalidParameter => 0x03,
            ResultCode::InsufficientResources => 0x04,
            ResultCode::InvalidObject => 0x05,
            ResultCode::InvalidSignature => 0x06,
            ResultCode::UnsupportedType => 0x07,
            ResultCode::OperationNotPermitted => 0x08,
            ResultCode::OperationFailed => 0x0A,
            ResultCode::ExtError => 0x0B,
            ResultCode::Unknown(v) => v,
        }
    }

    /// The SDK name without its `NRF_DFU_RES_CODE_` prefix, e.g. `INSUFFICIENT_RESOURCES`.
    pub fn name(self) -> &'static str {
        match self {
            ResultCode::Invalid => "INVALID",
            ResultCode::Success => "SUCCESS",
            ResultCode::OpCodeNotSupported => "OP_CODE_NOT_SUPPORTED",
            ResultCode::InvalidParameter => "INVALID_PARAMETER",
            ResultCode::InsufficientResources => "INSUFFICIENT_RESOURCES",
            ResultCode::InvalidObject => "INVALID_OBJECT",
            ResultCode::InvalidSignature => "INVALID_SIGNATURE",
            ResultCode::UnsupportedType => "UNSUPPORTED_TYPE",
            ResultCode::OperationNotPermitted => "OPERATION_NOT_PERMITTED",
            ResultCode::OperationFailed => "OPERATION_FAILED",
            ResultCode::ExtError => "EXT_ERROR",
            ResultCode::Unknown(_) => "UNKNOWN",
        }
    }

    /// One line: what the code means and what typically causes it (SDK 15+ unless noted).
    pub fn explanation(self) -> &'static str {
        match self {
            ResultCode::Invalid => "invalid result code; no bootloader sends it, so the reply is corrupt or from a broken peer",
            ResultCode::Success => "the request succeeded",
            ResultCode::OpCodeNotSupported => "the bootloader does not handle this opcode: unknown opcode, or one removed by NRF_DFU_PROTOCOL_REDUCED (BLE 15.3+)",
            ResultCode::InvalidParameter => "a parameter is wrong: object size 0, a data object that is not page-aligned and not the last, a write past the object; SDK 12/14: wrong request length or unknown opcode",
            ResultCode::InsufficientResources => "the object does not fit: init packet over 256/512 bytes, data object over 4096 bytes, or the image does not fit in flash (init EXECUTE)",
            ResultCode::InvalidObject => "object rejected: bad object type, undecodable init packet, signature verification failed, data CREATE erase refused, or post-validation failed",
            ResultCode::InvalidSignature => "signature mismatch; named by nrfutil and iOS but never sent by SDK 12-17 bootloaders (they answer INVALID_OBJECT)",
            ResultCode::UnsupportedType => "unknown object type in SELECT/CREATE (SDK 12/14; 15+ answers INVALID_OBJECT)",
            ResultCode::OperationNotPermitted => "wrong state: data sent before the init packet was executed, object overflows the image, or EXECUTE of an incomplete object",
            ResultCode::OperationFailed => "the bootloader failed internally: settings write after init EXECUTE, hash engine error, bad signature length; SDK 12: every version/hw/sd_req check fails with this",
            ResultCode::ExtError => "extended error: the next byte names the reason (SDK 13/14 and later)",
            ResultCode::Unknown(_) => "result code not defined by any SDK 12-17 bootloader",
        }
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} {}", self.as_u8(), self.name())
    }
}

/// The fourth byte of an extended error response `60 <op> 0B <ext>` (SDK 13/14 and later;
/// values identical in 14, 15, 16 and 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtError {
    /// 0x00 `NO_ERROR`
    NoError,
    /// 0x01 `INVALID_ERROR_CODE`
    InvalidErrorCode,
    /// 0x02 `WRONG_COMMAND_FORMAT`
    WrongCommandFormat,
    /// 0x03 `UNKNOWN_COMMAND`
    UnknownCommand,
    /// 0x04 `INIT_COMMAND_INVALID`
    InitCommandInvalid,
    /// 0x05 `FW_VERSION_FAILURE`
    FwVersionFailure,
    /// 0x06 `HW_VERSION_FAILURE`
    HwVersionFailure,
    /// 0x07 `SD_VERSION_FAILURE`
    SdVersionFailure,
    /// 0x08 `SIGNATURE_MISSING`
    SignatureMissing,
    /// 0x09 `WRONG_HASH_TYPE`
    WrongHashType,
    /// 0x0A `HASH_FAILED`
    HashFailed,
    /// 0x0B `WRONG_SIGNATURE_TYPE`
    WrongSignatureType,
    /// 0x0C `VERIFICATION_FAILED`
    VerificationFailed,
    /// 0x0D `INSUFFICIENT_SPACE`
    InsufficientSpace,
    /// 0x0E: only in nrfutil's text table ("firmware already present"); not in SDK 12-17.
    FwAlreadyPresent,
    /// Any other value.
    Unknown(u8),
}

impl ExtError {
    /// Every named code, in value order.
    pub const NAMED: [ExtError; 15] = [
        ExtError::NoError,
        ExtError::InvalidErrorCode,
        ExtError::WrongCommandFormat,
        ExtError::UnknownCommand,
        ExtError::InitCommandInvalid,
        ExtError::FwVersionFailure,
        ExtError::HwVersionFailure,
        ExtError::SdVersionFailure,
        ExtError::SignatureMissing,
        ExtError::WrongHashType,
        ExtError::HashFailed,
        ExtError::WrongSignatureType,
        ExtError::VerificationFailed,
        ExtError::InsufficientSpace,
        ExtError::FwAlreadyPresent,
    ];

    pub fn from_u8(value: u8) -> ExtError {
        match value {
            0x00 => ExtError::NoError,
            0x01 => ExtError::InvalidErrorCode,
            0x02 => ExtError::WrongCommandFormat,
            0x03 => ExtError::UnknownCommand,
            0x04 => ExtError::InitCommandInvalid,
            0x05 => ExtError::FwVersionFailure,
            0x06 => ExtError::HwVersionFailure,
            0x07 => ExtError::SdVersionFailure,
            0x08 => ExtError::SignatureMissing,
            0x09 => ExtError::WrongHashType,
            0x0A => ExtError::HashFailed,
            0x0B => ExtError::WrongSignatureType,
            0x0C => ExtError::VerificationFailed,
            0x0D => ExtError::InsufficientSpace,
            0x0E => ExtError::FwAlreadyPresent,
            other => ExtError::Unknown(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            ExtError::NoError => 0x00,
            ExtError::InvalidErrorCode => 0x01,
            ExtError::WrongCommandFormat => 0x02,
            ExtError::UnknownCommand => 0x03,
            ExtError::InitCommandInvalid => 0x04,
            ExtError::FwVersionFailure => 0x05,
            ExtError::HwVersionFailure => 0x06,
            ExtError::SdVersionFailure => 0x07,
            ExtError::SignatureMissing => 0x08,
            ExtError::WrongHashType => 0x09,
            ExtError::HashFailed => 0x0A,
            ExtError::WrongSignatureType => 0x0B,
            ExtError::VerificationFailed => 0x0C,
            ExtError::InsufficientSpace => 0x0D,
            ExtError::FwAlreadyPresent => 0x0E,
            ExtError::Unknown(v) => v,
        }
    }

    /// The SDK name without its `NRF_DFU_EXT_ERROR_` prefix, e.g. `FW_VERSION_FAILURE`.
    pub fn name(self) -> &'static str {
        match self {
            ExtError::NoError => "NO_ERROR",
            ExtError::InvalidErrorCode => "INVALID_ERROR_CODE",
            ExtError::WrongCommandFormat => "WRONG_COMMAND_FORMAT",
            ExtError::UnknownCommand => "UNKNOWN_COMMAND",
            ExtError::InitCommandInvalid => "INIT_COMMAND_INVALID",
            ExtError::FwVersionFailure => "FW_VERSION_FAILURE",
            ExtError::HwVersionFailure => "HW_VERSION_FAILURE",
            ExtError::SdVersionFailure => "SD_VERSION_FAILURE",
            ExtError::SignatureMissing => "SIGNATURE_MISSING",
            ExtError::WrongHashType => "WRONG_HASH_TYPE",
            ExtError::HashFailed => "HASH_FAILED",
            ExtError::WrongSignatureType => "WRONG_SIGNATURE_TYPE",
            ExtError::VerificationFailed => "VERIFICATION_FAILED",
            ExtError::InsufficientSpace => "INSUFFICIENT_SPACE",
            ExtError::FwAlreadyPresent => "FW_ALREADY_PRESENT",
            ExtError::Unknown(_) => "UNKNOWN",
        }
    }

    /// One line: what the code means and what typically causes it (SDK 15+ unless noted).
    pub fn explanation(self) -> &'static str {
        match self {
            ExtError::NoError => "no extended error was recorded; seeing it in an error reply points at a bootloader bug",
            ExtError::InvalidErrorCode => "placeholder code that no released bootloader sends",
            ExtError::WrongCommandFormat => "command format error; defined but not sent (format errors use OP_CODE_NOT_SUPPORTED or INVALID_PARAMETER)",
            ExtError::UnknownCommand => "command parsed but not supported; defined but not sent by the bootloader",
            ExtError::InitCommandInvalid => "init packet invalid: missing or bad update type, hw_version, image size or a required fw_version",
            ExtError::FwVersionFailure => "firmware version too low: app fw_version below the installed one, or a bootloader version not above the installed one",
            ExtError::HwVersionFailure => "hw_version in the init packet differs from the bootloader's NRF_DFU_HW_VERSION (52 by default)",
            ExtError::SdVersionFailure => "sd_req in the init packet does not list the FWID of the installed SoftDevice",
            ExtError::SignatureMissing => "the bootloader requires a signed init packet and this one is unsigned",
            ExtError::WrongHashType => "the init packet's hash type is not SHA-256",
            ExtError::HashFailed => "the image hash could not be computed; not sent by 17.1 (it answers OPERATION_FAILED)",
            ExtError::WrongSignatureType => "the init packet's signature type is not ECDSA P-256 with SHA-256",
            ExtError::VerificationFailed => "the SHA-256 of the received image differs from the init packet's hash (final EXECUTE)",
            ExtError::InsufficientSpace => "not enough flash for the image; defined but not sent by 17.1 (it answers INSUFFICIENT_RESOURCES)",
            ExtError::FwAlreadyPresent => "firmware already present; listed by nrfutil only, never sent by SDK 12-17 bootloaders",
            ExtError::Unknown(_) => "extended error code not defined by any SDK 14-17 bootloader",
        }
    }
}

impl fmt::Display for ExtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} {}", self.as_u8(), self.name())
    }
}
