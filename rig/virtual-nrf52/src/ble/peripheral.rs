//! [`BlePeripheral`]: the virtual device as a BLE central sees it, on simulated time.
//!
//! The peripheral holds no device: every call takes `&mut Device` and the central's time `t`,
//! so the same device can also be driven by the debug port and the power switch. Before acting,
//! a call steps the device through its own events up to `t` and watches what they do
//! (advertising starting after a boot, the bootloader closing its transport, resets), so every
//! state change is seen at the time it happens. Times returned are when the central sees the
//! result; a driver on the real clock or on tokio's paused clock waits until them.

use super::adv::{app_advertising, bootloader_advertising, AdvertisingData, BleAddress};
use super::att::AttError;
use super::connection::{Connection, DisconnectReason, Role};
use super::gatt::{GattTable, Properties};
use super::link::LinkClock;
use super::security::{self, BondKeys};
use super::uuid::{CONTROL_POINT, PACKET};
use crate::events::SimTime;
use crate::status::{SilentReason, Status};
use crate::timing::BleTiming;
use crate::virtual_device::Device;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// The stand-in application's advertising interval: 300 × 0.625 ms = 187.5 ms, the
/// `APP_ADV_INTERVAL` of the SDK's peripheral examples (assumption for the stand-in).
pub const APP_ADV_INTERVAL: Duration = Duration::from_micros(187_500);
/// Connection setup: the first connection event follows CONNECT_IND after transmitWindowDelay
/// (1.25 ms, Core Vol 6 Part B 4.5.3) with a zero window offset.
pub const CONNECT_DELAY: Duration = Duration::from_micros(1_250);
/// Flags with bonds required and a stored peer: LE limited/general discovery off, BR/EDR not
/// supported (17.1 `nrf_dfu_ble.c`, `advertising_start`).
const FLAGS_NOT_DISCOVERABLE: u8 = 0x04;

/// One advertising event a scanner received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertisement {
    pub at: SimTime,
    pub address: BleAddress,
    pub data: AdvertisingData,
    /// Undirected connectable; false when bonds are required (whitelist: only the bonded peer
    /// may connect).
    pub connectable: bool,
}

/// What the central receives on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeripheralEvent {
    Notification {
        at: SimTime,
        handle: u16,
        value: Vec<u8>,
    },
    Indication {
        at: SimTime,
        handle: u16,
        value: Vec<u8>,
    },
    Disconnected {
        at: SimTime,
        reason: DisconnectReason,
    },
}

impl PeripheralEvent {
    pub fn at(&self) -> SimTime {
        match self {
            PeripheralEvent::Notification { at, .. }
            | PeripheralEvent::Indication { at, .. }
            | PeripheralEvent::Disconnected { at, .. } => *at,
        }
    }
}

/// A central operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BleError {
    #[error("the device is not advertising (connectable) at {0:?}")]
    NotAdvertising(SimTime),
    #[error("the device accepts connections only from its bonded peer (whitelist)")]
    NotConnectable,
    #[error("already connected")]
    AlreadyConnected,
    #[error("not connected")]
    NotConnected,
    #[error("{error} (seen at {at:?})")]
    Att { error: AttError, at: SimTime },
    #[error("link lost before the reply: disconnected at {at:?} (HCI {:#04x})", reason.code())]
    Disconnected {
        at: SimTime,
        reason: DisconnectReason,
    },
    #[error("no indication is waiting for a confirmation")]
    NoIndication,
    #[error("pairing failed: SMP reason {reason:#04x} (seen at {at:?})")]
    PairingFailed { reason: u8, at: SimTime },
    #[error(
        "encryption refused: the peripheral has no key for this bond (HCI {:#04x}, seen at {at:?})",
        super::security::HCI_PIN_OR_KEY_MISSING
    )]
    KeyMissing { at: SimTime },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Adv {
    since: SimTime,
    interval: Duration,
    address: BleAddress,
    data: AdvertisingData,
    connectable: bool,
    role: Role,
    link: BleTiming,
}

/// Counters a report can show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub packets_sent: u64,
    /// Packets the device dropped (RX buffers or flash queue full, not listening).
    pub packets_dropped: u64,
    pub notifications: u64,
}

