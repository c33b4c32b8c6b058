//! One attempt at one iteration: run the steps of a sub-case on a DUT, fault the update where
//! the plan says, ask the oracle after every update, and stop at the first failing step.

use super::dut::{BenchDut, FaultInjector, Observed};
use super::error::{phase_of, StepFailure};
use super::events::{RunEvent, RunObserver};
use super::images::{ImageStore, PackageKey, Prepared};
use super::oracle::{classify, runs_new_app, UpdateFacts};
use super::plan::{image_starts, plan, PlannedFault, Trigger};
use super::resume::{self, FaultPoint};
use super::rng::SplitMix64;
use crate::campaign::failure_class::{FailureClass, InfraFault, VerifyCheck};
use crate::campaign::journal::evidence::Evidence;
use crate::campaign::journal::ResumeRecord;
use crate::campaign::outcome::Outcome;
use crate::campaign::phase::Phase;
use crate::campaign::run::settings_page::settings_segments;
use crate::campaign::suite::{
    DfuStep, EnterDfu, Erase, ExpectedVersion, Fault, FaultAction, FlashStep, PowerAction, Running,
    Step, StepKind, StepTimeouts, VerifyStep, VersionStrategy,
};
use crate::drivers::FlashOptions;
use nrf_dfu::client::{Control, DfuClient, DfuConfig, DfuError, Link, ProgressEvent, ProgressSink};
use nrf_dfu::SdkVersion;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::Instant;

/// How long the device gets to show itself after a reset, an update or a power cycle: an
/// SoftDevice + bootloader activation copies for seconds; the bootloader's own inactivity
/// timeout (2 min in the SDK examples) is not waited for.
pub const SETTLE: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUTS: [(StepKind, u64); 6] = [
    (StepKind::Flash, 120_000),
    (StepKind::Dfu, 900_000),
    (StepKind::EnterDfu, 30_000),
    (StepKind::Verify, 60_000),
    (StepKind::Power, 30_000),
    (StepKind::Inspect, 60_000),
];

/// What an iteration is, apart from its steps.
#[derive(Debug, Clone)]
pub struct IterationSpec {
    pub iteration: u32,
    pub seed: u64,
    pub timeouts: StepTimeouts,
    /// The application version installed when the sub-case started (`version: next` counts up
    /// from it, so a replayed iteration sends the same versions).
    pub base_version: u32,
    /// DFU steps with `version: next` per iteration.
    pub next_per_iteration: u32,
    /// The bootloader's dialect for the client (None: the client's default).
    pub sdk: Option<SdkVersion>,
    /// Single-bank bootloader: an interrupted app update leaves no old app to run.
    pub single_bank: bool,
    /// The installed SoftDevice's FWID (0x00 when there is none), for `sd_req` when the step
    /// gives none.
    pub sd_fwid: Option<u16>,
}

/// The result of one attempt.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub failure: Option<StepFailure>,
    pub outcome: Option<Outcome>,
    pub planned_fault: Option<Fault>,
    pub evidence: Evidence,
    pub duration: Duration,
    pub update: Option<Duration>,
    pub bytes: u64,
    /// The step was cut short by a stop request (the attempt is not a verdict).
    pub interrupted: bool,
    /// How the last resume step continued the interrupted update.
    pub resume: Option<crate::campaign::journal::ResumeRecord>,
}

/// What the last dfu step left for the steps after it.
struct LastUpdate {
    prepared: Rc<Prepared>,
    sent_version: Option<u32>,
    previous_version: Option<u32>,
    previous_bank0: Option<(u32, u32)>,
    outcome: Outcome,
    /// The client's own error, unless the rig's fault plan stopped it.
    client_error: Option<StepFailure>,
    client_ok: bool,
    faulted: bool,
    /// An expect step has judged this update.
    judged: bool,
    /// What the device showed after the update.
    observed: Observed,
    /// Something the device did wrong that the client recovered from.
    finding: Option<StepFailure>,
    /// Where the planned fault hit this update, and what the bootloader kept of it.
    fault_point: Option<crate::campaign::run::resume::FaultPoint>,
}

