//! Statistics per case and DUT, derived from one or more journals (several benches or nights):
//! counts, outcome and failure-class histograms, success and flake rates with Wilson 95 %
//! intervals, update time and throughput percentiles, bricked devices, and the first failures
//! with the command that replays each.
//!
//! Groups are keyed by bench, DUT and sub-case, so the same suite and seed run on two benches
//! stay apart while nights on one bench add up. Infrastructure errors are counted but kept out
//! of the device rates.

mod dut;
pub mod fit;
mod text;

pub use dut::DutStats;

use super::failure_class::FailureClass;
use super::journal::{HealingAction, IterationRecord, Journal, Record};
use super::outcome::{Outcome, Verdict};
use super::stats::{Rate, Spread};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How many failures per group keep their seed and replay command (and as many bricks more).
pub const FIRST_FAILURES: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub runs: Vec<RunInfo>,
    pub totals: Totals,
    /// One row per DUT of each bench, all its sub-cases together.
    #[serde(default)]
    pub duts: Vec<DutStats>,
    /// One row per sub-case on each DUT of each bench.
    pub groups: Vec<GroupStats>,
    /// Healing actions by kind, over all runs.
    pub healing: BTreeMap<String, u64>,
    pub quarantines: Vec<String>,
    /// Per injected defect (bug-zoo cases): caught or missed, and how likely a miss was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<DefectVerdict>,
}

/// Whether a run caught one injected defect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefectVerdict {
    pub defect: String,
    pub case: String,
    /// A device failure (or flaky iteration) in the case's sub-cases on some DUT.
    pub caught: bool,
    /// Device iterations of the case.
    pub iterations: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fires_per_iteration: Option<f64>,
    /// `(1 - p)^iterations`: the chance a run of this size misses the defect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miss_probability: Option<f64>,
}

/// Caught or missed, per defect of every journal's defect cases.
fn defect_verdicts(journals: &[Journal], groups: &[GroupStats]) -> Vec<DefectVerdict> {
    let mut out: Vec<DefectVerdict> = Vec::new();
    for j in journals {
        for (case, dc) in &j.header.defect_cases {
            let of_case = groups.iter().filter(|g| &g.case == case);
            let (mut n, mut bad) = (0u64, 0u64);
            for g in of_case {
                n += g.counts.device_iterations();
                bad += g.counts.failed + g.counts.flaky;
            }
            for d in &dc.defects {
                if let Some(v) = out.iter_mut().find(|v| &v.defect == d && &v.case == case) {
                    // Several journals: one verdict per defect and case over all of them.
                    v.caught |= bad > 0;
                    v.iterations = n;
                    continue;
                }
                out.push(DefectVerdict {
                    defect: d.clone(),
                    case: case.clone(),
                    caught: bad > 0,
                    iterations: n,
                    fires_per_iteration: dc.fires_per_iteration,
                    miss_probability: None,
                });
            }
        }
    }
    for v in &mut out {
        v.miss_probability = v
            .fires_per_iteration
            .map(|p| (1.0 - p.clamp(0.0, 1.0)).powf(v.iterations as f64));
    }
    out
}

/// One journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub journal: String,
    pub suite: String,
    pub suite_path: String,
    pub seed: u64,
    pub bench: String,
    /// `virtual`, `hardware` or `lab`: which path ran.
    #[serde(default)]
    pub bench_kind: String,
    pub host: Option<String>,
    pub duts: Vec<String>,
    pub tool_version: String,
    pub wall_start: String,
    pub iterations: u64,
    /// Has its footer (the campaign ended, not killed).
    pub complete: bool,
    /// A partial last line was dropped (the run was killed while writing).
    pub truncated: bool,
    /// Why the campaign ended, from its footer (`interrupted` after SIGINT/SIGTERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// Iterations by verdict, and those that left a bricked device: of the whole run, of a DUT or
/// of a sub-case (flattened into their JSON, so the keys stay where readers expect them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    pub iterations: u64,
    pub passed: u64,
    pub failed: u64,
    pub flaky: u64,
    pub errors: u64,
    pub bricked: u64,
}

impl Totals {
    pub fn count(&mut self, verdict: Verdict, bricked: bool) {
        self.iterations += 1;
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Flaky => self.flaky += 1,
            Verdict::Error => self.errors += 1,
        }
        self.bricked += u64::from(bricked);
    }

    pub fn add(&mut self, other: &Totals) {
        self.iterations += other.iterations;
        self.passed += other.passed;
        self.failed += other.failed;
        self.flaky += other.flaky;
        self.errors += other.errors;
        self.bricked += other.bricked;
    }

    /// Iterations that say something about the device (infrastructure errors excluded).
    pub fn device_iterations(&self) -> u64 {
        self.passed + self.failed + self.flaky
    }
}

