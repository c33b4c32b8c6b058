//! Why an update failed, with where: image, phase, object, offset, and the device's own words.

use std::fmt;
use std::time::Duration;

use super::explain::explain;
use super::image::ImageKind;
use super::link::{LinkError, LinkErrorKind};
use super::progress::Phase;
use crate::wire::{ExtError, ObjectType, Opcode, ResponseError, ResultCode};
use crate::SdkVersion;

/// Where in the update something happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub image_index: usize,
    pub image_count: usize,
    pub image_kind: ImageKind,
    pub phase: Phase,
    /// `None` outside object transfers (setup, activation).
    pub object: Option<ObjectType>,
    /// 0-based data object index; 0 for the init packet.
    pub object_index: u32,
    /// Byte offset in the init packet or firmware when it happened.
    pub offset: u32,
}

impl Location {
    /// "init packet", "data object 3", "setup", "activation".
    pub fn subject(&self) -> String {
        match self.object {
            Some(ObjectType::Command) => "init packet".to_string(),
            Some(ObjectType::Data) => format!("data object {}", self.object_index),
            None => self.phase.label().to_string(),
        }
    }

    /// " in image 2 of 3 (application)" for multi-image updates, "" otherwise.
    fn image_suffix(&self) -> String {
        if self.image_count > 1 {
            format!(
                " in image {} of {} ({})",
                self.image_index + 1,
                self.image_count,
                self.image_kind
            )
        } else {
            String::new()
        }
    }
}

/// What the client was waiting for when time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// The response to this request.
    Response(Opcode),
    /// A packet receipt notification.
    Notification,
    /// The link loss that shows the device reset to activate the image.
    LinkLoss,
    /// The bootloader to be reachable again.
    Reconnect,
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Waiting::Response(op) => write!(f, "no response to {op}"),
            Waiting::Notification => f.write_str("no packet receipt notification"),
            Waiting::LinkLoss => f.write_str("the device did not reset (link still up)"),
            Waiting::Reconnect => f.write_str("the bootloader did not come back"),
        }
    }
}

/// The device broke the protocol (as opposed to refusing a request with a result code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("malformed reply {}: {source}", hex::encode(bytes))]
    Malformed {
        bytes: Vec<u8>,
        source: ResponseError,
    },
    #[error(
        "unexpected message {} while waiting for {waiting}",
        hex::encode(bytes)
    )]
    Unexpected { bytes: Vec<u8>, waiting: String },
    #[error("extended error {ext} from an {sdk} bootloader, which has no extended errors")]
    ExtendedErrorOutOfDialect { ext: ExtError, sdk: SdkVersion },
    #[error("device reports offset {reported}, outside the {low}..={high} this object can be at")]
    OffsetOutOfRange { reported: u32, low: u32, high: u32 },
    #[error("SELECT reports a maximum object size of 0")]
    ZeroMaxSize,
    #[error("MTU {mtu} leaves no room for object data in an OBJECT_WRITE frame")]
    MtuTooSmall { mtu: u16 },
    #[error("device still reports {offset} bytes of a {len}-byte image after the init packet was re-created")]
    DeviceAhead { offset: u32, len: u32 },
}

/// The update failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
// Deliberately exhaustive: the runner classifies every variant
// (campaign/run/error.rs); a new one must fail its build, not fall into a wildcard.
pub enum DfuError {
    /// The device answered a request with a result other than SUCCESS.
    #[error("{} {op} failed: {}{}", at.subject(), rejection(*result, *ext, explanation), at_offset(at))]
    Rejected {
        at: Location,
        op: Opcode,
        result: ResultCode,
        ext: Option<ExtError>,
        /// Why a bootloader of this dialect answers so (see [`super::explain`]).
        explanation: &'static str,
    },
    #[error("{} {}: {waiting} within {}{}", at.subject(), at.phase, secs(*after), at_offset(at))]
    Timeout {
        at: Location,
        waiting: Waiting,
        after: Duration,
    },
    #[error("{} {}: {source}{}", at.subject(), op_or_phase(*op, at.phase), at_offset(at))]
    Link {
        at: Location,
        op: Option<Opcode>,
        source: LinkError,
    },
    #[error("{} {}: protocol violation: {violation}{}", at.subject(), op_or_phase(*op, at.phase), at_offset(at))]
    Protocol {
        at: Location,
        op: Option<Opcode>,
        violation: Violation,
    },
    #[error("{}: CRC mismatch after {attempts} attempts: device reports offset {device_offset} CRC 0x{device_crc:08X}, expected 0x{expected_crc:08X}{}", at.subject(), image_suffix(at))]
    CrcMismatch {
        at: Location,
        attempts: u8,
        device_offset: u32,
        device_crc: u32,
        expected_crc: u32,
    },
    #[error("{}: bytes lost again after {rewinds} rewinds (device at offset {device_offset} of {sent} sent){}", at.subject(), image_suffix(at))]
    TooManyRewinds {
        at: Location,
        rewinds: u8,
        device_offset: u32,
        sent: u32,
    },
    #[error("aborted by the progress sink before {} {}{}", at.subject(), at.phase, at_offset(at))]
    Aborted { at: Location },
    #[error("image {} ({kind}) cannot be sent: {reason}", image_index + 1)]
    InvalidImage {
        image_index: usize,
        kind: ImageKind,
        reason: String,
    },
}

