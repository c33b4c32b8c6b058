//! Time on a BLE connection: connection events every connection interval from the anchor (the
//! first event), a limited number of packets per event, and the supervision timeout.
//!
//! Rules (link-layer behaviour, Core Vol 6 Part B 4.5): a PDU goes out in the first connection
//! event at or after it is queued that still has room; a reply the peripheral produces while
//! handling a PDU goes out at the earliest in the next event (the SoftDevice answers a write
//! request in the event after it received it), so a write with response costs one round trip
//! of one interval; the central notices a peripheral that went silent one supervision timeout
//! after the last event it heard.

use crate::events::SimTime;
use std::time::Duration;

/// The event schedule of one connection and the packet slots already used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClock {
    pub anchor: SimTime,
    pub interval: Duration,
    pub packets_per_event: u32,
    pub supervision_timeout: Duration,
    /// The event the last central PDU went out in, and how many slots of it are used.
    cursor: SimTime,
    used: u32,
}

impl LinkClock {
    pub fn new(
        anchor: SimTime,
        interval: Duration,
        packets_per_event: u32,
        supervision_timeout: Duration,
    ) -> LinkClock {
        LinkClock {
            anchor,
            interval: interval.max(Duration::from_micros(1250)),
            packets_per_event: packets_per_event.max(1),
            supervision_timeout,
            cursor: anchor,
            used: 0,
        }
    }

    /// The first connection event at or after `t`.
    pub fn event_at_or_after(&self, t: SimTime) -> SimTime {
        if t <= self.anchor {
            return self.anchor;
        }
        let since = (t - self.anchor).as_nanos();
        let step = self.interval.as_nanos();
        let n = since.div_ceil(step);
        self.anchor + Duration::from_nanos((n * step).min(u64::MAX as u128) as u64)
    }

    /// The last connection event at or before `t` (the anchor if `t` is earlier).
    pub fn event_at_or_before(&self, t: SimTime) -> SimTime {
        if t <= self.anchor {
            return self.anchor;
        }
        let step = self.interval.as_nanos();
        let n = (t - self.anchor).as_nanos() / step;
        self.anchor + Duration::from_nanos((n * step).min(u64::MAX as u128) as u64)
    }

    /// Send one central PDU queued at `t`: the event it goes out in. Order on the link is kept:
    /// a PDU never goes out before one queued earlier.
    pub fn send(&mut self, t: SimTime) -> SimTime {
        let e = self.event_at_or_after(t.max(self.cursor));
        if e == self.cursor && self.used < self.packets_per_event && e >= t {
            self.used += 1;
        } else if e == self.cursor {
            self.cursor = e + self.interval;
            self.used = 1;
        } else {
            self.cursor = e;
            self.used = 1;
        }
        self.cursor
    }

    /// When a peripheral PDU produced in the event at `produced` and ready at `ready` reaches
    /// the central: the first event after `produced` at or after `ready`.
    pub fn reply_at(&self, produced: SimTime, ready: SimTime) -> SimTime {
        self.event_at_or_after(ready.max(produced + self.interval))
    }

    /// When the central gives up on a peripheral that stopped answering at `silent_from`.
    pub fn supervision_expiry(&self, silent_from: SimTime) -> SimTime {
        self.event_at_or_before(silent_from) + self.supervision_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn events_follow_the_interval() {
        let l = LinkClock::new(ms(100), ms(15), 6, ms(6000));
        assert_eq!(l.event_at_or_after(ms(0)), ms(100));
        assert_eq!(l.event_at_or_after(ms(100)), ms(100));
        assert_eq!(l.event_at_or_after(ms(101)), ms(115));
        assert_eq!(l.event_at_or_before(ms(129)), ms(115));
        assert_eq!(l.supervision_expiry(ms(129)), ms(6115));
    }

    #[test]
    fn write_commands_share_events() {
        let mut l = LinkClock::new(ms(0), ms(15), 6, ms(6000));
        // 17 packets of a 4 KB object queued at once: 6 + 6 + 5 over three events.
        let at: Vec<SimTime> = (0..17).map(|_| l.send(ms(0))).collect();
        assert_eq!(at.iter().filter(|&&t| t == ms(0)).count(), 6);
        assert_eq!(at.iter().filter(|&&t| t == ms(15)).count(), 6);
        assert_eq!(at.iter().filter(|&&t| t == ms(30)).count(), 5);
        // A later PDU never overtakes: queued at 20 ms it joins the 30 ms event's free slot.
        assert_eq!(l.send(ms(20)), ms(30));
        assert_eq!(l.send(ms(20)), ms(45));
        // After a pause the next one goes in the first event after it is queued.
        assert_eq!(l.send(ms(100)), ms(105));
    }

    #[test]
    fn replies_come_an_event_later() {
        let l = LinkClock::new(ms(0), ms(15), 6, ms(6000));
        assert_eq!(
            l.reply_at(ms(30), ms(30)),
            ms(45),
            "write response: one round trip"
        );
        assert_eq!(
            l.reply_at(ms(30), ms(120)),
            ms(120),
            "ready on an event boundary"
        );
        assert_eq!(l.reply_at(ms(30), ms(121)), ms(135));
    }
}
