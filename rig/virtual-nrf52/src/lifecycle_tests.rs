use super::*;
use crate::debug_port::{DebugPort, ProgramOptions};
use crate::descriptor::{BootloaderDescriptor, MbrDescriptor};
use crate::hardware::CutPlan;
use crate::hardware::RunState;
use crate::power::{resetreas, WakeSource};
use crate::softdevice::S132_7_2_0;
use crate::standin;
use crate::Segment;
use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_GPREGRET2, UICR_NRFFW0, UICR_NRFFW1};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;

const NEW_BL_SRC: u32 = 0x50000;

fn bl_desc(name: &str) -> BootloaderDescriptor {
    let mut d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [9; 64]);
    d.adv_name = name.into();
    d
}

/// MBR + S132 7.2.0 + a 17.1 stand-in bootloader (UICR NRFFW\[0\]/[1] set), powered on.
fn stack() -> Hardware {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 11);
    d.power_on().unwrap();
    let mut segs: Vec<Segment> = standin::softdevice_hex_segments(&S132_7_2_0);
    segs.extend(
        standin::bootloader_segments(&bl_desc("OldBoot"), Chip::Nrf52832Qfaa, 0x5000).unwrap(),
    );
    d.program(&segs, ProgramOptions::default()).unwrap();
    d.reset(ResetKind::SoftReset).unwrap();
    d
}

fn new_bl_image() -> Vec<u8> {
    standin::bootloader_image(&bl_desc("NewBoot"), Chip::Nrf52832Qfaa, 0x5000).unwrap()
}

/// Stage the new bootloader in bank 1 as the DFU transfer would.
fn stage_new_bootloader(d: &mut Hardware) {
    let img = new_bl_image();
    for off in (0..img.len()).step_by(4096) {
        d.flash_op(
            &FlashOp::ErasePage {
                addr: NEW_BL_SRC + off as u32,
            },
            FlashPath::Nvmc,
        )
        .unwrap();
        let end = (off + 4096).min(img.len());
        d.flash_op(
            &FlashOp::write_bytes(NEW_BL_SRC + off as u32, &img[off..end]).unwrap(),
            FlashPath::Nvmc,
        )
        .unwrap();
    }
}

fn bl_region(d: &Hardware) -> Vec<u8> {
    d.memory().code.read(0x78000, 0x5000).unwrap().to_vec()
}

#[rstest]
#[case::soft(ResetKind::SoftReset, true)]
#[case::watchdog(ResetKind::Watchdog, true)]
#[case::lockup(ResetKind::Lockup, true)]
#[case::wake(ResetKind::WakeFromOff(WakeSource::Gpio), true)]
#[case::power_loss(ResetKind::PowerOn, false)]
fn gpregret_survival(#[case] kind: ResetKind, #[case] kept: bool) {
    let mut d = stack();
    d.write_u32(POWER_GPREGRET, 0xB1).unwrap();
    d.write_u32(POWER_GPREGRET2, 0xA9).unwrap();
    d.reset(kind).unwrap();
    let expect = if kept { (0xB1, 0xA9) } else { (0, 0) };
    assert_eq!((d.power().gpregret(), d.power().gpregret2()), expect);
}

#[test]
fn gpregret_survives_pin_reset_and_not_power_off() {
    let mut d = stack();
    d.write_u32(POWER_GPREGRET, 0xB1).unwrap();
    d.pin_reset()
        .unwrap()
        .expect("PSELRESET is set by the bootloader hex");
    assert_eq!(d.power().gpregret(), 0xB1);
    d.power_off();
    d.power_on().unwrap();
    assert_eq!(d.power().gpregret(), 0);
}

#[test]
fn resetreas_through_device_resets() {
    let mut d = stack();
    d.power_cycle().unwrap();
    assert_eq!(d.power().resetreas(), 0, "power-on reset leaves it 0");
    d.reset(ResetKind::SoftReset).unwrap();
    d.pin_reset().unwrap();
    d.reset(ResetKind::Watchdog).unwrap();
    assert_eq!(
        d.power().resetreas(),
        resetreas::SREQ | resetreas::RESETPIN | resetreas::DOG
    );
    d.write_u32(nrf_dfu::memory_map::POWER_RESETREAS, resetreas::DOG)
        .unwrap();
    assert_eq!(d.power().resetreas(), resetreas::SREQ | resetreas::RESETPIN);
}

