//! The campaign: health check and setup on every DUT, then each DUT runs every sub-case's
//! iterations as its own future (all DUTs concurrently on one thread; the virtual bench runs
//! each DUT on a thread of its own instead, see [`super::threads`], with the same journal),
//! healing between iterations, stopping where the suite says. The journal is written line by
//! line as iterations finish; the reports are rebuilt from it at the end.

use super::dut::BenchDut;
use super::error::RunError;
use super::events::{RunEvent, RunObserver};
use super::executor::{Executor, IterationSpec};
use super::flash_ops::count_flash_ops;
use super::images::ImageStore;
use super::iteration::{attempt_and_heal, iteration_record};
use crate::campaign::failure_class::{FailureClass, InfraFault};
use crate::campaign::journal::{
    self, BenchInfo, CaseStopRecord, DutInfo, Footer, Header, JournalWriter, QuarantineRecord,
    Record, StopReason, SuiteRef,
};
use crate::campaign::outcome::Verdict;
use crate::campaign::report::{self, Rebuilt};
use crate::campaign::seed::iteration_seed;
use crate::campaign::suite::{LoadedSuite, Step, SubCase, VersionStrategy};
use futures_util::future::join_all;
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant as WallInstant};
use virtual_nrf52::defects::Defect;

/// Consecutive infrastructure errors after which a DUT is quarantined.
const MAX_INFRA_IN_A_ROW: u32 = 3;

/// Set from a signal handler: finish the step in flight, then write every report.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    pub fn handle(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

pub struct CampaignOptions {
    pub seed: u64,
    /// Overrides every case's iteration count.
    pub iterations: Option<u32>,
    /// Run only this sub-case's iteration.
    pub replay: Option<(String, u32)>,
    pub out_dir: PathBuf,
    /// Defects switched on for every case (virtual DUTs).
    pub defects: Vec<Defect>,
    pub bench: BenchInfo,
    pub stop: StopFlag,
    pub key: nrf_dfu::signing::SigningKey,
    /// How the suite is named in the journal (and in replay commands).
    pub suite_path: String,
    /// Options a replay command must repeat (see [`journal::Header::replay_args`]).
    pub replay_args: Vec<String>,
}

pub struct CampaignResult {
    pub rebuilt: Rebuilt,
    pub interrupted: bool,
    /// An iteration failed or errored, or a DUT was quarantined.
    pub failed: bool,
    pub iterations: u64,
}

/// Where a DUT's journal records go: the file, or the merge of DUTs on threads of their own.
pub(super) trait JournalSink {
    fn write(&self, r: &Record) -> Result<(), RunError>;
}

impl JournalSink for RefCell<JournalWriter<File>> {
    fn write(&self, r: &Record) -> Result<(), RunError> {
        Ok(self.borrow_mut().write(r)?)
    }
}

pub(super) fn write(j: &dyn JournalSink, r: &Record) -> Result<(), RunError> {
    j.write(r)
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) struct Shared<'a> {
    pub(super) suite: &'a LoadedSuite,
    pub(super) sub_cases: &'a [SubCase],
    pub(super) opts: &'a CampaignOptions,
    pub(super) journal: &'a dyn JournalSink,
    pub(super) observer: &'a dyn RunObserver,
    pub(super) failed: Cell<bool>,
    pub(super) interrupted: Cell<bool>,
    pub(super) iterations: Cell<u64>,
}

