//! Suite files: what a campaign does, read from YAML. A suite has setup steps (run once per
//! DUT before the cases) and cases; a case runs its steps `iterations` times for each sub-case
//! of its parameter sweep.
//!
//! Unknown keys are errors everywhere. `check` reports every problem of a file with its line
//! and column; `schema` gives a JSON Schema for editors.

pub mod check;
pub mod fault;
pub mod image_ref;
pub mod load;
pub mod schema;
pub mod spans;
pub mod step;
pub mod sweep;
pub mod yaml;

#[cfg(test)]
mod check_tests;

pub use check::{check_file, check_text, Problem};
pub use fault::{Distribution, Fault, FaultAction, FaultAt, FixedPoint, RandomPoint};
pub use image_ref::{ImageRef, StandIn};
pub use load::LoadedSuite;
pub use step::{
    DfuStep, EnterDfu, Erase, ExpectStep, ExpectedVersion, FlashStep, PowerAction, PowerStep,
    ResetStep, Running, Step, StepKind, Transport, VerifyStep, VersionStrategy, WaitStep,
};
pub use sweep::{FlashOps, SubCase, Sweep, SweepValue};

use nrf_dfu::Chip;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use virtual_nrf52::defects::Defect;

/// A suite file. The type parameters let a checker read the top level without the cases, and a
/// case without its steps, to report each part's problems separately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "C: Deserialize<'de>, S: Deserialize<'de>")
)]
#[schemars(rename = "Suite")]
pub struct Suite<C = Case, S = Step> {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What a DUT must be for this suite; on the virtual bench, what the virtual DUT is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dut: Option<DutRequirements>,
    /// Steps run once on each DUT before the first case (flash the bootloader and an app).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<S>,
    pub cases: Vec<C>,
}

/// A case: steps repeated `iterations` times per sub-case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
#[schemars(rename = "Case")]
pub struct Case<S = Step> {
    /// Unique in the suite; used in sub-case names, JUnit and `--replay CASE:ITERATION`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Iterations per sub-case.
    #[serde(default = "one")]
    pub iterations: u32,
    /// Parameters whose cartesian product makes the sub-cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    /// Bootloader defects the virtual DUT gets for this case (virtual bench only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<schema::DefectName>")]
    pub defects: Vec<Defect>,
    /// With `defects`: the probability that one iteration shows the defect (1 when it always
    /// does). The summary turns it into the probability that the run missed it,
    /// `(1 - p)^iterations`, and size `iterations` so that stays below 0.001.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fires_per_iteration: Option<f64>,
    /// How often a failed iteration is run again; one that passes on a re-run is flaky, never a
    /// pass.
    #[serde(default)]
    pub retries: u32,
    #[serde(default)]
    pub stop: StopConditions,
    /// Default timeouts per step kind; a step's own `timeout_ms` wins.
    #[serde(default)]
    pub timeouts: StepTimeouts,
    /// Steps run once before the case's first iteration on each DUT.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<S>,
    /// The steps of one iteration.
    pub steps: Vec<S>,
}

fn one() -> u32 {
    1
}

/// When a case stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopConditions {
    /// Stop the case (on that DUT) after this many failed iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failures: Option<u32>,
    /// Stop the case after this much time (the runtime clock: simulated on the virtual bench).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget_s: Option<u64>,
    /// Stop the case at the first bricked device instead of reflashing it and going on.
    #[serde(default)]
    pub on_brick: bool,
}

/// Timeouts in milliseconds per step kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepTimeouts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dfu_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enter_dfu_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspect_ms: Option<u64>,
}

impl StepTimeouts {
    /// The timeout of `step`: its own, else this table's for its kind.
    pub fn for_step(&self, step: &Step) -> Option<u64> {
        step.own_timeout_ms().or(match step.kind() {
            StepKind::Flash => self.flash_ms,
            StepKind::Dfu => self.dfu_ms,
            StepKind::EnterDfu => self.enter_dfu_ms,
            StepKind::Verify => self.verify_ms,
            StepKind::Power => self.power_ms,
            StepKind::Inspect | StepKind::Reset => self.inspect_ms,
            StepKind::Expect | StepKind::Wait => None,
        })
    }
}

/// What a DUT must be.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DutRequirements {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<schema::ChipName>")]
    pub chip: Option<Chip>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// `sdk_config.h` options of the bootloader under test, by their SDK names
    /// (`NRF_DFU_SAVE_PROGRESS_IN_FLASH: 1`): stand-in bootloaders are flashed built with them
    /// (virtual DUTs); a lab DUT's bench file must declare the same build.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub bootloader_options: std::collections::BTreeMap<String, u32>,
}

impl Suite {
    /// Every sub-case of every case, in file order (`flash_ops`: see [`Case::sub_cases`]).
    pub fn sub_cases(&self, flash_ops: Option<u32>) -> Result<Vec<SubCase>, sweep::ExpandError> {
        let mut out = Vec::new();
        for (i, c) in self.cases.iter().enumerate() {
            out.extend(c.sub_cases(i, flash_ops)?);
        }
        Ok(out)
    }

    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_suite() {
        let yaml = r#"
name: demo
description: two cases
dut: { chip: nRF52832_xxAB, transport: ble }
setup:
  - flash: { softdevice: standin:s132-3.0.0, bootloader: standin:bootloader-12.3-ble, erase: all }
cases:
  - name: plain
    iterations: 3
    steps:
      - dfu: { image: standin:app-b }
  - name: zoo
    defects: [stuck-after-create-failure]
    retries: 2
    stop: { max_failures: 5, time_budget_s: 600, on_brick: true }
    timeouts: { dfu_ms: 60000 }
    steps:
      - dfu: { image: standin:app-b, timeout_ms: 5000 }
      - verify: { running: new-app }
"#;
        let s: Suite = crate::campaign::suite::yaml::from_str(yaml).unwrap();
        assert_eq!(s.dut.as_ref().unwrap().chip, Some(Chip::Nrf52832Qfab));
        assert_eq!(s.cases[0].iterations, 3);
        assert_eq!(s.cases[0].retries, 0);
        assert_eq!(s.cases[0].stop, StopConditions::default());
        let zoo = s.case("zoo").unwrap();
        assert_eq!(zoo.defects, [Defect::StuckAfterCreateFailure]);
        assert_eq!(zoo.stop.max_failures, Some(5));
        assert!(zoo.stop.on_brick);
        assert_eq!(
            zoo.timeouts.for_step(&zoo.steps[0]),
            Some(5000),
            "the step's own wins"
        );
        assert_eq!(zoo.timeouts.for_step(&zoo.steps[1]), None);
        let plain = &s.cases[0];
        assert_eq!(zoo.timeouts.for_step(&plain.steps[0]), Some(60000));
        assert_eq!(s.sub_cases(None).unwrap().len(), 2);
    }

    #[test]
    fn iterations_default_to_one_and_unknown_defects_fail() {
        let c: Case =
            crate::campaign::suite::yaml::from_str("{ name: a, steps: [inspect] }").unwrap();
        assert_eq!(c.iterations, 1);
        let e = crate::campaign::suite::yaml::from_str::<Case>(
            "{ name: a, defects: [nope], steps: [] }",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown defect `nope`"), "{e}");
    }
}
