//! One iteration of a sub-case on one DUT: its attempts, the healing after each, the retries the
//! case allows, and the journal record that sums them up.

use super::campaign::{write, DutState, Shared};
use super::dut::BenchDut;
use super::error::{RunError, StepFailure};
use super::events::RunEvent;
use super::executor::{Attempt, Executor, IterationSpec};
use super::healing::{heal, Healed};
use crate::campaign::failure_class::FailureClass;
use crate::campaign::journal::{self, HealingRecord, IterationRecord, Record};
use crate::campaign::outcome::{Outcome, Verdict};
use crate::campaign::suite::SubCase;
use std::time::{Duration, Instant as WallInstant};

fn to_journal_attempt(a: &Attempt) -> journal::Attempt {
    let f = a.failure.as_ref();
    journal::Attempt {
        outcome: a.outcome,
        failure_class: f.map_or(
            FailureClass::Verify(crate::campaign::failure_class::VerifyCheck::Outcome),
            |f| f.class,
        ),
        message: f.map_or(String::new(), |f| f.message.clone()),
        failed_at: f.and_then(|f| f.at.clone()),
        duration_ms: a.duration.as_millis() as u64,
        evidence: a.evidence.clone(),
    }
}

/// An iteration's attempts: the retries that failed, and the last one.
pub(super) struct Tried {
    pub(super) retries: Vec<Attempt>,
    pub(super) last: Attempt,
    /// The device needed an SWD reflash after some attempt.
    pub(super) bricked: bool,
}

impl Tried {
    pub(super) fn verdict(&self) -> Verdict {
        match (&self.last.failure, self.retries.is_empty()) {
            (None, true) => Verdict::Pass,
            (None, false) => Verdict::Flaky,
            (Some(f), _) if f.class.is_infra() => Verdict::Error,
            (Some(_), _) => Verdict::Fail,
        }
    }
}

/// Run the sub-case's steps, heal the device after each attempt, and retry a failure as often
/// as the case allows (a brick or a quarantine is not retried). None: a stop request cut it short.
pub(super) async fn attempt_and_heal<D: BenchDut>(
    sh: &Shared<'_>,
    exec: &mut Executor<'_, D>,
    sc: &SubCase,
    spec: &mut IterationSpec,
    record_it: bool,
    st: &mut DutState,
) -> Result<Option<Tried>, RunError> {
    let retries_allowed = sh.suite.suite.cases[sc.case_index].retries;
    let mut retries: Vec<Attempt> = Vec::new();
    let mut heal_records: Vec<HealingRecord> = Vec::new();
    let mut bricked = false;
    loop {
        // Each attempt draws from its own stream: a retry is not a replay of the failure.
        exec.dut
            .reseed(spec.seed.wrapping_add(retries.len() as u64));
        let mut a = exec.attempt(spec, &sc.steps).await;
        if a.interrupted {
            return Ok(None);
        }
        let healed = heal(
            exec,
            &sh.suite.suite.setup,
            spec,
            (Some(&sc.name), Some(spec.iteration)),
            &mut heal_records,
        )
        .await;
        for r in heal_records.drain(..) {
            if record_it {
                sh.observer.event(RunEvent::Healing(&r));
                write(sh.journal, &Record::Healing(r))?;
            }
        }
        match healed {
            Healed::Reflash | Healed::Failed => {
                bricked = true;
                a.outcome = Some(Outcome::Bricked);
                let msg = a
                    .failure
                    .as_ref()
                    .map_or(String::new(), |f| format!("{}; ", f.message));
                a.failure = Some(StepFailure {
                    class: FailureClass::Brick,
                    message: format!("{msg}the device ran again only after an SWD reflash"),
                    at: a.failure.as_ref().and_then(|f| f.at.clone()),
                    outcome: Some(Outcome::Bricked),
                });
            }
            Healed::PowerCycle => {
                if a.outcome.is_none() || a.failure.is_some() {
                    a.outcome = a.outcome.or(Some(Outcome::Stuck));
                }
            }
            Healed::Healthy => {}
        }
        if healed == Healed::Failed {
            st.quarantined = true;
        }
        let retry = a.failure.is_some()
            && !bricked
            && !st.quarantined
            && (retries.len() as u32) < retries_allowed;
        if !retry {
            return Ok(Some(Tried {
                retries,
                last: a,
                bricked,
            }));
        }
        retries.push(a);
        // The failed attempt may have installed the versions it sent (an update can complete
        // and still fail a check). Sent again, they would be refused as too low by a bootloader
        // that prevents downgrades (17.1 `nrf_dfu_ver_validation.c` `fw_version_ok`), a failure
        // of the rig, not of the device: the retry and every later iteration count up from
        // above them. A replay's fast-forward retries the same way, so it sends the same.
        spec.base_version += spec.next_per_iteration;
    }
}

pub(super) fn iteration_record(
    sc: &SubCase,
    dut: &str,
    spec: &IterationSpec,
    verdict: Verdict,
    tried: &Tried,
    wall: WallInstant,
) -> IterationRecord {
    let last = &tried.last;
    let failure = last.failure.as_ref();
    let duration: Duration =
        tried.retries.iter().map(|a| a.duration).sum::<Duration>() + last.duration;
    IterationRecord {
        case: sc.case.clone(),
        sub_case: sc.name.clone(),
        params: sc.param_map(),
        dut: dut.to_string(),
        iteration: spec.iteration,
        seed: spec.seed,
        planned_fault: last.planned_fault.clone(),
        outcome: failure.and_then(|f| f.outcome).or(last.outcome),
        verdict,
        failure_class: failure.map(|f| f.class),
        message: failure.map(|f| f.message.clone()),
        failed_at: failure.and_then(|f| f.at.clone()),
        retries: tried.retries.iter().map(to_journal_attempt).collect(),
        duration_ms: duration.as_millis() as u64,
        update_ms: last.update.map(|d| d.as_millis() as u64),
        bytes: last.bytes,
        wall_ms: wall.elapsed().as_millis() as u64,
        evidence: last.evidence.clone(),
        resume: last.resume.clone(),
    }
}
