//! What the peripheral mode exports for BlueZ to read: one GATT application (an ObjectManager
//! root with GattService1 and GattCharacteristic1 objects) and one LEAdvertisement1, built from
//! the device's own GATT table and advertising data.
//!
//! Sources: BlueZ doc/gatt-api.txt ("GATT Manager hierarchy": RegisterApplication reads the
//! application's objects through ObjectManager.GetManagedObjects; local GattService1 `UUID`,
//! `Primary`; local GattCharacteristic1 `UUID`, `Service`, `Flags`, `Notifying`), and
//! doc/advertising-api.txt (LEAdvertisement1 `Type`, `ServiceUUIDs`, `ManufacturerData`,
//! `LocalName`, `Discoverable`). BlueZ adds the GAP and GATT services and every CCCD itself
//! (src/gatt-database.c `database_add_ccc` for a characteristic flagged notify/indicate), so
//! neither is exported here.

use crate::bluez::characteristic_flags;
use crate::value::{append_props, Props, Value};
use dbus::arg::IterAppend;
use std::collections::BTreeMap;
use virtual_nrf52::ble::adv::AdvertisingData;
use virtual_nrf52::ble::gatt::{GattTable, Properties};
use virtual_nrf52::ble::uuid::as_sig16;

pub const GATT_SERVICE: &str = "org.bluez.GattService1";
pub const GATT_CHARACTERISTIC: &str = "org.bluez.GattCharacteristic1";
pub const LE_ADVERTISEMENT: &str = "org.bluez.LEAdvertisement1";

/// The Generic Access and Generic Attribute services: bluetoothd serves its own.
const BLUEZ_OWN_SERVICES: [u16; 2] = [0x1800, 0x1801];
/// Nordic's company identifier, the manufacturer data key of the stand-in application.
const NORDIC: u16 = 0x0059;

/// One exported characteristic and the device handle it stands for.
#[derive(Debug, Clone)]
pub struct Exported {
    pub path: String,
    pub value_handle: u16,
    pub cccd_handle: Option<u16>,
    pub properties: Properties,
}

/// The objects of one publication (`/rig/dutN`, N counting publications so that BlueZ never
/// confuses a path of the application with the bootloader's).
#[derive(Debug, Clone)]
pub struct Tree {
    pub root: String,
    pub advertisement: String,
    objects: BTreeMap<String, BTreeMap<&'static str, Props>>,
    pub characteristics: Vec<Exported>,
}

impl Tree {
    pub fn new(
        generation: u32,
        table: &GattTable,
        mtu: u16,
        adv: &AdvertisingData,
        manufacturer_data: bool,
    ) -> Tree {
        let root = format!("/rig/dut{generation}");
        let mut objects = BTreeMap::new();
        let mut characteristics = Vec::new();
        let services = table
            .services
            .iter()
            .filter(|s| !as_sig16(&s.uuid).is_some_and(|u| BLUEZ_OWN_SERVICES.contains(&u)));
        for (si, s) in services.enumerate() {
            let sp = format!("{root}/service{si}");
            let mut props = Props::new();
            props.insert("UUID", Value::str(s.uuid.to_string()));
            props.insert("Primary", Value::Bool(true));
            objects.insert(sp.clone(), BTreeMap::from([(GATT_SERVICE, props)]));
            for (ci, c) in s.characteristics.iter().enumerate() {
                let cp = format!("{sp}/char{ci}");
                let mut props = Props::new();
                props.insert("UUID", Value::str(c.uuid.to_string()));
                props.insert("Service", Value::Path(sp.clone()));
                props.insert("Flags", Value::Strs(characteristic_flags(c.properties)));
                // The largest MTU the firmware accepts. bluetoothd ignores it on a local
                // characteristic (its own ExchangeMTU setting rules the air); an emulator that
                // links the two sides (BlueZoo: `GattCharacteristicClientLink.mtu`) shows the
                // central the device's MTU instead of its default of 512.
                props.insert("MTU", Value::U16(mtu));
                if c.cccd_handle.is_some() {
                    props.insert("Notifying", Value::Bool(false));
                }
                objects.insert(cp.clone(), BTreeMap::from([(GATT_CHARACTERISTIC, props)]));
                characteristics.push(Exported {
                    path: cp,
                    value_handle: c.value_handle,
                    cccd_handle: c.cccd_handle,
                    properties: c.properties,
                });
            }
        }
        let advertisement = format!("{root}/advertisement");
        objects.insert(
            advertisement.clone(),
            BTreeMap::from([(
                LE_ADVERTISEMENT,
                advertisement_props(adv, manufacturer_data),
            )]),
        );
        Tree {
            root,
            advertisement,
            objects,
            characteristics,
        }
    }

