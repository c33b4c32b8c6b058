//! Peripheral mode: a virtual nRF52832 published through a real (or emulated) bluetoothd's
//! peripheral API, so that a central on the air (a phone with nRF Connect, or the rig itself on
//! another adapter) updates it. The device side is the same [`BlePeripheral`] model the virtual
//! BlueZ serves to centrals; here bluetoothd is the radio, this module its GATT application.
//!
//! Sources: BlueZ doc/gatt-api.txt (GattManager1.RegisterApplication / UnregisterApplication;
//! the server side of GattCharacteristic1: ReadValue, WriteValue with options `type`
//! "command"/"request", `mtu`, `device`; StartNotify, StopNotify, Confirm; a notification or
//! indication is a PropertiesChanged on `Value`), doc/advertising-api.txt
//! (LEAdvertisingManager1.RegisterAdvertisement / UnregisterAdvertisement, LEAdvertisement1,
//! Release), and src/gatt-database.c (`dbus_error_to_att_ecode`: the D-Bus error names that become
//! ATT errors on the air; `conf_cb`: Confirm once the central confirmed an indication; the
//! `device`, `link` and `mtu` options of every call).
//!
//! Mapping to the model: a Device1 on the adapter turning `Connected` opens the model's link
//! (`connect`, then `exchange_mtu` with the MTU bluetoothd reports in the first request, then
//! `discover`); WriteValue is `write_request` or `write_command`, answered at the model's
//! response time; StartNotify/StopNotify write the CCCD (bluetoothd owns the real CCCD and calls
//! them when the central writes it); the model's notifications and indications become Value
//! changes, and Confirm confirms an indication. When the firmware changes (the application jumps
//! to the bootloader, a reset), the old application and advertisement are unregistered and the
//! new ones registered, on the bootloader's adapter if one is given.

mod tree;

use crate::clock::LabClock;
use crate::radio::SyncDevice;
use crate::value::{append_props, Value};
use dbus::arg::{IterAppend, PropMap, RefArg};
use dbus::channel::Channel;
use dbus::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tree::{Tree, GATT_CHARACTERISTIC, LE_ADVERTISEMENT};
use virtual_nrf52::ble::{
    AdvertisingData, BleError, BlePeripheral, GattTable, PeripheralEvent, Properties, Role,
};
use virtual_nrf52::{SimTime, Status};

const BLUEZ: &str = "org.bluez";
const DEVICE: &str = "org.bluez.Device1";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
/// Longest sleep of the serving loop: stop requests and the device's own changes are noticed
/// within this.
const MAX_SLEEP: Duration = Duration::from_millis(20);
/// The largest ATT MTU a central may ask for (Core Vol 3 Part F 3.2.9: attribute values up to
/// 512 bytes, plus the 5-byte header of a long write).
const MAX_ATT_MTU: u16 = 517;
/// How long bluetoothd may take to answer a registration.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to publish.
#[derive(Debug, Clone)]
pub struct PeripheralConfig {
    /// The bus bluetoothd is on; `None`: the system bus (`DBUS_SYSTEM_BUS_ADDRESS` if set).
    pub bus: Option<String>,
    /// The adapter the application is published on (`hci0`).
    pub adapter: String,
    /// The adapter the bootloader is published on; `None`: the same. An unbonded bootloader
    /// advertises at the application's address + 1, which one adapter cannot do: a second
    /// adapter with that address shows it as a central expects.
    pub bootloader_adapter: Option<String>,
    /// Advertise the device's manufacturer data. BlueZoo 1.0.2 declares LEAdvertisement1 and
    /// Device1 `ManufacturerData` as `a{sv}` where BlueZ has `a{qv}`, and then fails every
    /// GetManagedObjects on the central's side; leave it out there.
    pub manufacturer_data: bool,
}

/// Counters for the end-of-run line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeripheralStats {
    pub publications: u32,
    pub connections: u32,
    pub writes: u64,
    pub notifications: u64,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeripheralError {
    #[error("connecting to the D-Bus at {bus}: {message}")]
    Bus { bus: String, message: String },
    #[error("{call} on {path}: {message} (is bluetoothd running and the adapter powered?)")]
    Register {
        call: &'static str,
        path: String,
        message: String,
    },
    #[error("the serving thread could not start: {0}")]
    Thread(String),
}

