//! Per-bootloader wire rules: which opcodes a given SDK version and
//! transport handles, what it answers otherwise, how it reads parameters and formats replies.
//!
//! Sources (SDK paths): BLE 12 `components/libraries/bootloader/ble_dfu/nrf_ble_dfu.c` (12.3),
//! BLE 13/14 same file (14.x), serial 13/14 `serial_dfu/nrf_serial_dfu.c`, BLE 15+
//! `ble_dfu/nrf_dfu_ble.c`, serial 15+ `serial_dfu/nrf_dfu_serial.c` and
//! `nrf_dfu_serial_uart.c`, request handler 15+ `dfu/nrf_dfu_req_handler.c`.

use std::fmt;

use super::error::DialectError;
use super::opcode::Opcode;
use super::response::{payload_dropped_on_ble, Response};
use super::result::ResultCode;
use crate::SdkVersion;

/// Value PROTOCOL_VERSION returns (`NRF_DFU_PROTOCOL_VERSION`, SDK 15+).
pub const PROTOCOL_VERSION: u8 = 0x01;

/// MTU a 15+ UART bootloader reports: `UART_SLIP_MTU = 2 * (RX_BUF_SIZE + 1) + 1` with a
/// 64-byte payload buffer (`nrf_dfu_serial_uart.c`). nrfutil derives 64-byte writes from it.
pub const UART_MTU_SDK15: u16 = 131;

/// MTU a 13/14 serial bootloader reports: `sizeof(recv_buffer)` = 256 + 1 (`nrf_serial_dfu.h`,
/// 13/14.0 read; 14.2 assumed identical).
pub const UART_MTU_SDK14: u16 = 257;

/// The DFU transport a bootloader is built with, and how it reaches the control point: `Ble`,
/// Control Point characteristic writes with data on the Packet characteristic; `Uart`, SLIP
/// frames over UART with data in OBJECT_WRITE frames (the SDK's serial transport,
/// `nrf_dfu_serial_uart.c`).
///
/// The one transport type of the workspace: bootloader descriptors, suite files and the DFU
/// client all use it. In text formats (descriptors, suites, journals) it is `ble` or `uart`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Ble,
    Uart,
}

impl Transport {
    /// The name in text formats: `ble` or `uart`.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Ble => "ble",
            Transport::Uart => "uart",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Ble => "BLE",
            Transport::Uart => "serial",
        })
    }
}

/// How a bootloader treats a request whose length differs from the canonical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthRule {
    /// SDK 12/14: CREATE, SELECT and SET_PRN (serial 14: also PING) must have exactly their
    /// canonical length, else `60 <op> 03`. Other opcodes ignore extra bytes.
    Exact,
    /// SDK 15+: no length check at all. Parameters are read at fixed offsets of the receive
    /// buffer, so missing bytes are whatever that buffer still holds from an earlier message
    /// (the BLE SoftDevice event buffer, or the serial RX buffer), and extra bytes are ignored.
    FixedOffsets,
}

/// One bootloader's wire dialect: SDK version + transport (+ the BLE REDUCED build option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dialect {
    sdk: SdkVersion,
    transport: Transport,
    protocol_reduced: bool,
}

impl Dialect {
    /// The dialect of the stock bootloader of `sdk` on `transport`. BLE 15.3+ defaults to
    /// `NRF_DFU_PROTOCOL_REDUCED=1` as in the SDK's sdk_config.h.
    pub fn new(sdk: SdkVersion, transport: Transport) -> Result<Dialect, DialectError> {
        if sdk == SdkVersion::Sdk12 && transport == Transport::Uart {
            // SDK 12.3 ships no serial_dfu directory; serial Secure DFU appeared in SDK 13.
            return Err(DialectError::NoSerialTransport(sdk));
        }
        let protocol_reduced = transport == Transport::Ble && sdk >= SdkVersion::Sdk15_3;
        Ok(Dialect {
            sdk,
            transport,
            protocol_reduced,
        })
    }

