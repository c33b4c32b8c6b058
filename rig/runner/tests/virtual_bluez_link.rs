//! bluetoothd's connection life as btleplug sees it on the virtual BlueZ: Connect, then
//! ServicesResolved with the GATT tree and MTU; Disconnect; link loss and faults with their reason.
//! The BlueZ source of each rule is named in rig/virtual-bluez.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter};
use futures_util::StreamExt;
use nrf_dfu::SdkVersion;
use rig::drivers::ble::{BUTTONLESS_UNBONDED, CONTROL_POINT, DFU_SERVICE};
use std::time::Duration;
use support::Bench;
use tokio::time::timeout;
use virtual_bluez::Fault;

#[test]
fn connect_then_services_resolved_with_the_gatt_tree_and_mtu() {
    let Some((l, _)) = app_lab() else { return };
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        assert!(!app.is_connected().await.unwrap());
        // bluez-async's connect returns after ServicesResolved.
        app.connect().await.unwrap();
        assert!(app.is_connected().await.unwrap());
        app.discover_services().await.unwrap();
        let chars = app.characteristics();
        let b = chars
            .iter()
            .find(|c| c.uuid == BUTTONLESS_UNBONDED)
            .expect("buttonless characteristic");
        assert_eq!(b.service_uuid, DFU_SERVICE);
        assert!(b
            .descriptors
            .iter()
            .any(|d| d.uuid == virtual_nrf52::ble::uuid::sig16(0x2902)));
        // bluetoothd asks 517; the app's nrf_ble_gatt answers 247; every characteristic's MTU.
        assert_eq!(app.mtu(), 247);
        app.disconnect().await.unwrap();
        assert!(!app.is_connected().await.unwrap());
        assert!(app
            .characteristics()
            .iter()
            .all(|c| c.uuid != CONTROL_POINT));
    });
}

#[test]
fn sdk12_bootloader_keeps_the_default_mtu() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk12).build_in_dfu());
    l.rt.block_on(async {
        let a = l.adapter().await;
        let bl = find_named(&a, "DfuTarg", ScanFilter::default()).await;
        bl.connect().await.unwrap();
        bl.discover_services().await.unwrap();
        assert_eq!(bl.mtu(), 23, "SDK 12's bootloader is built for ATT MTU 23");
    });
}

#[test]
fn link_loss_and_faults_reach_the_host_with_their_reason() {
    let Some(mut l) = default_lab() else { return };
    let radio = l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    let c = l.raw();
    let seen = watch_disconnects(&c);
    for (fault, reason) in [
        (Some(Fault::LinkDrop), "org.bluez.Reason.Timeout"),
        (None, "org.bluez.Reason.Local"),
        // Last: after a reset the valid application may boot instead of the bootloader.
        (Some(Fault::Reset), "org.bluez.Reason.Timeout"),
    ] {
        let t0 = l.vb.lab_now();
        l.rt.block_on(async {
            let a = l.adapter().await;
            let (bl, _, _) = dfu_link(&a).await;
            let mut events = a.events().await.unwrap();
            match fault {
                Some(f) => assert!(l.vb.fault(radio, f).unwrap()),
                None => bl.disconnect().await.unwrap(),
            }
            timeout(WAIT, async {
                while let Some(ev) = events.next().await {
                    if matches!(ev, CentralEvent::DeviceDisconnected(ref id) if *id == bl.id()) {
                        return;
                    }
                }
            })
            .await
            .expect("btleplug sees the disconnection");
        });
        let lab_elapsed = l.vb.lab_now() - t0;
        pump(&c, Duration::from_millis(100));
        let last = seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("Disconnected signal");
        assert_eq!(last.0, reason, "{fault:?}");
        if fault.is_some() {
            // The host learns of a silent peer only when the supervision timeout expires.
            assert!(
                lab_elapsed >= Duration::from_millis(3900),
                "{fault:?} seen after {lab_elapsed:?}"
            );
        }
        // The bootloader advertises again (after its reset, or at once).
        std::thread::sleep(l.wall(Duration::from_secs(1)));
    }
}
