use super::*;
use crate::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless, MbrDescriptor};
use crate::mbr::BootTarget;
use crate::power::resetreas;
use crate::softdevice::{S132_3_0_0, S132_7_2_0};
use crate::standin;
use nrf_dfu::memory_map::{UICR_APPROTECT, UICR_NRFFW0, UICR_NRFFW1};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;

fn on(chip: Chip) -> Hardware {
    let mut d = Hardware::new(chip, 21);
    DebugPort::power_on(&mut d).unwrap();
    d
}

fn bl(sdk: SdkVersion) -> BootloaderDescriptor {
    BootloaderDescriptor::sdk_default(sdk, [4; 64])
}

#[test]
fn program_full_stack_then_boot() {
    let mut d = on(Chip::Nrf52832Qfaa);
    let mut segs = standin::softdevice_hex_segments(&S132_7_2_0);
    segs.extend(
        standin::bootloader_segments(&bl(SdkVersion::Sdk17), Chip::Nrf52832Qfaa, 0x5000).unwrap(),
    );
    let app = AppDescriptor {
        name: "blinky".into(),
        version: 3,
        buttonless: Buttonless::Unbonded,
    };
    segs.push((
        0x26000,
        standin::app_image(&app, Chip::Nrf52832Qfaa, 0x26000, 0x3000).unwrap(),
    ));
    let r = d.program(&segs, ProgramOptions::default()).unwrap();
    assert_eq!(d.run_state(), crate::RunState::Halted);
    // MBR page + 37 SoftDevice pages (0x1000..0x25968) + 3 app pages + 5 bootloader pages.
    assert_eq!(r.pages_erased.len(), 1 + 37 + 3 + 5);
    assert_eq!(r.pages_erased[0], 0);
    let per_page = Duration::from_millis(85) + Duration::from_micros(41 * 1024);
    // The UICR words are written after an ERASEUICR, as probe-rs's nRF52 algorithm does.
    let erase_uicr = Duration::from_millis(85);
    assert_eq!(
        r.duration,
        per_page * 46 + erase_uicr + Duration::from_micros(41 * 4)
    );
    assert_eq!(
        d.read_word(UICR_NRFFW0).unwrap(),
        0x78000,
        "UICR segments land in UICR"
    );
    assert_eq!(d.read_word(UICR_NRFFW1).unwrap(), 0x7E000);
    let boot = d.soft_reset().unwrap();
    assert_eq!(boot.target, BootTarget::Bootloader { address: 0x78000 });
    let inv = d.installed();
    assert_eq!(inv.softdevice, Some(S132_7_2_0.info));
    assert_eq!(inv.bootloader_descriptor(), Some(&bl(SdkVersion::Sdk17)));
    assert_eq!(inv.app_descriptor(), Some(&app));
}

#[test]
fn program_erases_whole_pages_unless_asked_to_keep() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.program(&[(0x30000, vec![0x11; 4096])], ProgramOptions::default())
        .unwrap();
    d.program(&[(0x30100, vec![0x22; 16])], ProgramOptions::default())
        .unwrap();
    assert_eq!(
        d.read_memory(0x30000, 4).unwrap(),
        vec![0xFF; 4],
        "unwritten bytes of a touched page are erased"
    );
    assert_eq!(d.read_memory(0x30100, 4).unwrap(), vec![0x22; 4]);
    d.program(
        &[(0x30000, vec![0x11; 16])],
        ProgramOptions {
            keep_unwritten_bytes: true,
            verify: true,
        },
    )
    .unwrap();
    assert_eq!(d.read_memory(0x30100, 4).unwrap(), vec![0x22; 4], "kept");
    assert_eq!(d.memory().code.erase_count(0x30000).unwrap(), 3);
}