#[test]
fn pin_reset_needs_pselreset() {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 1);
    d.power_on().unwrap();
    assert_eq!(d.pin_reset(), Ok(None));
    assert_eq!(d.power().resetreas(), 0);
}

#[test]
fn ram_survives_resets_not_power() {
    let mut d = stack();
    d.write_bytes(0x2000_1000, b"noinit").unwrap();
    d.reset(ResetKind::SoftReset).unwrap();
    assert_eq!(d.read_bytes(0x2000_1000, 6).unwrap(), b"noinit");
    d.power_cycle().unwrap();
    assert_ne!(d.read_bytes(0x2000_1000, 6).unwrap(), b"noinit");
}

#[test]
fn blank_chip_is_silent() {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 1);
    let b = d.power_on().unwrap();
    assert_eq!(b.target, BootTarget::Silent(NoHandover::NoMbr));
    assert_eq!(b.count, 1);
    assert_eq!(b.reset, ResetKind::PowerOn);
}

#[test]
fn full_stack_boots_the_bootloader() {
    let mut d = stack();
    let b = d.reset(ResetKind::SoftReset).unwrap();
    assert_eq!(b.target, BootTarget::Bootloader { address: 0x78000 });
    assert_eq!(d.boot_record(), Some(&b));
}

#[test]
fn erased_bootloader_with_address_set_locks_up() {
    let mut d = stack();
    for p in 0..5 {
        d.flash_op(
            &FlashOp::ErasePage {
                addr: 0x78000 + p * 0x1000,
            },
            FlashPath::Nvmc,
        )
        .unwrap();
    }
    let b = d.reset(ResetKind::SoftReset).unwrap();
    assert_eq!(
        b.target,
        BootTarget::Silent(NoHandover::ErasedVectorTable { address: 0x78000 })
    );
    assert_ne!(d.power().resetreas() & resetreas::LOCKUP, 0);
}

#[test]
fn approtect_latches_at_reset() {
    let mut d = stack();
    d.write_memory_raw(nrf_dfu::memory_map::UICR_APPROTECT, &[0, 0, 0, 0])
        .unwrap();
    assert!(!d.is_protected(), "takes effect at the next reset");
    d.reset(ResetKind::SoftReset).unwrap();
    assert!(d.is_protected());
}

#[test]
fn copy_bl_replaces_the_bootloader_and_resets() {
    let mut d = stack();
    stage_new_bootloader(&mut d);
    let out = d
        .mbr_command(MbrCommand::CopyBl {
            src: NEW_BL_SRC,
            len_words: 0x5000 / 4,
        })
        .unwrap();
    let MbrOutcome::Reset(boot) = out else {
        panic!("{out:?}")
    };
    assert_eq!(boot.reset, ResetKind::SoftReset);
    assert_eq!(
        boot.mbr_copy,
        Some(CopyReport {
            src: NEW_BL_SRC,
            dst: 0x78000,
            bytes: 0x5000,
            verified: true
        })
    );
    assert_eq!(boot.target, BootTarget::Bootloader { address: 0x78000 });
    assert_eq!(bl_region(&d), new_bl_image());
    assert!(
        d.memory().code.page_is_erased(0x7E000).unwrap(),
        "parameter page cleared after the copy"
    );
    assert_eq!(
        d.installed().bootloader_descriptor().unwrap().adv_name,
        "NewBoot"
    );
    // 5 erases + 5 page writes + params erase at boot, after the params erase + record write.
    assert!(boot.elapsed >= Duration::from_millis(6 * 85));
}

#[test]
fn copy_bl_errors() {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 3);
    d.power_on().unwrap();
    assert_eq!(
        d.mbr_command(MbrCommand::CopyBl {
            src: NEW_BL_SRC,
            len_words: 4
        }),
        Err(MbrCallError::NoMbr)
    );
    d.program(
        &[(0, standin::mbr_image(&MbrDescriptor::SDK17))],
        ProgramOptions::default(),
    )
    .unwrap();
    d.write_memory_raw(UICR_NRFFW0, &0x78000u32.to_le_bytes())
        .unwrap();
    assert_eq!(
        d.mbr_command(MbrCommand::CopyBl {
            src: NEW_BL_SRC,
            len_words: 4
        }),
        Err(NrfError::NoMem.into())
    );
    d.write_memory_raw(UICR_NRFFW1, &0x7E000u32.to_le_bytes())
        .unwrap();
    assert_eq!(
        d.mbr_command(MbrCommand::CopyBl {
            src: 0x7FFF0,
            len_words: 8
        }),
        Err(NrfError::InvalidLength.into())
    );
}

