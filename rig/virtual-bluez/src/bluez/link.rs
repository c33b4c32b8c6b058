//! Connections: Device1.Connect to ServicesResolved, GATT traffic through bluetoothd's ATT
//! queues, notifications and indications, Disconnect, and link loss.
//!
//! The ATT queues are att.c's (`bt_att_send`, `pick_next_send_op`): write commands go to the
//! write queue, requests to the request queue; the write queue drains first, and a request
//! waits for the previous one's response. Neither queue has a bound in bluetoothd (they are
//! `queue_push_tail` lists): the bound is the link, whose connection events carry a fixed
//! number of packets (the device's timing profile). So a WriteValue of type "command" is
//! answered at once (gatt-client.c `characteristic_write_value` returns as soon as
//! `bt_gatt_client_write_without_response` queued it); when the link cannot keep up the queue
//! grows and the packets leave later, and on a link loss whatever is still queued is dropped
//! silently (att.c `disconnect_cb` → `queue_remove_all`): the client was told the writes
//! succeeded. Packets are handed to the device model no earlier than the connection event they
//! leave in, so the device never runs ahead of lab time by more than one event.

use super::export::{char_path, service_path};
use super::{Bluez, Conn};
use crate::names::{disconnect_reason, le, BluezError, CHARACTERISTIC, DEVICE};
use crate::objects::signal;
use crate::value::Value;
use dbus::Message;
use std::collections::{BTreeSet, VecDeque};
use virtual_nrf52::ble::gatt::GattTable;
use virtual_nrf52::ble::{BleError, DisconnectReason, PeripheralEvent};
use virtual_nrf52::SimTime;

#[derive(Debug)]
pub(crate) enum Stage {
    /// LE connection made; the first connection event (Connected, Connect's reply) at `at`.
    Up(SimTime),
    /// Exchange MTU answered at `at` (gatt_client_init → `exchange_mtu_cb`).
    Mtu(SimTime),
    /// Primary/characteristic/descriptor discovery done at `at`.
    Discovery(SimTime, GattTable),
    /// Services exported, ServicesResolved true.
    Ready,
}

#[derive(Debug, Clone)]
pub(crate) enum ReqKind {
    Write {
        handle: u16,
        value: Vec<u8>,
    },
    /// CCCD write for StartNotify/StopNotify of the characteristic at `chr`.
    Cccd {
        handle: u16,
        chr: String,
        on: bool,
        value: Vec<u8>,
    },
}

pub(crate) struct Request {
    pub msg: Message,
    pub kind: ReqKind,
}

pub(crate) struct InFlight {
    pub due: SimTime,
    pub msg: Message,
    pub kind: ReqKind,
    pub result: Result<(), BluezError>,
}

pub(crate) struct Link {
    pub radio: usize,
    pub stage: Stage,
    pub connect_msg: Option<Message>,
    pub mtu: u16,
    pub table: Option<GattTable>,
    pub commands: VecDeque<(u16, Vec<u8>)>,
    pub requests: VecDeque<Request>,
    pub in_flight: Option<InFlight>,
    /// The connection event the last handed-over packet leaves in.
    pub fed_until: SimTime,
    /// Characteristics (object paths) with a notification session.
    pub notifying: BTreeSet<String>,
    /// Device1.Disconnect: when `disconnect_all` runs, and the calls waiting for the link to go.
    pub disconnect_at: Option<SimTime>,
    pub disconnects: Vec<Message>,
    pub terminating: bool,
}

impl Link {
    pub fn next_due(&self) -> Option<SimTime> {
        let mut v = Vec::new();
        match &self.stage {
            Stage::Up(t) | Stage::Mtu(t) | Stage::Discovery(t, _) => v.push(*t),
            Stage::Ready => {}
        }
        if let Some(f) = &self.in_flight {
            v.push(f.due);
        }
        if !self.commands.is_empty() || !self.requests.is_empty() {
            v.push(self.fed_until);
        }
        if let Some(t) = self.disconnect_at.filter(|_| !self.terminating) {
            v.push(t);
        }
        v.into_iter().min()
    }

