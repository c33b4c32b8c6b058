//! The virtual bluetoothd: adapters, devices and their GATT objects, driven by D-Bus calls and
//! by lab time. No I/O here: [`Bluez::handle`] takes a method call, [`Bluez::tick`] moves lab
//! time on, and both leave replies and signals in the outbox for the server to send.
//!
//! Source for each rule: BlueZ (git master, Aug 2026, the same logic as Debian bookworm's 5.66
//! for every rule cited) src/adapter.c, src/device.c, src/gatt-client.c, src/shared/att.c,
//! src/error.c, named per function where the rule is applied.

mod cache;
mod discovery;
mod dispatch;
mod export;
/// The Flags names of a characteristic, shared by the central side and the peripheral mode
/// (gatt-api.txt "Flags": the same names both ways).
pub(crate) use export::flags as characteristic_flags;
mod link;
mod security;

use crate::names::{self, BluezError};
use crate::objects::ObjectTree;
use crate::radio::Radio;
use crate::value::Value;
use dbus::Message;
use link::Link;
use std::collections::BTreeMap;
use std::time::Duration;
use virtual_nrf52::ble::gatt::GattTable;
use virtual_nrf52::ble::BleAddress;
use virtual_nrf52::SimTime;

/// main.c `DEFAULT_TEMPORARY_TIMEOUT`: a device only seen, never connected, is removed this
/// long after it was last seen (device.c `set_temporary_timer` → `device_disappeared`).
pub const TEMPORARY_TIMEOUT: Duration = Duration::from_secs(30);
/// device.c `DISCONNECT_TIMER`: Device1.Disconnect waits this long before the link is
/// terminated (`device_request_disconnect` → `disconnect_all`).
pub const DISCONNECT_TIMER: Duration = Duration::from_secs(2);
/// How long the kernel tries to create an LE connection before cancelling it (Linux
/// include/net/bluetooth/hci.h `HCI_LE_CONN_TIMEOUT`, 20 s); bluetoothd then answers Connect
/// with `le-connection-abort-by-local` (the cancel completes with 0x16 → ECONNABORTED).
pub const LE_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// main.conf `[GATT] ExchangeMTU` default (main.c `btd_opts.gatt_mtu = BT_ATT_MAX_LE_MTU`).
pub const DEFAULT_EXCHANGE_MTU: u16 = 517;

/// One adapter as configured by the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterConfig {
    /// `hci0`, `hci1`, ...
    pub name: String,
    /// Public address, most significant byte first.
    pub address: [u8; 6],
    /// The MTU bluetoothd asks for in its Exchange MTU Request (main.conf `ExchangeMTU`).
    pub exchange_mtu: u16,
}

impl AdapterConfig {
    pub fn new(index: u8) -> AdapterConfig {
        AdapterConfig {
            name: format!("hci{index}"),
            address: [0x00, 0x1A, 0x7D, 0xDA, 0x71, index],
            exchange_mtu: DEFAULT_EXCHANGE_MTU,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Lowercase 128-bit UUID strings; empty = no UUID filter.
    pub uuids: Vec<String>,
    pub duplicate: bool,
    /// RSSI or Pathloss given: bluetoothd reports every RSSI change (proximity filter).
    pub proximity: bool,
    pub rssi: Option<i16>,
}

pub(crate) struct Adapter {
    pub config: AdapterConfig,
    pub path: String,
    pub powered: bool,
    /// Senders with a discovery session (adapter.c `discovery_list`).
    pub sessions: Vec<String>,
    /// Each sender's filter (adapter.c `set_discovery_filter` keeps one per client).
    pub filters: BTreeMap<String, Filter>,
}

impl Adapter {
    pub fn discovering(&self) -> bool {
        self.powered && !self.sessions.is_empty()
    }

    /// adapter.c `is_filter_match` over all sessions: a session without a filter, or with no
    /// UUIDs, matches everything.
    pub fn filter_matches(&self, uuids: &[String], rssi: i16) -> bool {
        self.sessions.iter().any(|s| match self.filters.get(s) {
            None => true,
            Some(f) => {
                (f.uuids.is_empty() || f.uuids.iter().any(|u| uuids.contains(u)))
                    && f.rssi.is_none_or(|r| r <= rssi)
            }
        })
    }

    /// adapter.c `filter_duplicate_data`: any session asking for duplicates.
    pub fn duplicate_data(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| self.filters.get(s).is_some_and(|f| f.duplicate))
    }

    /// adapter.c `discovery_filter_has_proximity`.
    pub fn proximity(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| self.filters.get(s).is_some_and(|f| f.proximity))
    }
}