    /// The BLE dialect of `sdk` (exists for every version).
    pub fn ble(sdk: SdkVersion) -> Dialect {
        let protocol_reduced = sdk >= SdkVersion::Sdk15_3;
        Dialect {
            sdk,
            transport: Transport::Ble,
            protocol_reduced,
        }
    }

    /// Change the `NRF_DFU_PROTOCOL_REDUCED` build option. Only BLE 15.3+ has it (serial
    /// builds refuse to compile with it: 17.1 `nrf_dfu_serial.c` has an `#error`).
    pub fn with_protocol_reduced(self, reduced: bool) -> Result<Dialect, DialectError> {
        if reduced && !(self.transport == Transport::Ble && self.sdk >= SdkVersion::Sdk15_3) {
            return Err(DialectError::ReducedNotAvailable {
                sdk: self.sdk,
                transport: self.transport,
            });
        }
        Ok(Dialect {
            protocol_reduced: reduced,
            ..self
        })
    }

    /// Every stock dialect: each SDK version on BLE, and on serial from SDK 14 on.
    pub fn all() -> Vec<Dialect> {
        SdkVersion::ALL
            .iter()
            .flat_map(|&sdk| [Transport::Ble, Transport::Uart].map(|t| Dialect::new(sdk, t)))
            .filter_map(Result::ok)
            .collect()
    }