#[test]
fn separate_15_3_bootloader_hex_wipes_the_mbr_unless_merged() {
    // The 15.3 bootloader hex carries 0xFF8/0xFFC (inside the MBR page).
    let mut d = on(Chip::Nrf52832Qfaa);
    d.program(
        &standin::softdevice_hex_segments(&S132_7_2_0),
        ProgramOptions::default(),
    )
    .unwrap();
    let blsegs =
        standin::bootloader_segments(&bl(SdkVersion::Sdk15_3), Chip::Nrf52832Qfaa, 0x5000).unwrap();
    d.program(&blsegs, ProgramOptions::default()).unwrap();
    assert_eq!(
        d.soft_reset().unwrap().target,
        BootTarget::Silent(crate::mbr::NoHandover::NoMbr)
    );
    // Merged (as mergehex does) the MBR and the slot words share one page image.
    let mut d = on(Chip::Nrf52832Qfaa);
    let mut segs = standin::softdevice_hex_segments(&S132_7_2_0);
    segs.extend(blsegs);
    d.program(&segs, ProgramOptions::default()).unwrap();
    assert_eq!(
        d.soft_reset().unwrap().target,
        BootTarget::Bootloader { address: 0x78000 }
    );
    assert_eq!(d.installed().bootloader_address, Some(0x78000));
    assert_eq!(
        d.read_word(UICR_NRFFW0).unwrap(),
        u32::MAX,
        "15.3 leaves UICR alone"
    );
}

#[test]
fn programming_uicr_erases_the_whole_uicr_like_probe_rs() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.program(
        &[(UICR_NRFFW0, 0x78000u32.to_le_bytes().to_vec())],
        ProgramOptions::default(),
    )
    .unwrap();
    // The UICR sector is erased first, so reprogramming a word works (no AND of old and new).
    d.program(
        &[(UICR_NRFFW0, 0x75000u32.to_le_bytes().to_vec())],
        ProgramOptions::default(),
    )
    .unwrap();
    assert_eq!(d.read_word(UICR_NRFFW0).unwrap(), 0x75000);
    // A second UICR image (NRFFW[1] only) wipes NRFFW[0]: `rig flash BL.hex UICR.hex` must
    // put both files in one flash loader.
    d.program(
        &[(UICR_NRFFW1, 0x7E000u32.to_le_bytes().to_vec())],
        ProgramOptions::default(),
    )
    .unwrap();
    assert_eq!(d.read_word(UICR_NRFFW0).unwrap(), 0xFFFF_FFFF);
    assert_eq!(d.read_word(UICR_NRFFW1).unwrap(), 0x7E000);
    // Unless the unwritten bytes are restored.
    d.program(
        &[(UICR_NRFFW0, 0x75000u32.to_le_bytes().to_vec())],
        ProgramOptions {
            keep_unwritten_bytes: true,
            ..ProgramOptions::default()
        },
    )
    .unwrap();
    assert_eq!(d.read_word(UICR_NRFFW1).unwrap(), 0x7E000);
    assert_eq!(d.read_word(UICR_NRFFW0).unwrap(), 0x75000);
}

#[test]
fn uicr_partial_word_segment() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.program(&[(UICR_APPROTECT, vec![0x00])], ProgramOptions::default())
        .unwrap();
    assert_eq!(d.read_word(UICR_APPROTECT).unwrap(), 0xFFFF_FF00);
}

#[rstest]
#[case::ficr((0x1000_0100, vec![0; 4]))]
#[case::ram((0x2000_0000, vec![0; 4]))]
#[case::past_flash_qfab((0x3FFFC, vec![0; 8]))]
#[case::past_uicr((0x1000_1FFC, vec![0; 8]))]
fn segments_outside_flash_are_refused(#[case] seg: (u32, Vec<u8>)) {
    let mut d = on(Chip::Nrf52832Qfab);
    assert!(matches!(
        d.program(&[seg], ProgramOptions::default()),
        Err(DebugError::SegmentOutside { .. })
    ));
}

#[test]
fn overlapping_segments_are_refused() {
    let mut d = on(Chip::Nrf52832Qfaa);
    let e = d
        .program(
            &[(0x2000, vec![0; 16]), (0x200C, vec![0; 4])],
            ProgramOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e,
        DebugError::Overlap {
            first: 0x2000,
            second: 0x200C
        }
    );
}