    pub fn characteristic(&self, path: &str) -> Option<&Exported> {
        self.characteristics.iter().find(|c| c.path == path)
    }

    pub fn by_handle(&self, value_handle: u16) -> Option<&Exported> {
        self.characteristics
            .iter()
            .find(|c| c.value_handle == value_handle)
    }

    pub fn props(&self, path: &str, iface: &str) -> Option<&Props> {
        self.objects.get(path)?.get(iface)
    }

    pub fn set(&mut self, path: &str, iface: &'static str, prop: &'static str, v: Value) {
        if let Some(p) = self.objects.get_mut(path).and_then(|o| o.get_mut(iface)) {
            p.insert(prop, v);
        }
    }

    pub fn contains(&self, path: &str) -> bool {
        self.objects.contains_key(path) || path == self.root
    }

    /// `a{oa{sa{sv}}}` of every object under `under` (the application root for the GATT
    /// manager, the advertisement's own path for an ObjectManager call there).
    pub fn append_managed(&self, ia: &mut IterAppend, under: &str) {
        let sig = |s: &'static str| dbus::strings::Signature::from(s);
        ia.append_dict(&sig("o"), &sig("a{sa{sv}}"), |d| {
            for (path, ifaces) in &self.objects {
                let inside = path == under || path.starts_with(&format!("{under}/"));
                let is_adv = path == &self.advertisement;
                // The GATT manager must not see the advertisement (it has no GATT interface).
                if !inside || (is_adv && under != self.advertisement) {
                    continue;
                }
                d.append_dict_entry(|e| {
                    e.append(dbus::Path::from(path.as_str()));
                    e.append_dict(&sig("s"), &sig("a{sv}"), |di| {
                        for (iface, props) in ifaces {
                            di.append_dict_entry(|ie| {
                                ie.append(*iface);
                                append_props(ie, props.iter());
                            });
                        }
                    });
                });
            }
        });
    }

    /// Introspection XML for `path`: its interfaces and its child nodes.
    pub fn introspect(&self, path: &str) -> String {
        let mut x = String::from(
            "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\" \
             \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n\
             <interface name=\"org.freedesktop.DBus.Introspectable\"><method name=\"Introspect\">\
             <arg type=\"s\" direction=\"out\"/></method></interface>\n\
             <interface name=\"org.freedesktop.DBus.Properties\"/>\n",
        );
        if path == self.root {
            x.push_str("<interface name=\"org.freedesktop.DBus.ObjectManager\"/>\n");
        }
        if let Some(o) = self.objects.get(path) {
            for iface in o.keys() {
                x.push_str(&format!("<interface name=\"{iface}\"/>\n"));
            }
        }
        let prefix = format!("{path}/");
        let mut children: Vec<&str> = self
            .objects
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .collect();
        children.dedup();
        for c in children {
            x.push_str(&format!("<node name=\"{c}\"/>\n"));
        }
        x.push_str("</node>\n");
        x
    }
}

/// The LEAdvertisement1 properties for what the device advertises: connectable ("peripheral"),
/// its name, 16-bit service UUIDs and Nordic manufacturer data (`a{qv}`, keyed by company
/// identifier: advertising.c `parse_manufacturer_data`) unless left out; `Discoverable` so that the LE
/// general discoverable flag is set whatever the adapter's own Discoverable setting
/// (advertising-api.txt `Discoverable`).
fn advertisement_props(adv: &AdvertisingData, manufacturer_data: bool) -> Props {
    let mut p = Props::new();
    p.insert("Type", Value::str("peripheral"));
    let uuids: Vec<String> = adv
        .uuids16()
        .into_iter()
        .map(|u| virtual_nrf52::ble::uuid::sig16(u).to_string())
        .collect();
    if !uuids.is_empty() {
        p.insert("ServiceUUIDs", Value::Strs(uuids));
    }
    if let Some(name) = adv.local_name() {
        p.insert("LocalName", Value::str(name));
    }
    if let Some(m) = adv.manufacturer_data(NORDIC).filter(|_| manufacturer_data) {
        p.insert(
            "ManufacturerData",
            Value::Manufacturer(BTreeMap::from([(NORDIC, m.to_vec())])),
        );
    }
    p.insert("Discoverable", Value::Bool(true));
    p
}
