use super::*;
use crate::debug_port::{DebugPort, ProgramOptions};
use crate::defects::Defect;
use crate::descriptor::{Buttonless, MbrDescriptor};
use crate::softdevice::{StandInSoftDevice, S132_3_0_0, S132_6_1_1, S132_7_2_0};
use crate::standin;
use nrf_dfu::memory_map::UICR_NRFFW0;
use nrf_dfu::SdkVersion;
use rstest::rstest;

fn on() -> Hardware {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 8);
    d.power_on().unwrap();
    d
}

#[test]
fn blank_device_has_nothing() {
    let d = on();
    let inv = d.installed();
    assert_eq!(inv.mbr, None);
    assert_eq!(inv.softdevice, None);
    assert_eq!(inv.bootloader, None);
    assert_eq!(
        inv.app,
        Slot {
            address: 0x1000,
            code: Code::Erased
        }
    );
    assert_eq!(inv.summary()[0], "MBR: none");
}

#[rstest]
#[case(S132_3_0_0)]
#[case(S132_6_1_1)]
#[case(S132_7_2_0)]
fn each_stand_in_softdevice_is_recognised(#[case] sd: StandInSoftDevice) {
    let mut d = on();
    d.program(
        &standin::softdevice_hex_segments(&sd),
        ProgramOptions::default(),
    )
    .unwrap();
    let inv = d.installed();
    assert_eq!(inv.softdevice, Some(sd.info));
    assert_eq!(inv.app.address, sd.info.end_address);
    assert!(inv.summary()[1].contains(sd.name), "{:?}", inv.summary());
}

#[test]
fn a_real_looking_softdevice_is_recognised_by_its_info_struct_alone() {
    // Bytes laid out as in Nordic's hex: only the info struct matters.
    let mut img = vec![0x00u8; 0x3000];
    img[0x2000..0x2000 + 0x2C].copy_from_slice(&S132_7_2_0.info.encode());
    let mut d = on();
    d.program(&[(0x1000, img)], ProgramOptions::default())
        .unwrap();
    assert_eq!(d.installed().softdevice, Some(S132_7_2_0.info));
}

#[test]
fn unknown_and_damaged_bootloaders() {
    let mut d = on();
    d.program(
        &[
            (0x78000, vec![0x42; 0x1000]),
            (UICR_NRFFW0, 0x78000u32.to_le_bytes().to_vec()),
        ],
        ProgramOptions::default(),
    )
    .unwrap();
    let inv = d.installed();
    assert_eq!(
        inv.bootloader,
        Some(Slot {
            address: 0x78000,
            code: Code::Unknown
        })
    );
    assert!(inv.summary()[2].contains("unknown"));
    // A stand-in whose descriptor lost a byte.
    let mut img = standin::bootloader_image(
        &BootloaderDescriptor::sdk_default(SdkVersion::Sdk16, [1; 64]),
        Chip::Nrf52832Qfaa,
        0x2000,
    )
    .unwrap();
    img[0x220] ^= 0xFF;
    d.program(&[(0x78000, img)], ProgramOptions::default())
        .unwrap();
    assert!(matches!(
        d.installed().bootloader.unwrap().code,
        Code::Damaged(DescriptorError::Crc { .. })
    ));
}

#[test]
fn bootloader_without_address_is_still_reported_at_the_default_region() {
    let mut d = on();
    let desc = BootloaderDescriptor::sdk_default(SdkVersion::Sdk14, [1; 64]);
    d.program(
        &[(
            0x78000,
            standin::bootloader_image(&desc, Chip::Nrf52832Qfaa, 0x2000).unwrap(),
        )],
        ProgramOptions::default(),
    )
    .unwrap();
    let inv = d.installed();
    assert_eq!(inv.bootloader_address, None);
    assert_eq!(inv.bootloader_descriptor(), Some(&desc));
}

#[test]
fn full_inventory_and_defects() {
    let mut d = on();
    let mut desc = BootloaderDescriptor::sdk_default(SdkVersion::Sdk15_3, [2; 64]);
    desc.defects = DefectSet::empty().with(Defect::GpregretLoop);
    let app = AppDescriptor {
        name: "hrs".into(),
        version: 10203,
        buttonless: Buttonless::Bonded,
    };
    let mut segs = standin::softdevice_hex_segments(&S132_6_1_1);
    segs.extend(standin::bootloader_segments(&desc, Chip::Nrf52832Qfaa, 0x5000).unwrap());
    segs.push((
        0x26000,
        standin::app_image(&app, Chip::Nrf52832Qfaa, 0x26000, 0x2000).unwrap(),
    ));
    d.program(&segs, ProgramOptions::default()).unwrap();
    let inv = d.installed();
    assert_eq!(inv.mbr, Some(MbrKind::StandIn(MbrDescriptor::SDK17)));
    assert_eq!(inv.bootloader_address, Some(0x78000));
    assert_eq!(inv.mbr_params_page, Some(0x7E000));
    assert_eq!(inv.bootloader_descriptor(), Some(&desc));
    assert_eq!(inv.app_descriptor(), Some(&app));
    let s = inv.summary();
    assert_eq!(s[0], "MBR: stand-in 2.4.1");
    assert!(
        s[2].contains("SDK 15.3") && s[2].contains("gpregret-loop"),
        "{s:?}"
    );
    assert!(s[3].contains("\"hrs\" version 10203"), "{s:?}");
    assert_eq!(d.effective_defects(), DefectSet::GPREGRET_LOOP);
    d.set_defects_override(Some(DefectSet::SKIP_HASH_CHECK));
    assert_eq!(d.effective_defects(), DefectSet::SKIP_HASH_CHECK);
    d.set_defects_override(None);
    assert_eq!(d.effective_defects(), DefectSet::GPREGRET_LOOP);
}