mod device_steps;
mod dfu_step;
mod fault_sink;
pub use fault_sink::trace_dfu_object;
mod verify_step;

use fault_sink::FaultSink;

pub struct Executor<'a, D: BenchDut> {
    pub dut: &'a mut D,
    pub store: &'a mut ImageStore,
    pub observer: &'a dyn RunObserver,
    pub stop: &'a super::campaign::StopFlag,
}

fn timeout_for(t: &StepTimeouts, step: &Step) -> Duration {
    let ms = t.for_step(step).unwrap_or_else(|| {
        DEFAULT_TIMEOUTS
            .iter()
            .find(|(k, _)| *k == step.kind())
            .map_or(60_000, |(_, ms)| *ms)
    });
    Duration::from_millis(ms)
}

fn step_phase(kind: StepKind) -> Phase {
    match kind {
        StepKind::EnterDfu => Phase::EnterDfu,
        StepKind::Dfu => Phase::Setup,
        _ => Phase::Reconnect,
    }
}

/// One attempt as its steps run: what the steps share.
struct AttemptRun<'s> {
    spec: &'s IterationSpec,
    start: Instant,
    /// Fault points are drawn from the iteration's seed, in step order.
    rng: SplitMix64,
    last: Option<LastUpdate>,
    /// `version: next` steps so far in this iteration.
    next_index: u32,
    a: Attempt,
}

impl AttemptRun<'_> {
    fn t_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// An event in the attempt's evidence, stamped with the time since the attempt began.
    fn note(&mut self, text: impl Into<String>) {
        let t = self.t_ms();
        self.a.evidence.event(t, text);
    }
}

impl<D: BenchDut> Executor<'_, D> {
    /// Run `steps` as one attempt of iteration `spec`.
    pub async fn attempt(&mut self, spec: &IterationSpec, steps: &[Step]) -> Attempt {
        let mut run = AttemptRun {
            spec,
            start: Instant::now(),
            rng: SplitMix64::new(spec.seed),
            last: None,
            next_index: 0,
            a: Attempt::default(),
        };
        for (i, step) in steps.iter().enumerate() {
            if self.stop.is_set() {
                run.a.interrupted = true;
                break;
            }
            // An update nobody judged explicitly must have brought the new app (or, when it was
            // interrupted on purpose, left the device recoverable).
            if !matches!(step, Step::Expect(_)) {
                if let Some(f) = implicit_expectation(&mut run.last, spec) {
                    run.a.failure = Some(f);
                    break;
                }
            }
            let limit = timeout_for(&spec.timeouts, step);
            let kind = step.kind();
            let span = tracing::debug_span!("step", n = i + 1, kind = kind.key());
            let body = tracing::Instrument::instrument(self.step(&mut run, step), span);
            let result = match tokio::time::timeout(limit, body).await {
                Ok(r) => r,
                Err(_) => Err(StepFailure::timeout(
                    step_phase(kind),
                    format!(
                        "step {} ({}) took longer than {} ms",
                        i + 1,
                        kind.key(),
                        limit.as_millis()
                    ),
                )),
            };
            if let Err(f) = result {
                tracing::debug!(step = i + 1, class = %f.class, "step failed: {}", f.message);
                run.note(format!(
                    "step {} ({}) failed: {}",
                    i + 1,
                    kind.key(),
                    f.message
                ));
                run.a.failure = Some(f);
                break;
            }
        }
        if run.a.failure.is_none() && !run.a.interrupted {
            if let Some(f) = implicit_expectation(&mut run.last, spec) {
                run.a.failure = Some(f);
            }
        }
        for line in self.dut.take_log_lines() {
            let t = run.t_ms();
            run.a.evidence.rtt_line(t, line);
        }
        let mut a = run.a;
        if let Some(l) = &run.last {
            a.outcome = Some(l.outcome);
        }
        if let Some(f) = &mut a.failure {
            if f.outcome.is_none() {
                f.outcome = a.outcome;
            }
        }
        a.duration = run.start.elapsed();
        a
    }

    async fn step(&mut self, run: &mut AttemptRun<'_>, step: &Step) -> Result<(), StepFailure> {
        match step {
            Step::Flash(f) => self.flash(f, run).await,
            Step::Dfu(d) => self.dfu(d, run).await,
            Step::Expect(e) => {
                let Some(l) = run.last.as_mut() else {
                    return Err(StepFailure::infra(
                        InfraFault::Host,
                        "expect without a dfu step before it",
                    ));
                };
                l.judged = true;
                match judge(l, &e.outcome) {
                    Some(f) => Err(f),
                    None => Ok(()),
                }
            }
            Step::Verify(v) => self.verify(v, run).await,
            Step::Power(p) => {
                let off = Duration::from_millis(p.off_ms.unwrap_or(500));
                run.note(format!("power {:?}", p.action).to_lowercase());
                self.dut.power(p.action, off).await?;
                if p.action != PowerAction::Off {
                    let seen = self.dut.observe(SETTLE).await;
                    run.note(seen.describe());
                }
                Ok(())
            }
            Step::EnterDfu(how) => self.enter_dfu(*how, run).await,
            Step::Wait(w) => {
                self.dut.sleep(Duration::from_millis(w.ms)).await;
                Ok(())
            }
            Step::Reset(r) => {
                let gpregret = r.gpregret;
                self.dut
                    .with_probe(|p| {
                        p.attach()?;
                        if let Some(v) = gpregret {
                            p.write_memory(
                                nrf_dfu::memory_map::POWER_GPREGRET,
                                &u32::from(v).to_le_bytes(),
                            )?;
                        }
                        p.soft_reset()
                    })
                    .map_err(|e| {
                        StepFailure::infra(
                            InfraFault::Probe,
                            format!("reset through SWD: {}", e.message),
                        )
                    })?;
                let seen = self.dut.observe(SETTLE).await;
                let note = gpregret.map_or(String::new(), |v| format!(" with GPREGRET {v:#04x}"));
                run.note(format!("reset{note}: {}", seen.describe()));
                if let Some(l) = run.last.as_mut() {
                    l.observed = seen;
                }
                Ok(())
            }
            Step::Inspect => {
                let rb = crate::campaign::run::readback::read_dut(self.dut)?;
                for line in rb.describe() {
                    run.note(line);
                }
                Ok(())
            }
        }
    }
}

