//! The oracle: what the device did, from what it shows (advertising / status), what SWD reads
//! back and what the client saw. A "success" of the client while the device did not update is
//! not trusted: the read-back decides.

use super::dut::Observed;
use super::readback::ReadBack;
use crate::campaign::outcome::Outcome;
use nrf_dfu::client::{DataPlan, ImageReport};

/// What the oracle knows about the update it judges.
#[derive(Debug, Clone, Default)]
pub struct UpdateFacts<'a> {
    /// The application firmware that was sent (what bank 0 must hold when it took).
    pub app_firmware: Option<&'a [u8]>,
    /// The version that was sent.
    pub sent_version: Option<u32>,
    /// The step continued an interrupted update (`dfu: { resume: true }`).
    pub resume_step: bool,
    /// The client's reports when it finished without error.
    pub reports: Option<&'a [ImageReport]>,
}

/// The new image runs: an application runs and bank 0 holds the image that was sent. (The
/// version an app advertises is its own build's, not the package's `--application-version`,
/// so it is evidence, not the test; the settings' app_version is checked by `verify`.)
pub fn runs_new_app(observed: &Observed, rb: &ReadBack, facts: &UpdateFacts<'_>) -> bool {
    matches!(observed, Observed::App { .. })
        && facts.app_firmware.is_none_or(|fw| rb.bank0_holds(fw))
}

/// Whether a resume step continued the firmware from what the device held (resumed) or sent
/// it all again (restarted). A kept init packet alone is not a resume: a device that lost every
/// data object it had acknowledged made the client restart the transfer.
fn continued(reports: &[ImageReport]) -> bool {
    reports
        .iter()
        .any(|r| !matches!(r.data, DataPlan::Start { offset: 0 }))
}

/// The device's state after an update (and its fault, if any).
pub fn classify(observed: &Observed, rb: Option<&ReadBack>, facts: &UpdateFacts<'_>) -> Outcome {
    match observed {
        Observed::Silent | Observed::Off => Outcome::Stuck,
        Observed::Bootloader => Outcome::DfuMode,
        Observed::App { .. } => {
            let new = rb.is_some_and(|rb| runs_new_app(observed, rb, facts));
            if !new {
                Outcome::OldAppRunning
            } else if !facts.resume_step {
                Outcome::Completed
            } else if facts.reports.is_some_and(continued) {
                Outcome::Resumed
            } else {
                Outcome::Restarted
            }
        }
    }
}
