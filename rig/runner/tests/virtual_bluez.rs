//! bluetoothd's behaviour as the rig's real BLE stack sees it (btleplug → bluez-async → libdbus)
//! against the virtual BlueZ serving virtual nRF52832s. One test per behaviour; the BlueZ source
//! of each rule is named in rig/virtual-bluez.

#[path = "virtual_bluez/harness.rs"]
mod harness;
mod support;

use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter, WriteType};
use futures_util::StreamExt;
use harness::{address_of, default_lab, lab, Lab};
use nrf_dfu::SdkVersion;
use rig::drivers::ble::{BUTTONLESS_UNBONDED, CONTROL_POINT, DFU_SERVICE, PACKET};
use std::time::Duration;
use support::Bench;
use tokio::time::timeout;
use virtual_bluez::Fault;

const WAIT: Duration = Duration::from_secs(10);

/// Scan until a device with `name` shows up with advertising data; returns its peripheral.
async fn find_named(
    adapter: &btleplug::platform::Adapter,
    name: &str,
    filter: ScanFilter,
) -> btleplug::platform::Peripheral {
    let mut events = adapter.events().await.unwrap();
    adapter.start_scan(filter).await.unwrap();
    let found = timeout(WAIT, async {
        while let Some(ev) = events.next().await {
            let id = match ev {
                CentralEvent::DeviceDiscovered(id)
                | CentralEvent::DeviceUpdated(id)
                | CentralEvent::RssiUpdate { id, .. }
                | CentralEvent::ServicesAdvertisement { id, .. }
                | CentralEvent::ManufacturerDataAdvertisement { id, .. } => id,
                _ => continue,
            };
            let p = adapter.peripheral(&id).await.unwrap();
            if let Ok(Some(props)) = p.properties().await {
                if props.local_name.as_deref() == Some(name) && props.rssi.is_some() {
                    return p;
                }
            }
        }
        panic!("event stream ended")
    })
    .await
    .unwrap_or_else(|_| panic!("no advertisement from {name} within {WAIT:?}"));
    adapter.stop_scan().await.unwrap();
    found
}