    pub fn resolved(&self) -> bool {
        matches!(self.stage, Stage::Ready)
    }

    /// The value handle of the characteristic exported at `chr`.
    pub fn value_handle(
        &self,
        dev: &str,
        chr: &str,
    ) -> Option<(u16, Option<u16>, virtual_nrf52::ble::gatt::Properties)> {
        let t = self.table.as_ref()?;
        for s in &t.services {
            let sp = service_path(dev, s.start_handle);
            for c in &s.characteristics {
                if char_path(&sp, c.declaration_handle) == chr {
                    return Some((c.value_handle, c.cccd_handle, c.properties));
                }
            }
        }
        None
    }

    /// The characteristic object for a value handle.
    pub fn chr_of_handle(&self, dev: &str, handle: u16) -> Option<String> {
        let t = self.table.as_ref()?;
        for s in &t.services {
            for c in &s.characteristics {
                if c.value_handle == handle {
                    return Some(char_path(
                        &service_path(dev, s.start_handle),
                        c.declaration_handle,
                    ));
                }
            }
        }
        None
    }
}

impl Bluez {
    /// Device1.Connect (device.c `dev_connect`).
    pub(crate) fn connect(&mut self, path: &str, msg: Message, now: SimTime) {
        let Some(d) = self.devices.get_mut(path) else {
            return;
        };
        if !self.adapters[d.adapter].powered {
            let e = BluezError::failed(le::ADAPTER_NOT_POWERED);
            self.reply(&msg, Err(e));
            return;
        }
        match &d.conn {
            // `if (dev->connect) return btd_error_in_progress(msg)`.
            Conn::Connecting { .. } => self.reply(&msg, Err(BluezError::in_progress())),
            // Still waiting for the first connection event: `dev->connect` is set.
            Conn::Linked(l) if l.connect_msg.is_some() => {
                self.reply(&msg, Err(BluezError::in_progress()))
            }
            // `if (dev->le_state.connected) return dbus_message_new_method_return(msg)`.
            Conn::Linked(_) => {
                let r = msg.method_return();
                self.reply(&msg, Ok(r));
            }
            Conn::Idle => {
                d.temporary = false;
                d.conn = Conn::Connecting {
                    msg,
                    give_up: now + super::LE_CONNECT_TIMEOUT,
                };
                self.connect_attempts(now);
            }
        }
    }

    /// The kernel's LE Create Connection: connect at the device's next advertising event, or
    /// give up after [`super::LE_CONNECT_TIMEOUT`].
    pub(crate) fn connect_attempts(&mut self, now: SimTime) {
        let waiting: Vec<String> = self
            .devices
            .values()
            .filter(|d| matches!(d.conn, Conn::Connecting { .. }))
            .map(|d| d.path.clone())
            .collect();
        if waiting.is_empty() {
            return;
        }
        // Links first: a radio holds one connection, and taking a new one clears its event
        // queue, so a link that ended meanwhile (a reset under it: the supervision timeout) must
        // have its Disconnected event seen before the radio connects again, or its object stays
        // connected for ever and reads the new connection's events.
        self.links(now);
        for path in waiting {
            let (adapter, address) = {
                let d = &self.devices[&path];
                (d.adapter, d.address)
            };
            let mut linked = None;
            let central = Some(self.central_address(adapter));
            for (i, r) in self.radios.iter_mut().enumerate() {
                if r.adapter != adapter {
                    continue;
                }
                let anchor = r.with(|ble, dv| {
                    let a = ble.scan(dv, now)?;
                    if a.address != address {
                        return None;
                    }
                    ble.connect_from(dv, now, central).ok()
                });
                if let Some(Some(anchor)) = anchor {
                    linked = Some((i, anchor));
                    break;
                }
            }
            let d = self.devices.get_mut(&path).expect("listed above");
            let Conn::Connecting { give_up, .. } = &d.conn else {
                continue;
            };
            let give_up = *give_up;
            match linked {
                Some((radio, anchor)) => {
                    let Conn::Connecting { msg, .. } = std::mem::replace(&mut d.conn, Conn::Idle)
                    else {
                        continue;
                    };
                    d.conn = Conn::Linked(Box::new(Link {
                        radio,
                        stage: Stage::Up(anchor),
                        connect_msg: Some(msg),
                        mtu: 23,
                        table: None,
                        commands: VecDeque::new(),
                        requests: VecDeque::new(),
                        in_flight: None,
                        fed_until: anchor,
                        notifying: BTreeSet::new(),
                        disconnect_at: None,
                        disconnects: Vec::new(),
                        terminating: false,
                    }));
                }
                None if now >= give_up => {
                    let Conn::Connecting { msg, .. } = std::mem::replace(&mut d.conn, Conn::Idle)
                    else {
                        continue;
                    };
                    d.last_seen = now;
                    // att_connect_cb with ECONNABORTED → `btd_error_le_errno`.
                    self.reply(&msg, Err(BluezError::failed(le::ABORT_BY_LOCAL)));
                }
                None => {}
            }
        }
    }

