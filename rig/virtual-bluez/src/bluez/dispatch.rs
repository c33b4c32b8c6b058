//! Method calls: which object, which interface, which member; the answer or the error
//! bluetoothd (and libdbus, for objects that do not exist) gives.

use super::export::introspect;
use super::{Bluez, Conn, Filter};
use crate::names::*;
use crate::value::{append_props, Value};
use dbus::arg::{IterAppend, PropMap, RefArg};
use dbus::{Message, MessageType};
use virtual_nrf52::SimTime;

impl Bluez {
    /// Handle one incoming message at lab time `now`.
    pub fn handle(&mut self, msg: Message, now: SimTime) {
        if msg.msg_type() != MessageType::MethodCall {
            return;
        }
        self.stats.method_calls += 1;
        let path = msg.path().map(|p| p.to_string()).unwrap_or_default();
        let iface = msg.interface().map(|i| i.to_string()).unwrap_or_default();
        let member = msg.member().map(|m| m.to_string()).unwrap_or_default();
        let sig = signature(&msg);
        if !self.tree.knows(&path) {
            let e = BluezError::unknown_object(&member, &sig, &iface);
            self.reply(&msg, Err(e));
            return;
        }
        let r = match (iface.as_str(), member.as_str()) {
            (INTROSPECTABLE, "Introspect") => {
                let xml = introspect(&self.tree, &path);
                Ok(msg.method_return().append1(xml))
            }
            (OBJECT_MANAGER, "GetManagedObjects") if path == "/" => {
                let mut m = msg.method_return();
                self.tree.append_managed(&mut IterAppend::new(&mut m));
                Ok(m)
            }
            (PROPERTIES, "Get") => self.prop_get(&msg, &path),
            (PROPERTIES, "GetAll") => self.prop_get_all(&msg, &path),
            (PROPERTIES, "Set") => self.prop_set(&msg, &path, now),
            (ADAPTER, m) if self.adapter_at(&path).is_some() => {
                let a = self.adapter_at(&path).expect("checked");
                self.adapter_call(a, m, &msg, now)
            }
            (DEVICE, "Connect") if self.devices.contains_key(&path) => {
                self.connect(&path, msg, now);
                return;
            }
            (DEVICE, "Pair") if self.devices.contains_key(&path) => {
                self.pair(&path, msg, now);
                return;
            }
            (DEVICE, "Disconnect") if self.devices.contains_key(&path) => {
                self.disconnect(&path, msg, now);
                return;
            }
            (CHARACTERISTIC, m)
                if self
                    .tree
                    .interfaces(&path)
                    .is_some_and(|i| i.contains_key(CHARACTERISTIC)) =>
            {
                self.characteristic_call(&path, m, msg, now);
                return;
            }
            // The only descriptors are CCCDs, which bluetoothd manages itself:
            // gatt-client.c `descriptor_write_value` refuses client writes to them ("Don't
            // allow writing to Client Characteristic Configuration descriptors").
            (DESCRIPTOR, "WriteValue")
                if self
                    .tree
                    .interfaces(&path)
                    .is_some_and(|i| i.contains_key(DESCRIPTOR)) =>
            {
                Err(BluezError::not_permitted("Write not permitted"))
            }
            // Reads are not modelled by the virtual device's GATT server.
            (DESCRIPTOR, "ReadValue")
                if self
                    .tree
                    .interfaces(&path)
                    .is_some_and(|i| i.contains_key(DESCRIPTOR)) =>
            {
                Err(BluezError::not_supported())
            }
            _ => {
                let e = if self.tree.contains(&path) {
                    BluezError::unknown_method(&member, &sig, &iface)
                } else {
                    BluezError::unknown_object(&member, &sig, &iface)
                };
                Err(e)
            }
        };
        self.reply(&msg, r);
    }

    fn adapter_at(&self, path: &str) -> Option<usize> {
        self.adapters.iter().position(|a| a.path == path)
    }

    fn device_of(&self, path: &str) -> Option<String> {
        self.devices
            .keys()
            .find(|d| path.starts_with(&format!("{d}/")))
            .cloned()
    }

    fn prop_get(&self, msg: &Message, path: &str) -> Result<Message, BluezError> {
        let (iface, name): (String, String) =
            msg.read2().map_err(|_| BluezError::invalid_args())?;
        let v = self
            .tree
            .get(path, &iface, &name)
            .ok_or_else(|| BluezError::no_such_property(&name))?;
        let mut m = msg.method_return();
        v.append_variant(&mut IterAppend::new(&mut m));
        Ok(m)
    }

    fn prop_get_all(&self, msg: &Message, path: &str) -> Result<Message, BluezError> {
        let iface: String = msg.read1().map_err(|_| BluezError::invalid_args())?;
        let mut m = msg.method_return();
        let empty = Default::default();
        let props = self
            .tree
            .interfaces(path)
            .and_then(|i| i.get(iface.as_str()))
            .unwrap_or(&empty);
        append_props(&mut IterAppend::new(&mut m), props.iter());
        Ok(m)
    }

