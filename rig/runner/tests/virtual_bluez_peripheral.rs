//! The peripheral mode (virtual_bluez::peripheral, `rig sim serve --ble`) against BlueZ's
//! documented peripheral API, with this test in bluetoothd's place on a private bus: what it
//! registers (doc/gatt-api.txt GattManager1, doc/advertising-api.txt LEAdvertisingManager1),
//! the objects and types bluetoothd reads, the buttonless write and its indication as a Value
//! change, and the bootloader published on the second adapter after the jump. The full update
//! against an independent emulation (BlueZoo) is scripts/bluezoo-check.sh in .ci/run.

mod support;

use dbus::arg::{PropMap, RefArg, Variant};
use dbus::blocking::Connection;
use dbus::channel::{MatchingReceiver, Sender};
use dbus::message::MatchRule;
use dbus::Message;
use nrf_dfu::SdkVersion;
use rig::drivers::ble::{BUTTONLESS_UNBONDED, CONTROL_POINT, DFU_SERVICE, PACKET};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Bench;
use virtual_bluez::peripheral::{PeripheralConfig, PeripheralServer};
use virtual_bluez::{BusDaemon, DaemonError};

type Managed = HashMap<dbus::Path<'static>, HashMap<String, PropMap>>;

/// A call the peripheral made to "bluetoothd": (object, member, first argument if a path).
type Call = (String, String, Option<String>, String);

