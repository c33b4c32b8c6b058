//! The errors bluetoothd answers with, by name, on the virtual BlueZ (raw D-Bus after a
//! btleplug connect, so the exact names are checked).
//! The BlueZ source of each rule is named in rig/virtual-bluez.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Peripheral as _, ScanFilter};
use nrf_dfu::SdkVersion;
use rig::drivers::ble::{CONTROL_POINT, PACKET};
use std::time::Duration;
use support::Bench;
use virtual_bluez::Fault;

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
    // The GATT objects stay cached after the link (main.conf Cache=always); their calls fail
    // with gatt-client.c's "Not connected".
    let r: Result<(), _> = cpx.method_call("org.bluez.GattCharacteristic1", "StartNotify", ());
    let e = r.unwrap_err();
    assert_eq!(e.name(), Some("org.bluez.Error.Failed"));
    assert_eq!(e.message(), Some("Not connected"));
    // A device that stopped advertising: the kernel gives up after 20 s,
    // le-connection-abort-by-local; meanwhile a second Connect is InProgress (device.c
    // `dev_connect`: `if (dev->connect) return btd_error_in_progress(msg)`). The device is silent
    // first, so the first attempt cannot complete before the second arrives.
    assert!(l
        .vb
        .fault(
            radio,
            Fault::PowerCut {
                off_for: Duration::from_secs(3600)
            }
        )
        .unwrap());
    let first = {
        let c2 = l.raw();
        let path = path.clone();
        std::thread::spawn(move || {
            let slow = c2.with_proxy("org.bluez", path.as_str(), Duration::from_secs(20));
            let r: Result<(), dbus::Error> = slow.method_call("org.bluez.Device1", "Connect", ());
            r.map_err(|e| (e.name().map(String::from), e.message().map(String::from)))
        })
    };
    std::thread::sleep(l.wall(Duration::from_secs(1)));
    let r: Result<(), _> = dev.method_call("org.bluez.Device1", "Connect", ());
    assert_eq!(err_name(r), "org.bluez.Error.InProgress");
    let e = first.join().unwrap().unwrap_err();
    assert_eq!(e.0.as_deref(), Some("org.bluez.Error.Failed"));
    assert_eq!(e.1.as_deref(), Some("le-connection-abort-by-local"));
    // Once the device is removed (Adapter1.RemoveDevice) its objects are gone: libdbus's
    // UnknownObject.
    let hci0 = c.with_proxy("org.bluez", "/org/bluez/hci0", Duration::from_secs(5));
    let _: () = hci0
        .method_call(
            "org.bluez.Adapter1",
            "RemoveDevice",
            (dbus::Path::from(path.as_str()),),
        )
        .unwrap();
    let r: Result<(), _> = cpx.method_call("org.bluez.GattCharacteristic1", "StartNotify", ());
    assert_eq!(err_name(r), "org.freedesktop.DBus.Error.UnknownObject");
}
