//! Boot-time settings init per SDK (`nrf_dfu_settings_init` in `nrf_dfu_settings.c` of 12.3, 15.0,
//! 15.2 and 17.1).

use super::*;
use crate::SdkVersion;
use rstest::rstest;

/// A valid page of `layout` with an application in bank 0.
fn valid(layout: SettingsLayout, app_version: u32) -> SettingsPage {
    let mut p = SettingsPage::defaults(layout);
    p.app_version = app_version;
    p.bootloader_version = 1;
    p.bank_0 = Bank {
        image_size: 0x1388,
        image_crc: 0x7BBF_56F5,
        bank_code: BankCode::ValidApp,
    };
    if let Some(t) = p.v2_mut() {
        t.boot_validation_app = BootValidation::with_value(
            BootValidationType::ValidateCrc,
            &0x7BBF_56F5u32.to_le_bytes(),
        );
    }
    p.fix_settings_crcs();
    p
}

fn page_bytes(p: &SettingsPage) -> Vec<u8> {
    p.encode_page()
}

fn corrupt(mut b: Vec<u8>) -> Vec<u8> {
    b[0x08] ^= 0x55; // app_version changes, crc no longer matches
    b
}

const ERASED: [u8; 4096] = [0xFF; 4096];

#[rstest]
#[case(SdkVersion::Sdk12, SettingsLayout::Sdk12)]
#[case(SdkVersion::Sdk14, SettingsLayout::V1)]
#[case(SdkVersion::Sdk15_0, SettingsLayout::V1)]
fn no_backup_sdks_use_a_valid_main_page(#[case] sdk: SdkVersion, #[case] layout: SettingsLayout) {
    let main = valid(layout, 3);
    let r = settings_init(sdk, &page_bytes(&main), &[]).unwrap();
    assert_eq!(r.outcome, InitOutcome::MainUsed);
    assert_eq!(r.settings, main);
    assert_eq!(r.main_page_write, None);
    assert_eq!(r.backup_page_write, None);
}

#[rstest]
#[case(SdkVersion::Sdk12, SettingsLayout::Sdk12)]
#[case(SdkVersion::Sdk14, SettingsLayout::V1)]
#[case(SdkVersion::Sdk15_0, SettingsLayout::V1)]
fn no_backup_sdks_reset_an_invalid_page_even_with_a_valid_backup(
    #[case] sdk: SdkVersion,
    #[case] layout: SettingsLayout,
) {
    let good = page_bytes(&valid(layout, 3));
    let r = settings_init(sdk, &corrupt(good.clone()), &good).unwrap();
    assert_eq!(r.outcome, InitOutcome::ResetToDefaults);
    assert_eq!(r.settings.settings_version, 1);
    assert_eq!(r.settings.app_version, 0, "downgrade protection lost");
    assert_eq!(
        r.settings.bank_0.bank_code,
        BankCode::Invalid,
        "device stays in DFU mode"
    );
    assert_eq!(r.settings.validate(), Ok(()));
    if let Some(peer) = r.settings.peer_data() {
        assert_eq!(peer.0, [0u8; 64], "memset(0) covers the peer data");
    }
    assert!(crc_ok(&r.settings.encode()));
    let written = r.main_page_write.expect("defaults are written back");
    assert_eq!(written, r.settings.encode());
    assert_eq!(written.len(), layout.size());
    assert_eq!(r.backup_page_write, None);
}

#[test]
fn sdk15_0_skips_writing_defaults_identical_to_flash() {
    // RAM (crc still 0) equals flash → nrf_dfu_settings_write skips; the page stays "invalid".
    let mut flash = vec![0u8; 4096];
    flash[4] = 1;
    let r = settings_init(SdkVersion::Sdk15_0, &flash, &[]).unwrap();
    assert_eq!(r.outcome, InitOutcome::ResetToDefaults);
    assert_eq!(r.main_page_write, None);
    // SDK 12 has no such check.
    let r12 = settings_init(SdkVersion::Sdk12, &flash, &[]).unwrap();
    assert!(r12.main_page_write.is_some());
}

#[test]
fn erased_pages_reset_to_defaults_in_every_sdk() {
    for sdk in SdkVersion::ALL {
        let r = settings_init(sdk, &ERASED, &ERASED).unwrap();
        assert_eq!(r.outcome, InitOutcome::ResetToDefaults, "{sdk}");
        assert_eq!(r.settings.settings_version, sdk.settings_version(), "{sdk}");
        assert_eq!(r.settings.layout(), SettingsLayout::for_sdk(sdk));
        assert!(crc_ok(&r.settings.encode()));
        if let Some(t) = r.settings.v2() {
            assert_eq!(
                t.boot_validation_crc,
                r.settings.compute_boot_validation_crc().unwrap()
            );
        }
        assert!(r.main_page_write.is_some(), "{sdk}");
        assert_eq!(
            r.backup_page_write.is_some(),
            sdk >= SdkVersion::Sdk15_3,
            "{sdk}"
        );
    }
}

