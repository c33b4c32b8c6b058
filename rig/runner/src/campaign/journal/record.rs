//! Journal records: one JSON object per line. The first line is a [`Header`], then
//! iterations, healing actions, quarantines and case stops as they happen, and a [`Footer`]
//! when the campaign ends normally (a killed run has none).
//!
//! Wall-clock fields are all named `wall_*`: the rest of a journal is a function of the suite,
//! the seed and the bench, and [`super::without_wall_fields`] drops them to compare runs.

use super::evidence::Evidence;
use crate::campaign::failure_class::FailureClass;
use crate::campaign::outcome::{Outcome, Verdict};
use crate::campaign::phase::{ObjectRef, Phase};
use crate::campaign::suite::Fault;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the journal's shape; a reader refuses newer ones.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
pub enum Record {
    Header(Header),
    Iteration(IterationRecord),
    Healing(HealingRecord),
    Quarantine(QuarantineRecord),
    CaseStop(CaseStopRecord),
    Footer(Footer),
}

/// What ran, where, with which seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: u32,
    /// `rig`
    pub tool: String,
    pub tool_version: String,
    pub suite: SuiteRef,
    /// The campaign seed every iteration seed derives from.
    pub seed: u64,
    pub bench: BenchInfo,
    pub duts: Vec<DutInfo>,
    /// RFC 3339 start time.
    pub wall_start: String,
    /// Options of `rig run` that an exact replay needs besides the seed and bench (such as
    /// `--iterations`, `--defect`, `--virtual-duts`): the summary appends them to every replay
    /// command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replay_args: Vec<String>,
    /// Cases that switch bootloader defects on (the bug zoo), by case name: what the summary
    /// needs to say per defect whether the run caught it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defect_cases: BTreeMap<String, DefectCase>,
}

/// A case run with injected defects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefectCase {
    pub defects: Vec<String>,
    /// Probability that one iteration shows the defect (the suite's `fires_per_iteration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fires_per_iteration: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteRef {
    pub name: String,
    /// As given on the command line (used in replay commands).
    pub path: String,
    /// SHA-256 of the suite file.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchInfo {
    /// The bench's name (`virtual` for the embedded virtual bench).
    pub name: String,
    pub kind: BenchKind,
    /// The bench file, if one was given (used in replay commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The host's name, for JUnit `hostname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl BenchInfo {
    /// The embedded virtual bench, without a bench file or host name.
    pub fn virtual_bench() -> BenchInfo {
        BenchInfo {
            name: "virtual".into(),
            kind: BenchKind::Virtual,
            file: None,
            host: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchKind {
    Virtual,
    Hardware,
    /// The hardware backends against a virtual lab (`rig lab up`; the bench file says `lab:`).
    Lab,
}

impl BenchKind {
    pub fn label(self) -> &'static str {
        match self {
            BenchKind::Virtual => "virtual",
            BenchKind::Hardware => "hardware",
            BenchKind::Lab => "lab",
        }
    }
}

/// One device under test as the campaign found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutInfo {
    pub name: String,
    /// `nRF52832_xxAA` / `nRF52832_xxAB`
    pub chip: String,
    /// The bootloader as a person names it, e.g.
    /// `nRF5 SDK 17 Secure DFU bootloader (BLE, dual bank)`.
    pub bootloader: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub softdevice: Option<String>,
    /// Component -> version (`bootloader`, `app`, `softdevice` FWID ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub firmware: BTreeMap<String, String>,
    /// Anything else that identifies it: probe serial, BLE address, adapter, serial port.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// One iteration of one sub-case on one DUT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IterationRecord {
    pub case: String,
    pub sub_case: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    pub dut: String,
    /// 0-based within the sub-case.
    pub iteration: u32,
    pub seed: u64,
    /// The fault as planned (random points resolved to the point drawn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_fault: Option<Fault>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_class: Option<FailureClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where in the protocol the failure happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<FailureLocation>,
    /// Failed attempts before the last one (the run's own retries), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<Attempt>,
    /// Runtime clock (simulated device time on the virtual bench).
    pub duration_ms: u64,
    /// Of that, the dfu steps (transfer and activation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_ms: Option<u64>,
    /// Firmware bytes sent (init packets excluded).
    pub bytes: u64,
    pub wall_ms: u64,
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
    /// How an interrupted update was continued (the last `dfu: { resume: true }` step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumeRecord>,
}

