//! bluetoothd's discovery as btleplug sees it on the virtual BlueZ: ghosts of devices seen
//! before, the UUID discovery filter, DuplicateData and per-report RSSI.
//! The BlueZ source of each rule is named in rig/virtual-bluez.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter};
use futures_util::StreamExt;
use nrf_dfu::SdkVersion;
use rig::drivers::ble::DFU_SERVICE;
use std::time::Duration;
use support::Bench;
use tokio::time::timeout;
use virtual_bluez::Fault;

#[test]
fn devices_seen_before_stay_as_ghosts_until_the_temporary_timeout() {
    // A short TemporaryTimeout keeps the test short; bluetoothd's default is 30 s.
    let Some(mut l) = lab(Duration::from_secs(8)) else {
        return;
    };
    let seen = l.add(Bench::new(SdkVersion::Sdk17).build());
    let connected = l.add(
        Bench {
            seed: 99,
            ..Bench::new(SdkVersion::Sdk17)
        }
        .build_in_dfu(),
    );
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        let bl = find_named(&a, "DfuTarg", ScanFilter::default()).await;
        bl.connect().await.unwrap();
        bl.disconnect().await.unwrap();
        // Both devices go silent (power cut).
        for r in [seen, connected] {
            assert!(l
                .vb
                .fault(
                    r,
                    Fault::PowerCut {
                        off_for: Duration::from_secs(3600)
                    }
                )
                .unwrap());
        }
        // A new client's event stream starts with both, though neither advertises.
        let mut events = a.events().await.unwrap();
        let mut ghosts = Vec::new();
        while let Ok(Some(ev)) = timeout(Duration::from_millis(300), events.next()).await {
            if let CentralEvent::DeviceDiscovered(id) = ev {
                ghosts.push(id);
            }
        }
        assert!(
            ghosts.contains(&app.id()),
            "the seen app is a ghost: {ghosts:?}"
        );
        assert!(
            ghosts.contains(&bl.id()),
            "the connected bootloader is a ghost"
        );
        // After the temporary timeout the never-connected one is gone; the one that was
        // connected is no longer temporary and stays.
        tokio::time::sleep(l.wall(Duration::from_secs(10))).await;
        let ids: Vec<_> = a
            .peripherals()
            .await
            .unwrap()
            .iter()
            .map(|p| p.id())
            .collect();
        assert!(
            !ids.contains(&app.id()),
            "temporary device removed: {ids:?}"
        );
        assert!(ids.contains(&bl.id()), "connected device kept: {ids:?}");
        // The rig's scan does not take the silent bootloader's ghost for a sighting.
        let target = rig::drivers::ble::freshness::Wanted {
            name: Some("DfuTarg".into()),
            ..Default::default()
        };
        let r =
            rig::drivers::ble::scan::find_fresh(&a, &target, l.wall(Duration::from_secs(5))).await;
        assert!(
            matches!(r, Err(rig::drivers::ble::error::BleError::NotFound(_))),
            "a ghost is no sighting: {r:?}"
        );
    });
}

#[test]
fn a_uuid_discovery_filter_hides_advertisers_without_the_uuid() {
    let Some((mut l, _)) = app_lab() else { return };
    l.add(
        Bench {
            seed: 5,
            ..Bench::new(SdkVersion::Sdk17)
        }
        .build_in_dfu(),
    );
    l.rt.block_on(async {
        let a = l.adapter().await;
        let bl = find_named(
            &a,
            "DfuTarg",
            ScanFilter {
                services: vec![DFU_SERVICE],
            },
        )
        .await;
        assert!(bl
            .properties()
            .await
            .unwrap()
            .unwrap()
            .services
            .contains(&DFU_SERVICE));
        // The app (no 0xFE59 in its advertising) exists as a bare object: bluetoothd creates
        // it before checking the filter, and reports nothing more about it.
        tokio::time::sleep(l.wall(Duration::from_secs(2))).await;
        for p in a.peripherals().await.unwrap() {
            let props = p.properties().await.unwrap().unwrap();
            if p.id() != bl.id() {
                // Alias falls back to the address with dashes; the advertised name never comes.
                let dashed = props.address.to_string().replace(':', "-");
                assert!(
                    props.local_name.is_none()
                        || props.local_name.as_deref() == Some(dashed.as_str()),
                    "no name of a filtered device: {:?}",
                    props.local_name
                );
                assert_eq!(props.rssi, None, "no RSSI of a filtered device");
                assert!(props.manufacturer_data.is_empty());
            }
        }
    });
}

