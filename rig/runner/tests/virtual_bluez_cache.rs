//! bluetoothd's GATT cache as btleplug sees it on the virtual BlueZ (rig/virtual-bluez
//! src/bluez/cache.rs: main.conf Cache=always, device.c `gatt_cache_cleanup`, gatt-client.c
//! `discovery_found_service`): the objects outlive the link, a reconnection keeps services
//! found where they were, and a firmware change at the same address that keeps a service's
//! place and size shows the old characteristics until the device is removed.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Peripheral as _, ScanFilter, WriteType};
use futures_util::StreamExt;
use nrf_dfu::{Chip, SdkVersion};
use rig::drivers::ble::{BUTTONLESS_BONDED, BUTTONLESS_UNBONDED, CONTROL_POINT};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Bench;
use tokio::time::timeout;
use virtual_nrf52::descriptor::{AppDescriptor, Buttonless};
use virtual_nrf52::{standin, DebugPort, ProgramOptions};

type Managed = std::collections::HashMap<
    dbus::Path<'static>,
    std::collections::HashMap<String, dbus::arg::PropMap>,
>;

fn managed(c: &dbus::blocking::Connection) -> Managed {
    let root = c.with_proxy("org.bluez", "/", Duration::from_secs(5));
    let (objs,): (Managed,) = root
        .method_call(
            "org.freedesktop.DBus.ObjectManager",
            "GetManagedObjects",
            (),
        )
        .unwrap();
    objs
}

/// Paths of the GATT characteristics with `uuid`.
fn chars_with(c: &dbus::blocking::Connection, uuid: uuid::Uuid) -> Vec<String> {
    managed(c)
        .iter()
        .filter(|(_, i)| {
            i.get("org.bluez.GattCharacteristic1")
                .and_then(|p| p.get("UUID"))
                .and_then(|v| v.0.as_str())
                == Some(&uuid.to_string())
        })
        .map(|(p, _)| p.to_string())
        .collect()
}

/// Every InterfacesAdded / InterfacesRemoved path on the raw bus, in order.
fn watch_objects(c: &dbus::blocking::Connection) -> Arc<Mutex<Vec<(bool, String)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    for (member, added) in [("InterfacesAdded", true), ("InterfacesRemoved", false)] {
        let s2 = seen.clone();
        let rule =
            dbus::message::MatchRule::new_signal("org.freedesktop.DBus.ObjectManager", member);
        c.add_match(rule, move |_: (), _, m: &dbus::Message| {
            let p: dbus::Path = m.read1().unwrap();
            s2.lock().unwrap().push((added, p.to_string()));
            true
        })
        .unwrap();
    }
    seen
}

#[test]
fn gatt_objects_outlive_the_link_and_a_reconnection_keeps_them() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    let c = l.raw();
    let seen = watch_objects(&c);
    let cps = l.rt.block_on(async {
        let a = l.adapter().await;
        let (bl, _, _) = dfu_link(&a).await;
        bl.disconnect().await.unwrap();
        assert!(!bl.is_connected().await.unwrap());
        tokio::time::sleep(l.wall(Duration::from_secs(1))).await;
        pump(&c, Duration::from_millis(100));
        let cps = chars_with(&c, CONTROL_POINT);
        assert_eq!(
            cps.len(),
            1,
            "the Control Point object stays after the link"
        );
        assert!(
            seen.lock().unwrap().iter().all(|(added, _)| *added),
            "nothing removed at the disconnection: {:?}",
            seen.lock().unwrap()
        );
        let before = seen.lock().unwrap().len();
        // A new connection rediscovers the same services at the same handles: bluetoothd
        // keeps the cached objects, no InterfacesRemoved or InterfacesAdded for them.
        timeout(WAIT, bl.connect()).await.unwrap().unwrap();
        bl.discover_services().await.unwrap();
        let chars = bl.characteristics();
        let cp = chars.iter().find(|ch| ch.uuid == CONTROL_POINT).unwrap();
        bl.subscribe(cp).await.unwrap();
        let mut notes = bl.notifications().await.unwrap();
        bl.write(cp, &[0x06, 0x01], WriteType::WithResponse)
            .await
            .unwrap();
        let n = timeout(WAIT, notes.next()).await.unwrap().unwrap();
        assert_eq!(
            &n.value[..3],
            &[0x60, 0x06, 0x01],
            "the cached objects work again"
        );
        pump(&c, Duration::from_millis(100));
        let after: Vec<_> = seen.lock().unwrap()[before..].to_vec();
        assert!(
            after.iter().all(|(_, p)| !p.contains("/service")),
            "no GATT object removed or added on reconnection: {after:?}"
        );
        cps
    });
    assert_eq!(chars_with(&c, CONTROL_POINT), cps, "the same object");
}

