//! Faults: power cut at any instant (tearing the flash operation in flight at the right
//! fraction), soft/pin reset, halt, link loss; what the device shows meanwhile.

use crate::common::*;
use crate::support::*;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::SdkVersion;
use virtual_nrf52::DebugPort;
use virtual_nrf52::{SilentReason, Status};

/// Cut the power in the middle of a data object's page erase: the page is neither its old
/// content nor erased (the foundation's torn erase), and nothing after the cut happens.
#[test]
fn power_cut_tears_the_erase_in_flight() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, host, _) = after_init(&bench, Link::Ble, &image, 2);
    let page = bench.bank0() + bench.app_size;
    // Something to tear: bank 1 holds old data.
    dev.debug(host.t)
        .write_memory_raw(page, &[0u8; 0x1000])
        .unwrap();
    let t = host.t;
    dev.record_flash_ops(true);
    dev.dfu_control(t, &Request::create(ObjectType::Data, 0x1000).encode())
        .unwrap();
    let next = dev.next_event_time().unwrap();
    let erase_start = t;
    let cut = erase_start + (next - erase_start) / 2;
    dev.power_off(cut);
    let j = dev.flash_op_journal();
    assert_eq!(j.len(), 1, "{j:?}");
    assert_eq!(j[0].what, format!("page erase at {page:#07x}"));
    assert!(j[0].start <= cut && cut < j[0].end);
    assert_eq!(dev.status(), Status::Off);
    let content = dev.read_flash(page, 0x1000);
    assert!(content.iter().any(|&b| b != 0xFF), "not fully erased");
}

#[test]
fn booting_work_is_silent_then_the_app_runs() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    host.update(&mut dev, &app_package(&bench, &bench.app(2), 2))
        .expect("update");
    // Step through: DFU mode -> resetting -> booting (activation) -> app.
    let mut seen = Vec::new();
    while let Some(t) = dev.next_event_time() {
        if t > host.t + secs(120) {
            break;
        }
        dev.advance_to(t);
        let s = dev.silent_reason();
        if seen.last() != Some(&s) {
            seen.push(s);
        }
    }
    assert!(seen.contains(&Some(SilentReason::Resetting)), "{seen:?}");
    assert!(seen.contains(&Some(SilentReason::Booting)), "{seen:?}");
    assert_eq!(app_version(&dev), Some(2));
}

#[test]
fn pin_reset_needs_the_reset_pin_routed() {
    let bench = Bench::new(SdkVersion::Sdk17).without_app();
    let mut dev = virtual_nrf52::Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 3);
    let mut segs = virtual_nrf52::standin::softdevice_hex_segments(&bench.softdevice());
    let bl = virtual_nrf52::standin::bootloader_segments(
        &bench.descriptor(),
        nrf_dfu::Chip::Nrf52832Qfaa,
        0x5000,
    )
    .unwrap();
    // MBR + SD + bootloader + its address words, but PSELRESET left erased.
    segs.extend(bl.into_iter().take(2));
    {
        let mut port = dev.debug(ms(0));
        port.program(&segs, Default::default()).unwrap();
        port.soft_reset().unwrap();
    }
    let t = dev.settle(secs(5));
    assert!(in_dfu_mode(&dev));
    let epoch = dev.epoch();
    assert!(matches!(
        dev.debug(t).pin_reset(),
        Err(virtual_nrf52::DebugError::PinResetDisabled)
    ));
    assert!(!dev.reset(t, virtual_nrf52::ResetKind::PinReset));
    assert_eq!(dev.epoch(), epoch, "nothing happened");
    assert!(dev.reset(t, virtual_nrf52::ResetKind::SoftReset));
    assert_eq!(dev.epoch(), epoch + 1);
}

/// A halted CPU stops the firmware's timeline: the inactivity reset comes late by the halt.
#[test]
fn halt_freezes_the_firmware_until_resume() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, host) = dfu(&bench, Link::Ble);
    let t = host.t;
    dev.debug(t).halt().unwrap();
    assert_eq!(dev.status(), Status::Silent);
    assert_eq!(dev.next_event_time(), None);
    dev.debug(t + secs(300)).resume().unwrap();
    assert!(in_dfu_mode(&dev));
    assert_eq!(dev.next_event_time(), Some(t + secs(420)));
}

/// A reply computed before a power cut is from an older epoch.
#[test]
fn replies_are_void_after_a_power_cut() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, host) = dfu(&bench, Link::Ble);
    let epoch = dev.epoch();
    let reply = dev.dfu_control(host.t, &[0x06, 0x01]).unwrap();
    dev.power_off(reply.ready_at);
    assert!(dev.epoch() > epoch);
    assert_eq!(
        dev.dfu_control(reply.ready_at, &[0x06, 0x01]),
        None,
        "off: nothing answers"
    );
}

/// The device is itself a DebugPort at its current time: resets reboot the firmware model.
#[test]
fn debug_port_at_the_current_time_drives_the_model() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let mut dev = bench.build();
    let epoch = dev.epoch();
    let word = DebugPort::read_word(&mut dev, 0x7F008).unwrap();
    assert_eq!(word, 1, "app_version in the settings page");
    DebugPort::halt(&mut dev).unwrap();
    assert_eq!(dev.silent_reason(), Some(SilentReason::Halted));
    DebugPort::soft_reset(&mut dev).unwrap();
    assert_eq!(dev.epoch(), epoch + 1);
    let t = dev.now();
    dev.settle(t + secs(5));
    assert_eq!(app_version(&dev), Some(1));
    DebugPort::power_off(&mut dev);
    assert_eq!(dev.status(), Status::Off);
    DebugPort::power_on(&mut dev).unwrap();
    let t = dev.now();
    dev.settle(t + secs(5));
    assert_eq!(app_version(&dev), Some(1));
}