/// Statistics of one sub-case on one DUT of one bench.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    pub bench: String,
    pub dut: String,
    pub case: String,
    pub sub_case: String,
    pub chip: Option<String>,
    pub bootloader: Option<String>,
    #[serde(flatten)]
    pub counts: Totals,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub failure_classes: BTreeMap<String, u64>,
    /// Clean first-attempt passes over device iterations (errors excluded).
    pub success: Option<Rate>,
    /// Passes on any attempt (flaky included) over device iterations.
    pub eventual_success: Option<Rate>,
    /// Flaky over device iterations.
    pub flake: Option<Rate>,
    pub update_ms: Option<Spread>,
    pub throughput_bps: Option<Spread>,
    pub first_failures: Vec<FailureRef>,
    /// The bootloader build the sub-case ran on (SDK and `sdk_config.h` options), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootloader_options: Option<String>,
    /// How its interrupted updates were continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumeStats>,
}

/// The resume steps of a sub-case: how far they got and how much they sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResumeStats {
    /// Resume steps that followed a fault.
    pub resumes: u64,
    /// Of those, continued from a non-zero offset.
    pub resumed: u64,
    /// Of those, where the build kept firmware, so a resume was due.
    pub due: u64,
    /// Firmware bytes sent before a fault and again after it, summed.
    pub bytes_resent: u64,
    /// Resume offsets, summed (their mean is `offset_sum / resumes`).
    pub offset_sum: u64,
}

impl ResumeStats {
    pub fn add(&mut self, r: &crate::campaign::journal::ResumeRecord) {
        self.resumes += 1;
        self.resumed += u64::from(r.offset > 0);
        self.due += u64::from(r.due_from.is_some());
        self.bytes_resent += u64::from(r.bytes_resent);
        self.offset_sum += u64::from(r.offset);
    }
}

/// A failed, flaky or errored iteration with what is needed to run it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRef {
    pub iteration: u32,
    pub verdict: Verdict,
    pub seed: u64,
    pub campaign_seed: u64,
    pub failure_class: Option<String>,
    pub message: Option<String>,
    pub replay: String,
}

impl GroupStats {
    fn new(bench: &str, it: &IterationRecord, j: &Journal) -> GroupStats {
        let dut = j.header.duts.iter().find(|d| d.name == it.dut);
        GroupStats {
            bench: bench.to_string(),
            dut: it.dut.clone(),
            case: it.case.clone(),
            sub_case: it.sub_case.clone(),
            chip: dut.map(|d| d.chip.clone()),
            bootloader: dut.map(|d| d.bootloader.clone()),
            counts: Totals::default(),
            outcomes: BTreeMap::new(),
            failure_classes: BTreeMap::new(),
            success: None,
            eventual_success: None,
            flake: None,
            update_ms: None,
            throughput_bps: None,
            first_failures: Vec::new(),
            bootloader_options: dut.and_then(|d| d.details.get("bootloader options").cloned()),
            resume: None,
        }
    }
}

/// The iteration (or one of its retried attempts) left the device needing a reflash.
pub fn bricked(it: &IterationRecord) -> bool {
    let is = |o: Option<Outcome>, c: Option<FailureClass>| {
        o == Some(Outcome::Bricked) || c == Some(FailureClass::Brick)
    };
    is(it.outcome, it.failure_class)
        || it
            .retries
            .iter()
            .any(|a| is(a.outcome, Some(a.failure_class)))
}