/// Run the campaign of `suite` on `duts`; write the journal and the reports into the output
/// directory. Must run on a current-thread runtime (paused for virtual DUTs).
pub async fn run_campaign<D: BenchDut>(
    suite: &LoadedSuite,
    mut duts: Vec<D>,
    opts: &CampaignOptions,
    observer: &dyn RunObserver,
) -> Result<CampaignResult, RunError> {
    let dir = &opts.out_dir;
    std::fs::create_dir_all(dir).map_err(|source| RunError::Io {
        path: dir.clone(),
        source,
    })?;
    declare_suite_options(suite, &mut duts)?;
    let mut stores: Vec<ImageStore> = duts
        .iter()
        .map(|d| ImageStore::new(&suite.dir, d.chip(), opts.key.clone()))
        .collect();
    let sub_cases = expand(suite, &mut duts, &mut stores, opts).await?;
    observer.event(RunEvent::Planned {
        total: planned(opts, &sub_cases) * duts.len() as u64,
        duts: duts.len(),
    });
    let wall0 = WallInstant::now();
    let start = tokio::time::Instant::now();
    // Health check and suite setup on every DUT before the header, so it can say what they run.
    let mut ready = Vec::new();
    for (dut, store) in duts.iter_mut().zip(stores.iter_mut()) {
        ready.push(prepare_dut(dut, store, suite, opts).await);
    }
    let journal_path = dir.join(journal::JOURNAL_FILE);
    let journal = RefCell::new(JournalWriter::create(&journal_path)?);
    write(
        &journal,
        &header(suite, opts, duts.iter().map(|d| d.info()).collect()),
    )?;
    let shared = Shared {
        suite,
        sub_cases: &sub_cases,
        opts,
        journal: &journal,
        observer,
        failed: Cell::new(false),
        interrupted: Cell::new(false),
        iterations: Cell::new(0),
    };
    let runs = duts
        .iter_mut()
        .zip(stores.iter_mut())
        .zip(ready)
        .map(|((dut, store), ready)| run_dut(&shared, dut, store, ready));
    for r in join_all(runs).await {
        r?;
    }
    let interrupted = shared.interrupted.get() || opts.stop.is_set();
    let iterations = shared.iterations.get();
    let failed = shared.failed.get();
    write(
        &journal,
        &footer(iterations, interrupted, start.elapsed(), wall0.elapsed()),
    )?;
    drop(journal);
    reports(dir, interrupted, failed, iterations)
}

/// The reports rebuilt from the finished journal in `dir`, and the campaign's result.
pub(super) fn reports(
    dir: &std::path::PathBuf,
    interrupted: bool,
    failed: bool,
    iterations: u64,
) -> Result<CampaignResult, RunError> {
    let rebuilt = report::rebuild(std::slice::from_ref(dir))?;
    rebuilt.write(dir)?;
    Ok(CampaignResult {
        rebuilt,
        interrupted,
        failed,
        iterations,
    })
}

pub(super) fn header(suite: &LoadedSuite, opts: &CampaignOptions, duts: Vec<DutInfo>) -> Record {
    // Both runners (one runtime, a thread per DUT) write the header once, when the DUTs are ready.
    tracing::info!(suite = %suite.suite.name, duts = duts.len(), seed = opts.seed, "campaign starts");
    Record::Header(Header {
        format: journal::record::FORMAT,
        tool: "rig".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        suite: SuiteRef {
            name: suite.suite.name.clone(),
            path: opts.suite_path.clone(),
            sha256: suite.sha256.clone(),
        },
        seed: opts.seed,
        bench: opts.bench.clone(),
        duts,
        wall_start: now_text(),
        replay_args: opts.replay_args.clone(),
        defect_cases: suite
            .suite
            .cases
            .iter()
            .filter(|c| !c.defects.is_empty())
            .map(|c| {
                (
                    c.name.clone(),
                    journal::DefectCase {
                        defects: c.defects.iter().map(|d| d.name().to_string()).collect(),
                        fires_per_iteration: c.fires_per_iteration,
                    },
                )
            })
            .collect(),
    })
}

/// `simulated`: since the suite was expanded; `wall`: the same on the wall clock.
pub(super) fn footer(
    iterations: u64,
    interrupted: bool,
    simulated: Duration,
    wall: Duration,
) -> Record {
    Record::Footer(Footer {
        iterations,
        stopped: if interrupted {
            StopReason::Interrupted
        } else {
            StopReason::Completed
        },
        duration_ms: simulated.as_millis() as u64,
        wall_ms: wall.as_millis() as u64,
        wall_end: now_text(),
    })
}

/// Iterations of one DUT.
pub(super) fn planned(opts: &CampaignOptions, sub_cases: &[SubCase]) -> u64 {
    sub_cases
        .iter()
        .filter_map(|s| replay_match(opts, s))
        .map(|r| u64::from(r.end - r.start))
        .sum()
}

/// The iterations of `s` this run does: all, or the replayed one.
fn replay_match(opts: &CampaignOptions, s: &SubCase) -> Option<std::ops::Range<u32>> {
    match &opts.replay {
        Some((name, it)) if *name == s.name => Some(*it..*it + 1),
        Some(_) => None,
        None => Some(0..opts.iterations.unwrap_or(s.iterations)),
    }
}

