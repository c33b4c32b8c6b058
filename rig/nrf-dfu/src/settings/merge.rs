//! What `nrf_dfu_settings_init()` makes of the main settings page and its backup at boot, per SDK
//! (`nrf_dfu_settings.c`), as a pure function over the page bytes.
//!
//! Sources read: SDK 12.x and 15.0 `nrf_dfu_settings.c` (no backup: invalid → zeroed defaults),
//! 15.2 (restore the backup when the application touched "forbidden" fields, or when the main page
//! is invalid; write main only), 15.3/16/17 (`settings_forbidden_parts_copy_from_backup`: merge,
//! then `nrf_dfu_settings_write_and_backup`; v1 → v2 translation with
//! `NRF_DFU_SETTINGS_COMPATIBILITY_MODE` = 1, the default). SDK 14 is modelled as 12 (no backup,
//! unconditional rewrite on reset); its write path was not read.
//! Default build options are assumed (`NRF_BL_DFU_ALLOW_UPDATE_FROM_APP` = 0).

use super::check::{boot_validation_crc, boot_validation_crc_ok, crc_ok, settings_crc};
use super::layout::{offset, SettingsLayout, ADV_NAME_LEN, CRC_RANGE, PEER_DATA_LEN};
use super::{SettingsError, SettingsPage};
use crate::SdkVersion;
use serde::Serialize;
use std::fmt;

/// Why the backup replaced the main page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreReason {
    /// The main page's `crc` is wrong or unset.
    MainInvalid,
    /// SDK 15.2: both pages valid but the main page's protected fields differ from the backup
    /// ("the app has tampered with the off-limit parts").
    MainTampered,
}

/// What the bootloader decided.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InitOutcome {
    /// The main page is valid and used as it is (backup absent, invalid or not consulted).
    MainUsed,
    /// SDK 15.3+: both pages valid; every field except `crc`, `enter_buttonless_dfu`, `peer_data`
    /// and `adv_name` was taken from the backup. `restored_fields` lists the ones that differed.
    MainMergedWithBackup { restored_fields: Vec<&'static str> },
    /// The backup replaced the main page.
    RestoredFromBackup { reason: RestoreReason },
    /// Neither page was usable: all zero except `settings_version`. bank_0 is INVALID, so the
    /// device stays in DFU mode; app_version and bootloader_version fall back to 0.
    ResetToDefaults,
}

impl fmt::Display for InitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitOutcome::MainUsed => f.write_str("main page used"),
            InitOutcome::MainMergedWithBackup { restored_fields } if restored_fields.is_empty() => {
                f.write_str("main page used, backup agrees")
            }
            InitOutcome::MainMergedWithBackup { restored_fields } => {
                write!(
                    f,
                    "main page used, merged with backup (restored {})",
                    restored_fields.join(", ")
                )
            }
            InitOutcome::RestoredFromBackup {
                reason: RestoreReason::MainInvalid,
            } => f.write_str("restored from backup (main page CRC invalid)"),
            InitOutcome::RestoredFromBackup {
                reason: RestoreReason::MainTampered,
            } => f.write_str("restored from backup (main page protected fields differ)"),
            InitOutcome::ResetToDefaults => f.write_str("reset to defaults (no valid page)"),
        }
    }
}

/// The result of settings init.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsInit {
    pub sdk: SdkVersion,
    /// `s_dfu_settings` after init, as it is (or would be) written, CRCs included.
    pub settings: SettingsPage,
    pub outcome: InitOutcome,
    /// SDK 15.3+ found a v1 page and translated it (peer data and advertising name moved, boot
    /// validation set to SD none / app CRC from bank_0 / BL none, settings_version 2).
    pub upgraded_from_v1: bool,
    /// The struct bytes written to the main page after erasing it (`None`: no write, either not
    /// attempted or skipped because flash already holds the same bytes).
    #[serde(skip)]
    pub main_page_write: Option<Vec<u8>>,
    /// The same for the backup page (SDK 15.3+ only; 15.2 backs up later, before starting the app).
    #[serde(skip)]
    pub backup_page_write: Option<Vec<u8>>,
}

