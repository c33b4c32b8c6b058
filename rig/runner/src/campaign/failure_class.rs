//! Failure classes: a dotted name that says who failed (the bench, `infra.*`, or the device,
//! `dut.*`) and how, stable enough to group a night's failures and to be the JUnit failure
//! `type`:
//!
//! - `infra.<what>`: probe, adapter, power switch, serial port, USB, host, health check, a
//!   planned fault that never landed (the iteration tested nothing)
//! - `dut.protocol.<phase>.<result>[.<ext>]`: the bootloader answered with a result code (and an
//!   extended error), or broke the protocol (`crc-mismatch`, `malformed-reply`, `link-lost`)
//! - `dut.timeout.<phase>`: the device went silent
//! - `dut.verify.<what>`: the update was acknowledged but the read-back disagrees
//! - `dut.brick`: the device needed an SWD reflash
//!
//! Result and extended-error names are nrf-dfu's SDK names in lower kebab case
//! (`OPERATION_NOT_PERMITTED` -> `operation-not-permitted`); codes no SDK defines print as
//! `code-0x1f`.

use super::phase::Phase;
use nrf_dfu::wire::{ExtError, ResultCode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A failure class. Prints and parses as its dotted name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum FailureClass {
    Infra(InfraFault),
    Protocol {
        phase: Phase,
        result: ProtocolResult,
    },
    Timeout(Phase),
    Verify(VerifyCheck),
    Brick,
}

/// Which part of the bench failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InfraFault {
    /// Debug probe: attach, flash, memory read.
    Probe,
    /// BLE adapter: scan, connect, GATT.
    Adapter,
    /// Power switch did not switch.
    PowerSwitch,
    /// Serial port missing or failing.
    Serial,
    /// USB enumeration (a device that did not come back).
    Usb,
    /// The host itself: files, package building, out of resources.
    Host,
    /// The pre-campaign bench health check failed.
    HealthCheck,
    /// The planned fault never landed (a cut at a flash operation the update did not reach):
    /// the iteration tested no fault. Not a broken bench, so it does not quarantine the DUT.
    FaultNotLanded,
}

impl InfraFault {
    pub const ALL: [InfraFault; 8] = [
        InfraFault::Probe,
        InfraFault::Adapter,
        InfraFault::PowerSwitch,
        InfraFault::Serial,
        InfraFault::Usb,
        InfraFault::Host,
        InfraFault::HealthCheck,
        InfraFault::FaultNotLanded,
    ];

    pub fn label(self) -> &'static str {
        match self {
            InfraFault::Probe => "probe",
            InfraFault::Adapter => "adapter",
            InfraFault::PowerSwitch => "power-switch",
            InfraFault::Serial => "serial",
            InfraFault::Usb => "usb",
            InfraFault::Host => "host",
            InfraFault::HealthCheck => "health-check",
            InfraFault::FaultNotLanded => "fault-not-landed",
        }
    }
}

/// What the bootloader answered, or how it broke the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolResult {
    /// A result code other than EXT_ERROR with its extended code.
    Code(ResultCode),
    /// EXT_ERROR and the extended error that followed it.
    Ext(ExtError),
    /// CRC_GET reported a CRC that did not match what was sent (after the client's retries).
    CrcMismatch,
    /// A reply that did not decode.
    MalformedReply,
    /// The link dropped while a reply was awaited.
    LinkLost,
    /// The device kept losing written bytes (the client's rewinds ran out).
    BytesLost,
}

/// Which read-back check disagreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VerifyCheck {
    /// Settings page (or its backup) has a bad CRC or an unexpected bank state.
    Settings,
    /// Bank 0 does not hold the image that was sent (size or CRC).
    Bank0,
    /// Stored application version differs from the expected one.
    AppVersion,
    /// A different image runs than expected (new app, old app, bootloader).
    Running,
    /// The oracle's outcome is not one the suite allowed.
    Outcome,
    /// The update was sent again from 0 (`restarted`) although the bootloader build kept part
    /// of it across the fault, by its SDK's rules (`resumed` was due).
    Resume,
}

impl VerifyCheck {
    pub const ALL: [VerifyCheck; 6] = [
        VerifyCheck::Settings,
        VerifyCheck::Bank0,
        VerifyCheck::AppVersion,
        VerifyCheck::Running,
        VerifyCheck::Outcome,
        VerifyCheck::Resume,
    ];

