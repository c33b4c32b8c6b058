//! Issue 12, finding 11, through btleplug on the virtual BlueZ: a campaign's `mtu` sweep reaches
//! the hardware path's BLE link, and the bench file's `packet_size` never exceeds what the
//! negotiated MTU carries. BlueZ negotiates the MTU itself (btleplug only reads it), so the sweep
//! caps the write size (MTU − 3) and the note records the effective MTU.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use nrf_dfu::SdkVersion;
use std::time::Duration;
use support::Bench;

#[test]
fn the_write_size_follows_the_swept_mtu_and_never_exceeds_the_negotiated_one() {
    let Some(mut l) = default_lab() else { return };
    // SDK 12 keeps the default ATT MTU (23); SDK 17.1 negotiates 247.
    let sdk12 = Bench::new(SdkVersion::Sdk12);
    l.add(sdk12.build_in_dfu());
    let ble = l.ble_config();
    let connect = |packet: Option<usize>, sweep: Option<u16>| {
        let ble = ble.clone();
        async move {
            let (adapter, _) = rig::drivers::ble::adapter::find_for(&ble).await.unwrap();
            let wanted = rig::drivers::ble::freshness::Wanted {
                name: Some("DfuTarg".into()),
                ..Default::default()
            };
            rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, packet, sweep)
                .await
                .unwrap()
        }
    };
    use nrf_dfu::client::Link as _;
    let (len, note) = l.rt.block_on(async {
        let mut t = connect(Some(244), None).await;
        let r = (t.max_write_len(), t.mtu_note());
        t.close().await.unwrap();
        r
    });
    assert_eq!(
        len, 20,
        "a 244-byte packet_size on an MTU 23 link is clamped"
    );
    assert_eq!(
        note.as_deref(),
        Some("BLE: ATT MTU 23 negotiated; Packet writes of 20 bytes (effective MTU 23)")
    );
}

#[test]
fn a_swept_mtu_caps_the_writes_of_a_whole_update_over_btleplug() {
    use nrf_dfu::client::{DfuClient, DfuConfig, Link as _};
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build_in_dfu());
    let firmware = support::payload(0x2000, 5);
    let image = bench.app_package(firmware.clone(), 2);
    let ble = l.ble_config();
    let (len, note) = l.rt.block_on(async {
        let (adapter, _) = rig::drivers::ble::adapter::find_for(&ble).await.unwrap();
        let wanted = rig::drivers::ble::freshness::Wanted {
            name: Some("DfuTarg".into()),
            ..Default::default()
        };
        let t =
            rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, None, Some(100))
                .await
                .unwrap();
        let r = (t.max_write_len(), t.mtu_note());
        let mut client = DfuClient::new(t, DfuConfig::default());
        client
            .update(std::slice::from_ref(&image))
            .await
            .expect("the update completes with 97-byte writes");
        r
    });
    assert_eq!(len, 97);
    assert_eq!(
        note.as_deref(),
        Some("BLE: ATT MTU 247 negotiated, sweep asked 100; Packet writes of 97 bytes (effective MTU 100)")
    );
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &firmware, 2);
}
