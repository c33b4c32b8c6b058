//! The DFU client's BLE [`Transport`] over a virtual device, on tokio's clock.
//!
//! Device time ([`SimTime`]) follows tokio's [`Instant`] through a [`SimClock`], so on a paused
//! runtime every wait below advances simulated time at once. The link is modelled at the level
//! the client sees: connection events every connection interval carrying a fixed number of
//! packets (the device's [`virtual_nrf52::TimingProfile`] for its SDK), control-point writes and
//! Packet writes each taking a slot, notifications delivered at the first connection event after
//! the device has them ready, and the disconnection the host observes: at once when the
//! bootloader closes the link (completion, ABORT, inactivity), a supervision timeout after the
//! device reset or lost power under it. GAP, GATT, CCCD and MTU exchange details are the BLE
//! surface's (`virtual_nrf52::ble`), not modelled here.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use crate::drivers::shared::SharedDevice;
use nrf_dfu::client::{Link, LinkError};
use nrf_dfu::wire::Transport;
use tokio::time::Instant;
use virtual_nrf52::ble::link::LinkClock;
use virtual_nrf52::timing::BleTiming;
use virtual_nrf52::{Device, SilentReason, SimTime, Status};

/// Device time as a function of tokio time: `sim_origin` at the tokio instant the clock starts.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    origin: Instant,
    sim_origin: SimTime,
}

impl SimClock {
    /// A clock reading the device's current time now.
    pub fn for_device(device: &Device) -> SimClock {
        SimClock {
            origin: Instant::now(),
            sim_origin: device.now(),
        }
    }

    pub fn now(&self) -> SimTime {
        self.sim_origin + self.origin.elapsed()
    }

    /// The tokio instant at which the device's clock reads `t`.
    pub fn instant(&self, t: SimTime) -> Instant {
        self.origin + t.saturating_sub(self.sim_origin)
    }

    pub async fn sleep_until(&self, t: SimTime) {
        let at = self.instant(t);
        // Tokio fires a timer whose deadline has passed at once (tokio 1.54
        // runtime/time/mod.rs `reregister`: `wheel.insert` answers `Elapsed` and the entry
        // fires), without moving the paused clock; not registering one is the same wait, and
        // most packets of a connection event go out at a time already reached.
        if at <= Instant::now() {
            return;
        }
        tokio::time::sleep_until(at).await;
    }
}

/// What the central asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BleLinkConfig {
    /// ATT MTU requested (nrfutil 247; Android asks 517 and gets the bootloader's maximum).
    pub att_mtu: u16,
    /// How long one scan for the bootloader lasts (Android's default scan timeout: 5 s).
    pub scan_timeout: Duration,
}

impl Default for BleLinkConfig {
    fn default() -> BleLinkConfig {
        BleLinkConfig {
            att_mtu: 247,
            scan_timeout: Duration::from_secs(5),
        }
    }
}

/// What went over the link, for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkCounters {
    pub connections: u64,
    pub requests: u64,
    pub packets: u64,
    /// Packets the device dropped (RX buffers or flash queue full, ...).
    pub dropped_packets: u64,
    pub notifications: u64,
}

/// One connection to the bootloader.
struct Connection {
    epoch: u64,
    /// Connection events and their packet slots: the device's own link-layer timing.
    link: LinkClock,
    att_mtu: u16,
    /// Notifications in order: the connection event that carries each, when the device had
    /// it ready, the bytes.
    inbox: VecDeque<(SimTime, SimTime, Vec<u8>)>,
    /// When the device stopped serving this connection, and when the host learns it.
    down_at: Option<SimTime>,
    lost_at: Option<SimTime>,
    why: &'static str,
}

impl Connection {
    /// A slot for one host-to-device PDU at or after `now`.
    fn slot(&mut self, now: SimTime) -> SimTime {
        self.link.send(now)
    }

    /// Queue a notification the device has ready at `ready_at` for a PDU it got in the event at
    /// `received`: it goes out in a later connection event than the one that carried the PDU.
    fn deliver(&mut self, received: SimTime, ready_at: SimTime, bytes: Vec<u8>) {
        let at = self.link.reply_at(received, ready_at);
        let index = self.inbox.partition_point(|(t, _, _)| *t <= at);
        self.inbox.insert(index, (at, ready_at, bytes));
    }
}

/// The client's BLE transport over a [`SharedDevice`].
pub struct VirtualBleLink {
    device: SharedDevice,
    clock: SimClock,
    config: BleLinkConfig,
    conn: Option<Connection>,
    closed: bool,
    counters: LinkCounters,
}

impl VirtualBleLink {
    /// A link that is not connected yet (see [`VirtualBleLink::connect`]).
    pub fn new(device: SharedDevice, clock: SimClock, config: BleLinkConfig) -> VirtualBleLink {
        VirtualBleLink {
            device,
            clock,
            config,
            conn: None,
            closed: false,
            counters: LinkCounters::default(),
        }
    }