    fn prop_set(&mut self, msg: &Message, path: &str, now: SimTime) -> Result<Message, BluezError> {
        let mut it = msg.iter_init();
        let iface: String = it.read().map_err(|_| BluezError::invalid_args())?;
        let name: String = it.read().map_err(|_| BluezError::invalid_args())?;
        let v: dbus::arg::Variant<Box<dyn RefArg>> =
            it.read().map_err(|_| BluezError::invalid_args())?;
        match (iface.as_str(), name.as_str(), self.adapter_at(path)) {
            (ADAPTER, "Powered", Some(a)) => {
                let on =
                    v.0.as_i64()
                        .map(|x| x != 0)
                        .ok_or_else(BluezError::invalid_args)?;
                self.set_powered(a, on, now);
                Ok(msg.method_return())
            }
            (ADAPTER, "Alias", Some(_)) => {
                let s =
                    v.0.as_str()
                        .ok_or_else(BluezError::invalid_args)?
                        .to_string();
                self.tree.set(path, ADAPTER, "Alias", Value::Str(s));
                Ok(msg.method_return())
            }
            _ if self.tree.get(path, &iface, &name).is_some() => Err(BluezError {
                name: "org.freedesktop.DBus.Error.PropertyReadOnly".into(),
                message: format!("Property '{name}' is not writable"),
            }),
            _ => Err(BluezError::no_such_property(&name)),
        }
    }

    /// Adapter1.Powered: off drops every link (the controller is gone from the air: the
    /// kernel reports each connection closed with 0x16, hci_conn.c `hci_conn_hash_flush`) and
    /// ends discovery.
    fn set_powered(&mut self, a: usize, on: bool, now: SimTime) {
        if self.adapters[a].powered == on {
            return;
        }
        self.adapters[a].powered = on;
        let path = self.adapters[a].path.clone();
        if !on {
            let linked: Vec<String> = self
                .devices
                .values()
                .filter(|d| d.adapter == a && matches!(d.conn, Conn::Linked(_)))
                .map(|d| d.path.clone())
                .collect();
            for p in linked {
                if let Some(Conn::Linked(l)) = self.devices.get(&p).map(|d| &d.conn) {
                    let radio = l.radio;
                    // The device sees the link vanish: its supervision timeout.
                    self.radios[radio].with(|ble, dv| ble.link_lost(dv, now));
                }
                self.link_down(&p, 0x16, now);
            }
            self.adapters[a].sessions.clear();
            self.discovery_cleanup(a);
            self.tree
                .set(&path, ADAPTER, "Discovering", Value::Bool(false));
        }
        self.tree.set(&path, ADAPTER, "Powered", Value::Bool(on));
        self.tree.set(
            &path,
            ADAPTER,
            "PowerState",
            Value::str(if on { "on" } else { "off" }),
        );
    }