    pub fn label(self) -> &'static str {
        match self {
            VerifyCheck::Settings => "settings",
            VerifyCheck::Bank0 => "bank0",
            VerifyCheck::AppVersion => "app-version",
            VerifyCheck::Running => "running",
            VerifyCheck::Outcome => "outcome",
            VerifyCheck::Resume => "resume",
        }
    }
}

impl FailureClass {
    /// A protocol failure from a response: EXT_ERROR carries its extended code.
    pub fn from_response(phase: Phase, result: ResultCode, ext: Option<ExtError>) -> FailureClass {
        let result = match (result, ext) {
            (ResultCode::ExtError, Some(e)) => ProtocolResult::Ext(e),
            (r, _) => ProtocolResult::Code(r),
        };
        FailureClass::Protocol { phase, result }
    }

    /// Bench failures: JUnit errors, kept out of device statistics.
    pub fn is_infra(&self) -> bool {
        matches!(self, FailureClass::Infra(_))
    }
}

/// `OPERATION_NOT_PERMITTED` -> `operation-not-permitted`.
fn kebab(sdk_name: &str) -> String {
    sdk_name.to_ascii_lowercase().replace('_', "-")
}

fn result_token(r: ResultCode) -> String {
    match r {
        ResultCode::Unknown(v) => format!("code-{v:#04x}"),
        named => kebab(named.name()),
    }
}

fn ext_token(e: ExtError) -> String {
    match e {
        ExtError::Unknown(v) => format!("code-{v:#04x}"),
        named => kebab(named.name()),
    }
}

/// `code-0x1f` -> 0x1f.
fn code_value(token: &str) -> Option<u8> {
    let hex = token.strip_prefix("code-0x")?;
    // Two lower-case digits, as printed: one spelling per class.
    if hex.len() != 2
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

fn parse_result(token: &str) -> Option<ResultCode> {
    if let Some(v) = code_value(token) {
        // Only codes no SDK names print this way; a named one must be written by name.
        return match ResultCode::from_u8(v) {
            r @ ResultCode::Unknown(_) => Some(r),
            _ => None,
        };
    }
    ResultCode::NAMED
        .into_iter()
        .find(|r| *r != ResultCode::ExtError && kebab(r.name()) == token)
}

fn parse_ext(token: &str) -> Option<ExtError> {
    if let Some(v) = code_value(token) {
        return match ExtError::from_u8(v) {
            e @ ExtError::Unknown(_) => Some(e),
            _ => None,
        };
    }
    ExtError::NAMED
        .into_iter()
        .find(|e| kebab(e.name()) == token)
}

impl fmt::Display for ProtocolResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolResult::Code(r) => f.write_str(&result_token(*r)),
            ProtocolResult::Ext(e) => write!(f, "ext-error.{}", ext_token(*e)),
            ProtocolResult::CrcMismatch => f.write_str("crc-mismatch"),
            ProtocolResult::MalformedReply => f.write_str("malformed-reply"),
            ProtocolResult::LinkLost => f.write_str("link-lost"),
            ProtocolResult::BytesLost => f.write_str("bytes-lost"),
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureClass::Infra(w) => write!(f, "infra.{}", w.label()),
            FailureClass::Protocol { phase, result } => {
                write!(f, "dut.protocol.{phase}.{result}")
            }
            FailureClass::Timeout(phase) => write!(f, "dut.timeout.{phase}"),
            FailureClass::Verify(what) => write!(f, "dut.verify.{}", what.label()),
            FailureClass::Brick => f.write_str("dut.brick"),
        }
    }
}

/// The text is not a failure class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a failure class: {reason}")]
pub struct FailureClassError {
    pub text: String,
    pub reason: String,
}