    /// Scan for the bootloader and connect (one scan of `scan_timeout`).
    pub async fn connect(&mut self) -> Result<(), LinkError> {
        self.closed = false;
        self.scan_and_connect().await
    }

    pub fn is_connected(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.lost_at.is_none())
    }

    /// The negotiated ATT MTU, when connected.
    pub fn att_mtu(&self) -> Option<u16> {
        self.conn.as_ref().map(|c| c.att_mtu)
    }

    pub fn counters(&self) -> &LinkCounters {
        &self.counters
    }

    pub fn clock(&self) -> SimClock {
        self.clock
    }

    async fn scan_and_connect(&mut self) -> Result<(), LinkError> {
        let give_up = self.clock.now() + self.config.scan_timeout;
        loop {
            let now = self.clock.now();
            let (found, next, advertising) = {
                let mut dev = self.device.borrow_mut();
                dev.advance_to(now);
                let found = match dev.status() {
                    Status::Bootloader(b) if b.transport == Transport::Ble => {
                        let ble = dev.timing().clone().with_sdk_link(b.sdk).ble;
                        Some((b.max_att_mtu, dev.epoch(), ble))
                    }
                    _ => None,
                };
                (
                    found,
                    dev.next_event_time(),
                    dev.timing().ble.advertising_interval,
                )
            };
            if let Some((max_mtu, epoch, ble)) = found {
                // Seen at its next advertisement; the first connection event one interval on.
                let anchor = now + ble.advertising_interval + ble.connection_interval;
                self.clock.sleep_until(anchor).await;
                let still_there = {
                    let mut dev = self.device.borrow_mut();
                    dev.advance_to(anchor);
                    dev.epoch() == epoch && matches!(dev.status(), Status::Bootloader(_))
                };
                if still_there {
                    self.conn = Some(self.connection(epoch, anchor, ble, max_mtu));
                    self.counters.connections += 1;
                    return Ok(());
                }
                continue;
            }
            if now >= give_up {
                return Err(LinkError::timeout(format!(
                    "no DFU bootloader advertising over BLE within {:?}",
                    self.config.scan_timeout
                )));
            }
            let mut wake = give_up.min(now + advertising.max(Duration::from_millis(1)));
            if let Some(next) = next {
                wake = wake.min(next.max(now + Duration::from_nanos(1)));
            }
            self.clock.sleep_until(wake).await;
        }
    }

    fn connection(&self, epoch: u64, anchor: SimTime, ble: BleTiming, max_mtu: u16) -> Connection {
        let att_mtu = self.config.att_mtu.min(max_mtu).max(23);
        let link = LinkClock::new(
            anchor,
            ble.connection_interval,
            ble.packets_per_event(att_mtu),
            ble.supervision_timeout,
        );
        Connection {
            epoch,
            link,
            att_mtu,
            inbox: VecDeque::new(),
            down_at: None,
            lost_at: None,
            why: "",
        }
    }

    /// Bring the device to `now` and notice whether it still serves the connection.
    fn advance(&mut self, now: SimTime) {
        let mut dev = self.device.borrow_mut();
        dev.advance_to(now);
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if conn.down_at.is_some() {
            return;
        }
        let same_epoch = dev.epoch() == conn.epoch;
        if same_epoch && matches!(dev.status(), Status::Bootloader(_)) {
            return;
        }
        conn.down_at = Some(now);
        if same_epoch && dev.silent_reason() == Some(SilentReason::Resetting) {
            // The bootloader disconnects: notifications it queued before go out first (the
            // final EXECUTE response precedes the settings write and the disconnection).
            conn.inbox.retain(|(_, ready, _)| *ready <= now);
            let last = conn.inbox.back().map_or(now, |(at, _, _)| (*at).max(now));
            conn.lost_at = Some(last);
            conn.why = "disconnected by the bootloader (0x13 remote user terminated)";
        } else {
            // The device vanished: what it had not sent yet is gone; the central notices
            // when the supervision timeout expires.
            conn.inbox.retain(|(at, _, _)| *at <= now);
            conn.lost_at = Some(now + conn.link.supervision_timeout);
            conn.why = "supervision timeout: the device reset or lost power";
        }
    }

    /// The connection, if the host still believes in it at `now`.
    fn live(&mut self, now: SimTime) -> Result<&mut Connection, LinkError> {
        if self.closed {
            return Err(LinkError::closed("the BLE link was closed"));
        }
        match &self.conn {
            None => return Err(LinkError::link_lost("not connected")),
            Some(c) if c.lost_at.is_some_and(|l| now >= l) => {
                let why = c.why;
                self.conn = None;
                return Err(LinkError::link_lost(why));
            }
            Some(_) => {}
        }
        Ok(self.conn.as_mut().expect("checked above"))
    }

    /// Disconnect on our side (the device sees the link drop).
    fn disconnect(&mut self) {
        let now = self.clock.now();
        self.advance(now);
        if let Some(conn) = self.conn.take() {
            if conn.down_at.is_none() {
                self.device.borrow_mut().dfu_link_lost(now);
            }
        }
    }
}

