//! Connect, ServicesResolved, the GATT tree and MTU; errors named as bluetoothd names them.

use super::*;

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