    /// Drive every link to `now`.
    pub(crate) fn links(&mut self, now: SimTime) {
        let linked: Vec<String> = self
            .devices
            .values()
            .filter(|d| matches!(d.conn, Conn::Linked(_)))
            .map(|d| d.path.clone())
            .collect();
        for path in linked {
            self.drive_link(&path, now);
        }
    }

    fn link_mut(&mut self, path: &str) -> Option<&mut Link> {
        match &mut self.devices.get_mut(path)?.conn {
            Conn::Linked(l) => Some(l),
            _ => None,
        }
    }

    fn drive_link(&mut self, path: &str, now: SimTime) {
        // Events the device sent, in time order, up to now: each at its own time, interleaved
        // with the link's own progress.
        loop {
            let Some(l) = self.link_mut(path) else { return };
            let radio = l.radio;
            let stage_due = match &l.stage {
                Stage::Up(t) | Stage::Mtu(t) | Stage::Discovery(t, _) => Some(*t),
                Stage::Ready => None,
            };
            let upto = stage_due.filter(|t| *t <= now).unwrap_or(now);
            let events = self.radios[radio]
                .with(|ble, dv| ble.events(dv, upto))
                .unwrap_or_default();
            let mut down = false;
            for e in events {
                if self.peripheral_event(path, e) {
                    down = true;
                    break;
                }
            }
            if down {
                return;
            }
            match stage_due {
                Some(t) if t <= now => {
                    if !self.advance_stage(path, t) {
                        return;
                    }
                }
                _ => break,
            }
        }
        self.feed(path, now);
        self.finish_requests(path, now);
        self.disconnect_timer(path, now);
    }