fn implicit_expectation(
    last: &mut Option<LastUpdate>,
    spec: &IterationSpec,
) -> Option<StepFailure> {
    let l = last.as_mut()?;
    if l.judged {
        return None;
    }
    l.judged = true;
    let allowed: &[Outcome] = if l.faulted {
        if spec.single_bank {
            &[Outcome::DfuMode, Outcome::Completed]
        } else {
            &[Outcome::OldAppRunning, Outcome::DfuMode, Outcome::Completed]
        }
    } else {
        &[Outcome::Completed, Outcome::Resumed, Outcome::Restarted]
    };
    judge(l, allowed)
}

/// An expect: the outcome must be one of `allowed`. When it is not, the class says why: the
/// client's own error if it had one, silence as a timeout, otherwise the outcome itself.
fn judge(l: &LastUpdate, allowed: &[Outcome]) -> Option<StepFailure> {
    if allowed.contains(&l.outcome) {
        return l.finding.clone().map(|f| f.with_outcome(Some(l.outcome)));
    }
    let names: Vec<&str> = allowed.iter().map(|o| o.label()).collect();
    let text = format!("outcome {} (expected {})", l.outcome, names.join(" or "));
    let f = match &l.client_error {
        Some(e) => StepFailure {
            message: format!("{}; {text}", e.message),
            ..e.clone()
        },
        None if l.outcome == Outcome::Stuck => StepFailure::timeout(
            Phase::Reconnect,
            format!("{text}: {}", l.observed.describe()),
        ),
        None if l.client_ok && !l.outcome.is_updated() => StepFailure::verify(
            VerifyCheck::Running,
            format!(
                "the client reported success but {}; {text}",
                l.observed.describe()
            ),
        ),
        None => StepFailure::verify(VerifyCheck::Outcome, text),
    };
    Some(f.with_outcome(Some(l.outcome)))
}