/// The BLE side of one virtual device.
#[derive(Debug, Clone, Default)]
pub struct BlePeripheral {
    adv: Option<Adv>,
    conn: Option<Connection>,
    events: VecDeque<PeripheralEvent>,
    epoch: Option<u64>,
    /// A radio link loss the device has yet to notice (its supervision timeout), see
    /// [`BlePeripheral::link_lost`].
    device_loss: Option<SimTime>,
    /// The application's bonds (Peer Manager), by central identity address.
    bonds: BTreeMap<[u8; 6], BondKeys>,
    pub stats: LinkStats,
}

/// Loop guard for stepping a device through its events in one call.
const MAX_STEPS: usize = 1_000_000;

impl BlePeripheral {
    pub fn new() -> BlePeripheral {
        BlePeripheral::default()
    }

    /// Step the device to `t`, watching every event on the way. Returns the time reached.
    pub fn sync(&mut self, dev: &mut Device, t: SimTime) -> SimTime {
        if let Some(at) = self.device_loss.filter(|at| *at <= t) {
            self.device_loss = None;
            self.step(dev, at);
            dev.dfu_link_lost(at);
        }
        self.step(dev, t)
    }

    fn step(&mut self, dev: &mut Device, t: SimTime) -> SimTime {
        // Changes made by others since the last call (debug port, power switch) happened at the
        // device's last call time.
        let last = dev.now();
        self.observe(dev, last);
        for _ in 0..MAX_STEPS {
            match dev.next_event_time() {
                Some(n) if n <= t && n > dev.now() => {
                    dev.advance_to(n);
                    self.observe(dev, n);
                }
                _ => break,
            }
        }
        dev.advance_to(t);
        let now = dev.now();
        self.observe(dev, now);
        now
    }