impl Link for VirtualBleLink {
    fn transport(&self) -> Transport {
        Transport::Ble
    }

    fn max_write_len(&self) -> usize {
        usize::from(self.att_mtu().unwrap_or(self.config.att_mtu).max(23) - 3)
    }

    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        let now = self.clock.now();
        self.advance(now);
        let slot = self.live(now)?.slot(now);
        self.clock.sleep_until(slot).await;
        self.advance(slot);
        let device = Rc::clone(&self.device);
        let conn = self.live(slot)?;
        if conn.down_at.is_none() {
            let reply = device.borrow_mut().dfu_control(slot, request);
            if let Some(reply) = reply {
                conn.deliver(slot, reply.ready_at, reply.bytes);
            }
        }
        self.counters.requests += 1;
        Ok(())
    }

    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        let now = self.clock.now();
        self.advance(now);
        let conn = self.live(now)?;
        if chunk.len() + 3 > usize::from(conn.att_mtu) {
            return Err(LinkError::io(format!(
                "{} bytes do not fit one Packet write at ATT MTU {}",
                chunk.len(),
                conn.att_mtu
            )));
        }
        let slot = conn.slot(now);
        self.clock.sleep_until(slot).await;
        self.advance(slot);
        let device = Rc::clone(&self.device);
        let conn = self.live(slot)?;
        let mut dropped = false;
        if conn.down_at.is_none() {
            let outcome = device.borrow_mut().dfu_packet(slot, chunk);
            dropped = outcome.dropped.is_some();
            if let Some(reply) = outcome.notification {
                conn.deliver(slot, reply.ready_at, reply.bytes);
            }
        }
        self.counters.dropped_packets += u64::from(dropped);
        self.counters.packets += 1;
        Ok(())
    }

    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        loop {
            let now = self.clock.now();
            self.advance(now);
            let next_device_event = self.device.borrow().next_event_time();
            // Deliver what is due before reporting a loss that comes at the same time.
            let due = self
                .conn
                .as_ref()
                .is_some_and(|c| c.inbox.front().is_some_and(|(at, _, _)| *at <= now));
            if due && !self.closed {
                let conn = self.conn.as_mut().expect("checked above");
                let (_, _, bytes) = conn.inbox.pop_front().expect("front exists");
                self.counters.notifications += 1;
                return Ok(bytes);
            }
            let polls = self.device.borrow().changes_unannounced();
            let conn = self.live(now)?;
            // Between the times below nothing can change (the device's state moves only at
            // its events, unless its CPU runs), so the wait goes straight to the first of them:
            // a poll every connection interval only where that is not so, or nothing is due.
            let due = [
                conn.inbox.front().map(|(at, _, _)| *at),
                conn.lost_at,
                next_device_event,
            ];
            let wake = super::next_look(due, now + conn.link.interval, polls);
            self.clock
                .sleep_until(wake.max(now + Duration::from_nanos(1)))
                .await;
        }
    }

    async fn reconnect(&mut self) -> Result<(), LinkError> {
        if self.closed {
            return Err(LinkError::closed("the BLE link was closed"));
        }
        self.disconnect();
        self.scan_and_connect().await
    }

    async fn close(&mut self) -> Result<(), LinkError> {
        self.disconnect();
        self.closed = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(per_event: u32) -> Connection {
        Connection {
            epoch: 0,
            link: LinkClock::new(ms(100), ms(15), per_event, Duration::from_secs(6)),
            att_mtu: 247,
            inbox: VecDeque::new(),
            down_at: None,
            lost_at: None,
            why: "",
        }
    }

    fn ms(v: u64) -> SimTime {
        Duration::from_millis(v)
    }

    #[test]
    fn each_event_carries_packets_per_event_pdus() {
        let mut c = conn(3);
        let slots: Vec<SimTime> = (0..7).map(|_| c.slot(ms(100))).collect();
        assert_eq!(
            slots,
            vec![
                ms(100),
                ms(100),
                ms(100),
                ms(115),
                ms(115),
                ms(115),
                ms(130)
            ]
        );
        // A PDU written later goes in the first event after that time.
        assert_eq!(c.slot(ms(200)), ms(205));
    }

    #[test]
    fn notifications_go_out_in_a_later_event_than_the_request() {
        let mut c = conn(6);
        c.deliver(ms(100), ms(100), vec![1]);
        c.deliver(ms(100), ms(131), vec![2]);
        let at: Vec<SimTime> = c.inbox.iter().map(|(at, _, _)| *at).collect();
        assert_eq!(at, vec![ms(115), ms(145)]);
    }
}
