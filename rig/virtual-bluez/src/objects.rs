//! The exported object tree: paths, their interfaces and properties, and the signals a change
//! makes. ObjectManager lives at `/` as in bluetoothd (gdbus/object.c `g_dbus_attach_object_
//! manager` on the root), so InterfacesAdded/Removed are emitted from `/`.
//!
//! PropertiesChanged batching follows gdbus (gdbus/object.c `g_dbus_emit_property_changed_full`
//! queues the change and `process_changes` emits one signal per interface from an idle
//! callback): changes made while handling one event are merged into one signal per
//! (path, interface). A characteristic's Value is the exception: gatt-client.c
//! `write_characteristic_cb` uses `G_DBUS_PROPERTY_CHANGED_FLAG_FLUSH`, so every notification is
//! its own signal, in order, never merged.

use crate::names::{OBJECT_MANAGER, PROPERTIES};
use crate::value::{append_props, sig, Props, Value};
use dbus::arg::IterAppend;
use dbus::Message;
use std::collections::BTreeMap;

/// One object: interface name → properties.
pub type Interfaces = BTreeMap<&'static str, Props>;

#[derive(Debug, Default)]
pub struct ObjectTree {
    objects: BTreeMap<String, Interfaces>,
    /// Pending merged PropertiesChanged: (path, interface) → changed properties, in first-change
    /// order of the pair.
    pending: Vec<(String, &'static str, Props, Vec<&'static str>)>,
    outbox: Vec<Message>,
}

impl ObjectTree {
    pub fn new() -> ObjectTree {
        ObjectTree::default()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.objects.contains_key(path)
    }

    pub fn get(&self, path: &str, iface: &str, prop: &str) -> Option<&Value> {
        self.objects.get(path)?.get(iface)?.get(prop)
    }

    pub fn interfaces(&self, path: &str) -> Option<&Interfaces> {
        self.objects.get(path)
    }

    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.objects.keys()
    }

    /// Export an object (InterfacesAdded).
    pub fn add(&mut self, path: &str, ifaces: Interfaces) {
        self.flush();
        let mut m = signal("/", OBJECT_MANAGER, "InterfacesAdded");
        {
            let mut ia = IterAppend::new(&mut m);
            ia.append(dbus::Path::from(path));
            append_interfaces(&mut ia, &ifaces);
        }
        self.outbox.push(m);
        self.objects.insert(path.to_string(), ifaces);
    }

    /// Remove an object and everything below it, children first (InterfacesRemoved each), as
    /// bluetoothd unregisters descriptors, characteristics, services, then the device.
    pub fn remove_tree(&mut self, path: &str) {
        self.flush();
        let prefix = format!("{path}/");
        let mut gone: Vec<String> = self
            .objects
            .keys()
            .filter(|p| p.as_str() == path || p.starts_with(&prefix))
            .cloned()
            .collect();
        gone.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in gone {
            self.remove_one(&p);
        }
    }

    fn remove_one(&mut self, path: &str) {
        if let Some(ifaces) = self.objects.remove(path) {
            let mut m = signal("/", OBJECT_MANAGER, "InterfacesRemoved");
            {
                let mut ia = IterAppend::new(&mut m);
                ia.append(dbus::Path::from(path));
                ia.append(ifaces.keys().copied().collect::<Vec<&str>>());
            }
            self.outbox.push(m);
        }
    }

    /// Set a property; a change is queued for the merged PropertiesChanged.
    pub fn set(&mut self, path: &str, iface: &'static str, prop: &'static str, v: Value) {
        let Some(props) = self.objects.get_mut(path).and_then(|o| o.get_mut(iface)) else {
            return;
        };
        if props.get(prop) == Some(&v) {
            return;
        }
        self.set_always(path, iface, prop, v);
    }

    /// Set and report even if the value is the same (DuplicateData, device_set_manufacturer_
    /// data with `duplicate`).
    pub fn set_always(&mut self, path: &str, iface: &'static str, prop: &'static str, v: Value) {
        let Some(props) = self.objects.get_mut(path).and_then(|o| o.get_mut(iface)) else {
            return;
        };
        props.insert(prop, v.clone());
        let (c, inv) = self.pending_for(path, iface);
        c.insert(prop, v);
        inv.retain(|p| *p != prop);
    }

    fn pending_for(
        &mut self,
        path: &str,
        iface: &'static str,
    ) -> (&mut Props, &mut Vec<&'static str>) {
        let i = match self
            .pending
            .iter()
            .position(|(p, i, _, _)| p == path && *i == iface)
        {
            Some(i) => i,
            None => {
                self.pending
                    .push((path.to_string(), iface, Props::new(), Vec::new()));
                self.pending.len() - 1
            }
        };
        let (_, _, c, inv) = &mut self.pending[i];
        (c, inv)
    }

    /// A property stops existing (gdbus lists it in PropertiesChanged's invalidated
    /// properties, as when bluetoothd clears RSSI at the end of discovery).
    pub fn invalidate(&mut self, path: &str, iface: &'static str, prop: &'static str) {
        let Some(props) = self.objects.get_mut(path).and_then(|o| o.get_mut(iface)) else {
            return;
        };
        if props.remove(prop).is_none() {
            return;
        }
        let (c, inv) = self.pending_for(path, iface);
        c.remove(prop);
        if !inv.contains(&prop) {
            inv.push(prop);
        }
    }

    /// Set and emit at once, alone (G_DBUS_PROPERTY_CHANGED_FLAG_FLUSH).
    pub fn set_flush(&mut self, path: &str, iface: &'static str, prop: &'static str, v: Value) {
        self.flush();
        self.set_always(path, iface, prop, v);
        self.flush();
    }

    /// Emit the merged PropertiesChanged signals.
    pub fn flush(&mut self) {
        for (path, iface, changed, invalidated) in std::mem::take(&mut self.pending) {
            if !self.objects.contains_key(&path) {
                continue;
            }
            let mut m = signal(&path, PROPERTIES, "PropertiesChanged");
            {
                let mut ia = IterAppend::new(&mut m);
                ia.append(iface);
                append_props(&mut ia, changed.iter());
                ia.append(invalidated);
            }
            self.outbox.push(m);
        }
    }

    /// Queue any other message (replies, plain signals) behind the signals already queued.
    pub fn push(&mut self, m: Message) {
        self.flush();
        self.outbox.push(m);
    }

    pub fn take_outbox(&mut self) -> Vec<Message> {
        self.flush();
        std::mem::take(&mut self.outbox)
    }

    /// GetManagedObjects' reply body: `a{oa{sa{sv}}}`.
    pub fn append_managed(&self, ia: &mut IterAppend) {
        ia.append_dict(&sig("o"), &sig("a{sa{sv}}"), |d| {
            for (path, ifaces) in &self.objects {
                d.append_dict_entry(|e| {
                    e.append(dbus::Path::from(path.as_str()));
                    append_interfaces(e, ifaces);
                });
            }
        });
    }

    /// Direct children of `path` that exist or lead to objects (Introspect's `<node>`s).
    pub fn children(&self, path: &str) -> Vec<String> {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let mut out: Vec<String> = self
            .objects
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter(|rest| !rest.is_empty())
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        out.dedup();
        out
    }

    /// Whether `path` is an object or an ancestor of one (libdbus answers Introspect on the
    /// fallback path of registered children; gdbus registers every level).
    pub fn knows(&self, path: &str) -> bool {
        path == "/" || self.contains(path) || !self.children(path).is_empty()
    }
}