#[rstest]
#[case::during_dst_erase(2, 0.5)]
#[case::during_copy_write(9, 0.3)]
#[case::at_copy_end(11, 0.0)]
fn copy_bl_resumes_after_power_cut(#[case] skip: u64, #[case] fraction: f64) {
    // Ops from the call: 0 params erase, 1 record write, [reset] 2..6 dst erases, 7..11 page writes,
    // 12 params erase.
    let mut d = stack();
    stage_new_bootloader(&mut d);
    let old = bl_region(&d);
    d.arm_power_cut(CutPlan::AtOp { skip, fraction });
    let e = d
        .mbr_command(MbrCommand::CopyBl {
            src: NEW_BL_SRC,
            len_words: 0x5000 / 4,
        })
        .unwrap_err();
    assert!(
        matches!(e, MbrCallError::Device(DeviceError::PowerLost(_))),
        "{e:?}"
    );
    assert!(!d.is_powered());
    let torn = bl_region(&d);
    assert_ne!(torn, old);
    assert_ne!(torn, new_bl_image());
    // The record in the parameter page makes the MBR redo the copy at the next boot.
    let boot = d.power_on().unwrap();
    assert_eq!(boot.mbr_copy.map(|c| c.verified), Some(true));
    assert_eq!(bl_region(&d), new_bl_image());
    assert_eq!(boot.target, BootTarget::Bootloader { address: 0x78000 });
}

#[test]
fn copy_bl_cut_while_storing_the_request_keeps_the_old_bootloader() {
    let mut d = stack();
    stage_new_bootloader(&mut d);
    let old = bl_region(&d);
    d.arm_power_cut(CutPlan::AtOp {
        skip: 1,
        fraction: 0.5,
    });
    assert!(d
        .mbr_command(MbrCommand::CopyBl {
            src: NEW_BL_SRC,
            len_words: 0x5000 / 4
        })
        .is_err());
    let boot = d.power_on().unwrap();
    assert_eq!(boot.mbr_copy, None, "a torn request fails its CRC");
    assert_eq!(bl_region(&d), old);
}

#[test]
fn copy_sd_and_compare() {
    let mut d = stack();
    let sd = d.memory().code.read(0x1000, 0x2000).unwrap().to_vec();
    let out = d
        .mbr_command(MbrCommand::CopySd {
            src: 0x1000,
            dst: 0x40000,
            len_words: 0x800,
        })
        .unwrap();
    assert!(matches!(out, MbrOutcome::Done { elapsed } if elapsed > Duration::from_millis(170)));
    assert_eq!(d.memory().code.read(0x40000, 0x2000).unwrap(), &sd[..]);
    assert!(matches!(
        d.mbr_command(MbrCommand::Compare {
            ptr1: 0x1000,
            ptr2: 0x40000,
            len_words: 0x800
        }),
        Ok(MbrOutcome::Done { .. })
    ));
    assert_eq!(
        d.mbr_command(MbrCommand::Compare {
            ptr1: 0x1000,
            ptr2: 0x3000,
            len_words: 4
        }),
        Err(NrfError::Null.into())
    );
    assert_eq!(
        d.mbr_command(MbrCommand::CopySd {
            src: 0x1000,
            dst: 0x40000,
            len_words: 100
        }),
        Err(NrfError::InvalidLength.into())
    );
}

#[test]
fn halt_and_resume() {
    let mut d = stack();
    d.halt().unwrap();
    assert_eq!(d.run_state(), RunState::Halted);
    d.resume().unwrap();
    assert_eq!(d.run_state(), RunState::Running);
    d.halt().unwrap();
    d.reset(ResetKind::SoftReset).unwrap();
    assert_eq!(d.run_state(), RunState::Running, "a reset runs the core");
    d.power_off();
    assert_eq!(d.halt(), Err(DeviceError::Off));
    assert_eq!(d.reset(ResetKind::SoftReset), Err(DeviceError::Off));
}
