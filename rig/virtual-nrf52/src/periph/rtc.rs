//! RTC0-2 (nRF52832 PS v1.4 chapter 26): a 24-bit counter on the 32.768 kHz clock divided by
//! PRESCALER + 1, with TICK, OVRFLW and COMPARE[n] events. An event is generated only when
//! enabled in EVTEN or INTEN ("Event control"). The counter is kept as a start time, so lab
//! time can jump over sleeps without ticking it; a COMPARE fires when the counter changes to
//! CC[n] (writing CC equal to the counter does not fire).

use super::events::EventBlock;
use crate::events::SimTime;

const LFCLK_HZ: u128 = 32_768;
const MASK: u64 = 0xFF_FFFF;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rtc {
    pub ev: EventBlock,
    pub evten: u32,
    pub prescaler: u32,
    pub cc: [u32; 4],
    /// Compare registers this instance has (RTC0: 3, RTC1 and RTC2: 4).
    pub channels: usize,
    /// Running since `start` with the counter at `base` then.
    pub run: Option<(SimTime, u32)>,
    /// The counter while stopped.
    pub counter: u32,
    /// Ticks since `start` already examined for events.
    pub seen: u64,
}

impl Rtc {
    pub fn new(channels: usize) -> Rtc {
        Rtc {
            channels,
            ..Rtc::default()
        }
    }

    fn period_ns(&self) -> u128 {
        (self.prescaler as u128 + 1) * 1_000_000_000
    }

    /// Whole ticks since `start` at `now`.
    fn ticks(&self, start: SimTime, now: SimTime) -> u64 {
        (now.saturating_sub(start).as_nanos() * LFCLK_HZ / self.period_ns()) as u64
    }

    fn tick_time(&self, start: SimTime, t: u64) -> SimTime {
        let ns = (t as u128 * self.period_ns()).div_ceil(LFCLK_HZ);
        start + std::time::Duration::from_nanos(ns as u64)
    }

    pub fn counter_at(&self, now: SimTime) -> u32 {
        match self.run {
            Some((start, base)) => ((base as u64 + self.ticks(start, now)) & MASK) as u32,
            None => self.counter,
        }
    }

    fn enabled(&self) -> u32 {
        self.evten | self.ev.inten
    }

    /// The first tick after `after` at which the counter equals `value`.
    fn match_tick(base: u32, after: u64, value: u32) -> u64 {
        let next = after + 1;
        let counter = (base as u64 + next) & MASK;
        next + ((value as u64).wrapping_sub(counter) & MASK)
    }

    /// Generate the events of the ticks up to `now` (only if the LFCLK runs; the caller
    /// stops calling when it does not).
    pub fn advance(&mut self, now: SimTime) {
        let Some((start, base)) = self.run else {
            return;
        };
        let t = self.ticks(start, now);
        if t <= self.seen {
            return;
        }
        let en = self.enabled();
        if en & 1 != 0 {
            self.ev.set(0);
        }
        if en & 2 != 0 && Self::match_tick(base, self.seen, 0) <= t {
            self.ev.set(1);
        }
        for n in 0..self.channels {
            if en & (1 << (16 + n)) != 0 && Self::match_tick(base, self.seen, self.cc[n]) <= t {
                self.ev.set(16 + n as u32);
            }
        }
        self.seen = t;
    }

    pub fn next_event(&self) -> Option<SimTime> {
        let (start, base) = self.run?;
        let en = self.enabled();
        let mut best: Option<u64> = None;
        let mut consider = |t: u64| best = Some(best.map_or(t, |b: u64| b.min(t)));
        if en & 1 != 0 {
            consider(self.seen + 1);
        }
        if en & 2 != 0 {
            consider(Self::match_tick(base, self.seen, 0));
        }
        for n in 0..self.channels {
            if en & (1 << (16 + n)) != 0 {
                consider(Self::match_tick(base, self.seen, self.cc[n]));
            }
        }
        best.map(|t| self.tick_time(start, t))
    }

    pub fn read(&self, off: u32, now: SimTime) -> Option<u32> {
        if let Some(v) = self.ev.read(off) {
            return Some(v);
        }
        Some(match off {
            0x340 | 0x344 | 0x348 => self.evten,
            0x504 => self.counter_at(now),
            0x508 => self.prescaler,
            0x540..=0x54C => self.cc[((off - 0x540) / 4) as usize],
            _ => return None,
        })
    }

    /// A register write at `now` (the caller has advanced the RTC to `now`).
    pub fn write(&mut self, off: u32, v: u32, now: SimTime) -> bool {
        // Events due before this write are judged with the settings before it.
        self.advance(now);
        if self.ev.write(off, v) {
            return true;
        }
        match off {
            0x000 if v & 1 == 1 => {
                if self.run.is_none() {
                    self.run = Some((now, self.counter));
                    self.seen = 0;
                }
            }
            0x004 if v & 1 == 1 => {
                self.counter = self.counter_at(now);
                self.run = None;
            }
            0x008 if v & 1 == 1 => {
                self.counter = 0;
                if self.run.is_some() {
                    self.run = Some((now, 0));
                    self.seen = 0;
                }
            }
            0x00C if v & 1 == 1 => {
                // TRIGOVRFLW: the counter jumps to 0xFFFFF0.
                self.counter = 0xFF_FFF0;
                if self.run.is_some() {
                    self.run = Some((now, 0xFF_FFF0));
                    self.seen = 0;
                }
            }
            0x340 => self.evten = v,
            0x344 => self.evten |= v,
            0x348 => self.evten &= !v,
            // PRESCALER can only be written while stopped.
            0x508 if self.run.is_none() => self.prescaler = v & 0xFFF,
            0x508 => {}
            0x540..=0x54C => {
                let n = ((off - 0x540) / 4) as usize;
                if n < self.channels {
                    self.cc[n] = v & MASK as u32;
                }
            }
            _ => return false,
        }
        true
    }
}