    /// adapter.c `discovery_cleanup` when the last discovery session ends: the RSSI of every
    /// device found is invalidated (`invalidate_rssi_and_tx_power`). (It also removes temporary
    /// devices that are not connectable; every device a virtual adapter reports advertised
    /// connectable, so none goes here.)
    fn discovery_cleanup(&mut self, a: usize) {
        let paths: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.adapter == a)
            .map(|d| d.path.clone())
            .collect();
        for p in paths {
            self.tree.invalidate(&p, DEVICE, "RSSI");
        }
    }

    fn adapter_call(
        &mut self,
        a: usize,
        member: &str,
        msg: &Message,
        now: SimTime,
    ) -> Result<Message, BluezError> {
        let sender = msg.sender().map(|s| s.to_string()).unwrap_or_default();
        let path = self.adapters[a].path.clone();
        match member {
            // adapter.c `start_discovery`: not powered → NotReady; a second session of the
            // same client → InProgress.
            "StartDiscovery" => {
                if !self.adapters[a].powered {
                    return Err(BluezError::not_ready());
                }
                if self.adapters[a].sessions.contains(&sender) {
                    return Err(BluezError::in_progress());
                }
                self.adapters[a].sessions.push(sender);
                self.tree
                    .set(&path, ADAPTER, "Discovering", Value::Bool(true));
                let _ = now;
                Ok(msg.method_return())
            }
            // adapter.c `stop_discovery`: without a session of this client → Failed "No
            // discovery started".
            "StopDiscovery" => {
                if !self.adapters[a].powered {
                    return Err(BluezError::not_ready());
                }
                let s = &mut self.adapters[a].sessions;
                let Some(i) = s.iter().position(|x| *x == sender) else {
                    return Err(BluezError::failed("No discovery started"));
                };
                s.remove(i);
                let discovering = self.adapters[a].discovering();
                if !discovering {
                    self.discovery_cleanup(a);
                }
                self.tree
                    .set(&path, ADAPTER, "Discovering", Value::Bool(discovering));
                Ok(msg.method_return())
            }
            // adapter.c `set_discovery_filter` / `parse_discovery_filter_dict`.
            "SetDiscoveryFilter" => {
                let map: PropMap = msg.read1().map_err(|_| BluezError::invalid_args())?;
                let f = parse_filter(&map)?;
                if f == Filter::default() && map.is_empty() {
                    self.adapters[a].filters.remove(&sender);
                } else {
                    self.adapters[a].filters.insert(sender, f);
                }
                Ok(msg.method_return())
            }
            "GetDiscoveryFilters" => Ok(msg.method_return().append1(vec![
                "UUIDs",
                "RSSI",
                "Pathloss",
                "Transport",
                "DuplicateData",
                "Discoverable",
                "Pattern",
            ])),
            // adapter.c `remove_device`: a connected device is disconnected first; here it
            // is removed when not connected, else refused as busy.
            "RemoveDevice" => {
                let p: dbus::Path = msg.read1().map_err(|_| BluezError::invalid_args())?;
                let p = p.to_string();
                match self.devices.get(&p) {
                    None => Err(BluezError::does_not_exist()),
                    Some(d) if !matches!(d.conn, Conn::Idle) => Err(BluezError::in_progress()),
                    Some(_) => {
                        self.devices.remove(&p);
                        self.tree.remove_tree(&p);
                        Ok(msg.method_return())
                    }
                }
            }
            m => Err(BluezError::unknown_method(m, &signature(msg), ADAPTER)),
        }
    }

    fn characteristic_call(&mut self, chr: &str, member: &str, msg: Message, now: SimTime) {
        let Some(dev) = self.device_of(chr) else {
            self.reply(&msg, Err(BluezError::failed("Not connected")));
            return;
        };
        match member {
            "WriteValue" => {
                let (value, opts): (Vec<u8>, PropMap) = match msg.read2() {
                    Ok(v) => v,
                    Err(_) => {
                        self.reply(&msg, Err(BluezError::invalid_args()));
                        return;
                    }
                };
                let kind = opts
                    .get("type")
                    .and_then(|v| v.0.as_str())
                    .map(str::to_string);
                let offset = opts.get("offset").and_then(|v| v.0.as_u64()).unwrap_or(0);
                if offset != 0 {
                    // Long writes at an offset: not modelled by the device's GATT server.
                    self.reply(&msg, Err(BluezError::not_supported()));
                    return;
                }
                self.write_value(&dev, chr, msg, value, kind, now);
            }
            "StartNotify" => self.notify(&dev, chr, msg, true, now),
            "StopNotify" => self.notify(&dev, chr, msg, false, now),
            // The virtual device's GATT server has no readable values the rig uses (the DFU
            // characteristics are write/notify only); reads are refused as the SoftDevice
            // refuses a read of a non-readable attribute.
            "ReadValue" => self.reply(&msg, Err(BluezError::not_permitted("Read not permitted"))),
            // The fd-passing variants are not offered (bleak falls back to StartNotify).
            "AcquireWrite" | "AcquireNotify" => self.reply(&msg, Err(BluezError::not_supported())),
            m => {
                let e = BluezError::unknown_method(m, &signature(&msg), CHARACTERISTIC);
                self.reply(&msg, Err(e));
            }
        }
    }
}

fn parse_filter(map: &PropMap) -> Result<Filter, BluezError> {
    let mut f = Filter::default();
    for (k, v) in map {
        match k.as_str() {
            "UUIDs" => {
                let it = v.0.as_iter().ok_or_else(BluezError::invalid_args)?;
                for u in it {
                    let s = u.as_str().ok_or_else(BluezError::invalid_args)?;
                    // adapter.c `parse_uuids`: bt_string_to_uuid + 128-bit form.
                    let full = match uuid::Uuid::parse_str(s) {
                        Ok(x) => x,
                        Err(_) => match u16::from_str_radix(s.trim_start_matches("0x"), 16) {
                            Ok(x) => virtual_nrf52::ble::uuid::sig16(x),
                            Err(_) => return Err(BluezError::invalid_args()),
                        },
                    };
                    f.uuids.push(full.to_string());
                }
            }
            "RSSI" => {
                f.rssi = Some(v.0.as_i64().ok_or_else(BluezError::invalid_args)? as i16);
                f.proximity = true;
            }
            "Pathloss" => f.proximity = true,
            "DuplicateData" => {
                f.duplicate = v.0.as_i64().ok_or_else(BluezError::invalid_args)? != 0;
            }
            "Transport" => {
                let t = v.0.as_str().ok_or_else(BluezError::invalid_args)?;
                if !matches!(t, "auto" | "le" | "bredr") {
                    return Err(BluezError::invalid_args());
                }
            }
            "Discoverable" | "Pattern" => {}
            _ => return Err(BluezError::invalid_args()),
        }
    }
    Ok(f)
}

/// The body's signature, argument by argument.
fn signature(m: &Message) -> String {
    let mut it = m.iter_init();
    let mut s = String::new();
    while it.arg_type() != dbus::arg::ArgType::Invalid {
        s.push_str(&it.signature());
        if !it.next() {
            break;
        }
    }
    s
}
