//! Typed errors for control-point requests, responses and dialects.

use std::fmt;

use super::dialect::Transport;
use super::opcode::{OpByte, Opcode};
use super::result::ResultCode;
use crate::SdkVersion;

/// A byte string is not a well-formed request (canonical layouts: the `nrf_dfu_request_*_t`
/// structs of SDK 17.1 `nrf_dfu_req_handler.h`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("empty control-point request: there is no opcode byte")]
    Empty,
    #[error("0x{0:02X} is not a request opcode (0x05 is unused, 0x60 is the response opcode)")]
    UnknownOpcode(u8),
    #[error("{op} request is {}, expected {expected}", Bytes(*len))]
    Length {
        op: Opcode,
        len: usize,
        expected: usize,
    },
}

/// A byte string is not a well-formed response to the request it answers (SDK 17.1
/// `nrf_dfu_ble.c` `ble_dfu_req_handler_callback`, `nrf_dfu_serial.c` `dfu_req_handler_rsp_clbk`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    #[error("response is {}, shorter than the 3-byte header `60 <opcode> <result>`", Bytes(*len))]
    Truncated { len: usize },
    #[error("response starts with 0x{first:02X}, not the response opcode 0x60")]
    NotAResponse { first: u8 },
    #[error("{}", other_opcode(*request, *expected, *got))]
    OtherOpcode { request: u8, expected: u8, got: u8 },
    #[error("{what} is {}, expected {expected}", Bytes(*len))]
    Length {
        what: ResponseKind,
        len: usize,
        expected: ExpectedLen,
    },
    #[error("success response to opcode {} has no defined layout", OpByte(*op))]
    NoLayout { op: u8 },
}

fn other_opcode(request: u8, expected: u8, got: u8) -> String {
    if request == expected {
        format!(
            "response answers opcode {}, but the request was {}",
            OpByte(got),
            OpByte(request)
        )
    } else {
        format!(
            "response answers opcode {}, but a {} request is answered as {}",
            OpByte(got),
            OpByte(request),
            OpByte(expected)
        )
    }
}

/// "1 byte", "7 bytes".
struct Bytes(usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 byte"),
            n => write!(f, "{n} bytes"),
        }
    }
}

/// Which response a length error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// A success response to this opcode.
    Success(Opcode),
    /// An error response `60 <op> <result>`.
    Error { op: u8, result: ResultCode },
    /// An extended error response `60 <op> 0B <ext>`.
    Extended { op: u8 },
}

impl fmt::Display for ResponseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseKind::Success(op) => write!(f, "{op} response"),
            ResponseKind::Error { op, result } => {
                write!(f, "error response ({result}) to {}", OpByte(*op))
            }
            ResponseKind::Extended { op } => {
                write!(f, "extended error response to {}", OpByte(*op))
            }
        }
    }
}

/// The length a response should have had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedLen {
    Exactly(usize),
    /// The full length, or 3 for the bare `60 <op> 01` that BLE 15.0+ sends instead.
    FullOrBare(usize),
}

impl fmt::Display for ExpectedLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedLen::Exactly(n) => write!(f, "{n}"),
            ExpectedLen::FullOrBare(n) => write!(f, "{n} (or 3 for the bare BLE form)"),
        }
    }
}

/// No bootloader exists for this SDK version and transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialectError {
    #[error("{0} has no Secure DFU serial transport (its bootloader_secure example is BLE only)")]
    NoSerialTransport(SdkVersion),
    #[error("NRF_DFU_PROTOCOL_REDUCED exists only for BLE bootloaders of SDK 15.3 and later, not {sdk} {transport}")]
    ReducedNotAvailable {
        sdk: SdkVersion,
        transport: Transport,
    },
}
