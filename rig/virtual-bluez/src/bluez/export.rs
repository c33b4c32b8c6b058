//! What bluetoothd exports, property by property, with its D-Bus types: Adapter1 (adapter.c
//! `adapter_properties`), Device1 (device.c `device_properties`), GattService1 /
//! GattCharacteristic1 / GattDescriptor1 (gatt-client.c `service_properties`,
//! `characteristic_properties`, `descriptor_properties`), and the Introspect XML gdbus
//! generates (gdbus/object.c `generate_interface_xml`), whose child `<node>`s bluez-async reads to
//! find `service*`, `char*`, `desc*` (bluez-async 0.9 `get_services`, `get_characteristics`).

use super::AdapterConfig;
use crate::names::*;
use crate::objects::{Interfaces, ObjectTree};
use crate::value::{Props, Value};
use virtual_nrf52::ble::gatt::{GattTable, Properties};
use virtual_nrf52::ble::BleAddress;

/// Printed address, most significant byte first.
pub fn address_string(a: BleAddress) -> String {
    a.to_string()
}

pub fn adapter_interfaces(c: &AdapterConfig, powered: bool) -> Interfaces {
    let a = c.address;
    let addr = format!(
        "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
        a[0], a[1], a[2], a[3], a[4], a[5]
    );
    let mut p = Props::new();
    p.insert("Address", Value::Str(addr));
    p.insert("AddressType", Value::str("public"));
    p.insert("Name", Value::str("rig-lab"));
    p.insert("Alias", Value::str("rig-lab"));
    p.insert("Class", Value::U32(0));
    p.insert("Connectable", Value::Bool(true));
    p.insert("Powered", Value::Bool(powered));
    p.insert("PowerState", Value::str(if powered { "on" } else { "off" }));
    p.insert("Discoverable", Value::Bool(false));
    p.insert("DiscoverableTimeout", Value::U32(180));
    p.insert("Pairable", Value::Bool(false));
    p.insert("PairableTimeout", Value::U32(0));
    p.insert("Discovering", Value::Bool(false));
    p.insert("UUIDs", Value::Strs(Vec::new()));
    // bluez-async requires Modalias and parses it as usb:vXXXXpXXXXdXXXX (modalias.rs): the
    // Linux Foundation's vendor id and BlueZ's product/version, as a stock bluetoothd reports.
    p.insert("Modalias", Value::str("usb:v1D6Bp0246d0542"));
    p.insert(
        "Roles",
        Value::Strs(vec!["central".into(), "peripheral".into()]),
    );
    let mut i = Interfaces::new();
    i.insert(ADAPTER, p);
    i
}

/// A device as `device_create` exports it before any advertising data is applied: no Name,
/// RSSI, UUIDs or ManufacturerData yet (each exists only once known, device.c
/// `dev_property_exists_*`); Alias falls back to the address with dashes
/// (`dev_property_get_alias`).
pub fn device_interfaces(adapter_path: &str, address: BleAddress) -> Interfaces {
    let addr = address_string(address);
    let mut p = Props::new();
    p.insert("Address", Value::Str(addr.clone()));
    // The SoftDevice advertises with the FICR DEVICEADDR, a random static address
    // (`BLE_GAP_ADDR_TYPE_RANDOM_STATIC`, S132 headers ble_gap.h).
    p.insert("AddressType", Value::str("random"));
    p.insert("Alias", Value::Str(addr.replace(':', "-")));
    p.insert("Paired", Value::Bool(false));
    p.insert("Bonded", Value::Bool(false));
    p.insert("Trusted", Value::Bool(false));
    p.insert("Blocked", Value::Bool(false));
    p.insert("LegacyPairing", Value::Bool(false));
    p.insert("CablePairing", Value::Bool(false));
    p.insert("Connected", Value::Bool(false));
    p.insert("ServicesResolved", Value::Bool(false));
    p.insert("Adapter", Value::Path(adapter_path.to_string()));
    p.insert("WakeAllowed", Value::Bool(false));
    let mut i = Interfaces::new();
    i.insert(DEVICE, p);
    i
}

