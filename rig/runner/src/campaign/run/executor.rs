//! One attempt at one iteration: run the steps of a sub-case on a DUT, fault the update where
//! the plan says, ask the oracle after every update, and stop at the first failing step.

use super::dut::{BenchDut, FaultInjector, Observed};
use super::error::{phase_of, StepFailure};
use super::events::{RunEvent, RunObserver};
use super::images::{ImageStore, PackageKey, Prepared};
use super::oracle::{classify, runs_new_app, UpdateFacts};
use super::plan::{image_starts, plan, PlannedFault, Trigger};
use super::rng::SplitMix64;
use super::settings_page::settings_segments;
use crate::backend::FlashOptions;
use crate::campaign::failure_class::{InfraFault, VerifyCheck};
use crate::campaign::journal::evidence::Evidence;
use crate::campaign::outcome::Outcome;
use crate::campaign::phase::Phase;
use crate::campaign::suite::{
    DfuStep, EnterDfu, Erase, ExpectedVersion, Fault, FaultAction, FlashStep, PowerAction, Running,
    Step, StepKind, StepTimeouts, VerifyStep, VersionStrategy,
};
use nrf_dfu::client::{
    Control, DfuClient, DfuConfig, DfuError, ProgressEvent, ProgressSink, Transport,
};
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
    /// The installed SoftDevice, for `sd_req` when the step gives none.
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
}

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