    /// One step of connection setup at its time `t`. False if the link is gone.
    fn advance_stage(&mut self, path: &str, t: SimTime) -> bool {
        let exchange = {
            let d = &self.devices[path];
            self.adapters[d.adapter].config.exchange_mtu
        };
        let Some(l) = self.link_mut(path) else {
            return false;
        };
        let radio = l.radio;
        let stage = std::mem::replace(&mut l.stage, Stage::Ready);
        let air = self.radios[radio].air.clone();
        match stage {
            Stage::Up(_) => {
                match self.encrypt_on_connect(path, t) {
                    Some(Ok(at)) => {
                        self.link_mut(path).expect("linked").stage = Stage::Up(at);
                        return true;
                    }
                    Some(Err(at)) => {
                        self.link_down(path, 0x05, at);
                        return false;
                    }
                    None => {}
                }
                // att_connect_cb: le_state.connected, Connect answered, then the GATT client
                // starts (`device_browse_gatt` → gatt_client_init).
                self.tree.set(path, DEVICE, "Connected", Value::Bool(true));
                let msg = self.link_mut(path).and_then(|l| l.connect_msg.take());
                if let Some(m) = msg {
                    let r = m.method_return();
                    self.reply(&m, Ok(r));
                }
                if exchange <= virtual_nrf52::ble::mtu::ATT_DEFAULT_MTU {
                    // shared/gatt-client.c `gatt_client_init`: no Exchange MTU when the MTU
                    // to ask is the default; discovery starts at once.
                    self.link_mut(path).expect("linked").stage = Stage::Mtu(t);
                    return true;
                }
                let mut g = air.lock();
                let Some((ble, dv)) = g.parts() else {
                    drop(g);
                    return self.off_air(path, t);
                };
                match ble.exchange_mtu(dv, t, exchange) {
                    Ok((mtu, at)) => {
                        drop(g);
                        let l = self.link_mut(path).expect("linked");
                        l.mtu = mtu;
                        l.stage = Stage::Mtu(at);
                        true
                    }
                    Err(e) => {
                        drop(g);
                        self.setup_failed(path, e, t)
                    }
                }
            }
            Stage::Mtu(_) => {
                let mut g = air.lock();
                let Some((ble, dv)) = g.parts() else {
                    drop(g);
                    return self.off_air(path, t);
                };
                let r = ble.discover(dv, t);
                drop(g);
                match r {
                    Ok((table, at)) => {
                        self.link_mut(path).expect("linked").stage = Stage::Discovery(at, table);
                        true
                    }
                    Err(e) => self.setup_failed(path, e, t),
                }
            }
            Stage::Discovery(_, table) => {
                let l = self.link_mut(path).expect("linked");
                let mtu = l.mtu;
                let cached = self.devices.get(path).and_then(|d| d.gatt_cache.clone());
                let view =
                    super::cache::refresh(&mut self.tree, path, cached.as_ref(), &table, mtu);
                if let Some(d) = self.devices.get_mut(path) {
                    d.gatt_cache = Some(view.clone());
                }
                let l = self.link_mut(path).expect("linked");
                l.table = Some(view);
                l.fed_until = t;
                // device_svc_resolved → ServicesResolved (after the objects exist, so a client
                // reacting to it finds them).
                self.tree
                    .set(path, DEVICE, "ServicesResolved", Value::Bool(true));
                self.register_service_changed(path, t);
                true
            }
            Stage::Ready => true,
        }
    }

    /// The device went off the air (the lab no longer has it on a radio): the link times out.
    fn off_air(&mut self, path: &str, t: SimTime) -> bool {
        self.link_down(path, DisconnectReason::ConnectionTimeout.code(), t);
        false
    }

    /// A failure during setup: the link is lost (its Disconnected event follows) or already
    /// gone.
    fn setup_failed(&mut self, path: &str, e: BleError, t: SimTime) -> bool {
        match e {
            BleError::Disconnected { at, reason } => {
                // The loss is queued in the peripheral's events and seen at `at`; until then
                // setup stalls.
                let _ = reason;
                if let Some(l) = self.link_mut(path) {
                    l.stage = Stage::Mtu(at.max(t) + std::time::Duration::from_secs(3600));
                }
                true
            }
            _ => {
                self.link_down(path, DisconnectReason::ConnectionTimeout.code(), t);
                false
            }
        }
    }

    /// Something the device sent reached bluetoothd. True if the link went down.
    fn peripheral_event(&mut self, path: &str, e: PeripheralEvent) -> bool {
        match e {
            PeripheralEvent::Notification { handle, value, .. } => {
                self.value_arrived(path, handle, value);
                false
            }
            PeripheralEvent::Indication { at, handle, value } => {
                self.service_changed(path, handle, &value);
                self.value_arrived(path, handle, value);
                // att.c `handle_notify`: bluetoothd confirms an indication itself, at once.
                if let Some(l) = self.link_mut(path) {
                    let radio = l.radio;
                    self.radios[radio].with(|ble, dv| ble.confirm_indication(dv, at));
                }
                false
            }
            PeripheralEvent::Disconnected { at, reason } => {
                self.link_down(path, reason.code(), at);
                true
            }
        }
    }

    /// gatt-client.c `notify_cb` → `write_characteristic_cb`: the Value property, flushed as
    /// its own PropertiesChanged, for every notification of a characteristic with a session.
    fn value_arrived(&mut self, path: &str, handle: u16, value: Vec<u8>) {
        let Some(l) = self.link_mut(path) else { return };
        let Some(chr) = l.chr_of_handle(path, handle) else {
            return;
        };
        if !l.notifying.contains(&chr) {
            return;
        }
        self.stats.notifications += 1;
        self.tree
            .set_flush(&chr, CHARACTERISTIC, "Value", Value::Bytes(value));
    }