#[test]
fn a_firmware_change_that_keeps_a_service_in_place_shows_the_cached_characteristics() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build());
    let c = l.raw();
    // The application with unbonded buttonless, as BlueZ first sees it.
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        assert!(app
            .characteristics()
            .iter()
            .any(|ch| ch.uuid == BUTTONLESS_UNBONDED));
        app.disconnect().await.unwrap();
    });
    // The same chip now runs an application with bonded buttonless: the DFU service has the
    // same handles and size, only its characteristic's UUID differs.
    {
        let now = l.vb.lab_now();
        let mut d = l.devices[0].lock().unwrap();
        let t = now.max(d.now());
        let desc = AppDescriptor {
            name: "app-bonded".into(),
            version: 1,
            buttonless: Buttonless::Bonded,
        };
        let app = standin::app_image(&desc, Chip::Nrf52832Qfaa, bench.bank0(), 0x3000).unwrap();
        let settings = bench.factory_settings(Some(&app));
        let mut segs = vec![
            (bench.bank0(), app),
            (Chip::Nrf52832Qfaa.settings_address(), settings.clone()),
        ];
        if SdkVersion::Sdk17.has_settings_backup() {
            segs.push((Chip::Nrf52832Qfaa.mbr_params_address(), settings));
        }
        let mut port = d.debug(t);
        port.program(&segs, ProgramOptions::default()).unwrap();
        port.soft_reset().unwrap();
    }
    let now = l.devices[0].lock().unwrap().now();
    l.vb.clock_at_least(now).unwrap();
    let stale = l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-bonded", ScanFilter::default()).await;
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        let uuids: Vec<_> = app.characteristics().iter().map(|ch| ch.uuid).collect();
        app.disconnect().await.unwrap();
        uuids
    });
    assert!(
        stale.contains(&BUTTONLESS_UNBONDED) && !stale.contains(&BUTTONLESS_BONDED),
        "BlueZ shows the cached characteristic, not the device's: {stale:?}"
    );
    // Adapter1.RemoveDevice drops the cache; the next connection discovers the device's table.
    let dev_path = chars_with(&c, BUTTONLESS_UNBONDED)[0]
        .split("/service")
        .next()
        .unwrap()
        .to_string();
    pump(&c, l.wall(Duration::from_secs(3)));
    let hci0 = c.with_proxy("org.bluez", "/org/bluez/hci0", Duration::from_secs(5));
    let _: () = hci0
        .method_call(
            "org.bluez.Adapter1",
            "RemoveDevice",
            (dbus::Path::from(dev_path.as_str()),),
        )
        .unwrap();
    let fresh = l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-bonded", ScanFilter::default()).await;
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        app.characteristics()
            .iter()
            .map(|ch| ch.uuid)
            .collect::<Vec<_>>()
    });
    assert!(
        fresh.contains(&BUTTONLESS_BONDED) && !fresh.contains(&BUTTONLESS_UNBONDED),
        "after RemoveDevice: {fresh:?}"
    );
}
