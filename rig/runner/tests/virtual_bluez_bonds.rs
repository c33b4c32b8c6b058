//! The bonded bootloader through btleplug on the virtual BlueZ (SDK 17.1, the bonded stand-in
//! build: bootloader with NRF_DFU_BLE_REQUIRES_BONDS=1, application with the bonded buttonless
//! service): bluetoothd pairs on the buttonless CCCD's ATT 0x05, the bootloader comes back at
//! the same address on the same Device1 object, BlueZ's cached tree after it, why issue 12's
//! finding 15 (RemoveDevice before connecting) is wrong for it, and a full `rig dfu`.
//! The BlueZ source of each rule is named in rig/virtual-bluez/src/bluez/security.rs.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Central, Peripheral as _, ScanFilter, WriteType};
use dbus::blocking::stdintf::org_freedesktop_dbus::{ObjectManager, Properties};
use nrf_dfu::SdkVersion;
use rig::drivers::ble::{BUTTONLESS_BONDED, CONTROL_POINT, PACKET};
use std::time::Duration;
use support::Bench;

fn device_bool(l: &Lab, path: &str, prop: &str) -> bool {
    let c = l.raw();
    let p = c.with_proxy("org.bluez", path, Duration::from_secs(5));
    p.get("org.bluez.Device1", prop).unwrap()
}

/// The UUIDs of the characteristics BlueZ exports under `service` (an object path).
fn exported_chars(l: &Lab, service: &str) -> Vec<String> {
    let c = l.raw();
    let root = c.with_proxy("org.bluez", "/", Duration::from_secs(5));
    let objs = root.get_managed_objects().unwrap();
    let mut v: Vec<String> = objs
        .iter()
        .filter(|(p, _)| p.starts_with(&format!("{service}/char")) && !p.contains("/desc"))
        .filter_map(|(_, ifs)| {
            let props = ifs.get("org.bluez.GattCharacteristic1")?;
            props.get("UUID")?.0.as_str().map(String::from)
        })
        .collect();
    v.sort();
    v
}

/// The bonded application, paired by bluetoothd through the buttonless entry; returns the
/// lab, the app's Device1 path and the bootloader's target.
fn entered(l: &Lab) -> (String, rig::drivers::ble::freshness::Wanted) {
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        let path = format!("/org/bluez/{}", app.id());
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        assert!(app
            .characteristics()
            .iter()
            .any(|c| c.uuid == BUTTONLESS_BONDED));
        assert!(!device_bool(l, &path, "Paired"));
        // StartNotify's CCCD write is refused with ATT 0x05 (no bond); bluetoothd pairs (Just
        // Works) and writes it again; the entry then goes as without bonds.
        let target = rig::drivers::ble::buttonless::enter(&a, &app, None)
            .await
            .unwrap();
        (path, target)
    })
}

#[test]
fn a_bonded_bootloader_keeps_the_address_and_bluez_shows_its_services() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).bonded().build());
    let app_addr = address_of(&l.devices[0]);
    let (path, target) = entered(&l);
    assert!(device_bool(&l, &path, "Paired"));
    assert!(device_bool(&l, &path, "Bonded"));
    assert!(!device_bool(&l, &path, "Trusted"), "pairing does not trust");
    let want: rig::drivers::ble::address::BleAddress = app_addr.parse().unwrap();
    assert_eq!(target.addresses, vec![want], "bonded: the same address");
    // The application's DFU service (0xFE59: buttonless, handles 12..15) as BlueZ cached it.
    let dfu = format!("{path}/service000c");
    assert_eq!(
        exported_chars(&l, &dfu),
        vec![BUTTONLESS_BONDED.to_string()]
    );
    l.rt.block_on(async {
        let a = l.adapter().await;
        let (id, s) = rig::drivers::ble::scan::find_fresh(&a, &target, WAIT)
            .await
            .unwrap();
        assert_eq!(format!("/org/bluez/{id}"), path, "the same Device1 object");
        assert_eq!(s.name.as_deref(), Some("DfuTarg"));
        let bl = a.peripheral(&id).await.unwrap();
        // Connect: bluetoothd encrypts with the bond's LTK before the ATT channel is ready
        // (device_connect_le: BT_IO_SEC_MEDIUM); the bootloader whitelists this adapter.
        bl.connect().await.unwrap();
        bl.discover_services().await.unwrap();
        let uuids: Vec<_> = bl.characteristics().iter().map(|c| c.uuid).collect();
        assert!(
            uuids.contains(&CONTROL_POINT) && uuids.contains(&PACKET),
            "{uuids:?}"
        );
        assert!(!uuids.contains(&BUTTONLESS_BONDED), "{uuids:?}");
        // The encrypted link takes the Control Point write: SELECT command object.
        let cp = bl
            .characteristics()
            .into_iter()
            .find(|c| c.uuid == CONTROL_POINT)
            .unwrap();
        bl.subscribe(&cp).await.unwrap();
        bl.write(&cp, &[0x06, 0x01], WriteType::WithResponse)
            .await
            .unwrap();
    });
    // The bootloader's DFU service starts at the same handle but has 6 handles, not 4: BlueZ
    // replaced the cached one on the first discovery (no RemoveDevice, Service Changed or not).
    let mut want = vec![CONTROL_POINT.to_string(), PACKET.to_string()];
    want.sort();
    assert_eq!(exported_chars(&l, &dfu), want);
    assert!(device_bool(&l, &path, "Paired"), "the bond stays");
}