    pub fn sdk(&self) -> SdkVersion {
        self.sdk
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    pub fn protocol_reduced(&self) -> bool {
        self.protocol_reduced
    }

    /// Whether this bootloader handles `op` (the opcode switches of the sources above; 15.3+ BLE
    /// builds drop the optional ones under `NRF_DFU_PROTOCOL_REDUCED`). One case is easy to miss:
    /// BLE 15+ passes an `08` control-point write to the request handler
    /// as an OBJECT_WRITE of zero bytes (`on_ctrl_pt_write` has no case for it and the handler
    /// accepts it), so it counts as handled although BLE clients never send it.
    pub fn is_supported(&self, op: Opcode) -> bool {
        use Opcode::*;
        let ble = self.transport == Transport::Ble;
        match op {
            Response => false,
            ObjectCreate | ReceiptNotifSet | CrcGet | ObjectExecute | ObjectSelect => true,
            ObjectWrite => !ble || self.sdk >= SdkVersion::Sdk15_0,
            MtuGet | Ping if !ble && self.sdk == SdkVersion::Sdk14 => true,
            ProtocolVersion | MtuGet | Ping | HardwareVersion | FirmwareVersion => {
                self.sdk >= SdkVersion::Sdk15_0 && !self.protocol_reduced
            }
            // ABORT is outside the REDUCED #if in 15.3+ and handled from 15.0 on.
            Abort => self.sdk >= SdkVersion::Sdk15_0,
        }
    }

    /// [`Dialect::is_supported`] for a raw opcode byte (unknown values are never supported).
    pub fn supports_byte(&self, op: u8) -> bool {
        Opcode::from_u8(op).is_some_and(|op| self.is_supported(op))
    }

    /// Result code for an unsupported or unknown opcode: 15+ `OP_CODE_NOT_SUPPORTED`,
    /// 12/14 `INVALID_PARAMETER` (their transports' `default:` branch).
    pub fn unsupported_result(&self) -> ResultCode {
        if self.sdk >= SdkVersion::Sdk15_0 {
            ResultCode::OpCodeNotSupported
        } else {
            ResultCode::InvalidParameter
        }
    }

    pub fn length_rule(&self) -> LengthRule {
        if self.sdk >= SdkVersion::Sdk15_0 {
            LengthRule::FixedOffsets
        } else {
            LengthRule::Exact
        }
    }

    /// Under [`LengthRule::Exact`], the length (with opcode) a request must have.
    pub fn required_len(&self, op: Opcode) -> Option<usize> {
        if self.length_rule() != LengthRule::Exact {
            return None;
        }
        match op {
            Opcode::ObjectCreate => Some(6),
            Opcode::ReceiptNotifSet => Some(3),
            Opcode::ObjectSelect => Some(2),
            // (unverified) serial 14.2 PING; 13/14.0 had no PING. Assumed checked like SELECT.
            Opcode::Ping if self.transport == Transport::Uart => Some(2),
            _ => None,
        }
    }

    /// Whether the transport reads `op`'s parameter bytes. BLE never parses PING's id,
    /// FW_VERSION's image or WRITE's data on the control point (they reach the handler as 0 /
    /// empty); opcodes without parameters answer `false`.
    pub fn parses_parameters(&self, op: Opcode) -> bool {
        match op {
            Opcode::ObjectCreate | Opcode::ReceiptNotifSet | Opcode::ObjectSelect => true,
            Opcode::ObjectWrite | Opcode::Ping => self.transport == Transport::Uart,
            Opcode::FirmwareVersion => {
                self.transport == Transport::Uart && self.sdk >= SdkVersion::Sdk15_0
            }
            _ => false,
        }
    }

    /// Extended error responses `60 <op> 0B <ext>` exist from SDK 13/14 on.
    pub fn has_extended_errors(&self) -> bool {
        self.sdk.has_extended_errors()
    }

    /// Whether a success answer to `op` is the bare `60 <op> 01`: BLE 15.0+ for the opcodes
    /// whose payload its encoder omits (`ble_dfu_req_handler_callback` only adds payloads for
    /// SELECT and CRC_GET).
    pub fn sends_bare(&self, op: Opcode) -> bool {
        self.transport == Transport::Ble
            && self.sdk >= SdkVersion::Sdk15_0
            && payload_dropped_on_ble(op)
            && self.is_supported(op)
    }

    /// The PROTOCOL_VERSION value this bootloader puts on the wire, if it answers with one.
    pub fn protocol_version(&self) -> Option<u8> {
        (self.is_supported(Opcode::ProtocolVersion) && !self.sends_bare(Opcode::ProtocolVersion))
            .then_some(PROTOCOL_VERSION)
    }

    /// MTU_GET's value on serial (UART builds; USB CDC differs and is not modelled).
    pub fn serial_mtu(&self) -> Option<u16> {
        match self.transport {
            Transport::Ble => None,
            Transport::Uart if self.sdk >= SdkVersion::Sdk15_0 => Some(UART_MTU_SDK15),
            Transport::Uart => Some(UART_MTU_SDK14),
        }
    }

    /// `buffer_len` of the device's SLIP decoder (serial only). Frames of this many decoded
    /// bytes or more wedge it: see [`crate::slip::SlipConfig::sdk_uart_device`].
    pub fn slip_buffer_len(&self) -> Option<usize> {
        self.serial_mtu().map(usize::from)
    }

    /// Answer to SELECT/CREATE with an object type other than 1 or 2: 15+ `INVALID_OBJECT`,
    /// 12/14 `UNSUPPORTED_TYPE` (`dfu_req_handling.c`).
    pub fn invalid_object_type_result(&self) -> ResultCode {
        if self.sdk >= SdkVersion::Sdk15_0 {
            ResultCode::InvalidObject
        } else {
            ResultCode::UnsupportedType
        }
    }

    /// 15+ remembers a bad type as the current object, so following WRITE/EXECUTE/CRC_GET also
    /// fail with `INVALID_OBJECT` until a good SELECT/CREATE; 12/14 return before updating it.
    pub fn invalid_type_sticks(&self) -> bool {
        self.sdk >= SdkVersion::Sdk15_0
    }

    /// The bytes this bootloader sends for `response`: bare success where
    /// [`Dialect::sends_bare`] says so, the canonical encoding otherwise.
    pub fn encode_response(&self, response: &Response) -> Vec<u8> {
        let op = Opcode::from_u8(response.request_opcode());
        match op {
            Some(op) if response.is_success() && self.sends_bare(op) => {
                Response::Bare { op }.encode()
            }
            _ => response.encode(),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.sdk, self.transport)?;
        if self.transport == Transport::Ble
            && self.sdk >= SdkVersion::Sdk15_3
            && !self.protocol_reduced
        {
            f.write_str(" (full protocol)")?;
        }
        Ok(())
    }
}