#[test]
fn duplicate_data_reports_every_advertisement_and_rssi_changes_per_report() {
    let Some((l, _)) = app_lab() else { return };
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        // btleplug's start_scan asks for DuplicateData: every report of the app's manufacturer
        // data is an event, though the bytes never change.
        let mut events = a.events().await.unwrap();
        a.start_scan(ScanFilter::default()).await.unwrap();
        let (mut msd, mut rssi) = (0u32, Vec::new());
        let window = l.wall(Duration::from_secs(3));
        let _ = timeout(window, async {
            while let Some(ev) = events.next().await {
                match ev {
                    CentralEvent::ManufacturerDataAdvertisement { id, .. } if id == app.id() => {
                        msd += 1
                    }
                    CentralEvent::RssiUpdate { id, rssi: r } if id == app.id() => rssi.push(r),
                    _ => {}
                }
            }
        })
        .await;
        a.stop_scan().await.unwrap();
        // 3 s of 187.5 ms advertising: 16 reports.
        assert!(msd >= 10, "one event per report with DuplicateData: {msd}");
        rssi.dedup();
        assert!(rssi.len() >= 2, "RSSI changes between reports: {rssi:?}");
    });
    // Without DuplicateData, unchanged data is reported once.
    let c = l.raw();
    let hci0 = c.with_proxy("org.bluez", "/org/bluez/hci0", Duration::from_secs(5));
    let rule = dbus::message::MatchRule::new_signal(
        "org.freedesktop.DBus.Properties",
        "PropertiesChanged",
    );
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let c2 = count.clone();
    c.add_match(rule, move |_: (), _, m: &dbus::Message| {
        let (iface, changed): (String, dbus::arg::PropMap) = m.read2().unwrap();
        if iface == "org.bluez.Device1" && changed.contains_key("ManufacturerData") {
            c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        true
    })
    .unwrap();
    let _: () = hci0
        .method_call(
            "org.bluez.Adapter1",
            "SetDiscoveryFilter",
            (dbus::arg::PropMap::new(),),
        )
        .unwrap();
    let _: () = hci0
        .method_call("org.bluez.Adapter1", "StartDiscovery", ())
        .unwrap();
    let end = std::time::Instant::now() + l.wall(Duration::from_secs(3));
    while std::time::Instant::now() < end {
        c.process(Duration::from_millis(50)).unwrap();
    }
    assert!(
        count.load(std::sync::atomic::Ordering::SeqCst) <= 1,
        "unchanged data without DuplicateData"
    );
}

/// Issue 12, finding 2: the application (the stand-in, like firmware/testapp, advertises no
/// 0xFE59) is found by its name. With the 0xFE59 discovery filter BlueZ would hide it (the test
/// above), so a search by name scans unfiltered.
#[test]
fn the_application_is_found_by_name_though_it_advertises_no_dfu_service() {
    let Some((l, _)) = app_lab() else { return };
    l.rt.block_on(async {
        let a = l.adapter().await;
        let target = rig::drivers::ble::freshness::Wanted {
            name: Some("app-v1".into()),
            ..Default::default()
        };
        let (_, s) = rig::drivers::ble::scan::find_fresh(&a, &target, WAIT)
            .await
            .expect("the application is seen by name");
        assert_eq!(s.name.as_deref(), Some("app-v1"));
        assert!(!s.services.contains(&DFU_SERVICE), "{:?}", s.services);
    });
}