    /// Compare the device with what the link and the advertising assumed, at time `at`.
    fn observe(&mut self, dev: &Device, at: SimTime) {
        let epoch = dev.epoch();
        let status = dev.status();
        let mut ended_now = None;
        if let Some(c) = self.conn.as_mut().filter(|c| c.ended.is_none()) {
            if epoch != c.epoch || matches!(status, Status::Off) {
                // Reset or power loss: the peripheral stopped answering at `at` (or when it
                // went silent before); what it had not sent by then is gone.
                let from = c.silent_since.unwrap_or(at);
                c.end(
                    c.link.supervision_expiry(from),
                    DisconnectReason::ConnectionTimeout,
                );
                ended_now = Some(from);
            } else if dev.silent_reason() == Some(SilentReason::Resetting) {
                // The bootloader closes its transport (final EXECUTE, ABORT): disconnect 0x13
                // in the next connection event, after what was already queued.
                let end = c.link.event_at_or_after(at);
                c.end(end, DisconnectReason::RemoteUserTerminated);
                ended_now = Some(end + Duration::from_nanos(1));
            } else if matches!(status, Status::Silent) {
                let from = *c.silent_since.get_or_insert(at);
                let expiry = c.link.supervision_expiry(from);
                if at >= expiry {
                    c.end(expiry, DisconnectReason::ConnectionTimeout);
                    ended_now = Some(from);
                }
            } else {
                c.silent_since = None;
            }
        }
        if let (Some(cut), Some((end, reason))) =
            (ended_now, self.conn.as_ref().and_then(|c| c.ended))
        {
            self.events.retain(|e| e.at() < cut);
            self.events
                .push_back(PeripheralEvent::Disconnected { at: end, reason });
        }
        self.epoch = Some(epoch);
        let device_connected = self.conn.as_ref().is_some_and(|c| c.ended.is_none());
        let adv = if device_connected {
            None
        } else {
            advertising_of(dev, &status)
        };
        let same = match (&self.adv, &adv) {
            (Some(a), Some(b)) => {
                a.address == b.address && a.data == b.data && a.connectable == b.connectable
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.adv = adv.map(|a| Adv { since: at, ..a });
        }
    }

    /// The latest advertisement a scanner listening at `t` has, if the device advertises: its
    /// last advertising event at or before `t` (never older than one interval).
    pub fn scan(&mut self, dev: &mut Device, t: SimTime) -> Option<Advertisement> {
        let t = self.sync(dev, t);
        let a = self.adv.as_ref()?;
        let n = (t - a.since).as_nanos() / a.interval.as_nanos().max(1);
        let at = a.since + Duration::from_nanos((n * a.interval.as_nanos()) as u64);
        Some(Advertisement {
            at,
            address: a.address,
            data: a.data.clone(),
            connectable: a.connectable,
        })
    }

    /// The next advertising event at or after `t` if nothing changes meanwhile.
    pub fn next_advertisement(&self, t: SimTime) -> Option<SimTime> {
        let a = self.adv.as_ref()?;
        if t <= a.since {
            return Some(a.since);
        }
        let step = a.interval.as_nanos().max(1);
        let n = (t - a.since).as_nanos().div_ceil(step);
        Some(a.since + Duration::from_nanos((n * step) as u64))
    }

    /// Connect at the first advertising event at or after `t`. Returns when the first
    /// connection event happens (the central then considers itself connected).
    pub fn connect(&mut self, dev: &mut Device, t: SimTime) -> Result<SimTime, BleError> {
        self.connect_from(dev, t, None)
    }

    /// [`BlePeripheral::connect`] from a central with identity address `central` (LSB first):
    /// a bonds-only bootloader's whitelist lets its bonded peer in.
    pub fn connect_from(
        &mut self,
        dev: &mut Device,
        t: SimTime,
        central: Option<[u8; 6]>,
    ) -> Result<SimTime, BleError> {
        let t = self.sync(dev, t);
        if self
            .conn
            .as_ref()
            .is_some_and(|c| c.ended.is_none_or(|(end, _)| end > t))
        {
            return Err(BleError::AlreadyConnected);
        }
        let e = self
            .next_advertisement(t)
            .ok_or(BleError::NotAdvertising(t))?;
        let before = self.adv.clone();
        self.sync(dev, e);
        let a = match (&self.adv, before) {
            (Some(now), Some(b)) if *now == b => b,
            _ => return Err(BleError::NotAdvertising(e)),
        };
        if !a.connectable && !security::whitelisted(&dev.status(), central) {
            return Err(BleError::NotConnectable);
        }
        let per_event = a.link.packets_per_event(super::mtu::ATT_DEFAULT_MTU);
        let anchor = e + CONNECT_DELAY;
        let link = LinkClock::new(
            anchor,
            a.link.connection_interval,
            per_event,
            a.link.supervision_timeout,
        );
        let mut c = Connection::new(dev.epoch(), a.role.clone(), link);
        c.central = central;
        self.conn = Some(c);
        self.events.clear();
        self.adv = None;
        Ok(anchor)
    }

    pub fn is_connected(&self, t: SimTime) -> bool {
        self.conn
            .as_ref()
            .is_some_and(|c| c.ended.is_none_or(|(end, _)| end > t))
    }

    pub fn connection(&self) -> Option<&Connection> {
        self.conn.as_ref()
    }

    /// The central disconnects (LL_TERMINATE_IND in the next connection event); the device
    /// sees the link go at that event. Returns that time.
    pub fn disconnect(&mut self, dev: &mut Device, t: SimTime) -> Result<SimTime, BleError> {
        let t = self.sync(dev, t);
        let c = self.live(t)?;
        let at = c.link.event_at_or_after(t);
        self.sync(dev, at);
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        if let Some((end, _)) = c.ended {
            // The peripheral is already gone: the terminate is never acknowledged and the
            // link ends when the central's own timeout says so.
            return Ok(end.max(at));
        }
        {
            c.end(at, DisconnectReason::LocalHostTerminated);
            if matches!(c.role, Role::Bootloader { .. }) {
                dev.dfu_link_lost(at);
            }
            self.events.retain(|e| e.at() < at);
            self.events.push_back(PeripheralEvent::Disconnected {
                at,
                reason: DisconnectReason::LocalHostTerminated,
            });
            self.observe(dev, at);
        }
        Ok(at)
    }

    /// The radio link breaks at `t` (interference, out of range, a lab's link-drop fault):
    /// nothing either side sends after `t` arrives, and each side gives the link up when its
    /// supervision timeout expires, with reason 0x08 (Core Vol 6 Part B 4.5.2). Returns when the
    /// central learns it. The device notices at the same time (the bootloader's link-lost
    /// handling runs then); it is not advanced past `t` here.
    pub fn link_lost(&mut self, dev: &mut Device, t: SimTime) -> Result<SimTime, BleError> {
        let t = self.sync(dev, t);
        let c = self.live(t)?;
        if c.ended.is_some() {
            return Err(BleError::NotConnected);
        }
        let end = c.link.supervision_expiry(t);
        c.end(end, DisconnectReason::ConnectionTimeout);
        let bootloader = matches!(c.role, Role::Bootloader { .. });
        self.events.retain(|e| e.at() <= t);
        self.events.push_back(PeripheralEvent::Disconnected {
            at: end,
            reason: DisconnectReason::ConnectionTimeout,
        });
        if bootloader {
            self.device_loss = Some(end);
        }
        Ok(end)
    }

    /// The connection as the central sees it at `t`.
    fn live(&mut self, t: SimTime) -> Result<&mut Connection, BleError> {
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        match c.ended {
            Some((end, _)) if end <= t => Err(BleError::NotConnected),
            _ => Ok(c),
        }
    }

    /// A request that needs the link up at `sent`: the device side must still be connected,
    /// else the central learns of the loss when the link ends.
    fn request_link(&mut self, dev: &mut Device, t: SimTime) -> Result<SimTime, BleError> {
        let t = self.sync(dev, t);
        let sent = self.live(t)?.link.send(t);
        self.sync(dev, sent);
        let c = self.conn.as_ref().ok_or(BleError::NotConnected)?;
        if let Some((at, reason)) = c.ended {
            return Err(BleError::Disconnected { at, reason });
        }
        if c.silent_since.is_some() {
            let at = c.link.supervision_expiry(c.silent_since.unwrap_or(sent));
            return Err(BleError::Disconnected {
                at,
                reason: DisconnectReason::ConnectionTimeout,
            });
        }
        Ok(sent)
    }

    /// Exchange MTU (the central asks `asked`). Returns the MTU in use and when the reply came.
    pub fn exchange_mtu(
        &mut self,
        dev: &mut Device,
        t: SimTime,
        asked: u16,
    ) -> Result<(u16, SimTime), BleError> {
        let sent = self.request_link(dev, t)?;
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        let reply = c.role.mtu_reply(asked);
        c.mtu = reply.min(asked.max(super::mtu::ATT_DEFAULT_MTU));
        c.link.packets_per_event = ble_timing(&c.role, dev).packets_per_event(c.mtu).max(1);
        Ok((c.mtu, c.link.reply_at(sent, sent)))
    }

    /// Primary service, characteristic and descriptor discovery. Returns the table and when
    /// the last response came.
    pub fn discover(
        &mut self,
        dev: &mut Device,
        t: SimTime,
    ) -> Result<(GattTable, SimTime), BleError> {
        let sent = self.request_link(dev, t)?;
        let c = self.conn.as_ref().ok_or(BleError::NotConnected)?;
        let rounds = c.gatt.discovery_round_trips();
        let done = sent + c.link.interval * rounds;
        self.sync(dev, done);
        let c = self.conn.as_ref().ok_or(BleError::NotConnected)?;
        if let Some((at, reason)) = c.ended {
            return Err(BleError::Disconnected { at, reason });
        }
        Ok((c.gatt.clone(), done))
    }

    /// Queue something the peripheral sends, unless the link is gone by then.
    fn push(&mut self, e: PeripheralEvent) {
        let ok = matches!(e, PeripheralEvent::Disconnected { .. })
            || self
                .conn
                .as_ref()
                .is_some_and(|c| c.ended.is_none_or(|(end, _)| e.at() < end));
        if ok {
            let pos = self
                .events
                .iter()
                .position(|x| x.at() > e.at())
                .unwrap_or(self.events.len());
            self.events.insert(pos, e);
        }
    }

    /// Write with response. Returns when the write response arrives; ATT errors arrive then too.
    pub fn write_request(
        &mut self,
        dev: &mut Device,
        t: SimTime,
        handle: u16,
        value: &[u8],
    ) -> Result<SimTime, BleError> {
        let sent = self.request_link(dev, t)?;
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        let rsp = c.link.reply_at(sent, sent);
        let att = |error| BleError::Att { error, at: rsp };
        let (ch, is_cccd) = c
            .gatt
            .by_handle(handle)
            .map(|(ch, cc)| (ch.clone(), cc))
            .ok_or(att(AttError::InvalidHandle(handle)))?;
        if security::needs_encryption(&c.role, &ch, is_cccd) && !c.encrypted {
            let has_key = self.server_has_key(dev);
            return Err(att(security::unencrypted_error(has_key, handle)));
        }
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        if is_cccd {
            if value.len() != 2 {
                return Err(att(AttError::InvalidAttributeValueLength {
                    handle,
                    len: value.len(),
                    max: 2,
                }));
            }
            c.cccd
                .insert(handle, u16::from_le_bytes([value[0], value[1]]));
            return Ok(rsp);
        }
        if !ch.properties.contains(Properties::WRITE) {
            return Err(att(AttError::WriteNotPermitted(handle)));
        }
        c.check_len(handle, ch.max_len, value.len()).map_err(att)?;
        if ch.uuid == CONTROL_POINT {
            if !c.enabled(&CONTROL_POINT, super::connection::CCCD_NOTIFY) {
                return Err(att(AttError::CccdImproperlyConfigured(handle)));
            }
            if let Some(reply) = dev.dfu_control(sent, value) {
                self.notify(sent, reply.ready_at, handle, reply.bytes);
            }
            return Ok(rsp);
        }
        super::app_side::buttonless_write(self, dev, sent, rsp, &ch, value)
    }

    /// Whether the firmware on the link holds a key for the central: the application a bond
    /// with its address, the bonds-only bootloader the peer it was handed.
    fn server_has_key(&self, dev: &Device) -> bool {
        let Some(central) = self.conn.as_ref().and_then(|c| c.central) else {
            return false;
        };
        match dev.status() {
            Status::Bootloader(b) => b.peer.is_some_and(|p| p.addr() == central),
            Status::App(_) => self.bonds.contains_key(&central),
            _ => false,
        }
    }

    /// The application's bond with `central`, if it keeps one.
    pub fn bond(&self, central: [u8; 6]) -> Option<BondKeys> {
        self.bonds.get(&central).copied()
    }

    /// The central pairs (Just Works, bonding; the kernel's SMP as BlueZ starts it). The
    /// application accepts and stores the bond (replacing an older one with the same central);
    /// a bootloader refuses (`PAIRING_NOT_SUPP`, all SDKs). Returns when the link is encrypted
    /// and the keys are distributed, with the keys the central keeps.
    pub fn pair(&mut self, dev: &mut Device, t: SimTime) -> Result<(SimTime, BondKeys), BleError> {
        let sent = self.request_link(dev, t)?;
        let c = self.live(sent)?;
        let central = c.central.unwrap_or_default();
        let rsp = c.link.reply_at(sent, sent);
        let own = match (&c.role, dev.status()) {
            (Role::App { .. }, Status::App(a)) => a.ble_address,
            _ => {
                return Err(BleError::PairingFailed {
                    reason: security::SMP_PAIRING_NOT_SUPPORTED,
                    at: rsp,
                })
            }
        };
        let done = sent + security::events(c, security::PAIRING_EVENTS);
        let keys = BondKeys::derive(own, central);
        self.sync(dev, done);
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        if let Some((at, reason)) = c.ended.filter(|(at, _)| *at <= done) {
            return Err(BleError::Disconnected { at, reason });
        }
        c.encrypted = true;
        self.bonds.insert(central, keys);
        Ok((done, keys))
    }

    /// The central encrypts the link with the keys of an earlier bond (LL_ENC_REQ with the
    /// EDIV/Rand). Refused when the firmware holds no matching key. A bonds-only bootloader
    /// then indicates Service Changed if the restored CCCD asks for it. Returns when the link
    /// is encrypted.
    pub fn encrypt(
        &mut self,
        dev: &mut Device,
        t: SimTime,
        keys: &BondKeys,
    ) -> Result<SimTime, BleError> {
        let sent = self.request_link(dev, t)?;
        let status = dev.status();
        let c = self.live(sent)?;
        let central = c.central.unwrap_or_default();
        let rsp = c.link.reply_at(sent, sent);
        let held = match &status {
            Status::App(_) => self.bonds.get(&central).copied(),
            Status::Bootloader(b) => b
                .peer
                .filter(|p| p.addr() == central && p.ediv() == keys.ediv)
                .map(|p| security::keys_of(&p)),
            _ => None,
        };
        if held.as_ref() != Some(keys) {
            return Err(BleError::KeyMissing { at: rsp });
        }
        let c = self.live(sent)?;
        let done = sent + security::events(c, security::ENCRYPT_EVENTS);
        self.sync(dev, done);
        let c = self.conn.as_mut().ok_or(BleError::NotConnected)?;
        if let Some((at, reason)) = c.ended.filter(|(at, _)| *at <= done) {
            return Err(BleError::Disconnected { at, reason });
        }
        c.encrypted = true;
        // BLE_GAP_EVT_CONN_SEC_UPDATE: a bonds-only bootloader restores the peer's system
        // attributes and indicates Service Changed (17.1 nrf_dfu_ble.c service_changed_send).
        if let Status::Bootloader(b) = &status {
            if let (true, Some(peer)) = (b.requires_bonds, b.peer) {
                let sc = security::service_changed_handles(c);
                let restored = security::restored_sc_cccd(&peer);
                if let (Some((value_h, cccd_h)), Some((h, v))) = (sc, restored) {
                    if h == cccd_h {
                        c.cccd.insert(cccd_h, v);
                        if security::indicates(v) {
                            if let Some(value) = security::service_changed_value(c) {
                                let at = c.link.reply_at(done, done);
                                c.unconfirmed.push((at, 0));
                                self.push(PeripheralEvent::Indication {
                                    at,
                                    handle: value_h,
                                    value,
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(done)
    }

    /// A notification on `handle` the device produced in the event at `produced`, ready at
    /// `ready`: sent if notifications are enabled then.
    /// A reply that turns out to fall after a reset is removed when the link loss is seen.
    fn notify(&mut self, produced: SimTime, ready: SimTime, handle: u16, value: Vec<u8>) {
        let Some(c) = self.conn.as_ref() else { return };
        let at = c.link.reply_at(produced, ready);
        let on = c.cccd.iter().any(|(h, v)| {
            c.gatt
                .by_handle(*h)
                .is_some_and(|(ch, _)| ch.value_handle == handle)
                && v & super::connection::CCCD_NOTIFY != 0
        });
        if on {
            self.stats.notifications += 1;
            self.push(PeripheralEvent::Notification { at, handle, value });
        }
    }

    pub(crate) fn push_event(&mut self, e: PeripheralEvent) {
        self.push(e);
    }

    pub(crate) fn conn_mut(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }

    /// Write without response (the Packet characteristic). Returns the connection event the
    /// packet goes out in; a packet the device drops is lost silently, as on air.
    pub fn write_command(
        &mut self,
        dev: &mut Device,
        t: SimTime,
        handle: u16,
        value: &[u8],
    ) -> Result<SimTime, BleError> {
        let t = self.sync(dev, t);
        let c = self.live(t)?;
        let max = super::mtu::payload(c.mtu);
        if value.len() > max {
            return Err(BleError::Att {
                error: AttError::InvalidAttributeValueLength {
                    handle,
                    len: value.len(),
                    max,
                },
                at: t,
            });
        }
        let at = c.link.send(t);
        self.stats.packets_sent += 1;
        self.sync(dev, at);
        let c = self.conn.as_ref().ok_or(BleError::NotConnected)?;
        if c.ended.is_some() || c.silent_since.is_some() {
            self.stats.packets_dropped += 1;
            return Ok(at);
        }
        let target = c.gatt.by_handle(handle).filter(|(ch, cccd)| {
            !cccd && ch.uuid == PACKET && ch.properties.contains(Properties::WRITE_WITHOUT_RESPONSE)
        });
        let allowed = target
            .is_some_and(|(ch, _)| c.encrypted || !security::needs_encryption(&c.role, ch, false))
            && value.len() <= target.map_or(0, |(ch, _)| ch.max_len);
        if !allowed {
            // The SoftDevice ignores a write command it cannot take; no error goes back.
            self.stats.packets_dropped += 1;
            return Ok(at);
        }
        let outcome = dev.dfu_packet(at, value);
        if outcome.dropped.is_some() {
            self.stats.packets_dropped += 1;
        }
        if let Some(n) = outcome.notification {
            let cp = self
                .conn
                .as_ref()
                .and_then(|c| c.gatt.characteristic(&CONTROL_POINT))
                .map(|ch| ch.value_handle);
            if let Some(h) = cp {
                self.notify(at, n.ready_at, h, n.bytes);
            }
        }
        Ok(at)
    }

    /// Confirm the oldest indication (Handle Value Confirmation). Returns when it reaches the
    /// device.
    pub fn confirm_indication(
        &mut self,
        dev: &mut Device,
        t: SimTime,
    ) -> Result<SimTime, BleError> {
        let t = self.sync(dev, t);
        let c = self.live(t)?;
        match c.unconfirmed.first() {
            Some((at, _)) if *at <= t => {}
            _ => return Err(BleError::NoIndication),
        }
        let (_, op) = c.unconfirmed.remove(0);
        let at = c.link.send(t);
        self.sync(dev, at);
        super::app_side::indication_confirmed(self, dev, at, op);
        Ok(at)
    }

    /// Everything the central has received by `t` (notifications, indications, disconnection),
    /// in time order.
    pub fn events(&mut self, dev: &mut Device, t: SimTime) -> Vec<PeripheralEvent> {
        let t = self.sync(dev, t);
        let mut out = Vec::new();
        while self.events.front().is_some_and(|e| e.at() <= t) {
            out.extend(self.events.pop_front());
        }
        out
    }

    /// When something happens by itself: a device event, a queued notification or
    /// disconnection, or the supervision timeout of a silent device.
    pub fn next_event_time(&self, dev: &Device) -> Option<SimTime> {
        let silent = self
            .conn
            .as_ref()
            .and_then(|c| c.silent_since.map(|s| c.link.supervision_expiry(s)));
        [
            dev.next_event_time(),
            self.events.front().map(PeripheralEvent::at),
            silent,
            self.device_loss,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The link timing the firmware sets up: a bootloader's per-SDK connection parameters, the
/// timing profile's for an application; packets per event from the profile.
fn ble_timing(role: &Role, dev: &Device) -> BleTiming {
    let mut b = dev.timing().ble;
    if let Role::Bootloader { sdk, .. } = role {
        b = BleTiming {
            packets_per_event_large_mtu: b.packets_per_event_large_mtu,
            packets_per_event_default_mtu: b.packets_per_event_default_mtu,
            ..BleTiming::for_sdk(*sdk)
        };
    }
    b
}

/// What the device advertises in `status`, if anything.
fn advertising_of(dev: &Device, status: &Status) -> Option<Adv> {
    match status {
        Status::Bootloader(b) if b.transport == crate::descriptor::Transport::Ble => {
            let role = Role::from_bootloader(b);
            let mut data = bootloader_advertising(&b.adv_name);
            if b.peer.is_some() {
                data.0[0] = super::adv::AdStructure::Flags(FLAGS_NOT_DISCOVERABLE);
            }
            let link = ble_timing(&role, dev);
            Some(Adv {
                since: SimTime::ZERO,
                interval: link.advertising_interval,
                address: BleAddress(b.ble_address),
                data,
                connectable: !b.requires_bonds,
                role,
                link,
            })
        }
        Status::App(a) => {
            let role = Role::from_app(a);
            let link = ble_timing(&role, dev);
            Some(Adv {
                since: SimTime::ZERO,
                interval: APP_ADV_INTERVAL,
                address: BleAddress(a.ble_address),
                data: app_advertising(&a.name, a.version),
                connectable: true,
                role,
                link,
            })
        }
        _ => None,
    }
}