fn app_lab() -> Option<(Lab, usize)> {
    let mut l = default_lab()?;
    let r = l.add(Bench::new(SdkVersion::Sdk17).build());
    Some((l, r))
}

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
fn errors_are_named_as_bluetoothd_names_them() {
    let Some(mut l) = default_lab() else { return };
    let radio = l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    let cp = l.rt.block_on(async {
        let a = l.adapter().await;
        let bl = find_named(&a, "DfuTarg", ScanFilter::default()).await;
        bl.connect().await.unwrap();
        bl.discover_services().await.unwrap();
        bl.characteristics()
            .iter()
            .find(|c| c.uuid == CONTROL_POINT)
            .unwrap()
            .clone()
    });
    let c = l.raw();
    // The Control Point object: find it by UUID in the managed objects.
    let root = c.with_proxy("org.bluez", "/", Duration::from_secs(5));
    type Managed = std::collections::HashMap<
        dbus::Path<'static>,
        std::collections::HashMap<String, dbus::arg::PropMap>,
    >;
    let (objs,): (Managed,) = root
        .method_call(
            "org.freedesktop.DBus.ObjectManager",
            "GetManagedObjects",
            (),
        )
        .unwrap();
    let cp_path = objs
        .iter()
        .find(|(_, i)| {
            i.get("org.bluez.GattCharacteristic1")
                .and_then(|p| p.get("UUID"))
                .and_then(|v| v.0.as_str())
                == Some(&cp.uuid.to_string())
        })
        .map(|(p, _)| p.to_string())
        .expect("Control Point object");
    let pkt_path = objs
        .iter()
        .find(|(_, i)| {
            i.get("org.bluez.GattCharacteristic1")
                .and_then(|p| p.get("UUID"))
                .and_then(|v| v.0.as_str())
                == Some(&PACKET.to_string())
        })
        .map(|(p, _)| p.to_string())
        .expect("Packet object");
    let path = cp_path[..cp_path.find("/service").unwrap()].to_string();
    let dev = c.with_proxy("org.bluez", path.as_str(), Duration::from_secs(5));
    let err_name =
        |r: Result<(), dbus::Error>| r.unwrap_err().name().unwrap_or_default().to_string();
    let err_msg =
        |r: Result<(), dbus::Error>| r.unwrap_err().message().unwrap_or_default().to_string();
    let pkt = c.with_proxy("org.bluez", pkt_path.as_str(), Duration::from_secs(5));
    // A write command longer than MTU − 3 cannot be queued (att.c refuses the PDU).
    let mut opts = dbus::arg::PropMap::new();
    opts.insert(
        "type".into(),
        dbus::arg::Variant(Box::new("command".to_string())),
    );
    let r: Result<(), _> = pkt.method_call(
        "org.bluez.GattCharacteristic1",
        "WriteValue",
        (vec![0u8; 245], opts),
    );
    assert_eq!(err_msg(r), "Failed to initiate write");
    // StopNotify without a session.
    let cpx = c.with_proxy("org.bluez", cp_path.as_str(), Duration::from_secs(5));
    let r: Result<(), _> = cpx.method_call("org.bluez.GattCharacteristic1", "StopNotify", ());
    assert_eq!(err_msg(r), "No notify session started");
    // Disconnect starts bluetoothd's 2 s disconnect timer: meanwhile StartNotify is refused
    // with NotConnected, and a second WriteValue request on the same characteristic while one
    // is pending would be InProgress.
    let msg = dbus::Message::new_method_call(
        "org.bluez",
        path.as_str(),
        "org.bluez.Device1",
        "Disconnect",
    )
    .unwrap();
    use dbus::channel::Sender;
    c.send(msg).unwrap();
    std::thread::sleep(l.wall(Duration::from_millis(200)));
    let r: Result<(), _> = cpx.method_call("org.bluez.GattCharacteristic1", "StartNotify", ());
    assert_eq!(err_name(r), "org.bluez.Error.NotConnected");
    std::thread::sleep(l.wall(Duration::from_secs(3)));
    // The GATT objects are gone with the link: libdbus's UnknownObject.
    let r: Result<(), _> = cpx.method_call("org.bluez.GattCharacteristic1", "StartNotify", ());
    assert_eq!(err_name(r), "org.freedesktop.DBus.Error.UnknownObject");
    // Two Connects at once: the second is InProgress.
    let first =
        dbus::Message::new_method_call("org.bluez", path.as_str(), "org.bluez.Device1", "Connect")
            .unwrap();
    c.send(first).unwrap();
    let r: Result<(), _> = dev.method_call("org.bluez.Device1", "Connect", ());
    assert_eq!(err_name(r), "org.bluez.Error.InProgress");
    std::thread::sleep(l.wall(Duration::from_secs(2)));
    let _: () = dev
        .method_call("org.bluez.Device1", "Disconnect", ())
        .unwrap();
    // A device that stopped advertising: the kernel gives up after 20 s,
    // le-connection-abort-by-local.
    assert!(l
        .vb
        .fault(
            radio,
            Fault::PowerCut {
                off_for: Duration::from_secs(3600)
            }
        )
        .unwrap());
    let slow = c.with_proxy("org.bluez", path.as_str(), Duration::from_secs(20));
    let r: Result<(), _> = slow.method_call("org.bluez.Device1", "Connect", ());
    let e = r.unwrap_err();
    assert_eq!(e.name(), Some("org.bluez.Error.Failed"));
    assert_eq!(e.message(), Some("le-connection-abort-by-local"));
}

/// Connect to the bootloader, discover, enable Control Point notifications.
async fn dfu_link(
    a: &btleplug::platform::Adapter,
) -> (
    btleplug::platform::Peripheral,
    btleplug::api::Characteristic,
    btleplug::api::Characteristic,
) {
    let bl = find_named(a, "DfuTarg", ScanFilter::default()).await;
    bl.connect().await.unwrap();
    bl.discover_services().await.unwrap();
    let chars = bl.characteristics();
    let cp = chars
        .iter()
        .find(|c| c.uuid == CONTROL_POINT)
        .unwrap()
        .clone();
    let pkt = chars.iter().find(|c| c.uuid == PACKET).unwrap().clone();
    bl.subscribe(&cp).await.unwrap();
    (bl, cp, pkt)
}