/// The command that runs one iteration again exactly.
pub fn replay_command(j: &Journal, sub_case: &str, iteration: u32) -> String {
    let mut words = vec![
        "rig".to_string(),
        "run".to_string(),
        j.header.suite.path.clone(),
        "--seed".to_string(),
        j.header.seed.to_string(),
    ];
    if let Some(bench) = &j.header.bench.file {
        words.push("--bench".into());
        words.push(bench.clone());
    }
    words.extend(j.header.replay_args.iter().cloned());
    words.push("--replay".into());
    words.push(format!("{sub_case}:{iteration}"));
    words
        .iter()
        .map(|w| {
            shlex::try_quote(w)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| w.clone())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Summary {
    /// Statistics of the journals, in the order given.
    pub fn of(journals: &[Journal]) -> Summary {
        let mut groups: Vec<GroupStats> = Vec::new();
        let mut index: HashMap<(String, String, String), usize> = HashMap::new();
        let mut samples: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut duts: Vec<DutStats> = Vec::new();
        let mut dut_index: HashMap<(String, String), usize> = HashMap::new();
        let mut dut_samples: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut totals = Totals::default();
        let mut healing = BTreeMap::new();
        let mut quarantines = Vec::new();
        let mut runs = Vec::new();
        for j in journals {
            let bench = j.header.bench.name.clone();
            runs.push(RunInfo {
                journal: j.path.display().to_string(),
                suite: j.header.suite.name.clone(),
                suite_path: j.header.suite.path.clone(),
                seed: j.header.seed,
                bench: bench.clone(),
                bench_kind: j.header.bench.kind.label().to_string(),
                host: j.header.bench.host.clone(),
                duts: j.header.duts.iter().map(|d| d.name.clone()).collect(),
                tool_version: j.header.tool_version.clone(),
                wall_start: j.header.wall_start.clone(),
                iterations: j.iterations().count() as u64,
                complete: j.footer.is_some(),
                truncated: j.truncated.is_some(),
                stopped: j
                    .footer
                    .as_ref()
                    .and_then(|f| serde_json::to_value(f.stopped).ok())
                    .and_then(|v| v.as_str().map(str::to_string)),
            });
            for r in &j.records {
                match r {
                    Record::Healing(h) => {
                        *healing
                            .entry(healing_label(h.action).to_string())
                            .or_insert(0) += 1
                    }
                    Record::Quarantine(q) => quarantines.push(format!(
                        "{} on {}: {} ({})",
                        bench, q.dut, q.failure_class, q.reason
                    )),
                    _ => {}
                }
            }
            for it in j.iterations() {
                let key = (bench.clone(), it.dut.clone(), it.sub_case.clone());
                let gi = *index.entry(key).or_insert_with(|| {
                    groups.push(GroupStats::new(&bench, it, j));
                    samples.push((Vec::new(), Vec::new()));
                    groups.len() - 1
                });
                let g = &mut groups[gi];
                add(g, it, j);
                let di = *dut_index
                    .entry((bench.clone(), it.dut.clone()))
                    .or_insert_with(|| {
                        duts.push(DutStats::new(g));
                        dut_samples.push((Vec::new(), Vec::new()));
                        duts.len() - 1
                    });
                if let Some(ms) = it.update_ms {
                    samples[gi].0.push(ms as f64);
                    dut_samples[di].0.push(ms as f64);
                }
                if let Some(t) = it.throughput_bps() {
                    samples[gi].1.push(t);
                    dut_samples[di].1.push(t);
                }
            }
        }
        for (g, (update, throughput)) in groups.iter_mut().zip(&samples) {
            let c = g.counts;
            let n = c.device_iterations();
            g.success = Rate::wilson(c.passed, n);
            g.eventual_success = Rate::wilson(c.passed + c.flaky, n);
            g.flake = Rate::wilson(c.flaky, n);
            g.update_ms = Spread::of(update);
            g.throughput_bps = Spread::of(throughput);
            if let Some(&di) = dut_index.get(&(g.bench.clone(), g.dut.clone())) {
                duts[di].counts.add(&g.counts);
            }
            totals.add(&g.counts);
        }
        for (d, (update, throughput)) in duts.iter_mut().zip(&dut_samples) {
            d.finish(update, throughput);
        }
        let defects = defect_verdicts(journals, &groups);
        Summary {
            runs,
            totals,
            duts,
            groups,
            healing,
            quarantines,
            defects,
        }
    }

    /// summary.json: indented for a person reading the file.
    pub fn to_json(&self) -> String {
        // Plain data with string map keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The same on one line (`--json` on stdout: one object per line).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn add(g: &mut GroupStats, it: &IterationRecord, j: &Journal) {
    let brick = bricked(it);
    g.counts.count(it.verdict, brick);
    if let Some(r) = &it.resume {
        g.resume.get_or_insert_with(ResumeStats::default).add(r);
        g.bootloader_options = Some(r.bootloader.clone());
    }
    if let Some(o) = it.outcome {
        *g.outcomes.entry(o).or_insert(0) += 1;
    }
    // A flaky iteration's classes are those of its failed attempts.
    let classes = it
        .failure_class
        .iter()
        .copied()
        .chain(it.retries.iter().map(|a| a.failure_class));
    for c in classes {
        *g.failure_classes.entry(c.to_string()).or_insert(0) += 1;
    }
    // The first failures, and the first bricks even after those: a brick is never left without
    // its replay command.
    let kept = g.first_failures.len() as u64;
    let room = kept < FIRST_FAILURES as u64 || (brick && g.counts.bricked <= FIRST_FAILURES as u64);
    if it.verdict != Verdict::Pass && room {
        let (class, message) = match (it.failure_class, it.retries.first()) {
            (Some(c), _) => (Some(c.to_string()), it.failure_text()),
            (None, Some(a)) => (Some(a.failure_class.to_string()), Some(a.message.clone())),
            (None, None) => (None, it.failure_text()),
        };
        g.first_failures.push(FailureRef {
            iteration: it.iteration,
            verdict: it.verdict,
            seed: it.seed,
            campaign_seed: j.header.seed,
            failure_class: class,
            message,
            replay: replay_command(j, &it.sub_case, it.iteration),
        });
    }
}

/// The healing action as the journal and summary name it (`power-cycle`).
pub fn healing_label(a: HealingAction) -> &'static str {
    match a {
        HealingAction::PowerCycle => "power-cycle",
        HealingAction::SwdReset => "swd-reset",
        HealingAction::SwdReflash => "swd-reflash",
        HealingAction::AdapterReset => "adapter-reset",
        HealingAction::Reconnect => "reconnect",
        HealingAction::ClearGattCache => "clear-gatt-cache",
        HealingAction::ProbeReattach => "probe-reattach",
    }
}

#[cfg(test)]
mod tests;
