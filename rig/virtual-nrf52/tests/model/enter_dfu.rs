//! The boot sequence's DFU-enter check (`dfu_enter_check` in each SDK's `nrf_bootloader.c`):
//! invalid app, GPREGRET with each
//! version's mask and clearing rule, the settings flag (12/14 only); the MBR start, unknown
//! bootloaders, applications without a descriptor.

use crate::common::*;
use crate::support::*;
use nrf_dfu::memory_map::{MBR_BOOTLOADER_ADDR_SLOT, MBR_PARAMS_PAGE_ADDR_SLOT, POWER_GPREGRET};
use nrf_dfu::settings::BankCode;
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;
use virtual_nrf52::DebugPort;
use virtual_nrf52::{Device, SilentReason, Status};

fn gpregret(dev: &mut Device) -> u8 {
    let t = dev.now();
    dev.debug(t).read_word(POWER_GPREGRET).unwrap() as u8
}

/// The app leaves `value` in GPREGRET and resets; does the bootloader enter DFU mode, and what
/// is left in GPREGRET?
#[rstest]
#[case::sdk17_b1(SdkVersion::Sdk17, 0xB1, true, 0x00)]
#[case::sdk17_b3(SdkVersion::Sdk17, 0xB3, true, 0x02)]
#[case::sdk17_stray_01(SdkVersion::Sdk17, 0x01, false, 0x01)]
#[case::sdk16_stray_01(SdkVersion::Sdk16, 0x01, true, 0x01)]
#[case::sdk15_3_b1(SdkVersion::Sdk15_3, 0xB1, true, 0x00)]
#[case::sdk15_3_stray_01(SdkVersion::Sdk15_3, 0x01, true, 0x01)]
#[case::sdk15_2_stray_01(SdkVersion::Sdk15_2, 0x01, true, 0x00)]
#[case::sdk15_0_stray_80(SdkVersion::Sdk15_0, 0x80, true, 0x00)]
#[case::sdk14_b1(SdkVersion::Sdk14, 0xB1, true, 0x00)]
#[case::sdk14_b3(SdkVersion::Sdk14, 0xB3, false, 0xB3)]
#[case::sdk12_b1(SdkVersion::Sdk12, 0xB1, false, 0xB1)]
fn gpregret_enter_rule_per_sdk(
    #[case] sdk: SdkVersion,
    #[case] value: u8,
    #[case] enters: bool,
    #[case] left: u8,
) {
    let bench = Bench::new(sdk);
    let mut dev = bench.build();
    let t = dev.now();
    dev.app_write_gpregret(t, value).unwrap();
    dev.app_soft_reset(t).unwrap();
    dev.settle(t + secs(10));
    assert_eq!(in_dfu_mode(&dev), enters, "{:?}", dev.status());
    assert_eq!(app_version(&dev).is_some(), !enters);
    assert_eq!(gpregret(&mut dev), left);
}

/// 15.3/16: a stray 0x01 is never cleared, so every soft reset lands in DFU mode again.
#[test]
fn stray_gpregret_bit_loops_into_dfu_on_15_3() {
    let bench = Bench::new(SdkVersion::Sdk15_3);
    let mut dev = bench.build();
    let t = dev.now();
    dev.app_write_gpregret(t, 0x01).unwrap();
    dev.app_soft_reset(t).unwrap();
    for _ in 0..3 {
        let t = dev.settle(dev.now() + secs(10));
        assert!(in_dfu_mode(&dev));
        dev.dfu_control(t, &[0x0C]).expect("abort");
    }
}

/// settings.enter_buttonless_dfu: honoured by 12 and 14, ignored by 15+ (default build).
#[rstest]
#[case::sdk12(SdkVersion::Sdk12, true)]
#[case::sdk14(SdkVersion::Sdk14, true)]
#[case::sdk15_3(SdkVersion::Sdk15_3, false)]
#[case::sdk17(SdkVersion::Sdk17, false)]
fn settings_flag_enters_dfu_on_12_and_14_only(#[case] sdk: SdkVersion, #[case] enters: bool) {
    let bench = Bench::new(sdk);
    let mut dev = bench.build();
    let mut s = flash_settings(&dev, sdk);
    s.enter_buttonless_dfu = 1;
    s.fix_crcs();
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        let mut segs = vec![(0x7F000, s.encode())];
        if sdk.has_settings_backup() {
            segs.push((0x7E000, s.encode()));
        }
        port.program(&segs, Default::default()).unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(t + secs(10));
    assert_eq!(in_dfu_mode(&dev), enters, "{:?}", dev.status());
    if enters {
        assert_eq!(
            flash_settings(&dev, sdk).enter_buttonless_dfu,
            0,
            "cleared and written on entry"
        );
    }
}