#[test]
fn finding_15_remove_device_deletes_the_bond_and_the_bonded_bootloader_is_lost() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).bonded().build());
    let (path, target) = entered(&l);
    assert!(device_bool(&l, &path, "Bonded"));
    // What finding 15 proposed: RemoveDevice before connecting to the bootloader.
    {
        let c = l.raw();
        let hci0 = c.with_proxy("org.bluez", "/org/bluez/hci0", Duration::from_secs(5));
        let _: () = hci0
            .method_call(
                "org.bluez.Adapter1",
                "RemoveDevice",
                (dbus::Path::from(path.as_str()),),
            )
            .unwrap();
    }
    let err = l.rt.block_on(async {
        let a = l.adapter().await;
        let (id, _) = rig::drivers::ble::scan::find_fresh(&a, &target, WAIT)
            .await
            .unwrap();
        let bl = a.peripheral(&id).await.unwrap();
        // A new object without keys: the whitelist (by address) still lets it connect.
        bl.connect().await.unwrap();
        bl.discover_services().await.unwrap();
        assert!(!device_bool(&l, &format!("/org/bluez/{id}"), "Paired"));
        let cp = bl
            .characteristics()
            .into_iter()
            .find(|c| c.uuid == CONTROL_POINT)
            .unwrap();
        bl.subscribe(&cp).await.unwrap();
        // The Control Point needs encryption; the bootloader holds a key for this address:
        // ATT 0x0F; bluetoothd has none and pairs; the bootloader refuses pairing
        // (PAIRING_NOT_SUPP): the write fails and the update cannot go on.
        bl.write(&cp, &[0x06, 0x01], WriteType::WithResponse)
            .await
            .unwrap_err()
    });
    assert!(err.to_string().contains("Not paired"), "{err}");
}

#[test]
fn pair_answers_already_exists_once_bonded() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).bonded().build());
    let (path, _) = entered(&l);
    let c = l.raw();
    let dev = c.with_proxy("org.bluez", path.as_str(), Duration::from_secs(5));
    let r: Result<(), dbus::Error> = dev.method_call("org.bluez.Device1", "Pair", ());
    assert_eq!(r.unwrap_err().name(), Some("org.bluez.Error.AlreadyExists"));
}

#[test]
fn rig_dfu_to_a_bonded_application_updates_at_the_same_address() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17).bonded();
    l.add(bench.build());
    let app_addr = address_of(&l.devices[0]);
    let (ok, out, app) = rig_dfu_app_v2(&l, &bench, &app_addr);
    assert!(ok, "rig dfu failed:\n{out}");
    assert!(
        out.contains(&format!("bootloader expected at {app_addr}")),
        "{out}"
    );
    assert!(out.contains("DFU done: 1 image(s)"), "{out}");
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &app, 2);
}

/// The bootloader's table with Control Point and Packet under other UUIDs: what BlueZ shows
/// when a cached DFU service kept its place and size through a firmware change.
fn stale_bootloader_table(bonds: bool) -> virtual_nrf52::ble::GattTable {
    let mut t = virtual_nrf52::ble::GattTable::bootloader(244, bonds);
    for s in &mut t.services {
        for c in &mut s.characteristics {
            if c.uuid == CONTROL_POINT || c.uuid == PACKET {
                c.uuid =
                    uuid::Uuid::from_u128(c.uuid.as_u128() + 0x0010_0000_0000_0000_0000_0000_0000);
            }
        }
    }
    t
}

fn seed_stale(l: &Lab, address: &str, bonds: bool) {
    let a: rig::drivers::ble::address::BleAddress = address.parse().unwrap();
    let mut lsb = a.0;
    lsb.reverse();
    let ok =
        l.vb.with(move |b, _| {
            b.seed_gatt_cache(
                0,
                virtual_nrf52::ble::BleAddress(lsb),
                stale_bootloader_table(bonds),
            )
        })
        .unwrap();
    assert!(ok, "BlueZ knows {address}");
}

#[test]
fn finding_15_an_unpaired_stale_tree_is_removed_and_the_update_goes_on() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build_in_dfu());
    let address = address_of(&l.devices[0]);
    l.rt.block_on(async {
        let a = l.adapter().await;
        find_named(&a, "DfuTarg", ScanFilter::default()).await;
    });
    seed_stale(&l, &address, false);
    let (ok, out, app) = rig_dfu_app_v2(&l, &bench, &address);
    assert!(ok, "rig dfu failed:\n{out}");
    assert!(out.contains("DFU done: 1 image(s)"), "{out}");
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &app, 2);
}

#[test]
fn finding_15_a_bonded_stale_tree_is_kept_with_the_bond_and_explained() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).bonded().build());
    let app_addr = address_of(&l.devices[0]);
    let (path, target) = entered(&l);
    seed_stale(&l, &app_addr, true);
    let e = l.rt.block_on(async {
        let a = l.adapter().await;
        match rig::drivers::ble::transport::BleTransport::connect(a, target, None, None).await {
            Ok(_) => panic!("a stale tree cannot give the DFU characteristics"),
            Err(e) => e.to_string(),
        }
    });
    assert!(e.contains("bonded") && e.contains("Cache = no"), "{e}");
    assert!(device_bool(&l, &path, "Paired"), "the bond is kept");
}
