//! The dfu step: prepare the package, plan the fault, run the client beside the fault
//! watcher, then let the oracle judge the device.

use super::*;

impl<D: BenchDut> Executor<'_, D> {
    pub(super) async fn dfu(
        &mut self,
        d: &DfuStep,
        run: &mut AttemptRun<'_>,
    ) -> Result<(), StepFailure> {
        let spec = run.spec;
        let before = crate::campaign::run::readback::read_dut(self.dut).ok();
        let (prepared, sent_version, previous_version, previous_bank0) = if d.resume {
            let Some(l) = run.last.as_ref() else {
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
            let prepared = self.prepare(spec, d, &mut run.next_index)?;
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
                    run.note("warning: bank 0 already holds this image, so an interrupted update cannot be told from a completed one: alternate two images");
                }
            }
        }
        let prepared = match d.corrupt_byte {
            Some(b) => {
                run.note(format!("firmware byte {b} flipped after signing"));
                Rc::new(corrupt(&prepared, b))
            }
            None => prepared,
        };
        let planned = d
            .fault
            .as_ref()
            .map(|f| plan(f, &prepared.images, &mut run.rng));
        if let Some(f) = &d.fault {
            run.a.planned_fault = Some(f.clone());
        }
        if let Some(p) = &planned {
            run.note(format!("fault planned: {p}"));
        }
        let link = self
            .dut
            .connect_dfu(SETTLE, d.mtu)
            .await
            .map_err(|f| f.with_outcome(None))?;
        if let Some(n) = D::link_note(&link) {
            run.note(n);
        }
        // A save-progress build queues a settings write after each data EXECUTE's response.
        let settings_write_per_data_object = self
            .dut
            .bootloader_build()
            .is_some_and(|b| b.save_progress_in_flash);
        let config = DfuConfig {
            prn: d.prn.unwrap_or(0),
            sdk: spec.sdk,
            settings_write_per_data_object,
            reexecute_init: d.reexecute_init.unwrap_or(true),
            timeouts: self
                .dut
                .dfu_timeouts(nrf_dfu::client::Link::transport(&link)),
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
            fired_point: None,
            inject_failure: None,
            t0: run.start,
            evidence: &mut run.a.evidence,
            observer: self.observer,
            dut: self.dut.name().to_string(),
            last_phase: None,
        };
        let update_start = Instant::now();
        let span = tracing::debug_span!(
            "dfu",
            transport = ?nrf_dfu::client::Link::transport(&link),
            images = prepared.images.len(),
            fault = ?planned.as_ref().map(|p| p.action),
        );
        let mut client = DfuClient::with_sink(link, config, sink);
        let mut flash_cut = None;
        let mut not_landed = None;
        let update = async {
            match flash_op {
                None => client.update(&prepared.images).await,
                Some((n, action)) => {
                    let watch = watcher.fault_flash_op(n, action);
                    let upd = client.update(&prepared.images);
                    tokio::pin!(watch, upd);
                    // `biased`: when both are ready at the same simulated instant the client
                    // goes first. Without it tokio picks a branch at random, and the same seed
                    // gave different journals (power-loss-sweep, bug-zoo).
                    tokio::select! {
                        biased;
                        r = &mut upd => {
                            // The client is done before the cut: the operation may still come
                            // in the activation (the bank copy and settings writes after the
                            // last EXECUTE, the boot after). The cut stays armed through it.
                            let waited = Instant::now();
                            flash_cut = until_quiet(&mut watch, &mut *self.dut).await;
                            if flash_cut.is_none() {
                                not_landed = Some(format!(
                                    "the {action} planned inside flash operation {n} never landed: \
                                     the device made {} flash operation(s) after it was armed, none \
                                     in the last {} s of the {:.1} s the cut stayed armed after the \
                                     client's update ended; this iteration tested no fault",
                                    self.dut
                                        .flash_ops_since_armed()
                                        .map_or("an unknown number of".into(), |c| c.to_string()),
                                    QUIET_AFTER_UPDATE.as_secs(),
                                    waited.elapsed().as_secs_f64()
                                ));
                            }
                            r
                        }
                        c = &mut watch => {
                            flash_cut = c;
                            // Then let the client meet the consequences on its own.
                            upd.await
                        }
                    }
                }
            }
        };
        let result = tracing::Instrument::instrument(update, span).await;
        watcher.flash_op_watch_ended();
        let (mut link, sink) = client.into_parts();
        let fired = sink.fired.clone();
        let fired_point = sink.fired_point;
        let inject_failure = sink.inject_failure.clone();
        drop(sink);
        // A dropped link is the fault itself; otherwise close politely so the next connect is clean.
        let _ = link.close().await;
        drop(link);
        let elapsed = update_start.elapsed();
        run.a.update = Some(run.a.update.unwrap_or_default() + elapsed);
        if let Some(f) = inject_failure {
            return Err(f);
        }
        let faulted = fired.is_some() || flash_cut.is_some();
        if let Some(what) = &flash_cut {
            run.note(format!("FAULT {what}"));
        }
        if let Some(m) = &not_landed {
            run.note(format!("FAULT NOT LANDED: {m}"));
        } else if planned.is_some() && !faulted {
            run.note("the planned fault point was never reached");
        }
        let (client_ok, client_error, reports) = match &result {
            Ok(r) => (true, None, Some(r.clone())),
            Err(DfuError::Aborted { .. }) if faulted => (false, None, None),
            Err(e) if faulted && flash_cut.is_some() => {
                run.note(format!("client after the cut: {e}"));
                (false, None, None)
            }
            Err(e) => {
                run.note(format!("client: {e}"));
                (false, Some(StepFailure::from_dfu(e)), None)
            }
        };
        run.a.bytes += prepared.bytes;
        // The oracle: let the device settle, look at it, read it back.
        let observed = self.dut.observe(SETTLE).await;
        let rb = crate::campaign::run::readback::read_dut(self.dut).ok();
        let facts = UpdateFacts {
            app_firmware: prepared.app_firmware.as_deref(),
            sent_version,
            resume_step: d.resume,
            reports: reports.as_deref(),
        };
        let outcome = classify(&observed, rb.as_ref(), &facts);
        let finding = reports
            .as_deref()
            .and_then(|r| protocol_finding(r, settings_write_per_data_object));
        if let Some(f) = &finding {
            run.note(format!("finding: {}", f.message));
        }
        run.note(format!(
            "after the update: {} -> {outcome}",
            observed.describe()
        ));
        if let Some(rb) = &rb {
            for line in rb.describe() {
                run.note(line);
            }
        }
        let build = self.dut.bootloader_build();
        let fault_point = match (&planned, fired_point, &build) {
            (Some(p), Some((data_object, offset)), Some(b)) if !d.resume => Some(FaultPoint {
                kept: resume::kept(b, p.action),
                data_object,
                offset,
                persisted: rb.as_ref().and_then(|rb| {
                    let s = rb.settings.as_ref().filter(|_| rb.settings_valid)?;
                    (s.progress.command_size > 0).then_some(s.progress.firmware_image_offset_last)
                }),
                updated: outcome.is_updated(),
                reloaded_while_running: resume::reloads_while_running(b, p.action),
                build: resume::describe_build(b),
            }),
            _ => None,
        };
        let mut resume_failure = None;
        if d.resume {
            let before = run.last.as_ref().and_then(|l| l.fault_point.clone());
            if let (Some(fp), Some(reports)) = (before, reports.as_deref()) {
                let size = prepared.app_firmware.as_ref().map_or(0, |f| f.len() as u32);
                let offset = resume::resume_offset(reports, size);
                let due_from = fp.due_from();
                let rec = ResumeRecord {
                    offset,
                    bytes_resent: fp.offset.saturating_sub(offset),
                    fault_offset: fp.offset,
                    kept: fp.kept.label().to_string(),
                    due_from,
                    bootloader: fp.build.clone(),
                };
                run.note(format!(
                    "resume: from offset {offset} ({} bytes resent; the fault hit offset {}; {} keeps {}{})",
                    rec.bytes_resent,
                    fp.offset,
                    fp.build,
                    fp.kept.label(),
                    due_from.map_or(String::new(), |o| format!(", a resume from at least {o} is due"))
                ));
                if let Some(o) = due_from {
                    if outcome == Outcome::Restarted {
                        resume_failure = Some(StepFailure::new(
                            FailureClass::Verify(VerifyCheck::Resume),
                            format!("restarted from 0 where the bootloader ({}) kept the firmware up to offset {o} ({} across this fault): a resume was due", fp.build, fp.kept.label()),
                        ).with_outcome(Some(outcome)));
                    }
                }
                run.a.resume = Some(rec);
            }
        }
        run.last = Some(LastUpdate {
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
            fault_point,
        });
        // A sub-case whose cut never landed must not pass as if it had survived one.
        if let Some(m) = not_landed {
            return Err(
                StepFailure::infra(InfraFault::FaultNotLanded, m).with_outcome(Some(outcome))
            );
        }
        match resume_failure {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    pub(super) fn prepare(
        &mut self,
        spec: &IterationSpec,
        d: &DfuStep,
        next_index: &mut u32,
    ) -> Result<Rc<Prepared>, StepFailure> {
        let host = |e: crate::campaign::run::error::RunError| {
            StepFailure::infra(InfraFault::Host, e.to_string())
        };
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

/// What the client recovered from that a correct device never makes it do. A CRC reported on
/// resume for held bytes that do not match what was sent (the link does not corrupt data). And
/// writes dropped right after a data CREATE before the device held as many as it always has room
/// for: the SDK drops writes when its RX buffers or fstorage queue run out (Android-DFU-Library
/// #208),
/// which is expected, but not before 15 of them are queued, because a correct bootloader answers
/// the previous EXECUTE only once its queue has drained (11 on a save-progress build, whose
/// settings write and backup after that answer may still hold 4 entries). The update may still have worked;
/// the device is wrong all the same.
fn protocol_finding(
    reports: &[nrf_dfu::client::ImageReport],
    settings_write_per_data_object: bool,
) -> Option<StepFailure> {
    use crate::campaign::failure_class::{FailureClass, ProtocolResult};
    let mismatches: u32 = reports.iter().map(|r| r.stats.resume_mismatches).sum();
    let early: u32 = reports.iter().map(|r| r.stats.early_losses).sum();
    if mismatches > 0 {
        return Some(StepFailure::new(
            FailureClass::Protocol { phase: Phase::Select, result: ProtocolResult::CrcMismatch },
            format!("on resume the device reported a CRC that does not match the {mismatches} partial object(s) it held; they were sent again"),
        ));
    }
    if early > 0 {
        return Some(StepFailure::new(
            FailureClass::Protocol { phase: Phase::Write, result: ProtocolResult::BytesLost },
            format!(
                "right after a data CREATE the device dropped writes before it had kept {} ({early} time(s)): it drops writes while it erases, or its flash queue still held the writes of an object whose EXECUTE it had already acknowledged",
                nrf_dfu::client::writes_always_accepted_after_create(settings_write_per_data_object)
            ),
        ));
    }
    None
}

/// How long a cut at a flash operation stays armed after the client's update ended with no new
/// flash operation on the device: activation writes follow each other within milliseconds
/// (page erase 85 ms at most), so this much quiet means the device is done.
const QUIET_AFTER_UPDATE: Duration = Duration::from_secs(2);
/// The longest a cut stays armed after the client's update ended, however busy the device.
const ARMED_AFTER_UPDATE: Duration = Duration::from_secs(60);
/// How often the device's progress is looked at meanwhile.
const QUIET_POLL: Duration = Duration::from_millis(100);

/// Keep waiting for the armed cut `watch` after the update: until it lands (where), the device
/// has made no flash operation for [`QUIET_AFTER_UPDATE`], or [`ARMED_AFTER_UPDATE`] passed.
async fn until_quiet<D: BenchDut>(
    watch: &mut std::pin::Pin<&mut impl std::future::Future<Output = Option<String>>>,
    dut: &mut D,
) -> Option<String> {
    let start = Instant::now();
    let mut seen = dut.flash_ops_since_armed();
    let mut quiet_since = start;
    loop {
        tokio::select! {
            biased;
            c = watch.as_mut() => return c,
            _ = tokio::time::sleep(QUIET_POLL) => {}
        }
        let now = Instant::now();
        let ops = dut.flash_ops_since_armed();
        if ops != seen {
            seen = ops;
            quiet_since = now;
        } else if now - quiet_since >= QUIET_AFTER_UPDATE || now - start >= ARMED_AFTER_UPDATE {
            return None;
        }
    }
}
