use super::*;
use crate::debug_port::{DebugPort, ProgramOptions};
use crate::descriptor::{Buttonless, MbrDescriptor, Transport};
use crate::hardware::Hardware;
use crate::softdevice::S132_7_2_0;
use crate::standin;
use crate::Segment;
use nrf_dfu::settings::{generate, BackupPlacement, Family, GenerateOptions};
use rstest::rstest;

const APP_SIZE: u32 = 0x2000;

fn app(base: u32) -> Vec<u8> {
    let d = AppDescriptor {
        name: "rig-app".into(),
        version: 3,
        buttonless: Buttonless::Unbonded,
    };
    standin::app_image(&d, Chip::Nrf52832Qfaa, base, APP_SIZE).unwrap()
}

/// MBR (+ S132 7.2.0 when `sd`), a stand-in bootloader of `sdk`, the app, and nrfutil-style
/// settings (v1 or v2 per SDK) naming the app valid.
fn device(sdk: SdkVersion, sd: bool, settings_for_app: bool) -> Hardware {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 5);
    d.power_on().unwrap();
    let mut segs: Vec<Segment> = if sd {
        standin::softdevice_hex_segments(&S132_7_2_0)
    } else {
        vec![(0, standin::mbr_image(&MbrDescriptor::SDK17))]
    };
    let mut bl = BootloaderDescriptor::sdk_default(sdk, [3; 64]);
    if !sd {
        bl.transport = Transport::Uart;
    }
    segs.extend(standin::bootloader_segments(&bl, Chip::Nrf52832Qfaa, 0x5000).unwrap());
    let base = if sd { 0x26000 } else { 0x1000 };
    let image = app(base);
    segs.push((base, image.clone()));
    if settings_for_app {
        let g = generate(
            &GenerateOptions {
                family: Family::Nrf52,
                application: Some(&image),
                application_version: Some(3),
                bootloader_version: 1,
                bl_settings_version: sdk.settings_version(),
                start_address: None,
                backup: if sdk.has_settings_backup() {
                    BackupPlacement::BelowSettings
                } else {
                    BackupPlacement::None
                },
                app_boot_validation: None,
                sd_boot_validation: None,
                softdevice: None,
            },
            None,
        )
        .unwrap();
        segs.extend(g.segments());
    }
    // 15.3's address words sit in the MBR page: merge them into the MBR segment.
    segs.sort_by_key(|s| s.0);
    let mut merged: Vec<Segment> = Vec::new();
    for (a, b) in segs {
        match merged.last_mut() {
            Some((la, lb)) if *la + lb.len() as u32 <= a && a < 0x1000 && *la < 0x1000 => {
                lb.resize((a - *la) as usize, 0xFF);
                lb.extend_from_slice(&b);
            }
            _ => merged.push((a, b)),
        }
    }
    d.program(&merged, ProgramOptions::default()).unwrap();
    d
}

fn decide_on(d: &Hardware, inputs: BootInputs) -> BootDecision {
    decide(d.memory(), Chip::Nrf52832Qfaa, &inputs).unwrap()
}