/// A running publication: a thread that owns its own bus connection and the device's radio.
pub struct PeripheralServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<PeripheralStats, PeripheralError>>>,
}

impl PeripheralServer {
    /// Publish `device` (advancing on the wall clock from its current time) as `config` says;
    /// `log` gets one line per publication and connection.
    pub fn start(
        config: PeripheralConfig,
        device: SyncDevice,
        log: Box<dyn FnMut(String) + Send>,
    ) -> Result<PeripheralServer, PeripheralError> {
        let ch = open(config.bus.as_deref())?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("virtual-bluez-peripheral".into())
            .spawn(move || Serving::new(ch, config, device, log).run(&stop2))
            .map_err(|e| PeripheralError::Thread(e.to_string()))?;
        Ok(PeripheralServer {
            stop,
            thread: Some(thread),
        })
    }

    /// Whether the serving thread ended on its own (an error, or the bus went away).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Unregister everything and stop.
    pub fn stop(mut self) -> Result<PeripheralStats, PeripheralError> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(PeripheralError::Thread(
                "the serving thread panicked".into(),
            )),
            None => Ok(PeripheralStats::default()),
        }
    }
}

impl Drop for PeripheralServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn open(bus: Option<&str>) -> Result<Channel, PeripheralError> {
    let name = bus.unwrap_or("the system bus").to_string();
    let err = |message: String| PeripheralError::Bus {
        bus: name.clone(),
        message,
    };
    let mut ch = match bus {
        Some(a) => Channel::open_private(a),
        None => Channel::get_private(dbus::channel::BusType::System),
    }
    .map_err(|e| err(e.to_string()))?;
    if bus.is_some() {
        ch.register().map_err(|e| err(e.to_string()))?;
    }
    // Every Device1 property change bluetoothd announces: Connected tells when a central comes
    // and goes (the peripheral API has no callback for it).
    let rule = format!(
        "type='signal',sender='{BLUEZ}',interface='{PROPERTIES}',member='PropertiesChanged',arg0='{DEVICE}'"
    );
    let m = Message::new_method_call(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "AddMatch",
    )
    .map_err(err)?
    .append1(rule);
    ch.send_with_reply_and_block(m, CALL_TIMEOUT)
        .map_err(|e| err(e.to_string()))?;
    Ok(ch)
}

/// What is registered with bluetoothd now.
struct Published {
    tree: Tree,
    adapter_path: String,
    /// What was published: the role's table and the advertising data (a change republishes).
    key: (GattTable, AdvertisingData),
}

/// A method call sent to bluetoothd whose reply is awaited.
struct Pending {
    serial: u32,
    call: &'static str,
    path: String,
}

struct Serving {
    ch: Channel,
    config: PeripheralConfig,
    device: SyncDevice,
    log: Box<dyn FnMut(String) + Send>,
    clock: LabClock,
    ble: BlePeripheral,
    published: Option<Published>,
    generation: u32,
    /// The central's Device1 object on our adapter while it is connected.
    central: Option<String>,
    /// MTU exchanged and services discovered on the model's link.
    link_ready: bool,
    /// Replies due at a lab time (the model's write responses).
    due: Vec<(SimTime, Message)>,
    pending: Vec<Pending>,
    stats: PeripheralStats,
    failure: Option<PeripheralError>,
}

impl Serving {
    fn new(
        ch: Channel,
        config: PeripheralConfig,
        device: SyncDevice,
        log: Box<dyn FnMut(String) + Send>,
    ) -> Serving {
        let start = device.lock().unwrap_or_else(|e| e.into_inner()).now();
        Serving {
            ch,
            config,
            device,
            log,
            clock: LabClock::new(start, 1.0),
            ble: BlePeripheral::new(),
            published: None,
            generation: 0,
            central: None,
            link_ready: false,
            due: Vec::new(),
            pending: Vec::new(),
            stats: PeripheralStats::default(),
            failure: None,
        }
    }