// --- SDK 15.2: restore on tamper -------------------------------------------------------------------

#[test]
fn sdk15_2_restores_the_backup_when_protected_fields_differ() {
    let backup = valid(SettingsLayout::V1, 1);
    let main = valid(SettingsLayout::V1, 9); // app changed app_version and resealed the crc
    let r = settings_init(
        SdkVersion::Sdk15_2,
        &page_bytes(&main),
        &page_bytes(&backup),
    )
    .unwrap();
    assert_eq!(
        r.outcome,
        InitOutcome::RestoredFromBackup {
            reason: RestoreReason::MainTampered
        }
    );
    assert_eq!(r.settings.app_version, 1);
    assert_eq!(r.main_page_write.as_deref(), Some(&backup.encode()[..]));
    assert_eq!(r.backup_page_write, None, "15.2 writes the main page only");
}

#[test]
fn sdk15_2_allows_enter_buttonless_and_peer_data_changes() {
    let backup = valid(SettingsLayout::V1, 1);
    let mut main = backup.clone();
    main.enter_buttonless_dfu = 1;
    *main.adv_name_mut().unwrap() = AdvName::new(b"Renamed");
    main.fix_settings_crcs();
    let r = settings_init(
        SdkVersion::Sdk15_2,
        &page_bytes(&main),
        &page_bytes(&backup),
    )
    .unwrap();
    assert_eq!(r.outcome, InitOutcome::MainUsed);
    assert_eq!(r.settings, main);
    assert_eq!(r.main_page_write, None);
}

#[rstest]
#[case(true, InitOutcome::RestoredFromBackup { reason: RestoreReason::MainInvalid })]
#[case(false, InitOutcome::ResetToDefaults)]
fn sdk15_2_invalid_main(#[case] backup_valid: bool, #[case] expected: InitOutcome) {
    let good = page_bytes(&valid(SettingsLayout::V1, 4));
    let backup = if backup_valid {
        good.clone()
    } else {
        corrupt(good.clone())
    };
    let r = settings_init(SdkVersion::Sdk15_2, &corrupt(good), &backup).unwrap();
    assert_eq!(r.outcome, expected);
    assert_eq!(r.settings.app_version, if backup_valid { 4 } else { 0 });
    assert!(r.main_page_write.is_some());
}

#[test]
fn sdk15_2_ignores_an_invalid_backup() {
    let main = valid(SettingsLayout::V1, 4);
    let r = settings_init(SdkVersion::Sdk15_2, &page_bytes(&main), &ERASED).unwrap();
    assert_eq!(r.outcome, InitOutcome::MainUsed);
    assert_eq!(r.main_page_write, None);
}

// --- SDK 15.3 / 16 / 17: merge -------------------------------------------------------------------

#[rstest]
fn merge_takes_every_field_but_crc_buttonless_peer_and_name_from_backup(
    #[values(SdkVersion::Sdk15_3, SdkVersion::Sdk16, SdkVersion::Sdk17)] sdk: SdkVersion,
) {
    let backup = valid(SettingsLayout::V2, 1);
    let mut main = valid(SettingsLayout::V2, 2);
    main.bank_1 = Bank {
        image_size: 0x2000,
        image_crc: 0x1234,
        bank_code: BankCode::ValidApp,
    };
    main.enter_buttonless_dfu = 1;
    *main.adv_name_mut().unwrap() = AdvName::new(b"FromApp");
    main.init_command_mut()[0] = 0x12;
    main.fix_settings_crcs();
    let r = settings_init(sdk, &page_bytes(&main), &page_bytes(&backup)).unwrap();
    assert_eq!(
        r.outcome,
        InitOutcome::MainMergedWithBackup {
            restored_fields: vec!["app_version", "bank_1", "init_command"]
        }
    );
    assert_eq!(r.settings.app_version, 1);
    assert_eq!(r.settings.bank_1, Bank::EMPTY);
    assert_eq!(r.settings.init_command()[0], 0);
    assert_eq!(r.settings.enter_buttonless_dfu, 1, "kept from main");
    assert_eq!(
        r.settings.adv_name().unwrap().name_bytes(),
        b"FromApp",
        "kept from main"
    );
    assert_eq!(r.settings.validate(), Ok(()));
    let written = r.settings.encode();
    assert_eq!(r.main_page_write.as_deref(), Some(&written[..]));
    assert_eq!(
        r.backup_page_write.as_deref(),
        Some(&written[..]),
        "backup differs in enter_buttonless_dfu"
    );
    assert!(!r.upgraded_from_v1);
}

#[test]
fn merge_of_equal_pages_writes_nothing() {
    let p = page_bytes(&valid(SettingsLayout::V2, 5));
    let r = settings_init(SdkVersion::Sdk17, &p, &p).unwrap();
    assert_eq!(
        r.outcome,
        InitOutcome::MainMergedWithBackup {
            restored_fields: vec![]
        }
    );
    assert_eq!(r.main_page_write, None);
    assert_eq!(r.backup_page_write, None);
}