#[rstest]
#[case(SdkVersion::Sdk12, true)]
#[case(SdkVersion::Sdk14, false)]
#[case(SdkVersion::Sdk15_2, true)]
#[case(SdkVersion::Sdk15_3, false)]
#[case(SdkVersion::Sdk17, true)]
#[case(SdkVersion::Sdk17, false)]
fn valid_app_runs(#[case] sdk: SdkVersion, #[case] sd: bool) {
    let d = device(sdk, sd, true);
    let dec = decide_on(&d, BootInputs::POWER_ON);
    match dec.next {
        NextBoot::RunApp {
            address,
            app_version,
            app,
        } => {
            assert_eq!(address, if sd { 0x26000 } else { 0x1000 });
            assert_eq!(app_version, 3);
            assert_eq!(app.unwrap().name, "rig-app");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dec.bootloader.unwrap().profile, sdk);
}

#[test]
fn no_settings_means_dfu_mode() {
    let d = device(SdkVersion::Sdk17, false, false);
    let dec = decide_on(&d, BootInputs::POWER_ON);
    assert_eq!(dec.settings_outcome, Some(InitOutcome::ResetToDefaults));
    assert_eq!(
        dec.next,
        NextBoot::EnterDfu {
            reasons: vec![DfuReason::AppNotValid {
                bank_0_code: BankCode::Invalid
            }]
        }
    );
    assert!(dec.next.to_string().contains("bank_0 is INVALID"));
}

#[test]
fn corrupt_app_fails_its_crc() {
    let mut d = device(SdkVersion::Sdk15_2, false, true);
    // Clear the lowest set bit of a word inside the app (flash writes can only clear bits).
    let addr = (0x1400..0x1000 + APP_SIZE)
        .step_by(4)
        .find(|&a| d.memory().code.read_word(a).unwrap() != 0)
        .unwrap();
    let w = d.memory().code.read_word(addr).unwrap();
    d.write_memory_raw(addr, &(w & (w - 1)).to_le_bytes())
        .unwrap();
    let dec = decide_on(&d, BootInputs::POWER_ON);
    assert!(
        matches!(dec.next, NextBoot::EnterDfu { ref reasons } if matches!(reasons[0], DfuReason::AppCrcMismatch { .. })),
        "{:?}",
        dec.next
    );
    // The decision is the bootloader model's: its CRC skip after a System OFF wake is 17.1's
    // (`Profile::crc_skip_on_wake`), so a 15.2 build still checks.
    let wake = BootInputs {
        reset: ResetKind::WakeFromOff(crate::power::WakeSource::Gpio),
        ..BootInputs::POWER_ON
    };
    assert!(matches!(
        decide_on(&d, wake).next,
        NextBoot::EnterDfu { .. }
    ));
}

#[rstest]
#[case(SdkVersion::Sdk17, 0xB1, true)]
#[case(SdkVersion::Sdk17, 0x01, false)]
#[case(SdkVersion::Sdk17, 0xB7, true)]
#[case(SdkVersion::Sdk16, 0x01, true)]
#[case(SdkVersion::Sdk15_3, 0x80, true)]
#[case(SdkVersion::Sdk14, 0xB0, false)]
#[case(SdkVersion::Sdk14, 0xB1, true)]
#[case(SdkVersion::Sdk12, 0xB1, false)]
fn gpregret_rule(#[case] sdk: SdkVersion, #[case] g: u8, #[case] dfu: bool) {
    assert_eq!(gpregret_enters_dfu(sdk, g), dfu);
    let d = device(sdk, false, true);
    let dec = decide_on(
        &d,
        BootInputs {
            gpregret: g,
            ..BootInputs::POWER_ON
        },
    );
    assert_eq!(
        matches!(dec.next, NextBoot::EnterDfu { .. }),
        dfu,
        "{:?}",
        dec.next
    );
}

#[test]
fn silent_and_unknown_bootloaders() {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 1);
    assert!(matches!(
        decide_on(&d, BootInputs::POWER_ON).next,
        NextBoot::Silent { .. }
    ));
    d.power_on().unwrap();
    let mut segs = vec![(0, standin::mbr_image(&MbrDescriptor::SDK17))];
    // A "real" bootloader: code without descriptor, address words in UICR.
    segs.push((
        0x78000,
        vec![0x00, 0x00, 0x01, 0x20, 0x01, 0x81, 0x07, 0x00],
    ));
    segs.push((
        0x1000_1014,
        [0x78000u32.to_le_bytes(), 0x7E000u32.to_le_bytes()].concat(),
    ));
    d.program(&segs, ProgramOptions::default()).unwrap();
    assert_eq!(
        decide_on(&d, BootInputs::POWER_ON).next,
        NextBoot::UnknownBootloader { address: 0x78000 }
    );
}

#[test]
fn pending_update_is_activated_first() {
    let mut d = device(SdkVersion::Sdk17, true, true);
    let mut s = SettingsPage::decode(
        d.memory().code.read(0x7F000, 4096).unwrap(),
        nrf_dfu::settings::SettingsLayout::V2,
    )
    .unwrap();
    s.bank_1 = nrf_dfu::settings::Bank {
        image_size: 0x1000,
        image_crc: 0x1234,
        bank_code: BankCode::ValidApp,
    };
    s.progress.set_update_start_address(0x40000);
    s.fix_crcs();
    let bytes = s.encode();
    d.program(
        &[(0x7E000, bytes.clone()), (0x7F000, bytes)],
        ProgramOptions::default(),
    )
    .unwrap();
    let dec = decide_on(&d, BootInputs::POWER_ON);
    assert_eq!(
        dec.next,
        NextBoot::ActivateUpdate {
            bank_1_code: BankCode::ValidApp,
            image_size: 0x1000,
            image_crc: 0x1234,
            source: 0x40000
        }
    );
}