    fn run(mut self, stop: &AtomicBool) -> Result<PeripheralStats, PeripheralError> {
        while !stop.load(Ordering::SeqCst) && self.failure.is_none() {
            let now = self.clock.now();
            self.step(now);
            self.send_due(now);
            self.ch.flush();
            if self.ch.read_write(Some(MAX_SLEEP)).is_err() {
                break;
            }
            while let Some(m) = self.ch.pop_message() {
                let now = self.clock.now();
                self.handle(m, now);
            }
        }
        self.unpublish();
        self.ch.flush();
        match self.failure.take() {
            Some(e) => Err(e),
            None => Ok(self.stats),
        }
    }

    /// Advance the device; forward what it sent; republish when its firmware changed.
    fn step(&mut self, now: SimTime) {
        let dev = self.device.clone();
        let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
        self.ble.sync(&mut d, now);
        for e in self.ble.events(&mut d, now) {
            match e {
                PeripheralEvent::Notification { handle, value, .. }
                | PeripheralEvent::Indication { handle, value, .. } => {
                    self.value_changed(handle, value);
                }
                PeripheralEvent::Disconnected { reason, .. } => {
                    (self.log)(format!(
                        "the device ended the link (HCI {:#04x})",
                        reason.code()
                    ));
                    self.link_ready = false;
                    // The device terminated: bluetoothd's link goes too (Device1.Disconnect
                    // on the central's object terminates an LE link in either role).
                    if let Some(c) = self.central.take() {
                        if let Ok(mut m) =
                            Message::new_method_call(BLUEZ, c.as_str(), DEVICE, "Disconnect")
                        {
                            m.set_no_reply(true);
                            let _ = self.ch.send(m);
                        }
                    }
                }
            }
        }
        if self.ble.is_connected(now) {
            return;
        }
        let wanted = match (self.ble.scan(&mut d, now), d.status()) {
            (Some(a), Status::App(s)) => Some((Role::from_app(&s), a.data, false)),
            (Some(a), Status::Bootloader(s)) => Some((Role::from_bootloader(&s), a.data, true)),
            _ => None,
        };
        drop(d);
        let same = match (&wanted, &self.published) {
            (Some((r, a, _)), Some(p)) => p.key.0 == r.gatt() && p.key.1 == *a,
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.unpublish();
            if let Some((role, adv, bootloader)) = wanted {
                self.publish(role, adv, bootloader);
            }
        }
    }

    fn adapter_path(&self, bootloader: bool) -> String {
        let name = match (&self.config.bootloader_adapter, bootloader) {
            (Some(b), true) => b,
            _ => &self.config.adapter,
        };
        format!("/org/bluez/{name}")
    }

    fn publish(&mut self, role: Role, adv: AdvertisingData, bootloader: bool) {
        self.generation += 1;
        let table = role.gatt();
        let tree = Tree::new(
            self.generation,
            &table,
            role.mtu_reply(MAX_ATT_MTU),
            &adv,
            self.config.manufacturer_data,
        );
        let adapter_path = self.adapter_path(bootloader);
        (self.log)(format!(
            "publishing {} ({}) on {adapter_path}",
            adv.local_name().unwrap_or("?"),
            if bootloader {
                "bootloader"
            } else {
                "application"
            },
        ));
        let calls = [
            (
                "org.bluez.GattManager1",
                "RegisterApplication",
                tree.root.clone(),
            ),
            (
                "org.bluez.LEAdvertisingManager1",
                "RegisterAdvertisement",
                tree.advertisement.clone(),
            ),
        ];
        for (iface, call, obj) in calls {
            self.call(&adapter_path, iface, call, |m| {
                m.append2(dbus::Path::from(obj), PropMap::new())
            });
        }
        self.published = Some(Published {
            tree,
            adapter_path,
            key: (table, adv),
        });
        self.stats.publications += 1;
    }

    fn unpublish(&mut self) {
        let Some(p) = self.published.take() else {
            return;
        };
        let calls = [
            (
                "org.bluez.LEAdvertisingManager1",
                "UnregisterAdvertisement",
                p.tree.advertisement.clone(),
            ),
            (
                "org.bluez.GattManager1",
                "UnregisterApplication",
                p.tree.root.clone(),
            ),
        ];
        for (iface, call, obj) in calls {
            if let Ok(m) = Message::new_method_call(BLUEZ, p.adapter_path.as_str(), iface, call) {
                // Fire and forget: an advertisement bluetoothd already released answers
                // DoesNotExist, which changes nothing.
                let mut m = m.append1(dbus::Path::from(obj));
                m.set_no_reply(true);
                let _ = self.ch.send(m);
            }
        }
        self.central = None;
        self.link_ready = false;
    }