/// Sub-cases of the suite; `flash_op: all` sweeps count the flash operations of one clean
/// update on the first DUT first.
pub(super) async fn expand<D: BenchDut>(
    suite: &LoadedSuite,
    duts: &mut [D],
    stores: &mut [ImageStore],
    opts: &CampaignOptions,
) -> Result<Vec<SubCase>, RunError> {
    let mut out = Vec::new();
    for (i, case) in suite.suite.cases.iter().enumerate() {
        let needs_count = case
            .sweep
            .as_ref()
            .is_some_and(|s| s.flash_op == Some(crate::campaign::suite::FlashOps::All));
        let count = if needs_count {
            let (Some(dut), Some(store)) = (duts.first_mut(), stores.first_mut()) else {
                return Err(RunError::Bench("the bench has no DUT".into()));
            };
            Some(count_flash_ops(dut, store, suite, case, opts).await?)
        } else {
            None
        };
        out.extend(
            case.sub_cases(i, count)
                .map_err(|e| RunError::Suite(e.to_string()))?,
        );
    }
    if let Some((name, it)) = &opts.replay {
        if !out
            .iter()
            .any(|s| s.name == *name && *it < opts.iterations.unwrap_or(s.iterations))
        {
            return Err(RunError::NoSuchIteration(format!("{name}:{it}")));
        }
    }
    Ok(out)
}

/// A DUT's state before its iterations: ready, or quarantined with the reason.
pub(super) enum Ready {
    Yes,
    Quarantined(QuarantineRecord),
}

fn setup_spec(opts: &CampaignOptions) -> IterationSpec {
    IterationSpec {
        iteration: 0,
        seed: opts.seed,
        timeouts: Default::default(),
        base_version: 0,
        next_per_iteration: 0,
        sdk: None,
        single_bank: false,
        sd_fwid: None,
    }
}

#[tracing::instrument(name = "dut", skip_all, fields(dut = dut.name()))]
pub(super) async fn prepare_dut<D: BenchDut>(
    dut: &mut D,
    store: &mut ImageStore,
    suite: &LoadedSuite,
    opts: &CampaignOptions,
) -> Ready {
    let quarantine = |dut: &D, class, reason: String| {
        Ready::Quarantined(QuarantineRecord {
            dut: dut.name().to_string(),
            failure_class: class,
            reason,
            sub_case: None,
            iteration: None,
        })
    };
    // Health check: the probe attaches and reads the chip's identity.
    let chip = dut.chip();
    match dut.with_probe(|p| p.attach().and_then(|_| p.read_ficr())) {
        Err(e) => {
            return quarantine(
                dut,
                FailureClass::Infra(InfraFault::HealthCheck),
                format!(
                    "health check: the probe cannot read {chip:?}: {}",
                    e.message
                ),
            );
        }
        // The chip must be the bench file's before anything is flashed (issue 12, finding 18).
        Ok(ficr) => {
            if let Err(e) = ficr.check_chip(chip) {
                return quarantine(
                    dut,
                    FailureClass::Infra(InfraFault::HealthCheck),
                    format!("health check: {}", e.message),
                );
            }
        }
    }
    if suite.suite.setup.is_empty() {
        return Ready::Yes;
    }
    let stop = opts.stop.clone();
    let mut exec = Executor {
        dut,
        store,
        observer: &super::events::Quiet,
        stop: &stop,
    };
    let a = exec.attempt(&setup_spec(opts), &suite.suite.setup).await;
    match a.failure {
        None => Ready::Yes,
        Some(f) => quarantine(
            exec.dut,
            f.class,
            format!("suite setup failed: {}", f.message),
        ),
    }
}

pub(super) struct DutState {
    pub(super) infra_in_a_row: u32,
    pub(super) quarantined: bool,
    /// The installed SoftDevice's FWID after the suite's setup (0x00 without one), for
    /// packages without `sd_req`.
    pub(super) fwid: Option<u16>,
    /// The last sub-case flashed its case's own setup: the next case without one gets the
    /// suite's setup again, not the images another case left behind.
    pub(super) case_setup_in_force: bool,
}