pub(crate) enum Conn {
    Idle,
    /// Device1.Connect waiting for the device to advertise (the kernel's LE Create
    /// Connection).
    Connecting {
        msg: Message,
        give_up: SimTime,
    },
    Linked(Box<Link>),
}

pub(crate) struct Dev {
    pub path: String,
    pub adapter: usize,
    pub address: BleAddress,
    /// device.c `temporary`: cleared by Connect (`dev_connect` → `btd_device_set_temporary(dev,
    /// false)`) and by service registration, so a device once connected stays in the tree.
    pub temporary: bool,
    pub last_seen: SimTime,
    pub conn: Conn,
    /// The GATT database bluetoothd keeps for the device between connections, as BlueZ's
    /// view (its D-Bus objects stay): main.conf `[GATT] Cache` defaults to `always`, and
    /// device.c `gatt_cache_cleanup` then does not clear it on disconnection.
    pub gatt_cache: Option<GattTable>,
    /// The bond's keys after a pairing (bluez/security.rs): Paired and Bonded.
    pub keys: Option<virtual_nrf52::ble::BondKeys>,
}

/// Counters for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BluezStats {
    pub method_calls: u64,
    pub signals: u64,
    pub replies: u64,
    pub notifications: u64,
    pub write_commands: u64,
    /// Write commands still queued in bluetoothd when their link went down (lost silently, as
    /// att.c `disconnect_cb` destroys the write queue).
    pub commands_lost: u64,
    pub max_command_queue: usize,
}

pub struct Bluez {
    pub(crate) tree: ObjectTree,
    pub(crate) adapters: Vec<Adapter>,
    pub(crate) radios: Vec<Radio>,
    pub(crate) devices: BTreeMap<String, Dev>,
    pub(crate) temporary_timeout: Duration,
    timers: Vec<(SimTime, Job)>,
    pub stats: BluezStats,
}

/// Work scheduled at a lab time (the lab's power-on after a power cut).
pub type Job = Box<dyn FnOnce(&mut Bluez, SimTime) + Send>;

impl Bluez {
    pub fn new(adapters: Vec<AdapterConfig>) -> Bluez {
        let mut b = Bluez {
            tree: ObjectTree::new(),
            adapters: Vec::new(),
            radios: Vec::new(),
            devices: BTreeMap::new(),
            temporary_timeout: TEMPORARY_TIMEOUT,
            timers: Vec::new(),
            stats: BluezStats::default(),
        };
        for c in adapters {
            b.add_adapter(c);
        }
        b
    }

    /// Run `job` when lab time reaches `at`.
    pub fn schedule(&mut self, at: SimTime, job: Job) {
        self.timers.push((at, job));
    }

    pub fn set_temporary_timeout(&mut self, t: Duration) {
        self.temporary_timeout = t;
    }

    /// Back to a freshly started bluetoothd: every device object and radio gone, adapters
    /// powered with no discovery session, default timers. (libdbus reads the system bus address
    /// once per process, so a process that needs a fresh BlueZ resets this one instead of
    /// starting another bus.)
    pub fn reset(&mut self) {
        let paths: Vec<String> = self.devices.keys().cloned().collect();
        for p in paths {
            self.tree.remove_tree(&p);
        }
        self.devices.clear();
        self.radios.clear();
        self.timers.clear();
        self.temporary_timeout = TEMPORARY_TIMEOUT;
        for a in &mut self.adapters {
            a.sessions.clear();
            a.filters.clear();
            a.powered = true;
            let path = a.path.clone();
            self.tree
                .set(&path, names::ADAPTER, "Discovering", Value::Bool(false));
            self.tree
                .set(&path, names::ADAPTER, "Powered", Value::Bool(true));
        }
    }

    /// main.conf `[GATT] ExchangeMTU` for adapter `adapter` (takes effect on the next
    /// connection).
    pub fn set_exchange_mtu(&mut self, adapter: usize, mtu: u16) {
        if let Some(a) = self.adapters.get_mut(adapter) {
            a.config.exchange_mtu = mtu;
        }
    }

    /// Put a virtual device in range of adapter `adapter`; returns its radio index.
    pub fn add_radio(&mut self, radio: Radio) -> usize {
        self.radios.push(radio);
        self.radios.len() - 1
    }

    pub fn radio_mut(&mut self, i: usize) -> Option<&mut Radio> {
        self.radios.get_mut(i)
    }

    pub fn radios(&self) -> usize {
        self.radios.len()
    }

