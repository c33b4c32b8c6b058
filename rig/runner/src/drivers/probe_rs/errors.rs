//! probe-rs errors in the rig's classes, with messages a bench engineer can act on.

use crate::drivers::probe::{ProbeError, ProbeErrorKind};
use crate::drivers::timed::CallError;
use probe_rs::architecture::arm::ArmError;
use probe_rs::flashing::FlashError;
use probe_rs::probe::{DebugProbeError, ProbeCreationError};

/// What the rig was doing when probe-rs failed (the same error means different things).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    Open,
    Attach,
    Memory,
    Reset,
    Rtt,
}

const SWD_HINT: &str = "check the target's power, the SWD wiring (SWDIO, SWDCLK, GND, VTref), and \
whether the firmware disables the debug port (NRF_BL_DEBUG_PORT_DISABLE, APPROTECT on rev 3 parts)";

fn is_locked(e: &probe_rs::Error) -> bool {
    matches!(
        e,
        probe_rs::Error::MissingPermissions(_)
            | probe_rs::Error::Arm(ArmError::MissingPermissions(_))
    )
}

/// A probe-level error: USB, the probe's firmware, or our selector.
fn probe_level(e: &DebugProbeError, selector: &str) -> ProbeError {
    match e {
        DebugProbeError::ProbeCouldNotBeCreated(ProbeCreationError::NotFound) => ProbeError::infra(
            ProbeErrorKind::NotFound,
            format!(
                "no debug probe matches {selector}: is it plugged in? (`probe-rs list` shows the \
                 probes this host sees; on Linux the udev rules must grant access to the USB device)"
            ),
        ),
        DebugProbeError::ProbeCouldNotBeCreated(c) => ProbeError::infra(
            ProbeErrorKind::Open,
            format!("debug probe {selector} could not be opened: {c} (another program may hold it, or USB permissions are missing)"),
        ),
        DebugProbeError::Usb(io) => ProbeError::infra(
            ProbeErrorKind::Open,
            format!("USB error talking to debug probe {selector}: {io} (re-plug the probe or check the hub)"),
        ),
        DebugProbeError::Timeout => ProbeError::infra(
            ProbeErrorKind::Timeout,
            format!("debug probe {selector} timed out (re-plug the probe)"),
        ),
        other => ProbeError::infra(ProbeErrorKind::Open, format!("debug probe {selector}: {other}")),
    }
}

/// Classify a probe-rs error.
pub fn classify(e: &probe_rs::Error, doing: Doing, selector: &str) -> ProbeError {
    if is_locked(e) {
        return ProbeError::locked();
    }
    match e {
        probe_rs::Error::Probe(p) => probe_level(p, selector),
        probe_rs::Error::ChipNotFound(r) => ProbeError::infra(
            ProbeErrorKind::Config,
            format!("probe-rs does not know this chip: {r}"),
        ),
        other => {
            let kind = match doing {
                Doing::Open | Doing::Attach => ProbeErrorKind::Attach,
                Doing::Memory => ProbeErrorKind::Memory,
                Doing::Reset => ProbeErrorKind::Reset,
                Doing::Rtt => ProbeErrorKind::Rtt,
            };
            let hint = if kind == ProbeErrorKind::Attach {
                format!("; {SWD_HINT}")
            } else {
                String::new()
            };
            ProbeError::device(
                kind,
                format!("target via {selector}: {}{hint}", chain(other)),
            )
        }
    }
}

/// Classify a flashing error.
pub fn classify_flash(e: &FlashError, selector: &str) -> ProbeError {
    match e {
        FlashError::Verify => ProbeError::device(
            ProbeErrorKind::Verify,
            "flash content read back differs from the image (worn or protected flash, or a failing target supply)",
        ),
        FlashError::NoSuitableNvm { range, .. } => ProbeError::infra(
            ProbeErrorKind::Flash,
            format!("image data at {:#010x}..{:#010x} is outside the chip's flash and UICR", range.start, range.end),
        ),
        FlashError::Core(c) | FlashError::ResetAndHalt(c) | FlashError::Run(c) => classify(c, Doing::Memory, selector),
        other => ProbeError::device(ProbeErrorKind::Flash, format!("flashing via {selector} failed: {}", chain(other))),
    }
}

/// An error and its sources ("a: b: c"): probe-rs' flash errors name the page, their sources
/// say why (a timeout, a core that locked up, an algorithm that returned non-zero).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut at = e.source();
    while let Some(c) = at {
        s.push_str(": ");
        s.push_str(&c.to_string());
        at = c.source();
    }
    s
}

/// A call that overran or panicked: the probe (or its USB link) is wedged.
pub fn classify_call(e: CallError, selector: &str) -> ProbeError {
    let kind = match e {
        CallError::TimedOut { .. } => ProbeErrorKind::Timeout,
        _ => ProbeErrorKind::Open,
    };
    ProbeError::infra(
        kind,
        format!("debug probe {selector}: {e}; re-plug the probe (or power-cycle its hub port) and re-run"),
    )
}