fn append_interfaces(ia: &mut IterAppend, ifaces: &Interfaces) {
    ia.append_dict(&sig("s"), &sig("a{sv}"), |d| {
        for (iface, props) in ifaces {
            d.append_dict_entry(|e| {
                e.append(*iface);
                append_props(e, props.iter());
            });
        }
    });
}

pub fn signal(path: &str, iface: &str, member: &str) -> Message {
    Message::new_signal(path, iface, member).expect("valid path, interface and member")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(p: &str, t: &mut ObjectTree) {
        let mut i = Interfaces::new();
        let mut props = Props::new();
        props.insert("UUID", Value::str("x"));
        i.insert("org.bluez.GattService1", props);
        t.add(p, i);
    }

    #[test]
    fn merged_changes_and_flushed_values() {
        let mut t = ObjectTree::new();
        obj("/org/bluez/hci0/dev_1", &mut t);
        t.take_outbox();
        t.set(
            "/org/bluez/hci0/dev_1",
            "org.bluez.GattService1",
            "A",
            Value::Bool(true),
        );
        t.set(
            "/org/bluez/hci0/dev_1",
            "org.bluez.GattService1",
            "B",
            Value::Bool(true),
        );
        assert_eq!(t.take_outbox().len(), 1, "one signal for two properties");
        for n in 0..3u8 {
            t.set_flush(
                "/org/bluez/hci0/dev_1",
                "org.bluez.GattService1",
                "Value",
                Value::Bytes(vec![n]),
            );
        }
        assert_eq!(
            t.take_outbox().len(),
            3,
            "one signal per value, same or not"
        );
        t.set(
            "/org/bluez/hci0/dev_1",
            "org.bluez.GattService1",
            "A",
            Value::Bool(true),
        );
        assert!(t.take_outbox().is_empty(), "no change, no signal");
    }

    #[test]
    fn children_and_removal_order() {
        let mut t = ObjectTree::new();
        obj("/org/bluez/hci0/dev_1", &mut t);
        obj("/org/bluez/hci0/dev_1/service000a", &mut t);
        obj("/org/bluez/hci0/dev_1/service000a/char000b", &mut t);
        assert_eq!(t.children("/org/bluez"), vec!["hci0"]);
        assert_eq!(t.children("/org/bluez/hci0/dev_1"), vec!["service000a"]);
        assert!(t.knows("/org") && !t.knows("/org/bluez/hci1"));
        t.take_outbox();
        t.remove_tree("/org/bluez/hci0/dev_1");
        let paths: Vec<String> = t
            .take_outbox()
            .iter()
            .map(|m| m.read1::<dbus::Path>().unwrap().to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "/org/bluez/hci0/dev_1/service000a/char000b",
                "/org/bluez/hci0/dev_1/service000a",
                "/org/bluez/hci0/dev_1"
            ]
        );
        assert!(!t.knows("/org/bluez/hci0/dev_1"));
    }
}