    fn call(
        &mut self,
        path: &str,
        iface: &str,
        member: &'static str,
        args: impl FnOnce(Message) -> Message,
    ) {
        match Message::new_method_call(BLUEZ, path, iface, member) {
            Ok(m) => {
                if let Ok(serial) = self.ch.send(args(m)) {
                    self.pending.push(Pending {
                        serial,
                        call: member,
                        path: path.to_string(),
                    });
                }
            }
            Err(e) => {
                self.failure = Some(PeripheralError::Register {
                    call: member,
                    path: path.into(),
                    message: e,
                })
            }
        }
    }

    fn send_due(&mut self, now: SimTime) {
        let mut i = 0;
        while i < self.due.len() {
            if self.due[i].0 <= now {
                let (_, m) = self.due.remove(i);
                let _ = self.ch.send(m);
            } else {
                i += 1;
            }
        }
    }

    fn value_changed(&mut self, handle: u16, value: Vec<u8>) {
        let Some(p) = &self.published else { return };
        let Some(c) = p.tree.by_handle(handle) else {
            return;
        };
        self.stats.notifications += 1;
        // Each notification its own signal (gatt-api.txt: PropertiesChanged on Value).
        let mut m = Message::new_signal(c.path.as_str(), PROPERTIES, "PropertiesChanged")
            .expect("valid names");
        {
            let mut ia = IterAppend::new(&mut m);
            ia.append(GATT_CHARACTERISTIC);
            let v = Value::Bytes(value);
            append_props(&mut ia, [(&"Value", &v)]);
            ia.append(Vec::<String>::new());
        }
        let _ = self.ch.send(m);
    }

    fn handle(&mut self, m: Message, now: SimTime) {
        match m.msg_type() {
            dbus::MessageType::MethodReturn | dbus::MessageType::Error => self.reply_to_ours(&m),
            dbus::MessageType::Signal => self.signal(&m, now),
            dbus::MessageType::MethodCall => {
                let r = self.method(&m, now);
                match r {
                    Ok(Some(reply)) => {
                        let _ = self.ch.send(reply);
                    }
                    Ok(None) => {}
                    Err((name, text)) => {
                        let _ = self.ch.send(error(&m, name, &text));
                    }
                }
            }
        }
    }

    fn reply_to_ours(&mut self, m: &Message) {
        let Some(serial) = m.get_reply_serial() else {
            return;
        };
        let Some(i) = self.pending.iter().position(|p| p.serial == serial) else {
            return;
        };
        let p = self.pending.remove(i);
        if m.msg_type() == dbus::MessageType::Error {
            let text: String = m.read1().unwrap_or_default();
            let name = m
                .duplicate()
                .ok()
                .and_then(|mut d| d.as_result().err())
                .and_then(|e| e.name().map(String::from))
                .unwrap_or_default();
            self.failure = Some(PeripheralError::Register {
                call: p.call,
                path: p.path,
                message: format!("{name}: {text}"),
            });
        }
    }

    /// Device1 Connected on our adapter: a central came or went.
    fn signal(&mut self, m: &Message, now: SimTime) {
        let Some(path) = m.path().map(|p| p.to_string()) else {
            return;
        };
        let Some(p) = &self.published else { return };
        if !path.starts_with(&format!("{}/", p.adapter_path)) {
            return;
        }
        let Ok((iface, changed)) = m.read2::<String, PropMap>() else {
            return;
        };
        if iface != DEVICE {
            return;
        }
        let Some(connected) = changed.get("Connected").and_then(|v| v.0.as_u64()) else {
            return;
        };
        let dev = self.device.clone();
        let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
        if connected != 0 {
            if self.ble.is_connected(now) {
                return;
            }
            match self.ble.connect(&mut d, now) {
                Ok(_) => {
                    self.stats.connections += 1;
                    self.central = Some(path.clone());
                    self.link_ready = false;
                    (self.log)(format!("central {path} connected"));
                }
                Err(e) => (self.log)(format!("central {path} connected, the device did not: {e}")),
            }
        } else if self.central.as_deref() == Some(path.as_str()) {
            self.central = None;
            self.link_ready = false;
            let _ = self.ble.disconnect(&mut d, now);
            (self.log)(format!("central {path} disconnected"));
        }
    }