impl FromStr for FailureClass {
    type Err = FailureClassError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| FailureClassError {
            text: text.to_string(),
            reason,
        };
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            ["infra", what] => InfraFault::ALL
                .into_iter()
                .find(|w| w.label() == *what)
                .map(FailureClass::Infra)
                .ok_or_else(|| {
                    err(format!(
                        "unknown infrastructure part `{what}` (expected {})",
                        InfraFault::ALL.map(InfraFault::label).join(", ")
                    ))
                }),
            ["infra", ..] => Err(err("expected `infra.<what>`".into())),
            ["dut", "brick"] => Ok(FailureClass::Brick),
            ["dut", "timeout", phase] => phase
                .parse()
                .map(FailureClass::Timeout)
                .map_err(|e| err(e.to_string())),
            ["dut", "verify", what] => VerifyCheck::ALL
                .into_iter()
                .find(|w| w.label() == *what)
                .map(FailureClass::Verify)
                .ok_or_else(|| {
                    err(format!(
                        "unknown check `{what}` (expected {})",
                        VerifyCheck::ALL.map(VerifyCheck::label).join(", ")
                    ))
                }),
            ["dut", "protocol", phase, rest @ ..] => {
                let phase: Phase = phase.parse().map_err(|e: super::phase::UnknownPhase| err(e.to_string()))?;
                let result = match rest {
                    ["ext-error", ext] => ProtocolResult::Ext(
                        parse_ext(ext).ok_or_else(|| err(format!("unknown extended error `{ext}`")))?,
                    ),
                    ["crc-mismatch"] => ProtocolResult::CrcMismatch,
                    ["malformed-reply"] => ProtocolResult::MalformedReply,
                    ["link-lost"] => ProtocolResult::LinkLost,
                    ["bytes-lost"] => ProtocolResult::BytesLost,
                    [code] => ProtocolResult::Code(
                        parse_result(code).ok_or_else(|| err(format!("unknown result `{code}`")))?,
                    ),
                    _ => {
                        return Err(err(
                            "expected `dut.protocol.<phase>.<result>[.<ext>]`".into(),
                        ))
                    }
                };
                Ok(FailureClass::Protocol { phase, result })
            }
            _ => Err(err(
                "expected infra.<what>, dut.protocol.<phase>.<result>[.<ext>], dut.timeout.<phase>, dut.verify.<what> or dut.brick".into(),
            )),
        }
    }
}

