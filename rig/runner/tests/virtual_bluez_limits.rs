//! dbus-daemon's limits stay at their defaults on the virtual BlueZ's bus (its configuration
//! sets no `<limit>`), so a client that leaks D-Bus connections meets them as it would under
//! the stock system bus: dbus-daemon's `max_connections_per_user` is 256 (dbus
//! bus/config-parser.c `bus_config_parser_new`), and the connection past it is refused with
//! `org.freedesktop.DBus.Error.LimitsExceeded` (bus/connection.c). Driven through btleplug:
//! every `Manager::new()` opens its own connection (bluez-async `BluetoothSession::new`).

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;

/// dbus-daemon's default `max_connections_per_user`.
const MAX_CONNECTIONS_PER_USER: usize = 256;

#[test]
fn a_client_leaking_connections_meets_dbus_daemons_default_per_user_limit() {
    let Some(l) = default_lab() else { return };
    let held = l.rt.block_on(async {
        // The rig's own way in sets the bus address for the process first.
        let _first = l.adapter().await;
        let mut managers = Vec::new();
        for _ in 0..MAX_CONNECTIONS_PER_USER + 8 {
            match btleplug::platform::Manager::new().await {
                Ok(m) => managers.push(m),
                Err(e) => return (managers.len(), e.to_string()),
            }
        }
        (managers.len(), String::new())
    });
    let (opened, error) = held;
    eprintln!("refused after {opened} connections: {error}");
    // The virtual BlueZ's connection, this test's first adapter and any other connection of
    // this user on the bus count too: the leak is refused a few short of 256.
    assert!(
        (MAX_CONNECTIONS_PER_USER - 8..MAX_CONNECTIONS_PER_USER).contains(&opened),
        "refused after {opened} connections: {error:?}"
    );
    assert!(
        error.contains("LimitsExceeded") || error.contains("maximum number of active connections"),
        "{error}"
    );
}