/// An app whose bank code is not VALID_APP, or whose CRC / boot validation fails, means DFU mode.
#[rstest]
#[case::sdk12_crc(SdkVersion::Sdk12)]
#[case::sdk15_0_crc(SdkVersion::Sdk15_0)]
#[case::sdk17_boot_validation(SdkVersion::Sdk17)]
fn invalid_app_keeps_the_bootloader_in_dfu_mode(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk);
    let mut dev = bench.build();
    assert_eq!(app_version(&dev), Some(1));
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        // One bit of the app flipped (bits can be cleared without an erase).
        port.write_memory_raw(bench.bank0() + 0x1000, &[0, 0, 0, 0])
            .unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(t + secs(10));
    assert!(in_dfu_mode(&dev), "{:?}", dev.status());
    assert_eq!(
        dev.dfu_enter_reason(),
        Some(virtual_nrf52::EnterReason::AppInvalid)
    );
    assert_eq!(
        flash_settings(&dev, sdk).bank_0.bank_code,
        BankCode::ValidApp,
        "the settings say valid; the check failed"
    );
}

#[test]
fn no_app_flashed_means_dfu_mode() {
    let dev = Bench::new(SdkVersion::Sdk17).without_app().build();
    assert!(in_dfu_mode(&dev));
}

/// 17.1 fills the MBR's bootloader and parameter-page slots at boot when they are erased.
#[test]
fn mbr_slots_are_populated_at_boot_on_17() {
    let dev = Bench::new(SdkVersion::Sdk17).build();
    let word = |a| u32::from_le_bytes(dev.read_flash(a, 4).try_into().unwrap());
    assert_eq!(word(MBR_BOOTLOADER_ADDR_SLOT), 0x78000);
    assert_eq!(word(MBR_PARAMS_PAGE_ADDR_SLOT), 0x7E000);
    let dev = Bench::new(SdkVersion::Sdk12).build();
    let word = |a| u32::from_le_bytes(dev.read_flash(a, 4).try_into().unwrap());
    assert_eq!(word(MBR_BOOTLOADER_ADDR_SLOT), u32::MAX);
}

/// A bootloader image without a stand-in descriptor runs with the configured fallback profile
/// and key, or stays silent without one.
#[test]
fn unknown_bootloader_runs_with_the_fallback_profile() {
    let bench = Bench::new(SdkVersion::Sdk17).without_app();
    let mut dev = bench.build();
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        // Overwrite the descriptor area with plain code.
        port.program(
            &[(0x78200, vec![0x11; 0x200])],
            virtual_nrf52::ProgramOptions {
                keep_unwritten_bytes: true,
                verify: true,
            },
        )
        .unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(t + secs(5));
    assert_eq!(dev.status(), Status::Silent);
    assert_eq!(dev.silent_reason(), Some(SilentReason::UnknownBootloader));
    dev.set_fallback_bootloader(Some(bench.descriptor()));
    let t = dev.now();
    dev.debug(t).soft_reset().unwrap();
    dev.settle(t + secs(5));
    assert!(in_dfu_mode(&dev), "{:?}", dev.status());
    // And it verifies with the fallback's key: an update goes through.
    let mut host = Host::ble(dev.now());
    host.update(&mut dev, &app_package(&bench, &bench.app(2), 2))
        .expect("update");
    dev.settle(host.t + secs(60));
    assert_eq!(app_version(&dev), Some(2));
}

/// An application without descriptor runs, and says nothing.
#[test]
fn application_without_descriptor_runs_silently() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let mut dev = bench.build();
    let mut app = bench.app(1);
    app[0x200..0x240].fill(0x22);
    let mut s = flash_settings(&dev, bench.sdk);
    s.bank_0.image_crc = nrf_dfu::crc::crc32(&app);
    if let Some(v2) = s.v2_mut() {
        v2.boot_validation_app = nrf_dfu::settings::BootValidation::crc(&app);
    }
    s.fix_crcs();
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        port.program(
            &[
                (bench.bank0(), app),
                (0x7E000, s.encode()),
                (0x7F000, s.encode()),
            ],
            Default::default(),
        )
        .unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(t + secs(5));
    assert_eq!(dev.status(), Status::Silent);
    assert_eq!(dev.silent_reason(), Some(SilentReason::UnknownApplication));
    let _ = Chip::Nrf52832Qfaa;
}