impl<D: BenchDut> Executor<'_, D> {
    fn t_ms(&self, start: Instant) -> u64 {
        start.elapsed().as_millis() as u64
    }

    /// Run `steps` as one attempt of iteration `spec`.
    pub async fn attempt(
        &mut self,
        spec: &IterationSpec,
        steps: &[Step],
        sub_case: &str,
    ) -> Attempt {
        let start = Instant::now();
        let mut a = Attempt::default();
        let mut rng = SplitMix64::new(spec.seed);
        let mut last: Option<LastUpdate> = None;
        let mut next_index = 0u32;
        for (i, step) in steps.iter().enumerate() {
            if self.stop.is_set() {
                a.interrupted = true;
                break;
            }
            // An update nobody judged explicitly must have brought the new app (or, when it was
            // interrupted on purpose, left the device recoverable).
            if !matches!(step, Step::Expect(_)) {
                if let Some(f) = self.implicit_expectation(&mut last, spec) {
                    a.failure = Some(f);
                    break;
                }
            }
            let limit = timeout_for(&spec.timeouts, step);
            let kind = step.kind();
            let fut = self.step(
                spec,
                step,
                &mut last,
                &mut next_index,
                &mut rng,
                &mut a,
                start,
                sub_case,
            );
            let result = match tokio::time::timeout(limit, fut).await {
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
                a.evidence.event(
                    self.t_ms(start),
                    format!("step {} ({}) failed: {}", i + 1, kind.key(), f.message),
                );
                a.failure = Some(f);
                break;
            }
        }
        if a.failure.is_none() && !a.interrupted {
            if let Some(f) = self.implicit_expectation(&mut last, spec) {
                a.failure = Some(f);
            }
        }
        if let Some(l) = &last {
            a.outcome = Some(l.outcome);
        }
        if let Some(f) = &mut a.failure {
            if f.outcome.is_none() {
                f.outcome = a.outcome;
            }
        }
        for line in self.dut.take_log_lines() {
            a.evidence.rtt_line(self.t_ms(start), line);
        }
        a.duration = start.elapsed();
        a
    }

    fn implicit_expectation(
        &self,
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

    #[allow(clippy::too_many_arguments)]
    async fn step(
        &mut self,
        spec: &IterationSpec,
        step: &Step,
        last: &mut Option<LastUpdate>,
        next_index: &mut u32,
        rng: &mut SplitMix64,
        a: &mut Attempt,
        start: Instant,
        sub_case: &str,
    ) -> Result<(), StepFailure> {
        match step {
            Step::Flash(f) => self.flash(f, a, start).await,
            Step::Dfu(d) => {
                self.dfu(spec, d, last, next_index, rng, a, start, sub_case)
                    .await
            }
            Step::Expect(e) => {
                let Some(l) = last.as_mut() else {
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
            Step::Verify(v) => self.verify(v, last.as_ref(), a, start).await,
            Step::Power(p) => {
                let off = Duration::from_millis(p.off_ms.unwrap_or(500));
                a.evidence.event(
                    self.t_ms(start),
                    format!("power {:?}", p.action).to_lowercase(),
                );
                self.dut.power(p.action, off).await?;
                if p.action != PowerAction::Off {
                    let seen = self.dut.observe(SETTLE).await;
                    a.evidence.event(self.t_ms(start), seen.describe());
                }
                Ok(())
            }
            Step::EnterDfu(how) => self.enter_dfu(*how, a, start).await,
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
                a.evidence.event(
                    self.t_ms(start),
                    format!("reset{note}: {}", seen.describe()),
                );
                if let Some(l) = last.as_mut() {
                    l.observed = seen;
                }
                Ok(())
            }
            Step::Inspect => {
                let rb = super::readback::read_dut(self.dut)?;
                for line in rb.describe() {
                    a.evidence.event(self.t_ms(start), line);
                }
                Ok(())
            }
        }
    }

    async fn flash(
        &mut self,
        f: &FlashStep,
        a: &mut Attempt,
        start: Instant,
    ) -> Result<(), StepFailure> {
        let mut runs: Vec<(u32, Vec<u8>)> = Vec::new();
        for r in f.images() {
            let segs = self
                .store
                .segments(r)
                .map_err(|e| StepFailure::infra(InfraFault::Host, e.to_string()))?;
            runs.extend(segs.runs().map(|(ad, d)| (ad, d.to_vec())));
        }
        let app_settings = match (&f.app, f.settings) {
            (Some(app), None | Some(true)) => Some(app.clone()),
            _ => None,
        };
        let chip = self.dut.chip();
        let sdk = self.dut.bootloader().map(|b| b.0);
        if let Some(app) = app_settings {
            let fw = self
                .store
                .firmware(&app)
                .map_err(|e| StepFailure::infra(InfraFault::Host, e.to_string()))?;
            let version = match &app {
                crate::campaign::suite::ImageRef::StandIn(s) => s.app_version().unwrap_or(1),
                _ => 1,
            };
            let sdk = f
                .bootloader
                .as_ref()
                .and_then(|b| match b {
                    crate::campaign::suite::ImageRef::StandIn(
                        crate::campaign::suite::StandIn::Bootloader { sdk, .. },
                    ) => Some(*sdk),
                    _ => None,
                })
                .or(sdk);
            runs.extend(settings_segments(chip, sdk, &fw.bin, version)?);
        }
        let report = self.dut.with_probe(|probe| -> Result<_, StepFailure> {
            probe.attach().map_err(|e| {
                StepFailure::infra(InfraFault::Probe, format!("attaching: {}", e.message))
            })?;
            let report = probe
                .flash(
                    &runs,
                    FlashOptions {
                        erase_all: f.erase == Erase::All,
                        verify: true,
                    },
                    &mut |_| {},
                )
                .map_err(|e| {
                    StepFailure::infra(InfraFault::Probe, format!("flashing: {}", e.message))
                })?;
            probe.soft_reset().map_err(|e| {
                StepFailure::infra(
                    InfraFault::Probe,
                    format!("reset after flashing: {}", e.message),
                )
            })?;
            Ok(report)
        })?;
        a.evidence.event(
            self.t_ms(start),
            format!(
                "flashed {} bytes through SWD{}",
                report.bytes,
                if report.erased_all {
                    " after erase-all"
                } else {
                    ""
                }
            ),
        );
        let seen = self.dut.observe(SETTLE).await;
        a.evidence.event(self.t_ms(start), seen.describe());
        Ok(())
    }

    async fn enter_dfu(
        &mut self,
        how: EnterDfu,
        a: &mut Attempt,
        start: Instant,
    ) -> Result<(), StepFailure> {
        match how {
            EnterDfu::Swd => {
                let chip = self.dut.chip();
                let sdk12 = self.dut.bootloader().map(|b| b.0) == Some(SdkVersion::Sdk12);
                self.dut
                    .with_probe(|p| -> Result<(), crate::backend::ProbeError> {
                        p.attach()?;
                        if !sdk12 {
                            return p.enter_dfu();
                        }
                        let addr = chip.settings_address();
                        let page = p.read_memory(addr, nrf_dfu::memory_map::PAGE_SIZE)?;
                        let Some(flagged) = super::settings_page::enter_dfu_flag_page(&page) else {
                            return Err(crate::backend::ProbeError::device(
                                crate::backend::ProbeErrorKind::Memory,
                                "the SDK 12 settings page does not decode: cannot set enter_buttonless_dfu",
                            ));
                        };
                        p.flash(&[(addr, flagged)], FlashOptions { erase_all: false, verify: true }, &mut |_| {})?;
                        p.soft_reset()
                    })
                    .map_err(|e| {
                        StepFailure::infra(
                            InfraFault::Probe,
                            format!("GPREGRET + reset through SWD: {}", e.message),
                        )
                    })?;
            }
            EnterDfu::Buttonless => {
                let seen = self.dut.observe(SETTLE).await;
                match seen {
                    Observed::App { .. } => self.dut.enter_dfu_buttonless(SETTLE).await?,
                    Observed::Bootloader => {
                        a.evidence.event(
                            self.t_ms(start),
                            "already in DFU mode: buttonless entry not needed",
                        );
                        return Ok(());
                    }
                    other => {
                        return Err(StepFailure::timeout(
                            Phase::EnterDfu,
                            format!("buttonless entry: {}", other.describe()),
                        ))
                    }
                }
            }
        }
        let seen = self.dut.observe(SETTLE).await;
        a.evidence.event(
            self.t_ms(start),
            format!("enter DFU ({how:?}): {}", seen.describe()).to_lowercase(),
        );
        if seen != Observed::Bootloader {
            return Err(StepFailure::timeout(
                Phase::EnterDfu,
                format!("the device did not enter DFU mode: {}", seen.describe()),
            ));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn dfu(
        &mut self,
        spec: &IterationSpec,
        d: &DfuStep,
        last: &mut Option<LastUpdate>,
        next_index: &mut u32,
        rng: &mut SplitMix64,
        a: &mut Attempt,
        start: Instant,
        sub_case: &str,
    ) -> Result<(), StepFailure> {
        let before = super::readback::read_dut(self.dut).ok();
        let (prepared, sent_version, previous_version, previous_bank0) = if d.resume {
            let Some(l) = last.as_ref() else {
                return Err(StepFailure::infra(
                    InfraFault::Host,
                    "`resume: true` without an update before it",
                ));
            };
            (
                l.prepared.clone(),
                l.sent_version,
                l.previous_version,
                l.previous_bank0,
            )
        } else {
            let prepared = self.prepare(spec, d, next_index)?;
            let v = prepared.app_version;
            (
                prepared,
                v,
                before.as_ref().and_then(|b| b.app_version()),
                before.as_ref().and_then(|b| b.bank0_identity()),
            )
        };
        if d.fault.is_some() && !d.resume {
            if let (Some(fw), Some(prev)) = (prepared.app_firmware.as_deref(), previous_bank0) {
                if prev == (fw.len() as u32, nrf_dfu::crc::crc32(fw)) {
                    a.evidence.event(self.t_ms(start), "warning: bank 0 already holds this image, so an interrupted update cannot be told from a completed one: alternate two images");
                }
            }
        }
        let prepared = match d.corrupt_byte {
            Some(b) => {
                a.evidence.event(
                    self.t_ms(start),
                    format!("firmware byte {b} flipped after signing"),
                );
                Rc::new(corrupt(&prepared, b))
            }
            None => prepared,
        };
        let planned = d.fault.as_ref().map(|f| plan(f, &prepared.images, rng));
        if let Some(f) = &d.fault {
            a.planned_fault = Some(f.clone());
        }
        if let Some(p) = &planned {
            a.evidence
                .event(self.t_ms(start), format!("fault planned: {p}"));
        }
        let link = self
            .dut
            .connect_dfu(SETTLE, d.mtu)
            .await
            .map_err(|f| f.with_outcome(None))?;
        let config = DfuConfig {
            prn: d.prn.unwrap_or(0),
            sdk: spec.sdk,
            reexecute_init: d.reexecute_init.unwrap_or(true),
            ..DfuConfig::default()
        };
        let flash_op = match &planned {
            Some(PlannedFault {
                trigger: Trigger::FlashOp(n),
                action,
            }) => {
                if !self.dut.sees_flash_ops() {
                    return Err(StepFailure::infra(
                        InfraFault::Host,
                        "a fault at a flash operation needs a virtual DUT",
                    ));
                }
                Some((*n, *action))
            }
            _ => None,
        };
        let mut watcher = self.dut.injector();
        let sink = FaultSink {
            planned: planned.clone(),
            injector: self.dut.injector(),
            starts: image_starts(&prepared.images),
            started: Instant::now(),
            fired: None,
            t0: start,
            evidence: &mut a.evidence,
            observer: self.observer,
            dut: self.dut.name().to_string(),
            sub_case,
            last_phase: None,
        };
        let update_start = Instant::now();
        let mut client = DfuClient::with_sink(link, config, sink);
        let flash_cut = std::cell::RefCell::new(None);
        let result = match flash_op {
            None => client.update(&prepared.images).await,
            Some((n, action)) => {
                let watch = async {
                    *flash_cut.borrow_mut() = watcher.fault_flash_op(n, action).await;
                    // Then let the client meet the consequences on its own.
                    std::future::pending().await
                };
                tokio::select! {
                    r = client.update(&prepared.images) => r,
                    r = watch => r,
                }
            }
        };
        let flash_cut = flash_cut.into_inner();
        let (mut link, sink) = client.into_parts();
        let fired = sink.fired.clone();
        let inject_error = sink.inject_error();
        drop(sink);
        // A dropped link is the fault itself; otherwise close politely so the next connect is clean.
        let _ = link.close().await;
        drop(link);
        let elapsed = update_start.elapsed();
        a.update = Some(a.update.unwrap_or_default() + elapsed);
        if let Err(f) = inject_error {
            return Err(f);
        }
        let faulted = fired.is_some() || flash_cut.is_some();
        if let Some(what) = &flash_cut {
            a.evidence.event(self.t_ms(start), format!("FAULT {what}"));
        }
        if planned.is_some() && !faulted {
            a.evidence.event(
                self.t_ms(start),
                "the planned fault point was never reached",
            );
        }
        let (client_ok, client_error, reports) = match &result {
            Ok(r) => (true, None, Some(r.clone())),
            Err(DfuError::Aborted { .. }) if faulted => (false, None, None),
            Err(e) if faulted && flash_cut.is_some() => {
                a.evidence
                    .event(self.t_ms(start), format!("client after the cut: {e}"));
                (false, None, None)
            }
            Err(e) => {
                a.evidence.event(self.t_ms(start), format!("client: {e}"));
                (false, Some(StepFailure::from_dfu(e)), None)
            }
        };
        a.bytes += prepared.bytes;
        // The oracle: let the device settle, look at it, read it back.
        let observed = self.dut.observe(SETTLE).await;
        let rb = super::readback::read_dut(self.dut).ok();
        let facts = UpdateFacts {
            app_firmware: prepared.app_firmware.as_deref(),
            sent_version,
            resume_step: d.resume,
            reports: reports.as_deref(),
        };
        let outcome = classify(&observed, rb.as_ref(), &facts);
        let finding = reports.as_deref().and_then(protocol_finding);
        if let Some(f) = &finding {
            a.evidence
                .event(self.t_ms(start), format!("finding: {}", f.message));
        }
        a.evidence.event(
            self.t_ms(start),
            format!("after the update: {} -> {outcome}", observed.describe()),
        );
        if let Some(rb) = &rb {
            for line in rb.describe() {
                a.evidence.event(self.t_ms(start), line);
            }
        }
        *last = Some(LastUpdate {
            prepared,
            sent_version,
            previous_version,
            previous_bank0,
            outcome,
            client_error,
            client_ok,
            faulted,
            judged: false,
            observed,
            finding,
        });
        Ok(())
    }

    fn prepare(
        &mut self,
        spec: &IterationSpec,
        d: &DfuStep,
        next_index: &mut u32,
    ) -> Result<Rc<Prepared>, StepFailure> {
        let host = |e: super::error::RunError| StepFailure::infra(InfraFault::Host, e.to_string());
        if let Some(p) = &d.package {
            return self.store.package_file(p).map_err(host);
        }
        let Some(image) = &d.image else {
            return Err(StepFailure::infra(
                InfraFault::Host,
                "dfu step without package, image or resume",
            ));
        };
        let next = |next_index: &mut u32| {
            let v = spec.base_version + 1 + spec.iteration * spec.next_per_iteration + *next_index;
            *next_index += 1;
            v
        };
        let (version, debug) = match d.version {
            Some(VersionStrategy::Fixed(v)) => (v, false),
            Some(VersionStrategy::Debug) => (next(next_index), true),
            Some(VersionStrategy::Next) | None => (next(next_index), false),
        };
        let sd_req = d
            .sd_req
            .clone()
            .unwrap_or_else(|| vec![spec.sd_fwid.unwrap_or(0xFFFE)]);
        self.store
            .package(&PackageKey {
                image: image.clone(),
                version,
                sd_req,
                debug,
            })
            .map_err(host)
    }

    async fn verify(
        &mut self,
        v: &VerifyStep,
        last: Option<&LastUpdate>,
        a: &mut Attempt,
        start: Instant,
    ) -> Result<(), StepFailure> {
        let observed = self.dut.observe(SETTLE).await;
        let rb = super::readback::read_dut(self.dut)?;
        a.evidence
            .event(self.t_ms(start), format!("verify: {}", observed.describe()));
        let fail = |what, msg: String| Err(StepFailure::verify(what, msg));
        if let Some(want) = v.settings_valid {
            if rb.settings_valid != want {
                return fail(
                    VerifyCheck::Settings,
                    format!(
                        "settings page valid = {}, expected {want}",
                        rb.settings_valid
                    ),
                );
            }
            if want && rb.backup_valid == Some(false) {
                return fail(
                    VerifyCheck::Settings,
                    "the settings backup page is invalid".into(),
                );
            }
        }
        if let Some(want) = v.bank0_matches_image {
            let Some(fw) = last.and_then(|l| l.prepared.app_firmware.as_deref()) else {
                return Err(StepFailure::infra(
                    InfraFault::Host,
                    "bank0_matches_image without an application update before it",
                ));
            };
            let holds = rb.bank0_holds(fw);
            if holds != want {
                let s = rb.settings.as_ref();
                return fail(
                    VerifyCheck::Bank0,
                    format!(
                        "bank 0 holds the image = {holds} (settings size {} crc {}, flash crc {}; image {} bytes crc {:#010x})",
                        s.map_or("-".into(), |s| s.bank_0.image_size.to_string()),
                        s.map_or("-".into(), |s| format!("{:#010x}", s.bank_0.image_crc)),
                        rb.bank0_flash_crc.map_or("-".into(), |c| format!("{c:#010x}")),
                        fw.len(),
                        nrf_dfu::crc::crc32(fw)
                    ),
                );
            }
        }
        if let Some(want) = v.app_version {
            let expected = match want {
                ExpectedVersion::Sent => last.and_then(|l| l.sent_version),
                ExpectedVersion::Previous => last.and_then(|l| l.previous_version),
                ExpectedVersion::Exactly(n) => Some(n),
            };
            if rb.app_version() != expected {
                return fail(
                    VerifyCheck::AppVersion,
                    format!(
                        "settings app_version {:?}, expected {:?} ({want:?})",
                        rb.app_version(),
                        expected
                    ),
                );
            }
        }
        if let Some(want) = v.running {
            let ok = match want {
                Running::Bootloader => observed == Observed::Bootloader,
                Running::NewApp => {
                    let facts = UpdateFacts {
                        app_firmware: last.and_then(|l| l.prepared.app_firmware.as_deref()),
                        sent_version: last.and_then(|l| l.sent_version),
                        ..Default::default()
                    };
                    runs_new_app(&observed, &rb, &facts)
                }
                Running::OldApp => match (&observed, last) {
                    (Observed::App { .. }, Some(l)) => l
                        .previous_bank0
                        .is_none_or(|b| rb.bank0_identity() == Some(b)),
                    (Observed::App { .. }, None) => true,
                    _ => false,
                },
            };
            if !ok {
                return fail(
                    VerifyCheck::Running,
                    format!("expected {want:?} to run; {}", observed.describe()),
                );
            }
        }
        Ok(())
    }
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

/// The progress hook: records the update's course and fires the planned fault.
struct FaultSink<'e, I> {
    planned: Option<PlannedFault>,
    injector: I,
    starts: Vec<u64>,
    started: Instant,
    fired: Option<String>,
    t0: Instant,
    evidence: &'e mut Evidence,
    observer: &'e dyn RunObserver,
    dut: String,
    sub_case: &'e str,
    last_phase: Option<(Phase, Option<nrf_dfu::wire::ObjectType>, u32)>,
}

impl<I> FaultSink<'_, I> {
    fn inject_error(&self) -> Result<(), StepFailure> {
        match &self.fired {
            Some(s) if s.starts_with("FAILED") => {
                Err(StepFailure::infra(InfraFault::PowerSwitch, s.clone()))
            }
            _ => Ok(()),
        }
    }
}

impl<I: FaultInjector> ProgressSink for FaultSink<'_, I> {
    async fn on_progress(&mut self, e: &ProgressEvent) -> Control {
        let t = self.t0.elapsed().as_millis() as u64;
        let phase = phase_of(e.phase);
        let key = (phase, e.object, e.object_index);
        if self.last_phase != Some(key) && phase != Phase::Write {
            self.last_phase = Some(key);
            let what = match e.object {
                Some(nrf_dfu::wire::ObjectType::Command) => "init packet".to_string(),
                Some(nrf_dfu::wire::ObjectType::Data) => {
                    format!("data object {}/{}", e.object_index, e.object_count)
                }
                None => String::new(),
            };
            self.evidence.event(
                t,
                format!("{phase} {what} at {}/{}", e.offset, e.total).replace("  ", " "),
            );
            let percent = if e.total > 0 && e.object == Some(nrf_dfu::wire::ObjectType::Data) {
                (u64::from(e.offset) * 100 / u64::from(e.total)) as u8
            } else {
                0
            };
            self.observer.event(RunEvent::Phase {
                dut: &self.dut,
                phase,
                percent,
            });
            let _ = self.sub_case;
        }
        let Some(p) = &self.planned else {
            return Control::Continue;
        };
        if self.fired.is_some() || !p.trigger.reached(e, &self.starts, self.started.elapsed()) {
            return Control::Continue;
        }
        let at = format!(
            "{phase} image {} object {:?} #{} offset {}",
            e.image_index, e.object, e.object_index, e.offset
        );
        self.evidence
            .event(t, format!("FAULT {} at {at}", p.action));
        match p.action {
            FaultAction::LinkDrop => {
                self.fired = Some(at);
            }
            action => match self.injector.inject(action).await {
                Ok(()) => self.fired = Some(at),
                Err(f) => self.fired = Some(format!("FAILED to inject {action}: {}", f.message)),
            },
        }
        Control::Abort
    }
}

/// The same update with one firmware byte of the application flipped after signing.
fn corrupt(p: &Prepared, byte: u32) -> Prepared {
    let mut images = p.images.clone();
    let app = images
        .iter_mut()
        .find(|i| i.kind == nrf_dfu::client::ImageKind::Application)
        .or(None);
    let mut app_firmware = p.app_firmware.clone();
    if let Some(img) = app {
        if !img.firmware.is_empty() {
            let at = byte as usize % img.firmware.len();
            img.firmware[at] ^= 0x5A;
            app_firmware = Some(img.firmware.clone());
        }
    }
    Prepared {
        images,
        app_firmware,
        app_version: p.app_version,
        bytes: p.bytes,
    }
}

/// What the client recovered from that a correct device never makes it do: a CRC reported on
/// resume for held bytes that do not match what was sent (the link does not corrupt data, so the
/// device's report was wrong). The update may still have worked; the device is wrong all the
/// same. (Lost bytes are not such a finding: the SDK's BLE transport drops writes whenever its
/// RX buffers or fstorage queue run out, facts §9 item 1.)
fn protocol_finding(reports: &[nrf_dfu::client::ImageReport]) -> Option<StepFailure> {
    use crate::campaign::failure_class::{FailureClass, ProtocolResult};
    let mismatches: u32 = reports.iter().map(|r| r.stats.resume_mismatches).sum();
    if mismatches > 0 {
        return Some(StepFailure::new(
            FailureClass::Protocol { phase: Phase::Select, result: ProtocolResult::CrcMismatch },
            format!("on resume the device reported a CRC that does not match the {mismatches} partial object(s) it held; they were sent again"),
        ));
    }
    None
}
