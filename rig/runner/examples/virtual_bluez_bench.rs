//! Benchmark of the virtual BlueZ (issue 11): a 200 KB application update of a virtual nRF52832
//! (SDK 17.1 BLE bootloader) through the rig's real BLE backend (btleplug → bluez-async →
//! libdbus → a private dbus-daemon → the virtual bluetoothd), at ATT MTU 23 and 247.
//!
//! `cargo run --release -p rig --example virtual_bluez_bench -- [SCALE]` (lab seconds per wall
//! second, default 20). Prints per MTU: wall time, lab time, D-Bus messages (method calls,
//! replies, signals), write commands, notifications. MTU 23 is bluetoothd configured with
//! `[GATT] ExchangeMTU = 23` (no MTU exchange); 247 is its default 517 answered by the
//! bootloader's 247.

use nrf_dfu::client::{DfuClient, DfuConfig};
use nrf_dfu::SdkVersion;
use rig::benchfile::schema::BleConfig;
use rig::drivers::ble::freshness::Wanted;
use rig::drivers::ble::transport::BleTransport;
use std::time::{Duration, Instant};
use virtual_bluez::{BluezConfig, VirtualBluez};
use virtual_nrf52::testkit::{payload, Bench};

const APP_SIZE: usize = 200 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scale: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20.0);
    let bench = Bench::new(SdkVersion::Sdk17);
    let firmware = payload(APP_SIZE, 9);
    let image = bench.app_package(firmware.clone(), 2);
    println!(
        "200 KB application update, SDK 17.1 BLE bootloader, lab scale {scale} (lab s per wall s)"
    );
    // One bus for the process: libdbus reads DBUS_SYSTEM_BUS_ADDRESS once.
    let vb = VirtualBluez::start(BluezConfig {
        scale,
        ..BluezConfig::default()
    })?;
    for exchange in [517u16, 23] {
        vb.reset(virtual_nrf52::SimTime::ZERO)?;
        vb.with(move |b, _| b.set_exchange_mtu(0, exchange))?;
        let built = bench.build_in_dfu();
        vb.clock_at_least(built.now())?;
        let dev = virtual_bluez::share_sync(built);
        vb.add_device(dev.clone(), 0, 1)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let cfg = BleConfig {
            adapter: Some("hci0".into()),
            address: None,
            name: None,
            packet_size: None,
            bonded: false,
            dbus: Some(vb.address().to_string()),
        };
        let before = vb.stats();
        let (lab0, wall0) = (vb.lab_now(), Instant::now());
        let report = rt.block_on(async {
            let (a, _) = rig::drivers::ble::adapter::find_for(&cfg).await?;
            let wanted = Wanted {
                name: Some("DfuTarg".into()),
                ..Default::default()
            };
            let t = BleTransport::connect(a, wanted, None, None)
                .await
                .map_err(|e| e.to_string())?;
            let mut config = DfuConfig::default();
            config.timeouts.reconnect = Duration::from_secs(600);
            let mut client = DfuClient::new(t, config);
            client
                .update(std::slice::from_ref(&image))
                .await
                .map_err(|e| e.to_string().into())
        });
        let (wall, lab) = (wall0.elapsed(), vb.lab_now() - lab0);
        let r = match report {
            Ok(r) => r,
            Err::<_, Box<dyn std::error::Error>>(e) => {
                eprintln!("update at ExchangeMTU {exchange} failed: {e}");
                return Err(e);
            }
        };
        let s = vb.stats();
        let msgs = (s.method_calls - before.method_calls)
            + (s.replies - before.replies)
            + (s.signals - before.signals);
        println!(
            "ATT MTU {:>3}: wall {:>6.2} s, lab {:>6.2} s ({:>5.1} KB/s lab), D-Bus messages {} ({} calls, {} replies, {} signals), {} write commands, {} notifications, packet {} B",
            if exchange == 23 { 23 } else { 247 },
            wall.as_secs_f64(),
            lab.as_secs_f64(),
            APP_SIZE as f64 / 1024.0 / lab.as_secs_f64(),
            msgs,
            s.method_calls - before.method_calls,
            s.replies - before.replies,
            s.signals - before.signals,
            s.write_commands - before.write_commands,
            s.notifications - before.notifications,
            r[0].write_len,
        );
    }
    vb.stop();
    Ok(())
}
