//! The verify step: read-back checks through SWD.

use super::*;

impl<D: BenchDut> Executor<'_, D> {
    pub(super) async fn verify(
        &mut self,
        v: &VerifyStep,
        run: &mut AttemptRun<'_>,
    ) -> Result<(), StepFailure> {
        let observed = self.dut.observe(SETTLE).await;
        let rb = crate::campaign::run::readback::read_dut(self.dut)?;
        run.note(format!("verify: {}", observed.describe()));
        let last = run.last.as_ref();
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