#[test]
fn one_value_change_per_notification_never_merged_in_order() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    l.rt.block_on(async {
        let a = l.adapter().await;
        let (bl, cp, _) = dfu_link(&a).await;
        let mut notes = bl.notifications().await.unwrap();
        // SELECT command, SELECT data, SELECT command, SELECT command: two identical replies
        // in a row must still be two notifications.
        let ops: [&[u8]; 4] = [&[0x06, 0x01], &[0x06, 0x02], &[0x06, 0x01], &[0x06, 0x01]];
        for op in ops {
            bl.write(&cp, op, WriteType::WithResponse).await.unwrap();
        }
        let mut got = Vec::new();
        while got.len() < ops.len() {
            let n = timeout(WAIT, notes.next())
                .await
                .expect("notification")
                .unwrap();
            assert_eq!(n.uuid, CONTROL_POINT);
            got.push(n.value);
        }
        let kinds: Vec<(u8, u8)> = got.iter().map(|v| (v[0], v[1])).collect();
        assert_eq!(kinds, vec![(0x60, 0x06); 4], "{got:02x?}");
        assert_eq!(got[2], got[3], "identical values, two notifications");
        assert_ne!(
            got[0], got[1],
            "command and data objects answer differently, in order"
        );
        assert_eq!(got[0], got[2]);
    });
    assert!(l.vb.stats().notifications >= 4);
}

#[test]
fn write_commands_are_answered_at_once_and_lost_with_the_link() {
    let Some(mut l) = default_lab() else { return };
    let radio = l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    let dropped = |l: &Lab| {
        l.vb.with(move |b, _| {
            b.radio_mut(radio)
                .unwrap()
                .with(|ble, _| ble.stats.packets_dropped)
                .unwrap()
        })
        .unwrap()
    };
    l.rt.block_on(async {
        let a = l.adapter().await;
        let (bl, cp, pkt) = dfu_link(&a).await;
        // A data object to write into.
        bl.write(
            &cp,
            &[0x01, 0x02, 0x00, 0x10, 0x00, 0x00],
            WriteType::WithResponse,
        )
        .await
        .unwrap();
        // 100 writes in flight at once (dbus-daemon allows 128 pending replies per connection
        // by default): bluetoothd answers each at once and queues the packets; 100 packets need
        // ~17 connection events (6 per 7.5 ms event at MTU 247) on air.
        let burst = |n: u32| {
            futures_util::future::join_all((0..n).map(|i| {
                let (bl, pkt) = (bl.clone(), pkt.clone());
                async move {
                    bl.write(&pkt, &[i as u8; 244], WriteType::WithoutResponse)
                        .await
                }
            }))
        };
        for r in burst(100).await {
            r.unwrap();
        }
        let stats = l.vb.stats();
        assert!(
            stats.max_command_queue > 20,
            "queue grew ahead of the link: {stats:?}"
        );
        // The link breaks; bluetoothd learns it only at the supervision timeout. Until then
        // every write command still succeeds, and none reaches the device.
        let mut events = a.events().await.unwrap();
        let before = dropped(&l);
        assert!(l.vb.fault(radio, Fault::LinkDrop).unwrap());
        for r in burst(50).await {
            r.unwrap();
        }
        timeout(WAIT, async {
            while let Some(ev) = events.next().await {
                if matches!(ev, CentralEvent::DeviceDisconnected(ref id) if *id == bl.id()) {
                    return;
                }
            }
        })
        .await
        .expect("the loss is seen at the supervision timeout");
        let lost = dropped(&l) - before;
        assert!(
            (50..=150).contains(&lost),
            "the 50 written after the loss, and what of the first burst was still queued, are \
             lost on air, silently: {lost}"
        );
        let r = bl.write(&pkt, &[0; 20], WriteType::WithoutResponse).await;
        assert!(r.is_err(), "after the loss the characteristic is gone");
    });
}