fn bus() -> Option<BusDaemon> {
    match BusDaemon::start() {
        Ok(d) => Some(d),
        Err(e @ DaemonError::Missing(_)) => {
            if std::env::var("RIG_REQUIRE_DBUS").as_deref() == Ok("1") {
                panic!("RIG_REQUIRE_DBUS=1 but {e}");
            }
            eprintln!("SKIPPED: {e} (this test needs dbus-daemon; .ci/run installs it)");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Own org.bluez on `address` and answer every call with success, recording it.
fn fake_bluetoothd(address: &str) -> (Connection, Arc<Mutex<Vec<Call>>>) {
    let mut ch = dbus::channel::Channel::open_private(address).unwrap();
    ch.register().unwrap();
    let c = Connection::from(ch);
    c.request_name("org.bluez", false, false, true).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let rec = calls.clone();
    c.start_receive(
        MatchRule::new_method_call(),
        Box::new(move |m: Message, conn: &Connection| {
            let arg = m.read1::<dbus::Path>().ok().map(|p| p.to_string());
            rec.lock().unwrap().push((
                m.path().unwrap().to_string(),
                m.member().unwrap().to_string(),
                arg,
                m.sender().unwrap().to_string(),
            ));
            if !m.get_no_reply() {
                let _ = conn.send(m.method_return());
            }
            true
        }),
    );
    (c, calls)
}

fn wait_for(c: &Connection, what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        c.process(Duration::from_millis(20)).unwrap();
    }
}

fn called(calls: &Arc<Mutex<Vec<Call>>>, path: &str, member: &str, arg: &str) -> Option<String> {
    calls
        .lock()
        .unwrap()
        .iter()
        .find(|(p, m, a, _)| p == path && m == member && a.as_deref() == Some(arg))
        .map(|c| c.3.clone())
}

/// The application's objects as bluetoothd reads them: (UUID, interface, properties) by path.
fn read_app(c: &Connection, peer: &str, root: &str) -> Managed {
    let p = c.with_proxy(peer, root, Duration::from_secs(5));
    let (objs,): (Managed,) = p
        .method_call(
            "org.freedesktop.DBus.ObjectManager",
            "GetManagedObjects",
            (),
        )
        .unwrap();
    objs
}

fn characteristic(objs: &Managed, uuid: uuid::Uuid) -> (String, &PropMap) {
    objs.iter()
        .find_map(|(p, i)| {
            let props = i.get("org.bluez.GattCharacteristic1")?;
            (props.get("UUID")?.0.as_str()? == uuid.to_string()).then(|| (p.to_string(), props))
        })
        .unwrap_or_else(|| panic!("no characteristic {uuid} in {objs:?}"))
}

fn flags(p: &PropMap) -> Vec<String> {
    let v: &Vec<String> = dbus::arg::prop_cast(p, "Flags").unwrap();
    v.clone()
}

#[test]
fn publishes_the_application_then_its_bootloader_through_bluetoothds_peripheral_api() {
    let Some(daemon) = bus() else { return };
    let (c, calls) = fake_bluetoothd(daemon.address());
    let dev = virtual_bluez::share_sync(Bench::new(SdkVersion::Sdk17).build());
    let server = PeripheralServer::start(
        PeripheralConfig {
            bus: Some(daemon.address().to_string()),
            adapter: "hci0".into(),
            bootloader_adapter: Some("hci1".into()),
            manufacturer_data: true,
        },
        dev.clone(),
        Box::new(|_| {}),
    )
    .unwrap();
    wait_for(&c, "the registrations", || {
        called(
            &calls,
            "/org/bluez/hci0",
            "RegisterApplication",
            "/rig/dut1",
        )
        .is_some()
            && called(
                &calls,
                "/org/bluez/hci0",
                "RegisterAdvertisement",
                "/rig/dut1/advertisement",
            )
            .is_some()
    });
    let peer = called(
        &calls,
        "/org/bluez/hci0",
        "RegisterApplication",
        "/rig/dut1",
    )
    .unwrap();

    // The application's GATT objects: the DFU service with the buttonless characteristic,
    // without the GAP and GATT services bluetoothd serves itself.
    let app = read_app(&c, &peer, "/rig/dut1");
    let services: Vec<String> = app
        .values()
        .filter_map(|i| i.get("org.bluez.GattService1"))
        .map(|p| p.get("UUID").unwrap().0.as_str().unwrap().to_string())
        .collect();
    assert_eq!(services, vec![DFU_SERVICE.to_string()]);
    let (buttonless, props) = characteristic(&app, BUTTONLESS_UNBONDED);
    assert_eq!(flags(props), vec!["write", "indicate"]);
    assert_eq!(props["MTU"].0.signature().to_string(), "q");
    assert!(!app.contains_key(&dbus::Path::from("/rig/dut1/advertisement")));

    // The advertisement, with bluetoothd's types.
    let adv = c.with_proxy(&peer, "/rig/dut1/advertisement", Duration::from_secs(5));
    let (all,): (PropMap,) = adv
        .method_call(
            "org.freedesktop.DBus.Properties",
            "GetAll",
            ("org.bluez.LEAdvertisement1",),
        )
        .unwrap();
    assert_eq!(all["Type"].0.as_str(), Some("peripheral"));
    assert_eq!(all["LocalName"].0.as_str(), Some("app-v1"));
    assert_eq!(all["ManufacturerData"].0.signature().to_string(), "a{qv}");
    assert_eq!(all["Discoverable"].0.as_u64(), Some(1));

    // A central connects: Device1.Connected on the adapter, then the CCCD and the write.
    let central = "/org/bluez/hci0/dev_11_22_33_44_55_66";
    let mut changed = PropMap::new();
    changed.insert("Connected".into(), Variant(Box::new(true)));
    let sig = Message::new_signal(
        central,
        "org.freedesktop.DBus.Properties",
        "PropertiesChanged",
    )
    .unwrap()
    .append3("org.bluez.Device1", changed, Vec::<String>::new());
    c.send(sig).unwrap();
    let values = Arc::new(Mutex::new(Vec::<(String, Vec<u8>)>::new()));
    let v2 = values.clone();
    c.add_match(
        MatchRule::new_signal("org.freedesktop.DBus.Properties", "PropertiesChanged"),
        move |(iface, props): (String, PropMap), _, m: &Message| {
            if iface == "org.bluez.GattCharacteristic1" {
                if let Some(v) = dbus::arg::prop_cast::<Vec<u8>>(&props, "Value") {
                    v2.lock()
                        .unwrap()
                        .push((m.path().unwrap().to_string(), v.clone()));
                }
            }
            true
        },
    )
    .unwrap();
    let ch = c.with_proxy(&peer, buttonless.as_str(), Duration::from_secs(5));
    let _: () = ch
        .method_call("org.bluez.GattCharacteristic1", "StartNotify", ())
        .unwrap();
    let mut opts = PropMap::new();
    opts.insert("type".into(), Variant(Box::new("request".to_string())));
    opts.insert("mtu".into(), Variant(Box::new(247u16)));
    opts.insert(
        "device".into(),
        Variant(Box::new(dbus::Path::from(central))),
    );
    let _: () = ch
        .method_call(
            "org.bluez.GattCharacteristic1",
            "WriteValue",
            (vec![0x01u8], opts),
        )
        .unwrap();
    // The indication `20 01 01` is a Value change on the characteristic; bluetoothd calls
    // Confirm when the central confirms it, and only then does the application reset.
    wait_for(&c, "the buttonless indication", || {
        values
            .lock()
            .unwrap()
            .contains(&(buttonless.clone(), vec![0x20, 0x01, 0x01]))
    });
    let _: () = ch
        .method_call("org.bluez.GattCharacteristic1", "Confirm", ())
        .unwrap();
    // The application drops the link (bluetoothd is told to disconnect the central), its
    // objects are unregistered, and the bootloader is published on hci1.
    wait_for(&c, "the bootloader's registration", || {
        called(
            &calls,
            "/org/bluez/hci1",
            "RegisterApplication",
            "/rig/dut2",
        )
        .is_some()
    });
    assert!(calls
        .lock()
        .unwrap()
        .iter()
        .any(|(p, m, _, _)| p == central && m == "Disconnect"));
    assert!(called(
        &calls,
        "/org/bluez/hci0",
        "UnregisterApplication",
        "/rig/dut1"
    )
    .is_some());
    assert!(called(
        &calls,
        "/org/bluez/hci0",
        "UnregisterAdvertisement",
        "/rig/dut1/advertisement"
    )
    .is_some());
    let bl = read_app(&c, &peer, "/rig/dut2");
    let (_, cp) = characteristic(&bl, CONTROL_POINT);
    assert_eq!(flags(cp), vec!["write", "notify"]);
    let (_, pkt) = characteristic(&bl, PACKET);
    assert_eq!(flags(pkt), vec!["write-without-response"]);
    assert_eq!(
        pkt["MTU"].0.as_u64(),
        Some(247),
        "SDK 17.1's bootloader takes MTU 247"
    );
    let stats = server.stop().unwrap();
    assert_eq!(stats.publications, 2);
    wait_for(&c, "the unregistration on stop", || {
        called(
            &calls,
            "/org/bluez/hci1",
            "UnregisterApplication",
            "/rig/dut2",
        )
        .is_some()
    });
    assert!(matches!(
        dev.lock().unwrap().status(),
        virtual_nrf52::Status::Bootloader(_) | virtual_nrf52::Status::Silent
    ));
}