#[tracing::instrument(name = "dut", skip_all, fields(dut = dut.name()))]
pub(super) async fn run_dut<D: BenchDut>(
    sh: &Shared<'_>,
    dut: &mut D,
    store: &mut ImageStore,
    ready: Ready,
) -> Result<(), RunError> {
    let mut st = DutState {
        infra_in_a_row: 0,
        quarantined: false,
        fwid: None,
        case_setup_in_force: false,
    };
    if let Ready::Quarantined(q) = ready {
        sh.observer.event(RunEvent::Quarantined(&q));
        write(sh.journal, &Record::Quarantine(q))?;
        sh.failed.set(true);
        return Ok(());
    }
    st.fwid = super::readback::read_dut(dut)
        .ok()
        .map(|r| r.sd_req_default());
    // A replay on a virtual DUT runs everything before the iteration again, unrecorded: the
    // device then starts it in the very state it had (simulated time makes that seconds).
    let fast_forward = sh.opts.replay.is_some() && dut.sees_flash_ops();
    let target = sh
        .opts
        .replay
        .as_ref()
        .and_then(|(name, _)| sh.sub_cases.iter().position(|s| s.name == *name));
    for (k, sc) in sh.sub_cases.iter().enumerate() {
        let range = match (fast_forward, target, replay_match(sh.opts, sc)) {
            (true, Some(t), _) if k < t => 0..sh.opts.iterations.unwrap_or(sc.iterations),
            (true, Some(t), Some(r)) if k == t => 0..r.end,
            (true, _, _) => continue,
            (false, _, Some(r)) => r,
            (false, _, None) => continue,
        };
        let recorded = |it: u32| match &sh.opts.replay {
            Some((name, i)) => *name == sc.name && *i == it,
            None => true,
        };
        if st.quarantined || sh.opts.stop.is_set() {
            break;
        }
        let case = &sh.suite.suite.cases[sc.case_index];
        let mut defects: Vec<Defect> = case.defects.clone();
        defects.extend(sh.opts.defects.iter().copied());
        let had_defects = !defects.is_empty();
        if had_defects {
            dut.set_defects(Some(&defects));
        }
        let stopped = run_sub_case(sh, dut, store, sc, range, &recorded, &mut st).await?;
        if had_defects {
            dut.set_defects(None);
        }
        if sh
            .opts
            .replay
            .as_ref()
            .is_some_and(|(name, _)| *name != sc.name)
        {
            continue;
        }
        write(
            sh.journal,
            &Record::CaseStop(CaseStopRecord {
                sub_case: sc.name.clone(),
                dut: dut.name().to_string(),
                reason: stopped.0,
                iterations: stopped.1,
            }),
        )?;
        if stopped.0 == StopReason::Interrupted {
            sh.interrupted.set(true);
            break;
        }
    }
    Ok(())
}

/// The suite's `dut: bootloader_options` join what each DUT's bench file declares; the same
/// option with two values is a contradiction the user must settle.
fn declare_suite_options<D: BenchDut>(suite: &LoadedSuite, duts: &mut [D]) -> Result<(), RunError> {
    let Some(wanted) = suite.suite.dut.as_ref().map(|d| &d.bootloader_options) else {
        return Ok(());
    };
    for (name, _) in wanted.iter() {
        virtual_nrf52::descriptor::BuildOption::from_name(name)
            .map_err(|e| RunError::Suite(format!("dut: bootloader_options: {e}")))?;
    }
    for dut in duts.iter_mut() {
        let mut merged = dut.declared_options().clone();
        for (name, v) in wanted {
            match merged.insert(name.clone(), *v) {
                Some(old) if old != *v => {
                    return Err(RunError::Suite(format!(
                        "DUT {}: the bench file builds its bootloader with {name}={old}, the suite asks for {name}={v}: change one of them",
                        dut.name()
                    )))
                }
                _ => {}
            }
        }
        dut.declare_options(merged);
    }
    Ok(())
}

