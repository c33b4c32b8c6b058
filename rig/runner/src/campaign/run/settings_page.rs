//! The settings page a `flash` step writes next to an application flashed through SWD, so the
//! bootloader boots it (what `nrfutil settings generate` + `mergehex` do on a production line).

use super::error::StepFailure;
use crate::campaign::failure_class::InfraFault;
use nrf_dfu::settings::{generate, BackupPlacement, Family, GenerateOptions};
use nrf_dfu::{Chip, SdkVersion};

/// Segments of a settings page (and its backup) marking `app` valid at `version`. The layout
/// follows the bootloader: v1 up to SDK 15.2, v2 from 15.3 (nrfutil's `--bl-settings-version`);
/// unknown bootloaders get v2, the layout every current SDK reads.
pub fn settings_segments(
    chip: Chip,
    sdk: Option<SdkVersion>,
    app: &[u8],
    version: u32,
) -> Result<Vec<(u32, Vec<u8>)>, StepFailure> {
    let v1 = matches!(
        sdk,
        Some(SdkVersion::Sdk12 | SdkVersion::Sdk14 | SdkVersion::Sdk15_0 | SdkVersion::Sdk15_2)
    );
    let family = match chip {
        Chip::Nrf52832Qfab => Family::Nrf52Qfab,
        _ => Family::Nrf52,
    };
    let generated = generate(
        &GenerateOptions {
            family,
            application: Some(app),
            application_version: Some(version),
            bootloader_version: 1,
            bl_settings_version: if v1 { 1 } else { 2 },
            start_address: None,
            // SDK 12 has no backup page; later bootloaders restore from it.
            backup: if sdk == Some(SdkVersion::Sdk12) {
                BackupPlacement::None
            } else {
                BackupPlacement::BelowSettings
            },
            app_boot_validation: None,
            sd_boot_validation: None,
            softdevice: None,
        },
        None,
    )
    .map_err(|e| StepFailure::infra(InfraFault::Host, format!("settings page: {e}")))?;
    Ok(generated.segments())
}