/// How much of an interrupted update had to be sent again, and whether that is what the
/// bootloader build's rules give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeRecord {
    /// Firmware offset the resumed transfer started from (0: restarted; the image size: only
    /// the final EXECUTE was left).
    pub offset: u32,
    /// Firmware bytes sent before the fault that were sent again (the interrupted transfer's
    /// offset at the fault minus `offset`, never below 0).
    pub bytes_resent: u32,
    /// The interrupted transfer's firmware offset when the fault hit.
    pub fault_offset: u32,
    /// What the bootloader keeps across that fault, by its SDK's rules (`nothing`, `flash`,
    /// `ram`), and the offset at least that keeps when a resume is due.
    pub kept: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_from: Option<u32>,
    /// The bootloader build: SDK and `sdk_config.h` options in force.
    pub bootloader: String,
}

impl IterationRecord {
    /// Firmware bytes per second of update time.
    pub fn throughput_bps(&self) -> Option<f64> {
        match self.update_ms {
            Some(ms) if ms > 0 && self.bytes > 0 => Some(self.bytes as f64 * 1000.0 / ms as f64),
            _ => None,
        }
    }

    /// `create of data object 3 at offset 12288: OPERATION_FAILED: ...`, or the message alone.
    pub fn failure_text(&self) -> Option<String> {
        let msg = self.message.as_deref();
        match (&self.failed_at, msg) {
            (Some(at), Some(m)) => Some(format!("{at}: {m}")),
            (Some(at), None) => Some(at.to_string()),
            (None, Some(m)) => Some(m.to_string()),
            (None, None) => self.failure_class.map(|c| c.to_string()),
        }
    }
}

/// Where in the protocol something failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureLocation {
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// Byte offset in the init packet or firmware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// The device's answer, e.g. `OPERATION_FAILED` or `EXT_ERROR FW_VERSION_FAILURE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl std::fmt::Display for FailureLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "phase={}", self.phase)?;
        if let Some(i) = self.image {
            write!(f, " image={i}")?;
        }
        match self.object {
            Some(ObjectRef::Init) => f.write_str(" object=init")?,
            Some(ObjectRef::Data(n)) => write!(f, " object=data#{n}")?,
            None => {}
        }
        if let Some(o) = self.offset {
            write!(f, " offset={o}")?;
        }
        if let Some(r) = &self.result {
            write!(f, " result={r}")?;
        }
        Ok(())
    }
}

/// A failed attempt that the run retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    pub failure_class: FailureClass,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<FailureLocation>,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
}

/// Something the run did to bring a DUT or the bench back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealingRecord {
    pub dut: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u32>,
    pub action: HealingAction,
    pub reason: String,
    pub ok: bool,
    pub duration_ms: u64,
    pub wall_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealingAction {
    PowerCycle,
    SwdReset,
    /// Reflash through SWD (what makes an iteration `bricked`).
    SwdReflash,
    AdapterReset,
    Reconnect,
    ClearGattCache,
    ProbeReattach,
}

/// A DUT (or the bench) taken out of the campaign after infrastructure faults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineRecord {
    pub dut: String,
    pub failure_class: FailureClass,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u32>,
}

/// A sub-case stopped early on a DUT by one of its stop conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseStopRecord {
    pub sub_case: String,
    pub dut: String,
    pub reason: StopReason,
    /// Iterations run before stopping.
    pub iterations: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    Completed,
    MaxFailures,
    TimeBudget,
    Brick,
    Quarantined,
    Interrupted,
}

/// The end of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Footer {
    pub iterations: u64,
    pub stopped: StopReason,
    pub duration_ms: u64,
    pub wall_ms: u64,
    pub wall_end: String,
}