#[test]
fn buttonless_entry_finds_the_unbonded_bootloader_at_address_plus_one() {
    let Some((l, _)) = app_lab() else { return };
    let app_addr = address_of(&l.devices[0]);
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        let target = rig::drivers::ble::buttonless::enter(&a, &app, None)
            .await
            .unwrap();
        let want: rig::drivers::ble::address::BleAddress = app_addr.parse().unwrap();
        assert_eq!(target.addresses, vec![want.bootloader()]);
        let (id, s) = rig::drivers::ble::scan::find_fresh(&a, &target, WAIT)
            .await
            .unwrap();
        assert_eq!(s.name.as_deref(), Some("DfuTarg"));
        assert_ne!(id, app.id(), "a new device object");
        // The application's object stays (it was connected: not temporary), disconnected.
        let ids: Vec<_> = a
            .peripherals()
            .await
            .unwrap()
            .iter()
            .map(|p| p.id())
            .collect();
        assert!(ids.contains(&app.id()));
        assert!(!app.is_connected().await.unwrap());
    });
}

/// Device1.Disconnected signals on the raw bus, as (reason name, message).
fn watch_disconnects(
    c: &dbus::blocking::Connection,
) -> std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let rule = dbus::message::MatchRule::new_signal("org.bluez.Device1", "Disconnected");
    c.add_match(rule, move |_: (), _, m: &dbus::Message| {
        s2.lock()
            .unwrap()
            .push(m.read2::<String, String>().unwrap());
        true
    })
    .unwrap();
    seen
}

fn pump(c: &dbus::blocking::Connection, wall: Duration) {
    let end = std::time::Instant::now() + wall;
    while std::time::Instant::now() < end {
        c.process(Duration::from_millis(20)).unwrap();
    }
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

// --- DFU end to end through btleplug -------------------------------------------------------

fn bench_file(dir: &std::path::Path, l: &Lab) -> std::path::PathBuf {
    let p = dir.join("bench.yaml");
    std::fs::write(
        &p,
        format!(
            "duts:\n  lab-0:\n    chip: nRF52832_xxAA\n    ble: {{ adapter: hci0, dbus: \"{}\" }}\n",
            l.vb.address()
        ),
    )
    .unwrap();
    p
}

fn rig_cmd(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(args)
        .current_dir(dir)
        .env_remove("DBUS_SYSTEM_BUS_ADDRESS")
        .output()
        .expect("rig runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[test]
fn rig_dfu_package_by_name_over_the_virtual_bluez() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build_in_dfu());
    let dir = tempfile::tempdir().unwrap();
    let bf = bench_file(dir.path(), &l);
    let app = bench.app_sized(2, 0x3000);
    let generated = nrf_dfu::package::generate_package(nrf_dfu::package::GenerateOptions {
        hw_version: Some(52),
        application: Some(nrf_dfu::package::ImageInput::file("app.bin", app.clone())),
        application_version: Some(2),
        sd_req: Some(vec![u32::from(bench.softdevice().info.fwid)]),
        key: Some(support::key()),
        ..Default::default()
    })
    .unwrap();
    let zip = generated
        .package
        .to_zip(nrf_dfu::package::CivilTime {
            year: 2026,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        })
        .unwrap();
    let pkg = dir.path().join("app.zip");
    std::fs::write(&pkg, zip).unwrap();
    let (ok, out) = rig_cmd(
        dir.path(),
        &[
            "dfu",
            pkg.to_str().unwrap(),
            "--name",
            "DfuTarg",
            "--bench",
            bf.to_str().unwrap(),
        ],
    );
    assert!(ok, "rig dfu failed:\n{out}");
    assert!(out.contains("DFU done: 1 image(s)"), "{out}");
    // Let the bootloader activate and boot the new app, then read the device back.
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &app, 2);
}

