//! bluetoothd's GATT cache across connections. main.conf `[GATT] Cache` defaults to `always`
//! (src/main.c), so device.c `gatt_cache_cleanup` keeps a device's GATT database, and with it
//! the D-Bus objects, after a disconnection (gatt-client.c `btd_gatt_client_disconnected`
//! unregisters nothing). On the next connection `gatt_client_init` runs primary service
//! discovery again (the SoftDevice serves no Database Hash to skip it), and for each service
//! found gatt-db.c `gatt_db_insert_service` returns the cached one when its start handle, UUID
//! and handle count match: gatt-client.c `discovery_found_service` then skips it ("Skip if
//! service already active"), so its characteristics stay as cached. A service that differs in
//! any of the three is cleared and discovered anew (`discovery_parse_services` →
//! `gatt_db_clear_range`), and a cached service not found again is removed
//! (`discovery_op_complete`, "service disappeared"). So after a firmware change at the same
//! address the tree is right unless a service kept its place and size while its
//! characteristics changed; then BlueZ shows the old ones until the device is removed: a
//! Service Changed indication rediscovers its range under the same rule (bluez/security.rs).

use super::export::{export_gatt, service_path};
use crate::names::CHARACTERISTIC;
use crate::objects::ObjectTree;
use crate::value::Value;
use virtual_nrf52::ble::gatt::{GattTable, Service};

fn same_place(a: &Service, b: &Service) -> bool {
    a.start_handle == b.start_handle && a.end_handle == b.end_handle && a.uuid == b.uuid
}

/// Update the exported tree of device `dev` after discovering `found`, given what bluetoothd
/// cached from earlier connections. Returns bluetoothd's view: what a client sees and what
/// its calls address (cached services where they matched, the rest as found).
pub(crate) fn refresh(
    tree: &mut ObjectTree,
    dev: &str,
    cached: Option<&GattTable>,
    found: &GattTable,
    mtu: u16,
) -> GattTable {
    let cached_services: &[Service] = cached.map_or(&[], |c| &c.services);
    for old in cached_services {
        if !found.services.iter().any(|n| same_place(old, n)) {
            tree.remove_tree(&service_path(dev, old.start_handle));
        }
    }
    let mut view = Vec::new();
    let mut added = Vec::new();
    for n in &found.services {
        match cached_services.iter().find(|o| same_place(o, n)) {
            Some(old) => {
                // Kept as cached; its characteristics report the new link's MTU.
                let sp = service_path(dev, old.start_handle);
                for c in &old.characteristics {
                    let cp = super::export::char_path(&sp, c.declaration_handle);
                    tree.set(&cp, CHARACTERISTIC, "MTU", Value::U16(mtu));
                }
                view.push(old.clone());
            }
            None => {
                view.push(n.clone());
                added.push(n.clone());
            }
        }
    }
    export_gatt(tree, dev, &GattTable { services: added }, mtu);
    GattTable { services: view }
}
