//! Checklist — reset causes (SDK 17.1 `nrf_bootloader.c`, `dfu_observer`, `inactivity_timeout`,
//! `bootloader_reset`): inactivity (120 s, restarted only by a command CREATE
//! and a data EXECUTE), ABORT, completion, activation success; RESETREAS and GPREGRET per
//! cause. (Power loss at any flash operation is the sweep in tests/sweep.rs; the bootloader
//! never starts the watchdog, 17.1 `nrf_bootloader_wdt.c`, so no WDT reset is modelled.)

use crate::common::*;
use crate::support::*;
use nrf_dfu::memory_map::POWER_GPREGRET;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::SdkVersion;
use rstest::rstest;
use virtual_nrf52::power::resetreas;
use virtual_nrf52::DebugPort;
use virtual_nrf52::{Device, SimTime};

/// Time of the next reset after `from` (epoch change), probing in 1 ms steps up to `limit`.
fn reset_time(dev: &mut Device, from: SimTime, limit: SimTime) -> Option<SimTime> {
    let epoch = dev.epoch();
    let mut t = from;
    while t <= limit {
        match dev.next_event_time() {
            Some(next) if next <= limit => t = t.max(next),
            _ => return None,
        }
        dev.advance_to(t);
        if dev.epoch() != epoch {
            return Some(t);
        }
        t += ms(1);
    }
    None
}

#[test]
fn inactivity_timer_restarted_only_by_command_create_and_data_execute() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let entered = host.t;
    // None of these restart it: SELECT, CRC_GET, SET_PRN, a data CREATE, packets, a link loss.
    host.t = entered + secs(60);
    ask(&mut host, &mut dev, &Request::select(ObjectType::Command));
    ask(&mut host, &mut dev, &Request::CrcGet);
    ask(&mut host, &mut dev, &Request::SetPrn { count: 3 });
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.write(&mut dev, &[0; 20]);
    dev.dfu_link_lost(host.t);
    let fired = reset_time(&mut dev, host.t, entered + secs(130)).expect("inactivity reset");
    assert_eq!(fired, entered + secs(120));

    // A command CREATE restarts it.
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let entered = host.t;
    host.t = entered + secs(100);
    let pkg = app_package(&bench, &image, 2);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Command, pkg.init.len() as u32),
    );
    let created = host.t - host.latency;
    assert_eq!(reset_time(&mut dev, created, created + secs(119)), None);
    assert!(in_dfu_mode(&dev));
    let fired = reset_time(&mut dev, created + secs(119), created + secs(121)).expect("reset");
    assert_eq!(fired, created + secs(120));

    // A data EXECUTE restarts it.
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    host.t += secs(90);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.t += ms(400);
    stream(&mut host, &mut dev, &image[..4096], ms(20));
    let exec_at = host.t;
    let reply = dev
        .dfu_control(exec_at, &Request::Execute.encode())
        .expect("execute");
    assert_eq!(reply.bytes, vec![0x60, 0x04, 0x01]);
    assert_eq!(reset_time(&mut dev, exec_at, exec_at + secs(119)), None);
    assert_eq!(
        reset_time(&mut dev, exec_at + secs(119), exec_at + secs(121)),
        Some(exec_at + secs(120))
    );
}

#[test]
fn inactivity_reset_backs_up_and_boots_the_app() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, host) = dfu(&bench, Link::Ble);
    dev.settle(host.t + secs(200));
    dev.advance_to(host.t + secs(125));
    assert_eq!(app_version(&dev), Some(1), "{:?}", dev.status());
}

#[test]
fn sdk12_has_no_inactivity_timeout() {
    let bench = Bench::new(SdkVersion::Sdk12);
    let (mut dev, host) = dfu(&bench, Link::Ble);
    let epoch = dev.epoch();
    assert_eq!(dev.next_event_time(), None);
    dev.advance_to(host.t + secs(3600));
    assert_eq!(dev.epoch(), epoch);
    assert!(in_dfu_mode(&dev));
}

#[rstest]
#[case::sdk15_3(SdkVersion::Sdk15_3)]
#[case::sdk17(SdkVersion::Sdk17)]
fn abort_answers_then_closes_and_resets(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk);
    let (mut dev, host) = dfu(&bench, Link::Ble);
    let epoch = dev.epoch();
    let reply = dev.dfu_control(host.t, &[0x0C]).expect("reply");
    assert_eq!(reply.bytes, vec![0x60, 0x0C, 0x01]);
    assert!(!in_dfu_mode(&dev), "transport closed at once");
    dev.settle(host.t + secs(5));
    assert_eq!(dev.epoch(), epoch + 1);
    assert_eq!(app_version(&dev), Some(1));
}

/// A completed update resets twice: after the final settings write, and after activation.
#[test]
fn completion_and_activation_success_each_reset() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let epoch = dev.epoch();
    host.update(&mut dev, &app_package(&bench, &bench.app(2), 2))
        .expect("update");
    dev.settle(host.t + secs(60));
    assert_eq!(dev.epoch(), epoch + 2);
    assert_eq!(app_version(&dev), Some(2));
}

#[test]
fn resetreas_and_gpregret_per_reset_cause() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let mut dev = bench.build();
    let t = dev.now();
    let read = |dev: &mut Device, t, addr| dev.debug(t).read_word(addr).unwrap();
    dev.power_off(t);
    dev.power_on(t + ms(10));
    dev.settle(t + secs(5));
    let t = dev.now();
    assert_eq!(
        read(&mut dev, t, nrf_dfu::memory_map::POWER_RESETREAS),
        0,
        "power-on reset"
    );
    dev.app_write_gpregret(t, 0x42).unwrap();
    dev.debug(t).soft_reset().unwrap();
    dev.settle(t + secs(5));
    let t = dev.now();
    assert_eq!(
        read(&mut dev, t, nrf_dfu::memory_map::POWER_RESETREAS),
        resetreas::SREQ
    );
    assert_eq!(
        read(&mut dev, t, POWER_GPREGRET),
        0x42,
        "kept across a soft reset"
    );
    dev.debug(t).pin_reset().unwrap();
    dev.settle(t + secs(5));
    let t = dev.now();
    assert_eq!(
        read(&mut dev, t, nrf_dfu::memory_map::POWER_RESETREAS),
        resetreas::SREQ | resetreas::RESETPIN
    );
    assert_eq!(
        read(&mut dev, t, POWER_GPREGRET),
        0x42,
        "kept across a pin reset"
    );
    dev.power_off(t);
    dev.power_on(t + ms(1));
    assert_eq!(
        read(&mut dev, t + ms(1), POWER_GPREGRET),
        0,
        "lost with the power"
    );
}