#[test]
fn raw_writes_follow_nvmc_word_semantics() {
    let mut d = on(Chip::Nrf52832Qfaa);
    let t = d
        .write_memory_raw(0x4000, &0xF0F0_F0F0u32.to_le_bytes())
        .unwrap();
    assert_eq!(t, Duration::from_micros(41));
    d.write_memory_raw(0x4000, &0xFF00_FF00u32.to_le_bytes())
        .unwrap();
    assert_eq!(
        d.read_word(0x4000).unwrap(),
        0xF000_F000,
        "no erase, bits only cleared"
    );
    assert!(d.write_memory_raw(0x4002, &[0, 0]).is_err());
    assert_eq!(
        d.write_memory_raw(0x2000_0003, &[1, 2, 3]).unwrap(),
        Duration::ZERO
    );
    assert_eq!(d.read_memory(0x2000_0003, 3).unwrap(), vec![1, 2, 3]);
    assert_eq!(d.nvmc_config, NvmcConfig::ReadOnly, "CONFIG restored");
}

#[test]
fn approtect_blocks_everything_but_erase_all() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.program(
        &[(0x1000, vec![0xAB; 64]), (UICR_APPROTECT, vec![0, 0, 0, 0])],
        ProgramOptions::default(),
    )
    .unwrap();
    assert!(!d.is_protected());
    assert_eq!(
        d.read_memory(0x1000, 1).unwrap(),
        vec![0xAB],
        "latched only at reset"
    );
    d.soft_reset().unwrap();
    assert!(d.is_protected());
    let e = d.read_memory(0x1000, 4).unwrap_err();
    assert_eq!(e, DebugError::Protected { op: "memory read" });
    assert!(e.to_string().contains("APPROTECT"));
    assert!(matches!(
        d.write_memory_raw(0x2000_0000, &[0; 4]),
        Err(DebugError::Protected { .. })
    ));
    assert!(matches!(
        d.program(&[(0x1000, vec![0; 4])], ProgramOptions::default()),
        Err(DebugError::Protected { .. })
    ));
    assert!(matches!(
        DebugPort::halt(&mut d),
        Err(DebugError::Protected { .. })
    ));
    // Survives a power cycle.
    DebugPort::power_off(&mut d);
    DebugPort::power_on(&mut d).unwrap();
    assert!(d.is_protected());
    let t = d.erase_all().unwrap();
    assert_eq!(t, Duration::from_millis(173));
    assert!(!d.is_protected());
    assert_eq!(d.read_memory(0x1000, 4).unwrap(), vec![0xFF; 4]);
    assert_eq!(d.read_word(UICR_APPROTECT).unwrap(), u32::MAX);
    assert!(
        d.ram().iter().all(|&b| b == 0),
        "CTRL-AP ERASEALL clears RAM"
    );
}

#[test]
fn pin_reset_through_the_probe() {
    let mut d = on(Chip::Nrf52832Qfaa);
    assert_eq!(
        DebugPort::pin_reset(&mut d),
        Err(DebugError::PinResetDisabled)
    );
    let segs =
        standin::bootloader_segments(&bl(SdkVersion::Sdk12), Chip::Nrf52832Qfaa, 0x5000).unwrap();
    d.program(&segs[2..], ProgramOptions::default()).unwrap();
    DebugPort::pin_reset(&mut d).unwrap();
    assert_eq!(
        d.power().resetreas() & resetreas::RESETPIN,
        resetreas::RESETPIN
    );
}

#[test]
fn power_cut_while_programming() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.arm_power_cut(crate::CutPlan::AtOp {
        skip: 3,
        fraction: 0.5,
    });
    let e = d
        .program(
            &standin::softdevice_hex_segments(&S132_3_0_0),
            ProgramOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(
        e,
        DebugError::Device(crate::DeviceError::PowerLost(_))
    ));
    assert!(matches!(
        d.read_memory(0, 4),
        Err(DebugError::Device(crate::DeviceError::Off))
    ));
    DebugPort::power_on(&mut d).unwrap();
    assert_eq!(
        d.installed().softdevice,
        None,
        "the info-struct page was never written"
    );
}

#[test]
fn qfab_programming_and_mbr_descriptor() {
    let mut d = on(Chip::Nrf52832Qfab);
    d.program(
        &[(0, standin::mbr_image(&MbrDescriptor::SDK17))],
        ProgramOptions::default(),
    )
    .unwrap();
    assert_eq!(
        d.installed().mbr,
        Some(crate::mbr::MbrKind::StandIn(MbrDescriptor::SDK17))
    );
    assert!(d
        .program(&[(0x40000, vec![0; 4])], ProgramOptions::default())
        .is_err());
}