    /// Open the model's link on the first request if bluetoothd's Connected signal has not (an
    /// emulator may not send it); on the first request that carries the MTU bluetoothd
    /// negotiated (WriteValue's `mtu` option; StartNotify has none), exchange it with the
    /// device and discover, as a central's stack does before its first write.
    fn ensure_link(&mut self, now: SimTime, opts: &PropMap) -> Result<SimTime, BleError> {
        let dev = self.device.clone();
        let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
        let mut t = now;
        if !self.ble.is_connected(now) {
            t = self.ble.connect(&mut d, now)?;
            self.stats.connections += 1;
            self.link_ready = false;
            if let Some(c) = opts.get("device").and_then(|v| v.0.as_str()) {
                self.central = Some(c.to_string());
            }
        }
        let mtu = opts.get("mtu").and_then(|v| v.0.as_u64());
        if let (false, Some(mtu)) = (self.link_ready, mtu) {
            let asked = mtu.min(u64::from(u16::MAX)) as u16;
            let (_, t1) = self.ble.exchange_mtu(&mut d, t, asked)?;
            let (_, t2) = self.ble.discover(&mut d, t1)?;
            self.link_ready = true;
            t = t2;
        }
        Ok(t)
    }

    fn method(
        &mut self,
        m: &Message,
        now: SimTime,
    ) -> Result<Option<Message>, (&'static str, String)> {
        let path = m.path().map(|p| p.to_string()).unwrap_or_default();
        let iface = m.interface().map(|i| i.to_string()).unwrap_or_default();
        let member = m.member().map(|i| i.to_string()).unwrap_or_default();
        let Some(p) = &self.published else {
            return Err((
                "org.freedesktop.DBus.Error.UnknownObject",
                format!("no object {path}"),
            ));
        };
        if !p.tree.contains(&path) {
            return Err((
                "org.freedesktop.DBus.Error.UnknownObject",
                format!("no object {path}"),
            ));
        }
        match (iface.as_str(), member.as_str()) {
            ("org.freedesktop.DBus.ObjectManager", "GetManagedObjects") => {
                let mut r = m.method_return();
                p.tree.append_managed(&mut IterAppend::new(&mut r), &path);
                Ok(Some(r))
            }
            ("org.freedesktop.DBus.Introspectable", "Introspect") => {
                Ok(Some(m.method_return().append1(p.tree.introspect(&path))))
            }
            (PROPERTIES, "GetAll") => {
                let want: String = m.read1().unwrap_or_default();
                let mut r = m.method_return();
                let empty = Default::default();
                let props = p.tree.props(&path, &want).unwrap_or(&empty);
                append_props(&mut IterAppend::new(&mut r), props.iter());
                Ok(Some(r))
            }
            (PROPERTIES, "Get") => {
                let (want, name): (String, String) = m
                    .read2()
                    .map_err(|e| ("org.freedesktop.DBus.Error.InvalidArgs", e.to_string()))?;
                let v = p
                    .tree
                    .props(&path, &want)
                    .and_then(|ps| ps.get(name.as_str()))
                    .ok_or((
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        format!("no property {name}"),
                    ))?;
                let mut r = m.method_return();
                v.append_variant(&mut IterAppend::new(&mut r));
                Ok(Some(r))
            }
            (LE_ADVERTISEMENT, "Release") => {
                (self.log)(format!("bluetoothd released the advertisement {path}"));
                Ok(Some(m.method_return()))
            }
            (GATT_CHARACTERISTIC, _) => self.characteristic(m, &path, &member, now),
            _ => Err((
                "org.freedesktop.DBus.Error.UnknownMethod",
                format!("no method {iface}.{member} on {path}"),
            )),
        }
    }