    /// Replies and signals to send, in order.
    pub fn take_outbox(&mut self) -> Vec<Message> {
        let out = self.tree.take_outbox();
        for m in &out {
            match m.msg_type() {
                dbus::MessageType::Signal => self.stats.signals += 1,
                _ => self.stats.replies += 1,
            }
        }
        out
    }

    /// Every object path exported now (for tests).
    pub fn object_paths(&self) -> Vec<String> {
        self.tree.paths().cloned().collect()
    }

    /// Move lab time to `now`: advertising reports, connection progress, GATT traffic,
    /// notifications, link losses, timers.
    pub fn tick(&mut self, now: SimTime) {
        while let Some(i) = self.timers.iter().position(|(t, _)| *t <= now) {
            let (t, job) = self.timers.remove(i);
            job(self, t);
        }
        // Every device lives on lab time, heard or not (boot, activation, inactivity timers).
        for r in &self.radios {
            r.with(|ble, d| ble.sync(d, now));
        }
        self.connect_attempts(now);
        self.links(now);
        self.scan(now);
        self.expire_temporary(now);
        self.tree.flush();
    }

    /// The next lab time at which something is due, if known (the server sleeps until then,
    /// or until a message arrives).
    pub fn next_due(&self) -> Option<SimTime> {
        let mut due: Option<SimTime> = None;
        let mut at = |t: SimTime| due = Some(due.map_or(t, |d| d.min(t)));
        for (t, _) in &self.timers {
            at(*t);
        }
        for d in self.devices.values() {
            match &d.conn {
                Conn::Idle => {
                    if d.temporary {
                        at(d.last_seen + self.temporary_timeout);
                    }
                }
                Conn::Connecting { give_up, .. } => at((*give_up).min(SimTime::MAX)),
                Conn::Linked(l) => {
                    if let Some(t) = l.next_due() {
                        at(t)
                    }
                    if let Some(t) = self
                        .radios
                        .get(l.radio)
                        .and_then(|r| r.with(|ble, dev| ble.next_event_time(dev)))
                        .flatten()
                    {
                        at(t)
                    }
                }
            }
        }
        for r in &self.radios {
            let discovering = self.adapters[r.adapter].discovering();
            let (own, adv) = r
                .with(|ble, dev| {
                    let adv = r
                        .last_report
                        .filter(|_| discovering)
                        .and_then(|l| ble.next_advertisement(l + Duration::from_nanos(1)));
                    (dev.next_event_time(), adv)
                })
                .unwrap_or((None, None));
            if let Some(t) = own {
                at(t)
            }
            if let Some(t) = adv {
                at(t)
            }
        }
        due
    }

    fn add_adapter(&mut self, c: AdapterConfig) {
        let path = format!("/org/bluez/{}", c.name);
        let ifaces = export::adapter_interfaces(&c, true);
        self.tree.add(&path, ifaces);
        self.adapters.push(Adapter {
            config: c,
            path,
            powered: true,
            sessions: Vec::new(),
            filters: BTreeMap::new(),
        });
    }

    /// The device object for `address` on `adapter`, if bluetoothd has one.
    pub(crate) fn device_path(&self, adapter: usize, address: BleAddress) -> String {
        let a = address.0;
        format!(
            "{}/dev_{:02X}_{:02X}_{:02X}_{:02X}_{:02X}_{:02X}",
            self.adapters[adapter].path, a[5], a[4], a[3], a[2], a[1], a[0]
        )
    }

    /// device.c `device_disappeared` for temporary devices not seen for the timeout.
    fn expire_temporary(&mut self, now: SimTime) {
        let tmpto = self.temporary_timeout;
        let gone: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.temporary && matches!(d.conn, Conn::Idle) && now >= d.last_seen + tmpto)
            .map(|d| d.path.clone())
            .collect();
        for p in gone {
            self.devices.remove(&p);
            self.tree.remove_tree(&p);
        }
    }

    pub(crate) fn reply(&mut self, msg: &Message, r: Result<Message, BluezError>) {
        let m = match r {
            Ok(m) => m,
            Err(e) => error_reply(msg, &e),
        };
        self.tree.push(m);
    }
}

pub(crate) fn error_reply(msg: &Message, e: &BluezError) -> Message {
    let name = dbus::strings::ErrorName::new(e.name.as_str())
        .unwrap_or_else(|_| dbus::strings::ErrorName::from("org.bluez.Error.Failed"));
    let text = std::ffi::CString::new(e.message.replace('\0', " ")).unwrap_or_default();
    msg.error(&name, &text)
}