    /// Queue a WriteValue. Commands are answered at once; requests when their response comes.
    pub(crate) fn write_value(
        &mut self,
        path: &str,
        chr: &str,
        msg: Message,
        value: Vec<u8>,
        kind: Option<String>,
        now: SimTime,
    ) {
        let Some(l) = self.link_mut(path) else {
            // gatt-client.c: `if (!gatt) return btd_error_failed(msg, "Not connected")`.
            self.reply(&msg, Err(BluezError::failed("Not connected")));
            return;
        };
        let Some((handle, _, props)) = l.value_handle(path, chr) else {
            self.reply(&msg, Err(BluezError::failed("Not connected")));
            return;
        };
        use virtual_nrf52::ble::gatt::Properties as P;
        let kind = kind.map(|k| k.to_ascii_lowercase());
        // `characteristic_write_value`: an explicit type wins; else "write" if the
        // characteristic has it, else a command if it has write-without-response.
        let request = match kind.as_deref() {
            Some("request") => true,
            Some("command") => false,
            Some("reliable") => {
                self.reply(&msg, Err(BluezError::not_supported()));
                return;
            }
            Some(_) => {
                self.reply(&msg, Err(BluezError::not_supported()));
                return;
            }
            None if props.contains(P::WRITE) => true,
            None if props.contains(P::WRITE_WITHOUT_RESPONSE) => false,
            None => {
                self.reply(&msg, Err(BluezError::not_supported()));
                return;
            }
        };
        if request {
            // `if (chrc->write_op) return btd_error_in_progress(msg)`.
            let busy = l.in_flight.as_ref().is_some_and(
                |f| matches!(&f.kind, ReqKind::Write { handle: h, .. } if *h == handle),
            ) || l
                .requests
                .iter()
                .any(|r| matches!(&r.kind, ReqKind::Write { handle: h, .. } if *h == handle));
            if busy {
                self.reply(&msg, Err(BluezError::in_progress()));
                return;
            }
            l.requests.push_back(Request {
                msg,
                kind: ReqKind::Write { handle, value },
            });
        } else {
            // bt_att_send refuses a PDU longer than the ATT MTU (att.c `create_att_send_op`:
            // opcode + handle + value ≤ MTU), and bluetoothd answers "Failed to initiate
            // write".
            if value.len() + 3 > usize::from(l.mtu) {
                self.reply(&msg, Err(BluezError::failed("Failed to initiate write")));
                return;
            }
            l.commands.push_back((handle, value));
            let depth = l.commands.len();
            self.stats.write_commands += 1;
            self.stats.max_command_queue = self.stats.max_command_queue.max(depth);
            let r = msg.method_return();
            self.reply(&msg, Ok(r));
        }
        self.feed(path, now);
        self.finish_requests(path, now);
    }

    /// StartNotify / StopNotify (gatt-client.c `characteristic_start_notify`, `_stop_notify`).
    pub(crate) fn notify(&mut self, path: &str, chr: &str, msg: Message, on: bool, now: SimTime) {
        let Some(l) = self.link_mut(path) else {
            self.reply(&msg, Err(BluezError::failed("Not connected")));
            return;
        };
        if l.disconnect_at.is_some() {
            // "Device is disconnecting. StartNotify is not allowed."
            if on {
                self.reply(&msg, Err(BluezError::not_connected()));
                return;
            }
        }
        let Some((_, cccd, props)) = l.value_handle(path, chr) else {
            self.reply(&msg, Err(BluezError::failed("Not connected")));
            return;
        };
        use virtual_nrf52::ble::gatt::Properties as P;
        let Some(cccd) = cccd.filter(|_| props.intersects(P::NOTIFY | P::INDICATE)) else {
            self.reply(&msg, Err(BluezError::not_supported()));
            return;
        };
        let has = l.notifying.contains(chr);
        if on && has {
            // One session per client: a second StartNotify succeeds at once.
            let r = msg.method_return();
            self.reply(&msg, Ok(r));
            return;
        }
        if !on && !has {
            self.reply(&msg, Err(BluezError::failed("No notify session started")));
            return;
        }
        let bits: u16 = if !on {
            0
        } else if props.contains(P::NOTIFY) {
            1
        } else {
            2
        };
        l.requests.push_back(Request {
            msg,
            kind: ReqKind::Cccd {
                handle: cccd,
                chr: chr.to_string(),
                on,
                value: bits.to_le_bytes().to_vec(),
            },
        });
        self.feed(path, now);
        self.finish_requests(path, now);
    }