    fn characteristic(
        &mut self,
        m: &Message,
        path: &str,
        member: &str,
        now: SimTime,
    ) -> Result<Option<Message>, (&'static str, String)> {
        let c = self
            .published
            .as_ref()
            .and_then(|p| p.tree.characteristic(path))
            .cloned()
            .ok_or((
                "org.freedesktop.DBus.Error.UnknownObject",
                format!("no characteristic {path}"),
            ))?;
        let dev = self.device.clone();
        match member {
            "ReadValue" => Err(("org.bluez.Error.NotPermitted", "Read not permitted".into())),
            "WriteValue" => {
                let (value, opts): (Vec<u8>, PropMap) = m
                    .read2()
                    .map_err(|e| ("org.bluez.Error.InvalidArguments", e.to_string()))?;
                let t = self.ensure_link(now, &opts).map_err(ble_error)?;
                let command = opts.get("type").and_then(|v| v.0.as_str()) == Some("command");
                let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
                let r = if command {
                    self.ble.write_command(&mut d, t, c.value_handle, &value)
                } else {
                    self.ble.write_request(&mut d, t, c.value_handle, &value)
                };
                drop(d);
                self.stats.writes += 1;
                let at = r.map_err(ble_error)?;
                self.due.push((at, m.method_return()));
                Ok(None)
            }
            "StartNotify" | "StopNotify" => {
                let Some(cccd) = c.cccd_handle else {
                    return Err((
                        "org.bluez.Error.NotSupported",
                        "Operation is not supported".into(),
                    ));
                };
                let on = member == "StartNotify";
                let bits: u16 = match (on, c.properties.contains(Properties::INDICATE)) {
                    (false, _) => 0,
                    (true, true) => 2,
                    (true, false) => 1,
                };
                let t = self.ensure_link(now, &PropMap::new()).map_err(ble_error)?;
                let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
                let r = self.ble.write_request(&mut d, t, cccd, &bits.to_le_bytes());
                drop(d);
                r.map_err(ble_error)?;
                if let Some(p) = self.published.as_mut() {
                    p.tree
                        .set(path, GATT_CHARACTERISTIC, "Notifying", Value::Bool(on));
                }
                Ok(Some(m.method_return()))
            }
            "Confirm" => {
                let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
                let _ = self.ble.confirm_indication(&mut d, now);
                Ok(Some(m.method_return()))
            }
            _ => Err((
                "org.bluez.Error.NotSupported",
                format!("{member} is not supported"),
            )),
        }
    }
}

/// A model error as the D-Bus error bluetoothd turns back into the ATT error the device
/// answered (BlueZ src/gatt-database.c `dbus_error_to_att_ecode`): InvalidValueLength 0x0D,
/// NotSupported 0x06, NotAuthorized 0x08, InvalidOffset 0x07, NotPermitted the operation's "not
/// permitted" (0x03 for a write), ImproperlyConfigured 0xFD (the DFU service's CCCD error),
/// InProgress 0xFE, Failed with a message "0xNN" for an application error 0x80-0x9F. Anything
/// else cannot be carried: Failed with a text message, which bluetoothd sends as 0x80.
fn ble_error(e: BleError) -> (&'static str, String) {
    match e {
        BleError::Att { error, .. } => match error.code() {
            0x0D => ("org.bluez.Error.InvalidValueLength", error.to_string()),
            0x06 => ("org.bluez.Error.NotSupported", error.to_string()),
            0x08 => ("org.bluez.Error.NotAuthorized", error.to_string()),
            0x07 => ("org.bluez.Error.InvalidOffset", error.to_string()),
            0x03 => ("org.bluez.Error.NotPermitted", error.to_string()),
            0xFD => ("org.bluez.Error.ImproperlyConfigured", error.to_string()),
            0xFE => ("org.bluez.Error.InProgress", error.to_string()),
            code @ 0x80..=0x9F => ("org.bluez.Error.Failed", format!("{code:#04x}")),
            _ => ("org.bluez.Error.Failed", error.to_string()),
        },
        other => ("org.bluez.Error.Failed", other.to_string()),
    }
}

fn error(m: &Message, name: &str, text: &str) -> Message {
    let name = dbus::strings::ErrorName::new(name)
        .unwrap_or_else(|_| dbus::strings::ErrorName::from("org.bluez.Error.Failed"));
    let text = std::ffi::CString::new(text.replace('\0', " ")).unwrap_or_default();
    m.error(&name, &text)
}
