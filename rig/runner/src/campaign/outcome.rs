//! What the oracle saw after an iteration (the device's state) and what that means for the test
//! (its verdict). Kept apart: a `dfu-mode` outcome can be a pass (an interrupted update that
//! the suite expected to leave the bootloader waiting) or a fail (a clean update that did not
//! activate).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The device's state after an update (and its fault, if any), as classified by the oracle.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The update went through without interruption; the new app runs.
    Completed,
    /// Interrupted, then continued from the offset the bootloader reported; the new app runs.
    Resumed,
    /// Interrupted, then sent again from the start; the new app runs.
    Restarted,
    /// The update did not take; the previous application still runs.
    OldAppRunning,
    /// The bootloader waits in DFU mode: recoverable over the air.
    DfuMode,
    /// Silent (no advertising, no responses) until power-cycled.
    Stuck,
    /// Needed an SWD reflash to run again.
    Bricked,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Completed,
        Outcome::Resumed,
        Outcome::Restarted,
        Outcome::OldAppRunning,
        Outcome::DfuMode,
        Outcome::Stuck,
        Outcome::Bricked,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Resumed => "resumed",
            Outcome::Restarted => "restarted",
            Outcome::OldAppRunning => "old-app-running",
            Outcome::DfuMode => "dfu-mode",
            Outcome::Stuck => "stuck",
            Outcome::Bricked => "bricked",
        }
    }

    /// The new application ended up running.
    pub fn is_updated(self) -> bool {
        matches!(
            self,
            Outcome::Completed | Outcome::Resumed | Outcome::Restarted
        )
    }

    /// The device can still be updated without touching it (no power cycle, no SWD).
    pub fn is_recoverable_over_the_air(self) -> bool {
        !matches!(self, Outcome::Stuck | Outcome::Bricked)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome `{0}`: expected one of {choices}", choices = Outcome::ALL.map(Outcome::label).join(", "))]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.label() == s)
            .ok_or_else(|| UnknownOutcome(s.to_string()))
    }
}

/// The test verdict of one iteration.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Passed on the first attempt.
    Pass,
    /// The device failed (a `dut.*` class) on the last attempt.
    Fail,
    /// Passed, but only after one or more failed attempts: never counted as a clean pass.
    Flaky,
    /// The bench failed (an `infra.*` class): kept out of device statistics.
    Error,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Flaky => "flaky",
            Verdict::Error => "error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Outcome::Completed, "completed", true, true)]
    #[case(Outcome::Resumed, "resumed", true, true)]
    #[case(Outcome::Restarted, "restarted", true, true)]
    #[case(Outcome::OldAppRunning, "old-app-running", false, true)]
    #[case(Outcome::DfuMode, "dfu-mode", false, true)]
    #[case(Outcome::Stuck, "stuck", false, false)]
    #[case(Outcome::Bricked, "bricked", false, false)]
    fn outcome_names_and_meaning(
        #[case] o: Outcome,
        #[case] label: &str,
        #[case] updated: bool,
        #[case] ota: bool,
    ) {
        assert_eq!(o.to_string(), label);
        assert_eq!(label.parse::<Outcome>().unwrap(), o);
        assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{label}\""));
        assert_eq!(
            crate::campaign::suite::yaml::from_str::<Outcome>(label).unwrap(),
            o
        );
        assert_eq!(o.is_updated(), updated);
        assert_eq!(o.is_recoverable_over_the_air(), ota);
    }

    #[test]
    fn unknown_outcome_lists_choices() {
        let e = "old_app_running"
            .parse::<Outcome>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("old-app-running") && e.contains("bricked"),
            "{e}"
        );
    }

    #[rstest]
    #[case(Verdict::Pass, "pass")]
    #[case(Verdict::Fail, "fail")]
    #[case(Verdict::Flaky, "flaky")]
    #[case(Verdict::Error, "error")]
    fn verdict_names(#[case] v: Verdict, #[case] label: &str) {
        assert_eq!(v.label(), label);
        assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{label}\""));
    }
}
