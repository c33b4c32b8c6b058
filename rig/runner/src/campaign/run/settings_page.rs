//! The settings page a `flash` step writes next to an application flashed through SWD, so the
//! bootloader boots it (what `nrfutil settings generate` + `mergehex` do on a production line).

use super::error::StepFailure;
use crate::campaign::failure_class::InfraFault;
use nrf_dfu::crc::crc32;
use nrf_dfu::settings::{
    generate, BackupPlacement, Bank, BankCode, Family, GenerateOptions, SettingsLayout,
    SettingsPage,
};
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
    if sdk == Some(SdkVersion::Sdk12) {
        // nrfutil cannot make SDK 12 pages (its version 1 is the 15.x layout): build it here.
        let mut page = SettingsPage::defaults(SettingsLayout::Sdk12);
        page.app_version = version;
        page.bank_0 = Bank {
            image_size: app.len() as u32,
            image_crc: crc32(app),
            bank_code: BankCode::ValidApp,
        };
        page.fix_crcs();
        return Ok(vec![(chip.settings_address(), page.encode())]);
    }
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

/// The settings page with `enter_buttonless_dfu` set: how SDK 12, whose bootloader ignores
/// GPREGRET, is put into DFU mode from outside (what its experimental buttonless service writes).
pub fn enter_dfu_flag_page(page: &[u8]) -> Option<Vec<u8>> {
    let mut s = SettingsPage::decode(page, SettingsLayout::Sdk12).ok()?;
    s.enter_buttonless_dfu = 1;
    s.fix_crcs();
    let mut out = s.encode();
    out.resize(page.len().max(out.len()), 0xFF);
    out.truncate(page.len());
    Some(out)
}