#[test]
fn rig_dfu_image_to_an_app_address_enters_dfu_buttonless_and_refinds_at_plus_one() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build());
    let app_addr = address_of(&l.devices[0]);
    let dir = tempfile::tempdir().unwrap();
    let bf = bench_file(dir.path(), &l);
    let app = bench.app_sized(2, 0x3000);
    let segs = nrf_dfu::image::Segments::from_runs([(bench.bank0(), app.as_slice())]).unwrap();
    let hex = dir.path().join("app-v2.hex");
    std::fs::write(&hex, nrf_dfu::image::write_intel_hex(&segs)).unwrap();
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware/keys/rig-test-private.pem");
    let sd_req = format!("{:#06x}", bench.softdevice().info.fwid);
    let (ok, out) = rig_cmd(
        dir.path(),
        &[
            "dfu",
            "--image",
            hex.to_str().unwrap(),
            "--version",
            "2",
            "--sd-req",
            &sd_req,
            "--key",
            key.to_str().unwrap(),
            "--address",
            &app_addr,
            "--bench",
            bf.to_str().unwrap(),
        ],
    );
    assert!(ok, "rig dfu failed:\n{out}");
    let plus_one: rig::drivers::ble::address::BleAddress = app_addr.parse().unwrap();
    assert!(
        out.contains(&format!("bootloader expected at {}", plus_one.bootloader())),
        "{out}"
    );
    assert!(out.contains("DFU done: 1 image(s)"), "{out}");
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &app, 2);
}

#[test]
fn a_link_drop_mid_transfer_is_resumed_over_btleplug() {
    use nrf_dfu::client::{Control, DfuClient, DfuConfig, FnSink, Phase, ProgressEvent};
    let Some(mut l) = default_lab() else { return };
    // SDK 15.3: its RAM progress survives a link loss (16/17 revert to the flash state, the
    // device model's `revert_on_link_loss`).
    let bench = Bench::new(SdkVersion::Sdk15_3);
    let radio = l.add(bench.build_in_dfu());
    let firmware = support::payload(0x4000, 3);
    let image = bench.app_package(firmware.clone(), 2);
    let ble = l.ble_config();
    let vb = &l.vb;
    let dropped = std::cell::Cell::new(false);
    let first = l.rt.block_on(async {
        let (adapter, _) = rig::drivers::ble::adapter::find_for(&ble).await.unwrap();
        let wanted = rig::drivers::ble::freshness::Wanted {
            name: Some("DfuTarg".into()),
            ..Default::default()
        };
        let t = rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, None)
            .await
            .unwrap();
        // Drop the link once the second data object is being written.
        let sink = FnSink(|e: &ProgressEvent| {
            if e.phase == Phase::Write && e.object_index >= 1 && e.offset > 0x1000 && !dropped.get()
            {
                dropped.set(true);
                vb.fault(radio, Fault::LinkDrop).unwrap();
            }
            Control::Continue
        });
        let mut client = DfuClient::with_sink(t, DfuConfig::default(), sink);
        client.update(std::slice::from_ref(&image)).await
    });
    assert!(dropped.get(), "the fault fired");
    let e = first.expect_err("the first attempt loses its link");
    assert!(
        e.to_string().contains("link") || e.to_string().contains("disconnect"),
        "{e}"
    );
    // Resume: a new connection, the device reports what it has, the rest is sent.
    let report =
        l.rt.block_on(async {
            let (adapter, _) = rig::drivers::ble::adapter::find_for(&ble).await.unwrap();
            let wanted = rig::drivers::ble::freshness::Wanted {
                name: Some("DfuTarg".into()),
                ..Default::default()
            };
            let t = rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, None)
                .await
                .unwrap();
            let mut client = DfuClient::new(t, DfuConfig::default());
            client.update(std::slice::from_ref(&image)).await
        })
        .expect("the resumed update completes");
    let r = &report[0];
    assert!(
        !matches!(r.data, nrf_dfu::client::DataPlan::Start { offset: 0 }),
        "resumed, not restarted: {:?}",
        r.data
    );
    assert!(
        r.stats.bytes_written < firmware.len() as u64,
        "resumed, not restarted: {} of {} bytes sent",
        r.stats.bytes_written,
        firmware.len()
    );
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &firmware, 2);
}