    /// Hand queued PDUs to the device, in att.c's order, no earlier than the connection event
    /// that carries them.
    fn feed(&mut self, path: &str, now: SimTime) {
        let Some(l) = self.link_mut(path) else { return };
        if !l.resolved() || l.terminating {
            return;
        }
        let radio = l.radio;
        let air = self.radios[radio].air.clone();
        let mut g = air.lock();
        let Some((ble, dv)) = g.parts() else { return };
        let d = self.devices.get_mut(path).expect("linked");
        let Conn::Linked(l) = &mut d.conn else {
            return;
        };
        let keys = &mut d.keys;
        let mut paired = false;
        while let Some(c) = ble.connection() {
            // Up to the next connection event (and whatever still fits in the one the last
            // packet went in).
            let horizon = c.link.event_at_or_after(now).max(l.fed_until);
            let mut probe = c.link.clone();
            if probe.send(now) > horizon {
                break;
            }
            if let Some((handle, value)) = l.commands.pop_front() {
                if let Ok(at) = ble.write_command(dv, now, handle, &value) {
                    l.fed_until = at;
                }
                continue;
            }
            if l.in_flight.is_some() {
                break;
            }
            let Some(req) = l.requests.pop_front() else {
                break;
            };
            let (handle, value) = match &req.kind {
                ReqKind::Write { handle, value } => (*handle, value.clone()),
                ReqKind::Cccd { handle, value, .. } => (*handle, value.clone()),
            };
            let mut first = ble.write_request(dv, now, handle, &value);
            if let Err(BleError::Att { error, at }) = &first {
                if super::security::raises_security(error.code()) {
                    // att.c `change_security`, then the request again.
                    if let Ok((t, new)) = super::security::raise_security(ble, dv, keys, *at) {
                        paired |= new;
                        first = ble.write_request(dv, t, handle, &value);
                    }
                }
            }
            let (due, result) = match first {
                Ok(at) => (at, Ok(())),
                Err(BleError::Att { error, at }) => (at, Err(BluezError::from_att(error.code()))),
                // The link went before the response: answered when the loss is seen.
                Err(BleError::Disconnected { at, .. }) => {
                    (at, Err(BluezError::failed("Operation failed")))
                }
                Err(_) => (now, Err(BluezError::failed("Not connected"))),
            };
            l.in_flight = Some(InFlight {
                due,
                msg: req.msg,
                kind: req.kind,
                result,
            });
            break;
        }
        drop(g);
        if paired {
            self.bonded(path);
        }
    }

    /// Answer the request whose response has arrived.
    fn finish_requests(&mut self, path: &str, now: SimTime) {
        loop {
            let Some(l) = self.link_mut(path) else { return };
            let Some(f) = l.in_flight.take_if(|f| f.due <= now) else {
                return;
            };
            if let (ReqKind::Cccd { chr, on, .. }, Ok(())) = (&f.kind, &f.result) {
                if *on {
                    l.notifying.insert(chr.clone());
                } else {
                    l.notifying.remove(chr);
                }
                let on = *on;
                let chr = chr.clone();
                self.tree
                    .set(&chr, CHARACTERISTIC, "Notifying", Value::Bool(on));
            }
            let r = f.result.map(|()| f.msg.method_return());
            self.reply(&f.msg, r);
            self.feed(path, now);
        }
    }

