use super::*;
use crate::drivers::owner::Owner;
use crate::drivers::rtt_scan::RTT_ID;
use crate::drivers::shared::share;
use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_RESETREAS, UICR_APPROTECT, UICR_NRFFW0};
use nrf_dfu::{Chip, SdkVersion};
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless};
use virtual_nrf52::softdevice::S132_7_2_0;
use virtual_nrf52::{standin, Device};

fn powered(seed: u64) -> SharedDevice {
    let mut d = Device::new(Chip::Nrf52832Qfaa, seed);
    virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
    share(d)
}

fn stack() -> Vec<Segment> {
    let bl = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [7; 64]);
    let app = AppDescriptor {
        name: "blinky".into(),
        version: 2,
        buttonless: Buttonless::Unbonded,
    };
    standin::stack_segments(
        Chip::Nrf52832Qfaa,
        Some(&S132_7_2_0),
        Some((&bl, standin::DEFAULT_BOOTLOADER_SIZE)),
        Some((&app, standin::DEFAULT_APP_SIZE)),
    )
    .unwrap()
}

#[test]
fn flash_then_read_back_every_segment() {
    let dev = powered(1);
    let mut p = VirtualProbe::new("virtual-0", dev.clone(), false);
    p.attach().unwrap();
    let segs = stack();
    let mut events = Vec::new();
    let r = p
        .flash(&segs, FlashOptions::default(), &mut |e| events.push(e))
        .unwrap();
    assert_eq!(r.bytes, segs.iter().map(|s| s.1.len() as u64).sum::<u64>());
    assert!(r.verified && !r.erased_all);
    assert!(r.pages_erased > 40, "{} pages", r.pages_erased);
    assert_eq!(
        events.first(),
        Some(&FlashEvent::Started {
            phase: FlashPhase::Program,
            total: r.bytes
        })
    );
    assert_eq!(
        events.last(),
        Some(&FlashEvent::Finished {
            phase: FlashPhase::Program
        })
    );
    for (addr, bytes) in &segs {
        assert_eq!(
            &p.read_memory(*addr, bytes.len() as u32).unwrap(),
            bytes,
            "segment at {addr:#x}"
        );
    }
    assert_eq!(p.read_word(UICR_NRFFW0).unwrap(), 0x78000);
}

#[test]
fn enter_dfu_sets_gpregret_and_soft_resets() {
    let dev = powered(2);
    let mut p = VirtualProbe::new("d", dev.clone(), false);
    p.flash(&stack(), FlashOptions::default(), &mut |_| {})
        .unwrap();
    p.enter_dfu().unwrap();
    assert_eq!(p.read_word(POWER_GPREGRET).unwrap() & 0xFF, 0xB1);
    assert_ne!(
        p.read_word(POWER_RESETREAS).unwrap() & (1 << 2),
        0,
        "RESETREAS.SREQ"
    );
}

#[test]
fn locked_chip_needs_permission_and_recovers_with_it() {
    let dev = powered(3);
    {
        let mut p = VirtualProbe::new("d", dev.clone(), false);
        p.write_memory(UICR_APPROTECT, &0u32.to_le_bytes()).unwrap();
        p.soft_reset().unwrap();
        let e = p.attach().unwrap_err();
        assert_eq!((e.owner, e.kind), (Owner::Device, ProbeErrorKind::Locked));
        assert_eq!(
            e.message,
            "APPROTECT is enabled; recover the chip with `rig flash --allow-erase-all FILE...` (this erases it), or re-run a flash with --allow-erase-all"
        );
        assert_eq!(
            p.read_memory(0, 4).unwrap_err().kind,
            ProbeErrorKind::Locked
        );
        assert_eq!(
            p.erase_all().unwrap_err().kind,
            ProbeErrorKind::EraseNotAllowed
        );
    }
    let mut p = VirtualProbe::new("d", dev.clone(), true);
    p.attach().unwrap();
    assert_eq!(
        p.read_word(UICR_APPROTECT).unwrap(),
        0xFFFF_FFFF,
        "UICR erased"
    );
    assert!(!dev.borrow().is_protected());
}

#[test]
fn a_campaign_attach_never_erases_a_locked_chip() {
    let dev = powered(3);
    let mut p = VirtualProbe::for_campaign("d", dev.clone());
    p.write_memory(UICR_APPROTECT, &0u32.to_le_bytes()).unwrap();
    p.soft_reset().unwrap();
    let e = p.attach().unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Locked);
    assert!(
        dev.borrow().is_protected(),
        "still locked: nothing was erased"
    );
    // An explicit erase step may still erase.
    p.erase_all().unwrap();
    assert!(!dev.borrow().is_protected());
}

