//! Wall time and simulated time per DFU update of a 200 KB application through the in-process
//! interface (the scripted host of the tests talking to `Device::dfu_control` /
//! `Device::dfu_packet`, or to the UART surface).
//!
//! `cargo run --release -p virtual-nrf52 --example bench_update -- [UPDATES] [ble|uart] [SDK]`
//! (defaults: 200 updates, BLE, SDK 17).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::*;
use virtual_nrf52::Status;

fn main() {
    let mut args = std::env::args().skip(1);
    let updates: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let link = match args.next().as_deref() {
        Some("uart") => Link::Uart,
        _ => Link::Ble,
    };
    let sdk = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(nrf_dfu::SdkVersion::Sdk17);
    let size = 200 * 1024;
    let mut bench = Bench {
        app_size: size,
        ..Bench::new(sdk)
    };
    if link == Link::Uart {
        bench = bench.uart();
    }
    let mut dev = bench.build();
    // Packages prepared up front: building and signing them is the client's work.
    let packages: Vec<Package> = (0..updates)
        .map(|i| app_package(&bench, &bench.app_sized(i + 2, size), i + 2))
        .collect();
    let started = Instant::now();
    let mut sim = Duration::ZERO;
    for (i, pkg) in packages.iter().enumerate() {
        let t0 = dev.now();
        let t = enter_dfu(&mut dev, t0);
        let mut host = Host::for_link(link, t);
        if sdk <= nrf_dfu::SdkVersion::Sdk14 && link == Link::Ble {
            host.payload = 20;
            host.packet_gap = Duration::from_millis(5);
        }
        host.update(&mut dev, pkg)
            .unwrap_or_else(|e| panic!("update {i}: {e:?}"));
        dev.settle(host.t + Duration::from_secs(300));
        match dev.status() {
            Status::App(a) if a.version == i as u32 + 2 => {}
            other => panic!("update {i}: {other:?}"),
        }
        sim += dev.now() - t0;
    }
    let wall = started.elapsed();
    let n = updates.max(1) as f64;
    println!(
        "{updates} updates of {size} bytes, {link:?}, SDK {}",
        sdk.label()
    );
    println!(
        "wall time: {:.3} s total, {:.3} ms per update, {:.1} updates per wall second",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1000.0 / n,
        n / wall.as_secs_f64()
    );
    println!(
        "simulated time: {:.1} s per update (enter DFU, transfer, activation, app start)",
        sim.as_secs_f64() / n
    );
    println!(
        "speed-up over device time: {:.0}x",
        sim.as_secs_f64() / wall.as_secs_f64()
    );
}