/// gatt-client.c `chrc_props`: flag names in bit order.
pub fn flags(p: Properties) -> Vec<String> {
    let mut out = Vec::new();
    for (bit, name) in [
        (Properties::READ, "read"),
        (Properties::WRITE_WITHOUT_RESPONSE, "write-without-response"),
        (Properties::WRITE, "write"),
        (Properties::NOTIFY, "notify"),
        (Properties::INDICATE, "indicate"),
    ] {
        if p.contains(bit) {
            out.push(name.to_string());
        }
    }
    out
}

pub fn service_path(dev: &str, start: u16) -> String {
    format!("{dev}/service{start:04x}")
}

pub fn char_path(service: &str, declaration: u16) -> String {
    format!("{service}/char{declaration:04x}")
}

pub fn desc_path(chr: &str, handle: u16) -> String {
    format!("{chr}/desc{handle:04x}")
}

/// Export the GATT tree of a resolved connection, service by service in handle order
/// (gatt-client.c `btd_gatt_client_ready` → `create_services` → `service_create`,
/// `characteristic_create`, `descriptor_create`): each object an InterfacesAdded.
pub fn export_gatt(tree: &mut ObjectTree, dev: &str, table: &GattTable, mtu: u16) {
    for s in &table.services {
        let sp = service_path(dev, s.start_handle);
        let mut p = Props::new();
        p.insert("UUID", Value::Str(s.uuid.to_string()));
        p.insert("Device", Value::Path(dev.to_string()));
        p.insert("Primary", Value::Bool(true));
        p.insert("Includes", Value::Paths(Vec::new()));
        p.insert("Handle", Value::U16(s.start_handle));
        let mut i = Interfaces::new();
        i.insert(SERVICE, p);
        tree.add(&sp, i);
        for c in &s.characteristics {
            let cp = char_path(&sp, c.declaration_handle);
            let mut p = Props::new();
            // gatt-client.c `characteristic_get_handle`: the declaration handle.
            p.insert("Handle", Value::U16(c.declaration_handle));
            p.insert("UUID", Value::Str(c.uuid.to_string()));
            p.insert("Service", Value::Path(sp.clone()));
            p.insert("Flags", Value::Strs(flags(c.properties)));
            p.insert("MTU", Value::U16(mtu));
            if c.properties
                .intersects(Properties::NOTIFY | Properties::INDICATE)
            {
                p.insert("Notifying", Value::Bool(false));
            }
            let mut i = Interfaces::new();
            i.insert(CHARACTERISTIC, p);
            tree.add(&cp, i);
            if let Some(h) = c.cccd_handle {
                let dp = desc_path(&cp, h);
                let mut p = Props::new();
                p.insert("Handle", Value::U16(h));
                p.insert(
                    "UUID",
                    Value::Str(virtual_nrf52::ble::uuid::sig16(0x2902).to_string()),
                );
                p.insert("Characteristic", Value::Path(cp.clone()));
                let mut i = Interfaces::new();
                i.insert(DESCRIPTOR, p);
                tree.add(&dp, i);
            }
        }
    }
}

/// Methods each interface has, for Introspect (name, in args, out args).
fn methods(iface: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    match iface {
        ADAPTER => &[
            ("StartDiscovery", "", ""),
            ("StopDiscovery", "", ""),
            ("SetDiscoveryFilter", "a{sv}", ""),
            ("GetDiscoveryFilters", "", "as"),
            ("RemoveDevice", "o", ""),
        ],
        DEVICE => &[
            ("Connect", "", ""),
            ("Disconnect", "", ""),
            ("Pair", "", ""),
        ],
        CHARACTERISTIC => &[
            ("ReadValue", "a{sv}", "ay"),
            ("WriteValue", "aya{sv}", ""),
            ("StartNotify", "", ""),
            ("StopNotify", "", ""),
        ],
        DESCRIPTOR => &[("ReadValue", "a{sv}", "ay"), ("WriteValue", "aya{sv}", "")],
        _ => &[],
    }
}