#[test]
fn erase_all_flash_option_needs_permission() {
    let dev = powered(4);
    let mut p = VirtualProbe::new("d", dev.clone(), false);
    let opts = FlashOptions {
        erase_all: true,
        verify: true,
    };
    let e = p.flash(&stack(), opts, &mut |_| {}).unwrap_err();
    assert_eq!(
        (e.owner, e.kind),
        (Owner::Infrastructure, ProbeErrorKind::EraseNotAllowed)
    );
    assert!(e.message.contains("--allow-erase-all"), "{}", e.message);
    let mut p = VirtualProbe::new("d", dev, true);
    let r = p.flash(&stack(), opts, &mut |_| {}).unwrap();
    assert!(r.erased_all);
}

#[test]
fn unpowered_target_is_infrastructure() {
    // A new virtual device is powered, as a board on a bench supply is: switch it off first.
    let mut d = Device::new(Chip::Nrf52832Qfaa, 5);
    virtual_nrf52::DebugPort::power_off(&mut d);
    let dev = share(d);
    let mut p = VirtualProbe::new("d", dev, false);
    let e = p.attach().unwrap_err();
    assert_eq!(
        (e.owner, e.kind),
        (Owner::Infrastructure, ProbeErrorKind::NoPower)
    );
    assert!(e.message.contains("rig power on"));
}

#[test]
fn pin_reset_without_pselreset_is_a_device_error() {
    let dev = powered(6);
    let mut p = VirtualProbe::new("d", dev, false);
    let e = p.pin_reset().unwrap_err();
    assert_eq!((e.owner, e.kind), (Owner::Device, ProbeErrorKind::Reset));
    p.flash(&stack(), FlashOptions::default(), &mut |_| {})
        .unwrap();
    p.pin_reset().unwrap();
    assert_ne!(
        p.read_word(POWER_RESETREAS).unwrap() & 1,
        0,
        "RESETREAS.RESETPIN"
    );
}

#[test]
fn a_qfab_on_a_qfaa_bench_entry_is_an_infrastructure_error() {
    let mut d = Device::new(Chip::Nrf52832Qfab, 7);
    virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
    let mut p = VirtualProbe::new("d", share(d), false);
    let f = p.read_ficr().unwrap();
    f.check_chip(Chip::Nrf52832Qfab).unwrap();
    let e = f.check_chip(Chip::Nrf52832Qfaa).unwrap_err();
    assert_eq!(e.owner, Owner::Infrastructure);
    assert!(e.message.contains("256 KB flash"), "{}", e.message);
}

#[test]
fn ficr_identifies_the_chip() {
    let dev = powered(7);
    let mut p = VirtualProbe::new("d", dev.clone(), false);
    let f = p.read_ficr().unwrap();
    assert_eq!(f.part, 0x52832);
    assert_eq!(f.flash_kb, 512);
    assert_eq!(f.ram_kb, 64);
    assert_eq!(f.code_bytes, 512 * 1024);
    assert_eq!(f.variant.len(), 4);
    let a = dev.borrow().hardware().ficr().ble_address();
    let want: Vec<String> = a.iter().rev().map(|b| format!("{b:02X}")).collect();
    assert_eq!(f.ble_address, want.join(":"));
}

#[test]
fn rtt_lines_from_ram() {
    let dev = powered(8);
    let mut p = VirtualProbe::new("d", dev, false);
    let e = p.read_rtt_lines(Duration::ZERO).unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Rtt);
    // What SEGGER_RTT_Init leaves in RAM, then a firmware write of two lines.
    let (cb, buf) = (0x2000_8000u32, 0x2000_8100u32);
    p.write_memory(cb, RTT_ID).unwrap();
    let mut block = Vec::new();
    for w in [1u32, 0, 0, buf, 64, 0, 0, 0] {
        block.extend_from_slice(&w.to_le_bytes());
    }
    p.write_memory(cb + 16, &block).unwrap();
    p.write_memory(buf, b"app started\nv=2\n").unwrap();
    p.write_memory(cb + 36, &16u32.to_le_bytes()).unwrap();
    assert_eq!(
        p.read_rtt_lines(Duration::ZERO).unwrap(),
        vec!["app started", "v=2"]
    );
    assert!(p.read_rtt_lines(Duration::ZERO).unwrap().is_empty());
}
