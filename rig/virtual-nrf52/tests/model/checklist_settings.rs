//! Checklist — settings (`nrf_dfu_settings.c` per SDK): two 4 KB pages, erase + write as two
//! operations, commit only after the backup, the boot-time merge rules of
//! `nrf_dfu_settings_init`, CRC ranges 0x04–0x5B and
//! 0x260–0x322.

use crate::common::*;
use crate::support::*;
use nrf_dfu::crc::crc32;
use nrf_dfu::settings::{BankCode, SettingsLayout, SettingsPage};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;
use virtual_nrf52::DebugPort;

const MAIN: u32 = 0x7F000;
const BACKUP: u32 = 0x7E000;

/// The init EXECUTE writes the settings: erase, then one write of the struct, main page first,
/// then the backup page (15.2+); nothing overlaps.
#[rstest]
#[case::sdk12(SdkVersion::Sdk12, 348, false)]
#[case::sdk15_0(SdkVersion::Sdk15_0, 440, false)]
#[case::sdk15_2(SdkVersion::Sdk15_2, 440, true)]
#[case::sdk15_3(SdkVersion::Sdk15_3, 896, true)]
#[case::sdk17(SdkVersion::Sdk17, 896, true)]
fn settings_write_is_erase_then_write_of_two_pages(
    #[case] sdk: SdkVersion,
    #[case] len: usize,
    #[case] backup: bool,
) {
    let bench = Bench::new(sdk);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    dev.record_flash_ops(true);
    let from = host.t;
    let pkg = app_package(&bench, &bench.app(2), 2);
    host.send_init(&mut dev, &pkg.init).expect("init");
    dev.settle(host.t + secs(5));
    let ops: Vec<String> = ops_since(&dev, from)
        .iter()
        .map(|r| r.what.clone())
        .collect();
    let mut expected = vec![
        format!("page erase at {MAIN:#07x}"),
        format!("write of {len} bytes at {MAIN:#07x}"),
    ];
    if backup {
        expected.push(format!("page erase at {BACKUP:#07x}"));
        expected.push(format!("write of {len} bytes at {BACKUP:#07x}"));
    }
    assert_eq!(ops, expected);
    let j = ops_since(&dev, from);
    assert!(
        j.windows(2).all(|w| w[0].end <= w[1].start),
        "one operation at a time: {j:?}"
    );
}

/// A settings change is committed only once the backup holds it: with the main page written
/// and the backup still holding the previous state (power lost between the two writes),
/// 15.3+ boot restores every protected field from the backup.
#[rstest]
#[case::sdk15_3(SdkVersion::Sdk15_3)]
#[case::sdk17(SdkVersion::Sdk17)]
fn settings_commit_only_after_backup(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk);
    let mut dev = bench.build();
    let old = flash_settings(&dev, sdk);
    // The "new" state: app_version 9 written to the main page only.
    let mut new = old.clone();
    new.app_version = 9;
    new.fix_crcs();
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        port.program(&[(MAIN, new.encode())], Default::default())
            .expect("program");
        port.soft_reset().expect("reset");
    }
    dev.settle(t + secs(5));
    let after = flash_settings(&dev, sdk);
    assert_eq!(
        after.app_version, old.app_version,
        "rolled back to the backup's state"
    );
    let backup = SettingsPage::decode(&dev.read_flash(BACKUP, 896), SettingsLayout::V2).unwrap();
    assert_eq!(
        backup.encode(),
        after.encode(),
        "and written back to both pages"
    );
}

/// Boot-time rules per SDK (`nrf_dfu_settings_init`): which page wins.
#[rstest]
// 15.3+/17: main valid + backup valid -> protected fields from the backup.
#[case::sdk17_merge(SdkVersion::Sdk17, true, true, 3, true)]
// Main invalid + backup valid -> backup restored (15.2+).
#[case::sdk17_restore(SdkVersion::Sdk17, false, true, 3, true)]
#[case::sdk15_2_restore(SdkVersion::Sdk15_2, false, true, 3, true)]
// 15.2: both valid, forbidden fields differ -> restore everything from the backup.
#[case::sdk15_2_tamper(SdkVersion::Sdk15_2, true, true, 3, true)]
// No backup in 12 / 15.0: an invalid main page resets to defaults (app invalid -> DFU mode).
#[case::sdk15_0_reset(SdkVersion::Sdk15_0, false, true, 0, false)]
#[case::sdk12_reset(SdkVersion::Sdk12, false, true, 0, false)]
// Both invalid -> defaults everywhere.
#[case::sdk17_both_invalid(SdkVersion::Sdk17, false, false, 0, false)]
fn boot_time_merge_rules_per_sdk(
    #[case] sdk: SdkVersion,
    #[case] main_valid: bool,
    #[case] backup_valid: bool,
    #[case] app_version: u32,
    #[case] app_runs: bool,
) {
    let bench = Bench {
        app_version: 3,
        ..Bench::new(sdk)
    };
    let mut dev = bench.build();
    let good = flash_settings(&dev, sdk);
    let mut main = good.clone();
    main.app_version = 7;
    main.fix_crcs();
    let mut main_bytes = main.encode();
    if !main_valid {
        main_bytes[0x10] ^= 0xFF;
    }
    let mut backup_bytes = good.encode();
    if !backup_valid {
        backup_bytes[0x10] ^= 0xFF;
    }
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        port.program(
            &[(BACKUP, backup_bytes), (MAIN, main_bytes)],
            Default::default(),
        )
        .expect("program");
        port.soft_reset().expect("reset");
    }
    dev.settle(t + secs(5));
    let s = flash_settings(&dev, sdk);
    assert_eq!(s.app_version, app_version);
    assert_eq!(
        app_version_of(&dev).is_some(),
        app_runs,
        "{:?}",
        dev.status()
    );
    assert_eq!(s.bank_0.bank_code == BankCode::ValidApp, app_runs);
}

fn app_version_of(dev: &virtual_nrf52::Device) -> Option<u32> {
    app_version(dev)
}

/// The bootloader's CRCs: `crc` over 0x04..0x5B, `boot_validation_crc` over 0x260..0x322; a
/// change outside those ranges (the init command) keeps the page valid, one inside does not.
#[test]
fn settings_crc_ranges_are_0x04_0x5b_and_0x260_0x322() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let pkg = app_package(&bench, &bench.app(2), 2);
    host.send_init(&mut dev, &pkg.init).expect("init");
    dev.settle(host.t + secs(5));
    let page = dev.read_flash(MAIN, 896);
    let word = |at: usize| u32::from_le_bytes(page[at..at + 4].try_into().unwrap());
    assert_eq!(word(0), crc32(&page[0x04..0x5C]));
    assert_eq!(word(0x25C), crc32(&page[0x260..0x323]));
    // The stored init command (0x5C..) is outside both ranges.
    assert_eq!(&page[0x5C..0x5C + pkg.init.len()], &pkg.init[..]);
    let mut outside = page.clone();
    outside[0x100] ^= 1;
    assert!(nrf_dfu::settings::crc_ok(&outside));
    let mut inside = page.clone();
    inside[0x30] ^= 1;
    assert!(!nrf_dfu::settings::crc_ok(&inside));
    let mut bv = page;
    bv[0x2A2] ^= 1;
    assert!(!nrf_dfu::settings::boot_validation_crc_ok(&bv));
    let _ = Chip::Nrf52832Qfaa;
}
