//! The Secure DFU control-point protocol (SDK 17.1 `nrf_dfu_req_handler.h`, 12.3
//! `nrf_dfu_req_handler.h`): requests, responses, result and
//! extended error codes, and the per-SDK, per-transport dialect a bootloader speaks.
//!
//! Both directions are here and nothing does I/O:
//! - a client encodes a [`Request`] and decodes the [`Response`] to it with
//!   [`Response::decode`] (given the request's [`Opcode`]);
//! - a device turns raw bytes into a request, or into the exact error reply its bootloader
//!   would send, with [`Dialect::device_decode`], and puts a [`Response`] on the wire with
//!   [`Dialect::encode_response`].
//!
//! All multi-byte integers are little-endian. On serial, these bytes travel in SLIP frames
//! ([`crate::slip`]); on BLE, requests are Control Point writes and responses notifications.

mod device;
mod dialect;
mod error;
mod opcode;
mod request;
mod response;
mod result;

pub use device::{DeviceDecode, DeviceRequest};
pub use dialect::{
    Dialect, LengthRule, Transport, PROTOCOL_VERSION, UART_MTU_SDK14, UART_MTU_SDK15,
};
pub use error::{DialectError, ExpectedLen, RequestError, ResponseError, ResponseKind};
pub use opcode::{FirmwareType, InvalidObjectType, ObjectType, Opcode};
pub use request::Request;
pub use response::{answering_opcode, Response, RESPONSE_OPCODE};
pub use result::{ExtError, ResultCode};

#[cfg(test)]
mod tests;