fn split_args(sig: &str) -> Vec<String> {
    // Only the signatures above: split complete types.
    let mut out = Vec::new();
    let b = sig.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let mut depth = 0i32;
        loop {
            let c = b[i];
            i += 1;
            match c {
                b'a' => continue,
                b'{' | b'(' => depth += 1,
                b'}' | b')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
        out.push(sig[start..i].to_string());
    }
    out
}

/// gdbus-style Introspect XML for `path`.
pub fn introspect(tree: &ObjectTree, path: &str) -> String {
    let mut x = String::from(
        "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>",
    );
    x.push_str(&format!(
        "<interface name=\"{INTROSPECTABLE}\"><method name=\"Introspect\"><arg name=\"xml\" type=\"s\" direction=\"out\"/></method></interface>"
    ));
    if path == "/" {
        x.push_str(&format!(
            "<interface name=\"{OBJECT_MANAGER}\"><method name=\"GetManagedObjects\"><arg name=\"objects\" type=\"a{{oa{{sa{{sv}}}}}}\" direction=\"out\"/></method><signal name=\"InterfacesAdded\"><arg name=\"object\" type=\"o\"/><arg name=\"interfaces\" type=\"a{{sa{{sv}}}}\"/></signal><signal name=\"InterfacesRemoved\"><arg name=\"object\" type=\"o\"/><arg name=\"interfaces\" type=\"as\"/></signal></interface>"
        ));
    }
    if let Some(ifaces) = tree.interfaces(path) {
        x.push_str(&format!(
            "<interface name=\"{PROPERTIES}\"><method name=\"Get\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"name\" type=\"s\" direction=\"in\"/><arg name=\"value\" type=\"v\" direction=\"out\"/></method><method name=\"Set\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"name\" type=\"s\" direction=\"in\"/><arg name=\"value\" type=\"v\" direction=\"in\"/></method><method name=\"GetAll\"><arg name=\"interface\" type=\"s\" direction=\"in\"/><arg name=\"properties\" type=\"a{{sv}}\" direction=\"out\"/></method><signal name=\"PropertiesChanged\"><arg name=\"interface\" type=\"s\"/><arg name=\"changed_properties\" type=\"a{{sv}}\"/><arg name=\"invalidated_properties\" type=\"as\"/></signal></interface>"
        ));
        for (iface, props) in ifaces {
            x.push_str(&format!("<interface name=\"{iface}\">"));
            for (m, ins, outs) in methods(iface) {
                x.push_str(&format!("<method name=\"{m}\">"));
                for (n, t) in split_args(ins).iter().enumerate() {
                    x.push_str(&format!(
                        "<arg name=\"in{n}\" type=\"{t}\" direction=\"in\"/>"
                    ));
                }
                for (n, t) in split_args(outs).iter().enumerate() {
                    x.push_str(&format!(
                        "<arg name=\"out{n}\" type=\"{t}\" direction=\"out\"/>"
                    ));
                }
                x.push_str("</method>");
            }
            for (name, v) in props {
                let access = if *iface == ADAPTER
                    && matches!(*name, "Powered" | "Alias" | "Discoverable" | "Pairable")
                {
                    "readwrite"
                } else {
                    "read"
                };
                x.push_str(&format!(
                    "<property name=\"{name}\" type=\"{}\" access=\"{access}\"/>",
                    v.signature()
                ));
            }
            x.push_str("</interface>");
        }
    }
    for c in tree.children(path) {
        x.push_str(&format!("<node name=\"{c}\"/>"));
    }
    x.push_str("</node>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_split_into_complete_types() {
        assert_eq!(split_args("aya{sv}"), vec!["ay", "a{sv}"]);
        assert_eq!(split_args("o"), vec!["o"]);
        assert!(split_args("").is_empty());
    }

    #[test]
    fn flags_in_bluez_order() {
        assert_eq!(
            flags(Properties::WRITE | Properties::NOTIFY),
            vec!["write", "notify"]
        );
        assert_eq!(
            flags(Properties::WRITE_WITHOUT_RESPONSE),
            vec!["write-without-response"]
        );
    }
}