fn head<'a>(
    page: &'a [u8],
    layout: SettingsLayout,
    what: &'static str,
) -> Result<&'a [u8], SettingsError> {
    page.get(..layout.size()).ok_or(SettingsError::TooShort {
        what,
        needed: layout.size(),
        found: page.len(),
    })
}

fn defaults(layout: SettingsLayout) -> Vec<u8> {
    let mut s = vec![0u8; layout.size()];
    s[offset::SETTINGS_VERSION..offset::SETTINGS_VERSION + 4]
        .copy_from_slice(&layout.settings_version().to_le_bytes());
    s
}

fn word(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        w.copy_from_slice(s);
    }
    u32::from_le_bytes(w)
}

/// Set `crc` (and on v2 `boot_validation_crc`) as `nrf_dfu_settings_write` does.
fn seal(s: &mut [u8], layout: SettingsLayout) {
    if layout == SettingsLayout::V2 {
        let bv = boot_validation_crc(s);
        s[offset::BOOT_VALIDATION_CRC..offset::BOOT_VALIDATION_CRC + 4]
            .copy_from_slice(&bv.to_le_bytes());
    }
    let crc = settings_crc(s);
    s[..4].copy_from_slice(&crc.to_le_bytes());
}

fn write_if_different(flash: &[u8], new: &[u8]) -> Option<Vec<u8>> {
    (flash != new).then(|| new.to_vec())
}

/// Run the settings init of `sdk` on the main page and the backup page bytes (each at least the
/// SDK's struct size; normally the whole 4 KB page). `backup` is ignored by SDKs without a backup
/// (12, 14, 15.0) and may then be empty.
pub fn settings_init(
    sdk: SdkVersion,
    main: &[u8],
    backup: &[u8],
) -> Result<SettingsInit, SettingsError> {
    let layout = SettingsLayout::for_sdk(sdk);
    let main = head(main, layout, "main settings page")?;
    match sdk {
        SdkVersion::Sdk12 | SdkVersion::Sdk14 | SdkVersion::Sdk15_0 => {
            init_without_backup(sdk, layout, main)
        }
        SdkVersion::Sdk15_2 => {
            init_15_2(layout, main, head(backup, layout, "backup settings page")?)
        }
        SdkVersion::Sdk15_3 | SdkVersion::Sdk16 | SdkVersion::Sdk17 => init_merge(
            sdk,
            layout,
            main,
            head(backup, layout, "backup settings page")?,
        ),
    }
}

fn finish(
    sdk: SdkVersion,
    layout: SettingsLayout,
    s: &[u8],
    outcome: InitOutcome,
    upgraded_from_v1: bool,
    main_page_write: Option<Vec<u8>>,
    backup_page_write: Option<Vec<u8>>,
) -> Result<SettingsInit, SettingsError> {
    Ok(SettingsInit {
        sdk,
        settings: SettingsPage::decode(s, layout)?,
        outcome,
        upgraded_from_v1,
        main_page_write,
        backup_page_write,
    })
}

/// SDK 12, 14, 15.0: valid → use; otherwise zeroed defaults, written back.
fn init_without_backup(
    sdk: SdkVersion,
    layout: SettingsLayout,
    main: &[u8],
) -> Result<SettingsInit, SettingsError> {
    if crc_ok(main) {
        return finish(sdk, layout, main, InitOutcome::MainUsed, false, None, None);
    }
    let mut s = defaults(layout);
    // 15.0 compares RAM (crc still 0) with flash before sealing and skips an identical write;
    // SDK 12 writes unconditionally.
    let skip = sdk == SdkVersion::Sdk15_0 && main == s.as_slice();
    seal(&mut s, layout);
    let write = (!skip).then(|| s.clone());
    finish(
        sdk,
        layout,
        &s,
        InitOutcome::ResetToDefaults,
        false,
        write,
        None,
    )
}

/// Bytes 0x04..0x58 and 0x5C..end of the init command: what the application may not change.
fn forbidden_ranges(layout: SettingsLayout) -> [std::ops::Range<usize>; 2] {
    let init_end = offset::INIT_COMMAND + layout.init_command_len();
    [
        CRC_RANGE.start..offset::ENTER_BUTTONLESS_DFU,
        offset::INIT_COMMAND..init_end,
    ]
}

