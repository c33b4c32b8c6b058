//! The private bus: org.bluez owned on it, the tree bluez-async reads first, and no daemon left
//! behind when the server goes.

use std::collections::HashMap;
use std::time::Duration;
use virtual_bluez::{BluezConfig, DaemonError, ServerError, VirtualBluez};

fn start() -> Option<VirtualBluez> {
    match VirtualBluez::start(BluezConfig::default()) {
        Ok(v) => Some(v),
        Err(ServerError::Daemon(e @ DaemonError::Missing(_))) => {
            if std::env::var("RIG_REQUIRE_DBUS").as_deref() == Ok("1") {
                panic!("RIG_REQUIRE_DBUS=1 but {e}");
            }
            eprintln!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

type Managed = HashMap<dbus::Path<'static>, HashMap<String, dbus::arg::PropMap>>;

#[test]
fn serves_org_bluez_and_leaves_no_daemon_behind() {
    let Some(vb) = start() else { return };
    let pid = vb.daemon_pid().expect("own daemon");
    let mut ch = dbus::channel::Channel::open_private(vb.address()).unwrap();
    ch.register().unwrap();
    let c = dbus::blocking::Connection::from(ch);
    let root = c.with_proxy("org.bluez", "/", Duration::from_secs(5));
    let (objs,): (Managed,) = root
        .method_call(
            "org.freedesktop.DBus.ObjectManager",
            "GetManagedObjects",
            (),
        )
        .unwrap();
    let hci0 = &objs[&dbus::Path::from("/org/bluez/hci0")]["org.bluez.Adapter1"];
    assert_eq!(hci0["Powered"].0.signature().to_string(), "b");
    assert_eq!(hci0["Modalias"].0.as_str(), Some("usb:v1D6Bp0246d0542"));
    let (xml,): (String,) = c
        .with_proxy("org.bluez", "/org/bluez", Duration::from_secs(5))
        .method_call("org.freedesktop.DBus.Introspectable", "Introspect", ())
        .unwrap();
    assert!(xml.contains("<node name=\"hci0\"/>"), "{xml}");
    // A path nobody serves: libdbus's UnknownObject.
    let r: Result<(), dbus::Error> = c
        .with_proxy(
            "org.bluez",
            "/org/bluez/hci0/dev_00_00_00_00_00_01",
            Duration::from_secs(5),
        )
        .method_call("org.bluez.Device1", "Connect", ());
    assert_eq!(
        r.unwrap_err().name(),
        Some("org.freedesktop.DBus.Error.UnknownObject")
    );
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(c);
    vb.stop();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "dbus-daemon {pid} reaped"
    );
}
