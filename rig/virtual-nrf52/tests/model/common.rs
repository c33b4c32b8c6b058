//! Helpers shared by the behaviour tests.

use crate::support::*;
use nrf_dfu::wire::{ObjectType, Request};
use std::time::Duration;
use virtual_nrf52::{Device, FlashOpRecord, SimTime, Status};

/// The running app's version, if a stand-in app runs.
pub fn app_version(dev: &Device) -> Option<u32> {
    match dev.status() {
        Status::App(a) => Some(a.version),
        _ => None,
    }
}

pub fn in_dfu_mode(dev: &Device) -> bool {
    matches!(dev.status(), Status::Bootloader(_))
}

/// Built, then put in DFU mode by the app; a host ready at that time.
pub fn dfu(bench: &Bench, link: Link) -> (Device, Host) {
    let mut dev = bench.build();
    let now = dev.now();
    let t = enter_dfu(&mut dev, now);
    assert!(
        in_dfu_mode(&dev),
        "{:?} {:?}",
        dev.status(),
        dev.silent_reason()
    );
    let mut host = Host::for_link(link, t);
    if bench.sdk <= nrf_dfu::SdkVersion::Sdk14 && link == Link::Ble {
        host.payload = 20;
        host.packet_gap = ms(5);
    }
    (dev, host)
}

/// In DFU mode with a valid init packet for app `version` executed.
pub fn after_init(
    bench: &Bench,
    link: Link,
    image: &[u8],
    version: u32,
) -> (Device, Host, Package) {
    let (mut dev, mut host) = dfu(bench, link);
    let pkg = app_package(bench, image, version);
    host.request(&mut dev, &Request::SetPrn { count: 0 }, "prn")
        .expect("prn");
    host.send_init(&mut dev, &pkg.init).expect("init");
    // Let the settings write after the init EXECUTE finish.
    host.t = dev.settle(host.t + secs(5)).max(host.t);
    (dev, host, pkg)
}

/// Raw reply bytes to raw request bytes.
pub fn raw(host: &mut Host, dev: &mut Device, bytes: &[u8]) -> Vec<u8> {
    host.send_raw(dev, bytes)
        .unwrap_or_else(|| panic!("no reply to {bytes:02x?}"))
}

pub fn ask(host: &mut Host, dev: &mut Device, req: &Request) -> Vec<u8> {
    raw(host, dev, &req.encode())
}

/// CREATE a data object and write `data` into it (no delay, back to back).
pub fn create_and_write(host: &mut Host, dev: &mut Device, size: u32, data: &[u8]) -> Vec<u8> {
    let r = ask(host, dev, &Request::create(ObjectType::Data, size));
    for chunk in data.chunks(host.payload) {
        host.write(dev, chunk);
    }
    r
}

/// Journal entries whose operation started at or after `from`.
pub fn ops_since(dev: &Device, from: SimTime) -> Vec<FlashOpRecord> {
    dev.flash_op_journal()
        .iter()
        .filter(|r| r.start >= from)
        .cloned()
        .collect()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Write `data` as packets `gap` apart (slow enough for the SoftDevice flash path).
pub fn stream(host: &mut Host, dev: &mut Device, data: &[u8], gap: Duration) {
    for chunk in data.chunks(host.payload) {
        host.write(dev, chunk);
        host.t += gap;
    }
}