/// SDK 15.2: restore on tamper or invalid main; write the main page only.
fn init_15_2(
    layout: SettingsLayout,
    main: &[u8],
    backup: &[u8],
) -> Result<SettingsInit, SettingsError> {
    let sdk = SdkVersion::Sdk15_2;
    let main_valid = crc_ok(main);
    let backup_valid = crc_ok(backup);
    let tampered = forbidden_ranges(layout)
        .iter()
        .any(|r| main[r.clone()] != backup[r.clone()]);
    let (mut s, outcome) = if main_valid && backup_valid && tampered {
        (
            backup.to_vec(),
            InitOutcome::RestoredFromBackup {
                reason: RestoreReason::MainTampered,
            },
        )
    } else if !main_valid && backup_valid {
        (
            backup.to_vec(),
            InitOutcome::RestoredFromBackup {
                reason: RestoreReason::MainInvalid,
            },
        )
    } else if !main_valid {
        (defaults(layout), InitOutcome::ResetToDefaults)
    } else {
        return finish(sdk, layout, main, InitOutcome::MainUsed, false, None, None);
    };
    seal(&mut s, layout);
    let write = write_if_different(main, &s);
    finish(sdk, layout, &s, outcome, false, write, None)
}

/// SDK 15.3, 16, 17: merge, translate v1, write main and backup.
fn init_merge(
    sdk: SdkVersion,
    layout: SettingsLayout,
    main: &[u8],
    backup: &[u8],
) -> Result<SettingsInit, SettingsError> {
    let main_valid = crc_ok(main);
    let backup_valid = crc_ok(backup)
        && (word(backup, offset::SETTINGS_VERSION) == 1 || boot_validation_crc_ok(backup));
    let (mut s, outcome) = if main_valid {
        let mut s = main.to_vec();
        if backup_valid {
            // settings_version .. enter_buttonless_dfu, and init_command .. peer_data.
            for r in [
                CRC_RANGE.start..offset::ENTER_BUTTONLESS_DFU,
                offset::INIT_COMMAND..offset::PEER_DATA_V2,
            ] {
                s[r.clone()].copy_from_slice(&backup[r]);
            }
            let before = SettingsPage::decode(main, layout)?;
            let after = SettingsPage::decode(&s, layout)?;
            (
                s,
                InitOutcome::MainMergedWithBackup {
                    restored_fields: before.differing_fields(&after),
                },
            )
        } else {
            (s, InitOutcome::MainUsed)
        }
    } else if backup_valid {
        (
            backup.to_vec(),
            InitOutcome::RestoredFromBackup {
                reason: RestoreReason::MainInvalid,
            },
        )
    } else {
        (defaults(layout), InitOutcome::ResetToDefaults)
    };
    let upgraded = word(&s, offset::SETTINGS_VERSION) == 1;
    if upgraded {
        upgrade_v1(&mut s);
    }
    seal(&mut s, layout);
    let main_write = write_if_different(main, &s);
    let backup_write = write_if_different(backup, &s);
    finish(sdk, layout, &s, outcome, upgraded, main_write, backup_write)
}

/// The 15.3+ compatibility translation of a v1 page held in a v2-sized buffer.
fn upgrade_v1(s: &mut [u8]) {
    s.copy_within(
        offset::PEER_DATA_V1..offset::PEER_DATA_V1 + PEER_DATA_LEN,
        offset::PEER_DATA_V2,
    );
    s.copy_within(
        offset::ADV_NAME_V1..offset::ADV_NAME_V1 + ADV_NAME_LEN,
        offset::ADV_NAME_V2,
    );
    s[offset::BOOT_VALIDATION_SOFTDEVICE] = 0; // NO_VALIDATION
    s[offset::BOOT_VALIDATION_APP] = 1; // VALIDATE_CRC
    s[offset::BOOT_VALIDATION_BOOTLOADER] = 0; // NO_VALIDATION
                                               // Only the first 4 bytes of the app entry are set; the other 60 keep what the buffer held.
    s.copy_within(
        offset::BANK_0 + 4..offset::BANK_0 + 8,
        offset::BOOT_VALIDATION_APP + 1,
    );
    s[offset::SETTINGS_VERSION..offset::SETTINGS_VERSION + 4].copy_from_slice(&2u32.to_le_bytes());
}