#[test]
fn power_loss_between_main_and_backup_write_rolls_back() {
    // The main page already holds the finished transfer, the backup still the old state:
    // the update is not committed, the merge brings the old state back.
    let old = valid(SettingsLayout::V2, 1);
    let mut new = old.clone();
    new.bank_1 = Bank {
        image_size: 0x3000,
        image_crc: 0xCAFE,
        bank_code: BankCode::ValidApp,
    };
    new.progress.set_update_start_address(0x2_8000);
    new.fix_settings_crcs();
    let r = settings_init(SdkVersion::Sdk17, &page_bytes(&new), &page_bytes(&old)).unwrap();
    assert_eq!(r.settings.bank_1.bank_code, BankCode::Invalid);
    assert_eq!(r.settings.differing_fields(&old), Vec::<&str>::new());
}

#[test]
fn merge_restores_an_invalid_main_page_from_backup() {
    let good = page_bytes(&valid(SettingsLayout::V2, 6));
    let r = settings_init(SdkVersion::Sdk15_3, &corrupt(good.clone()), &good).unwrap();
    assert_eq!(
        r.outcome,
        InitOutcome::RestoredFromBackup {
            reason: RestoreReason::MainInvalid
        }
    );
    assert_eq!(r.settings.app_version, 6);
    assert!(r.main_page_write.is_some());
    assert_eq!(r.backup_page_write, None);
}

#[test]
fn merge_needs_a_valid_boot_validation_crc_in_a_v2_backup() {
    let good = valid(SettingsLayout::V2, 6);
    let mut backup = good.encode_page();
    backup[offset::BOOT_VALIDATION_APP + 1] ^= 1; // boot_validation_crc now wrong, crc still fine
    assert!(crc_ok(&backup) && !boot_validation_crc_ok(&backup));
    let r = settings_init(SdkVersion::Sdk16, &corrupt(good.encode_page()), &backup).unwrap();
    assert_eq!(r.outcome, InitOutcome::ResetToDefaults);
    // The main page needs only its crc: a wrong boot_validation_crc there is resealed.
    let r = settings_init(SdkVersion::Sdk16, &backup, &ERASED).unwrap();
    assert_eq!(r.outcome, InitOutcome::MainUsed);
    assert_eq!(r.settings.validate(), Ok(()));
    assert!(r.main_page_write.is_some() && r.backup_page_write.is_some());
}

#[test]
fn v1_page_is_upgraded_to_v2() {
    // A v1 page written by a 15.2 bootloader (440 B, rest of the page erased), with peer data.
    let mut v1 = valid(SettingsLayout::V1, 3);
    let mut peer = [0x11u8; 64];
    let peer_crc = crate::crc::crc32(&peer[4..]);
    peer[..4].copy_from_slice(&peer_crc.to_le_bytes());
    v1.peer_data_mut().unwrap().0 = peer;
    *v1.adv_name_mut().unwrap() = AdvName::new(b"OldName");
    let flash = v1.encode_page();
    let r = settings_init(SdkVersion::Sdk17, &flash, &ERASED).unwrap();
    assert_eq!(r.outcome, InitOutcome::MainUsed);
    assert!(r.upgraded_from_v1);
    let s = &r.settings;
    assert_eq!(s.settings_version, 2);
    assert_eq!(s.app_version, 3);
    let t = s.v2().unwrap();
    assert_eq!(
        t.boot_validation_softdevice.kind,
        BootValidationType::NoValidation
    );
    assert_eq!(t.boot_validation_app.kind, BootValidationType::ValidateCrc);
    assert_eq!(t.boot_validation_app.value(), &0x7BBF_56F5u32.to_le_bytes());
    assert_eq!(
        t.boot_validation_bootloader.kind,
        BootValidationType::NoValidation
    );
    // The rest of the entries keep what the buffer held (erased flash).
    assert_eq!(t.boot_validation_app.bytes[4..], [0xFF; 60]);
    assert_eq!(t.peer_data.0, peer);
    assert_eq!(t.adv_name.name_bytes(), b"OldName");
    assert_eq!(s.validate(), Ok(()));
    // The old init command area (0x5C..0x15C) is kept; what was peer data there stays too.
    assert_eq!(&s.init_command()[0x100..0x140], &peer[..]);
}

#[test]
fn short_pages_are_errors() {
    let e = settings_init(SdkVersion::Sdk17, &[0u8; 100], &ERASED).unwrap_err();
    assert_eq!(
        e,
        SettingsError::TooShort {
            what: "main settings page",
            needed: 896,
            found: 100
        }
    );
    let e = settings_init(SdkVersion::Sdk15_2, &ERASED, &[0u8; 439]).unwrap_err();
    assert_eq!(
        e,
        SettingsError::TooShort {
            what: "backup settings page",
            needed: 440,
            found: 439
        }
    );
    // SDKs without a backup do not look at it.
    assert!(settings_init(SdkVersion::Sdk15_0, &ERASED, &[]).is_ok());
}