impl From<FailureClass> for String {
    fn from(c: FailureClass) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for FailureClass {
    type Error = FailureClassError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case("infra.probe", FailureClass::Infra(InfraFault::Probe))]
    #[case("infra.power-switch", FailureClass::Infra(InfraFault::PowerSwitch))]
    #[case("infra.health-check", FailureClass::Infra(InfraFault::HealthCheck))]
    #[case(
        "infra.fault-not-landed",
        FailureClass::Infra(InfraFault::FaultNotLanded)
    )]
    #[case("dut.brick", FailureClass::Brick)]
    #[case("dut.timeout.create", FailureClass::Timeout(Phase::Create))]
    #[case("dut.timeout.enter-dfu", FailureClass::Timeout(Phase::EnterDfu))]
    #[case("dut.verify.bank0", FailureClass::Verify(VerifyCheck::Bank0))]
    #[case(
        "dut.verify.app-version",
        FailureClass::Verify(VerifyCheck::AppVersion)
    )]
    #[case(
        "dut.protocol.create.operation-failed",
        FailureClass::Protocol { phase: Phase::Create, result: ProtocolResult::Code(ResultCode::OperationFailed) }
    )]
    #[case(
        "dut.protocol.execute.ext-error.fw-version-failure",
        FailureClass::Protocol { phase: Phase::Execute, result: ProtocolResult::Ext(ExtError::FwVersionFailure) }
    )]
    #[case(
        "dut.protocol.select.op-code-not-supported",
        FailureClass::Protocol { phase: Phase::Select, result: ProtocolResult::Code(ResultCode::OpCodeNotSupported) }
    )]
    #[case(
        "dut.protocol.write.code-0x1f",
        FailureClass::Protocol { phase: Phase::Write, result: ProtocolResult::Code(ResultCode::Unknown(0x1f)) }
    )]
    #[case(
        "dut.protocol.execute.ext-error.code-0x42",
        FailureClass::Protocol { phase: Phase::Execute, result: ProtocolResult::Ext(ExtError::Unknown(0x42)) }
    )]
    #[case(
        "dut.protocol.crc.crc-mismatch",
        FailureClass::Protocol { phase: Phase::Crc, result: ProtocolResult::CrcMismatch }
    )]
    #[case(
        "dut.protocol.write.link-lost",
        FailureClass::Protocol { phase: Phase::Write, result: ProtocolResult::LinkLost }
    )]
    fn parse_and_print(#[case] text: &str, #[case] class: FailureClass) {
        assert_eq!(text.parse::<FailureClass>().unwrap(), class);
        assert_eq!(class.to_string(), text);
        assert_eq!(class.is_infra(), text.starts_with("infra."));
        let json = serde_json::to_string(&class).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<FailureClass>(&json).unwrap(), class);
    }

    #[rstest]
    #[case("infra", "expected `infra.<what>`")]
    #[case("infra.laser", "unknown infrastructure part `laser`")]
    #[case("infra.probe.usb", "expected `infra.<what>`")]
    #[case("dut.timeout.flash", "unknown phase `flash`")]
    #[case("dut.verify.crc", "unknown check `crc`")]
    #[case(
        "dut.protocol.create.operation_failed",
        "unknown result `operation_failed`"
    )]
    // A named code must be written by name, so each class has one spelling.
    #[case("dut.protocol.create.code-0x0a", "unknown result `code-0x0a`")]
    #[case("dut.protocol.create.ext-error", "unknown result `ext-error`")]
    // Found by fuzzing: upper-case hex parsed but printed lower-case.
    #[case("dut.protocol.write.code-0x1F", "unknown result `code-0x1F`")]
    #[case("dut.protocol.write.code-0x+f", "unknown result `code-0x+f`")]
    #[case("dut.protocol.execute.ext-error.nope", "unknown extended error `nope`")]
    #[case(
        "dut.protocol.execute.ext-error.fw-version-failure.x",
        "expected `dut.protocol"
    )]
    #[case("dut.brick.now", "expected infra.<what>")]
    #[case("", "expected infra.<what>")]
    fn rejects(#[case] text: &str, #[case] reason: &str) {
        let e = text.parse::<FailureClass>().unwrap_err();
        assert!(e.to_string().contains(reason), "{e}");
        assert_eq!(e.text, text);
    }

    #[test]
    fn from_response_uses_the_extended_code_only_with_ext_error() {
        assert_eq!(
            FailureClass::from_response(
                Phase::Execute,
                ResultCode::ExtError,
                Some(ExtError::SdVersionFailure)
            )
            .to_string(),
            "dut.protocol.execute.ext-error.sd-version-failure"
        );
        assert_eq!(
            FailureClass::from_response(
                Phase::Create,
                ResultCode::InvalidObject,
                Some(ExtError::NoError)
            )
            .to_string(),
            "dut.protocol.create.invalid-object"
        );
        // EXT_ERROR without its byte stays representable (SDK 12 never sends it).
        assert_eq!(
            FailureClass::from_response(Phase::Create, ResultCode::ExtError, None),
            FailureClass::Protocol {
                phase: Phase::Create,
                result: ProtocolResult::Code(ResultCode::ExtError)
            }
        );
    }

    fn any_class() -> impl Strategy<Value = FailureClass> {
        let phase = proptest::sample::select(Phase::ALL.to_vec());
        let result = prop_oneof![
            any::<u8>()
                .prop_map(ResultCode::from_u8)
                .prop_filter("ext-error is written with its code", |r| *r
                    != ResultCode::ExtError)
                .prop_map(ProtocolResult::Code),
            any::<u8>().prop_map(|v| ProtocolResult::Ext(ExtError::from_u8(v))),
            Just(ProtocolResult::CrcMismatch),
            Just(ProtocolResult::MalformedReply),
            Just(ProtocolResult::LinkLost),
            Just(ProtocolResult::BytesLost),
        ];
        prop_oneof![
            proptest::sample::select(InfraFault::ALL.to_vec()).prop_map(FailureClass::Infra),
            (phase.clone(), result)
                .prop_map(|(phase, result)| FailureClass::Protocol { phase, result }),
            phase.prop_map(FailureClass::Timeout),
            proptest::sample::select(VerifyCheck::ALL.to_vec()).prop_map(FailureClass::Verify),
            Just(FailureClass::Brick),
        ]
    }

    proptest! {
        #[test]
        fn print_parse_print(class in any_class()) {
            let text = class.to_string();
            let back: FailureClass = text.parse().unwrap();
            prop_assert_eq!(back, class);
            prop_assert_eq!(back.to_string(), text);
        }

        #[test]
        fn parse_never_panics(text in "[a-z0-9.\\-]{0,60}") {
            if let Ok(c) = text.parse::<FailureClass>() {
                prop_assert_eq!(c.to_string(), text);
            }
        }
    }
}