fn rejection(result: ResultCode, ext: Option<ExtError>, explanation: &str) -> String {
    match ext {
        Some(ext) => format!("result {result}, extended {ext} ({explanation})"),
        None => format!("result {result} ({explanation})"),
    }
}

fn at_offset(at: &Location) -> String {
    format!(" at offset {}{}", at.offset, at.image_suffix())
}

fn image_suffix(at: &Location) -> String {
    at.image_suffix()
}

fn op_or_phase(op: Option<Opcode>, phase: Phase) -> String {
    match op {
        Some(op) => op.label().to_string(),
        None => phase.label().to_string(),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.3} s")
    }
}

impl DfuError {
    /// The rejection of `op` at `at`, explained for the bootloader's SDK when known.
    pub fn rejected(
        at: Location,
        op: Opcode,
        result: ResultCode,
        ext: Option<ExtError>,
        sdk: Option<SdkVersion>,
    ) -> DfuError {
        let explanation = explain(op, at.object, result, ext, sdk);
        DfuError::Rejected {
            at,
            op,
            result,
            ext,
            explanation,
        }
    }

    /// Where it happened (`None` for an image rejected before sending).
    pub fn location(&self) -> Option<&Location> {
        match self {
            DfuError::Rejected { at, .. }
            | DfuError::Timeout { at, .. }
            | DfuError::Link { at, .. }
            | DfuError::Protocol { at, .. }
            | DfuError::CrcMismatch { at, .. }
            | DfuError::TooManyRewinds { at, .. }
            | DfuError::Aborted { at } => Some(at),
            DfuError::InvalidImage { .. } => None,
        }
    }

    /// The failure lies with the rig (adapter, port, host, input), not the device under test.
    pub fn is_infrastructure(&self) -> bool {
        match self {
            DfuError::Link { source, .. } => source.kind.is_infrastructure(),
            DfuError::InvalidImage { .. } => true,
            _ => false,
        }
    }

    /// A stable class for statistics: `dut.protocol.<phase>.<result>[.<ext>]`,
    /// `dut.timeout.<phase>`, `dut.link_lost.<phase>`, `infra.transport.<kind>`, ...
    pub fn failure_class(&self) -> String {
        let phase = self.location().map(|at| at.phase.label()).unwrap_or("none");
        match self {
            DfuError::Rejected { result, ext, .. } => {
                let mut class = format!("dut.protocol.{phase}.{}", result.name().to_lowercase());
                if let Some(ext) = ext {
                    class.push('.');
                    class.push_str(&ext.name().to_lowercase());
                }
                class
            }
            DfuError::Timeout { .. } => format!("dut.timeout.{phase}"),
            DfuError::Link { source, .. } => match source.kind {
                LinkErrorKind::LinkLost => format!("dut.link_lost.{phase}"),
                LinkErrorKind::Timeout => format!("dut.timeout.{phase}"),
                LinkErrorKind::Closed => "infra.transport.closed".to_string(),
                LinkErrorKind::Io => "infra.transport.io".to_string(),
            },
            DfuError::Protocol { .. } => format!("dut.protocol.{phase}.violation"),
            DfuError::CrcMismatch { .. } => format!("dut.protocol.{phase}.crc_mismatch"),
            DfuError::TooManyRewinds { .. } => format!("dut.protocol.{phase}.bytes_lost"),
            DfuError::Aborted { .. } => "aborted".to_string(),
            DfuError::InvalidImage { .. } => "infra.input.image".to_string(),
        }
    }
}