#[tracing::instrument(name = "case", skip_all, fields(sub_case = %sc.name))]
async fn run_sub_case<D: BenchDut>(
    sh: &Shared<'_>,
    dut: &mut D,
    store: &mut ImageStore,
    sc: &SubCase,
    range: std::ops::Range<u32>,
    recorded: &dyn Fn(u32) -> bool,
    st: &mut DutState,
) -> Result<(StopReason, u32), RunError> {
    let case = &sh.suite.suite.cases[sc.case_index];
    let opts = sh.opts;
    let stop = opts.stop.clone();
    let (sdk, single_bank) = dut.bootloader().unzip();
    let mut spec = IterationSpec {
        iteration: 0,
        seed: 0,
        timeouts: case.timeouts,
        base_version: 0,
        next_per_iteration: sc
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Dfu(d) if !d.resume && d.image.is_some() && !matches!(d.version, Some(VersionStrategy::Fixed(_)))))
            .count() as u32,
        sdk,
        single_bank: single_bank.unwrap_or(false),
        sd_fwid: st.fwid,
    };
    let mut exec = Executor {
        dut,
        store,
        observer: sh.observer,
        stop: &stop,
    };
    let (setup, whose) = if !case.setup.is_empty() {
        (&case.setup, format!("case {}", case.name))
    } else if st.case_setup_in_force {
        (
            &sh.suite.suite.setup,
            format!("the suite (again, for case {})", case.name),
        )
    } else {
        (&case.setup, String::new())
    };
    st.case_setup_in_force = !case.setup.is_empty();
    if !setup.is_empty() {
        let a = exec.attempt(&spec, setup).await;
        if let Some(f) = a.failure {
            let q = QuarantineRecord {
                dut: exec.dut.name().to_string(),
                failure_class: f.class,
                reason: format!("setup of {whose} failed: {}", f.message),
                sub_case: Some(sc.name.clone()),
                iteration: None,
            };
            write(sh.journal, &Record::Quarantine(q))?;
            sh.failed.set(true);
            return Ok((StopReason::Quarantined, 0));
        }
        let (sdk, single_bank) = exec.dut.bootloader().unzip();
        spec.sdk = sdk;
        spec.single_bank = single_bank.unwrap_or(false);
        // The SoftDevice this setup flashed is what packages without `sd_req` must name (0x00
        // when it flashed none).
        spec.sd_fwid = super::readback::read_dut(exec.dut)
            .ok()
            .map(|r| r.sd_req_default())
            .or(spec.sd_fwid);
    }
    spec.base_version = {
        super::readback::read_dut(exec.dut)
            .ok()
            .and_then(|r| r.app_version())
            .filter(|&v| v != u32::MAX)
            .unwrap_or(0)
    };
    let started = exec.dut.now();
    let mut failures = 0u32;
    let mut done = 0u32;
    for it in range {
        if stop.is_set() {
            return Ok((StopReason::Interrupted, done));
        }
        if let Some(budget) = case.stop.time_budget_s {
            if exec.dut.now().saturating_sub(started) >= Duration::from_secs(budget) {
                return Ok((StopReason::TimeBudget, done));
            }
        }
        spec.iteration = it;
        spec.seed = iteration_seed(opts.seed, &sc.name, it);
        sh.observer.event(RunEvent::Started {
            dut: exec.dut.name(),
            sub_case: &sc.name,
            iteration: it,
        });
        let record_it = recorded(it);
        let wall = WallInstant::now();
        let Some(tried) = attempt_and_heal(sh, &mut exec, sc, &mut spec, record_it, st).await?
        else {
            return Ok((StopReason::Interrupted, done));
        };
        let verdict = tried.verdict();
        tracing::debug!(iteration = it, seed = spec.seed, ?verdict, "iteration done");
        let bricked = tried.bricked;
        let record = iteration_record(sc, exec.dut.name(), &spec, verdict, &tried, wall);
        let last = tried.last;
        // Replay fast-forward: an unrecorded iteration only brings the device to its state (and
        // counts for the stop conditions, as it did in the run being replayed).
        if record_it {
            sh.observer.event(RunEvent::Finished(&record));
            write(sh.journal, &Record::Iteration(record))?;
            sh.iterations.set(sh.iterations.get() + 1);
            done += 1;
        }
        match verdict {
            Verdict::Fail => {
                failures += 1;
                st.infra_in_a_row = 0;
                sh.failed.set(sh.failed.get() | record_it);
            }
            Verdict::Error => {
                // A fault that never landed says nothing about the bench's health.
                let not_landed = last.failure.as_ref().is_some_and(|f| {
                    f.class
                        == FailureClass::Infra(
                            crate::campaign::failure_class::InfraFault::FaultNotLanded,
                        )
                });
                if !not_landed {
                    st.infra_in_a_row += 1;
                }
                sh.failed.set(sh.failed.get() | record_it);
            }
            _ => st.infra_in_a_row = 0,
        }
        if st.infra_in_a_row >= MAX_INFRA_IN_A_ROW || st.quarantined {
            let class = last
                .failure
                .as_ref()
                .map_or(FailureClass::Brick, |f| f.class);
            let q = QuarantineRecord {
                dut: exec.dut.name().to_string(),
                failure_class: class,
                reason: if st.quarantined {
                    "the device could not be recovered (power cycle and SWD reflash failed)".into()
                } else {
                    format!("{MAX_INFRA_IN_A_ROW} infrastructure errors in a row")
                },
                sub_case: Some(sc.name.clone()),
                iteration: Some(it),
            };
            sh.observer.event(RunEvent::Quarantined(&q));
            write(sh.journal, &Record::Quarantine(q))?;
            st.quarantined = true;
            sh.failed.set(true);
            return Ok((StopReason::Quarantined, done));
        }
        if bricked && case.stop.on_brick {
            return Ok((StopReason::Brick, done));
        }
        if case.stop.max_failures.is_some_and(|m| failures >= m) {
            return Ok((StopReason::MaxFailures, done));
        }
    }
    Ok((StopReason::Completed, done))
}