    /// Device1.Disconnect (device.c `device_request_disconnect`).
    pub(crate) fn disconnect(&mut self, path: &str, msg: Message, now: SimTime) {
        let Some(d) = self.devices.get_mut(path) else {
            return;
        };
        match &mut d.conn {
            Conn::Idle => {
                let r = msg.method_return();
                self.reply(&msg, Ok(r));
            }
            Conn::Connecting { .. } => {
                // A pending Connect is answered with "br-connection-canceled"; Disconnect
                // itself succeeds since nothing is connected.
                let Conn::Connecting { msg: cm, .. } = std::mem::replace(&mut d.conn, Conn::Idle)
                else {
                    return;
                };
                self.reply(&cm, Err(BluezError::failed(le::CANCELED)));
                let r = msg.method_return();
                self.reply(&msg, Ok(r));
            }
            Conn::Linked(l) => {
                l.disconnects.push(msg);
                if l.disconnect_at.is_none() {
                    l.disconnect_at = Some(now + super::DISCONNECT_TIMER);
                }
                if let Some(cm) = l.connect_msg.take() {
                    self.reply(&cm, Err(BluezError::failed(le::CANCELED)));
                }
            }
        }
    }

    fn disconnect_timer(&mut self, path: &str, now: SimTime) {
        let Some(l) = self.link_mut(path) else { return };
        let Some(at) = l.disconnect_at.filter(|t| *t <= now && !l.terminating) else {
            return;
        };
        l.terminating = true;
        let radio = l.radio;
        // `disconnect_all` → MGMT_OP_DISCONNECT: LL_TERMINATE_IND in the next event; the
        // Disconnected event (0x16) follows.
        let sent = self.radios[radio].with(|ble, dv| ble.disconnect(dv, at).is_ok());
        if sent != Some(true) {
            self.link_down(path, DisconnectReason::LocalHostTerminated.code(), now);
        }
    }

    /// The link is gone with HCI reason `hci` at `at` (device.c `device_remove_connection`,
    /// att.c `disconnect_cb`, gatt-client.c `btd_gatt_client_disconnected`).
    pub(crate) fn link_down(&mut self, path: &str, hci: u8, at: SimTime) {
        let Some(d) = self.devices.get_mut(path) else {
            return;
        };
        let Conn::Linked(l) = std::mem::replace(&mut d.conn, Conn::Idle) else {
            return;
        };
        d.last_seen = at;
        let l = *l;
        // Requests cancelled by the ATT disconnect: `disc_att_send_op` → the callbacks with
        // no ATT code → "Operation failed".
        let lost = l.commands.len() as u64;
        if let Some(f) = l.in_flight {
            self.reply(&f.msg, Err(BluezError::failed("Operation failed")));
        }
        for r in l.requests {
            self.reply(&r.msg, Err(BluezError::failed("Operation failed")));
        }
        if let Some(m) = l.connect_msg {
            // Lost before Connect was answered: `device_remove_connection` answers it.
            self.reply(&m, Err(BluezError::failed(le::CANCELED)));
        }
        self.stats.commands_lost += lost;
        // The GATT objects stay (bluez/cache.rs); their calls now answer "Not connected".
        // Notification sessions end with the link here (bluetoothd re-registers a client's
        // sessions on the next connection, `register_notify`: not modelled). Then the device
        // reports the loss: Disconnected(reason) before Connected false.
        for chr in &l.notifying {
            self.tree
                .set(chr, CHARACTERISTIC, "Notifying", Value::Bool(false));
        }
        let (name, text) = disconnect_reason(hci);
        let mut m = signal(path, DEVICE, "Disconnected");
        m = m.append2(name, text);
        self.tree.push(m);
        self.tree
            .set(path, DEVICE, "ServicesResolved", Value::Bool(false));
        self.tree.set(path, DEVICE, "Connected", Value::Bool(false));
        for m in l.disconnects {
            let r = m.method_return();
            self.reply(&m, Ok(r));
        }
        // The radio listens for advertisements afresh.
        if let Some(r) = self.radios.get_mut(l.radio) {
            r.last_report = None;
        }
    }
}
