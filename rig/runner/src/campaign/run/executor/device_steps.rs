//! Steps on the device itself: flashing through SWD and entering DFU mode.

use super::*;

/// How long SWD entry looks whether the DUT already waits in DFU mode: one PING exchange on a
/// UART (the serial transport's 1 s connect bound), a few advertising intervals on BLE; a DUT
/// running its app shows its version block at the first look.
const SWD_ENTRY_LOOK: Duration = Duration::from_secs(1);

impl<D: BenchDut> Executor<'_, D> {
    pub(super) async fn flash(
        &mut self,
        f: &FlashStep,
        run: &mut AttemptRun<'_>,
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
        let built = crate::campaign::run::build_options::rebuild_standin_bootloader(
            &mut runs,
            self.dut.declared_options(),
        )
        .map_err(|e| StepFailure::infra(InfraFault::Host, format!("bootloader options: {e}")))?;
        if let Some(b) = built {
            run.note(format!("stand-in bootloader built with {b}"));
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
        run.note(format!(
            "flashed {} bytes through SWD{}",
            report.bytes,
            if report.erased_all {
                " after erase-all"
            } else {
                ""
            }
        ));
        let seen = self.dut.observe(SETTLE).await;
        run.note(seen.describe());
        Ok(())
    }

    pub(super) async fn enter_dfu(
        &mut self,
        how: EnterDfu,
        run: &mut AttemptRun<'_>,
    ) -> Result<(), StepFailure> {
        match how {
            EnterDfu::Swd => {
                // As buttonless entry does: a DUT already in DFU mode stays as it is. GPREGRET
                // and a reset would throw away what its bootloader kept in RAM (after a UART
                // link drop every SDK keeps its transfer state), so a resume after one would
                // always restart: the UART twins of interrupt-recovery never resumed.
                if self.dut.observe(SWD_ENTRY_LOOK).await == Observed::Bootloader {
                    run.note("already in DFU mode: SWD entry not needed");
                    return Ok(());
                }
                // The application's version block outlives the reset (RAM is kept, and the
                // bootloader's stack need not reach it): retired first, so the look after the
                // reset cannot take the bootloader for the old application.
                self.dut.app_stopped()?;
                let chip = self.dut.chip();
                let sdk12 = self.dut.bootloader().map(|b| b.0) == Some(SdkVersion::Sdk12);
                self.dut
                    .with_probe(|p| -> Result<(), crate::drivers::ProbeError> {
                        p.attach()?;
                        if !sdk12 {
                            return p.enter_dfu();
                        }
                        let addr = chip.settings_address();
                        let page = p.read_memory(addr, nrf_dfu::memory_map::PAGE_SIZE)?;
                        let Some(flagged) = crate::campaign::run::settings_page::enter_dfu_flag_page(&page) else {
                            return Err(crate::drivers::ProbeError::device(
                                crate::drivers::ProbeErrorKind::Memory,
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
                        run.note("already in DFU mode: buttonless entry not needed");
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
        run.note(format!("enter DFU ({how:?}): {}", seen.describe()).to_lowercase());
        if seen != Observed::Bootloader {
            return Err(StepFailure::timeout(
                Phase::EnterDfu,
                format!("the device did not enter DFU mode: {}", seen.describe()),
            ));
        }
        Ok(())
    }
}
