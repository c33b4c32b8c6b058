//! The nRF52832 peripherals at register level, for firmware running on the emulated core
//! (`crate::armv7m`) and for the debugger, on the memory map the SWD seam uses (`sysbus`):
//! CLOCK/POWER, BPROT, RTC0-2, WDT, GPIO P0, UARTE0/UART0. Each keeps its state as of a lab
//! time and says when it next changes by itself ([`Peripherals::next_event`]), so a sleeping
//! core costs nothing between events. Accesses to peripheral registers that are not modelled
//! read as zero and ignore writes, as most unused registers do on silicon, and are counted
//! by address ([`Unmodelled`], shown by `rig lab status`).

pub mod bprot;
pub mod clock;
pub mod events;
pub mod gpio;
pub mod names;
pub mod rtc;
pub mod uarte;
pub mod wdt;

use crate::events::SimTime;
use std::collections::BTreeMap;
use std::time::Duration;

/// Peripheral base addresses (nRF52832 PS v1.4, "Memory map" / "Instantiation").
pub mod base {
    pub const CLOCK_POWER: u32 = 0x4000_0000;
    pub const UARTE0: u32 = 0x4000_2000;
    pub const RTC0: u32 = 0x4000_B000;
    pub const WDT: u32 = 0x4001_0000;
    pub const RTC1: u32 = 0x4001_1000;
    pub const RTC2: u32 = 0x4002_4000;
    pub const P0: u32 = 0x5000_0000;
}

/// Interrupt numbers (nrf52.h IRQn_Type).
pub mod irq {
    pub const POWER_CLOCK: u32 = 0;
    pub const UARTE0_UART0: u32 = 2;
    pub const RTC0: u32 = 11;
    pub const WDT: u32 = 16;
    pub const RTC1: u32 = 17;
    pub const RTC2: u32 = 36;
}

/// Accesses to peripheral registers the model does not implement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unmodelled {
    pub reads: u64,
    pub writes: u64,
    /// Accesses by word address (the first 256 distinct addresses).
    pub by_addr: BTreeMap<u32, u64>,
}

impl Unmodelled {
    fn note(&mut self, addr: u32, write: bool) {
        if write {
            self.writes += 1;
        } else {
            self.reads += 1;
        }
        let word = addr & !3;
        if self.by_addr.len() < 256 || self.by_addr.contains_key(&word) {
            *self.by_addr.entry(word).or_default() += 1;
        }
    }

    /// `N unmodelled peripheral accesses`, then the distinct registers with their peripherals
    /// (at most `shown`, most used first): what the firmware reached for that reads as zero.
    pub fn summary(&self, shown: usize) -> String {
        let total = self.reads + self.writes;
        let mut line = format!("{total} unmodelled peripheral accesses");
        if self.by_addr.is_empty() {
            return line;
        }
        let mut by_use: Vec<(u32, u64)> = self.by_addr.iter().map(|(&a, &n)| (a, n)).collect();
        by_use.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let listed: Vec<String> = by_use
            .iter()
            .take(shown)
            .map(|&(a, n)| format!("{} x{n}", names::describe_address(a)))
            .collect();
        line += &format!(" ({}", listed.join(", "));
        match by_use.len().saturating_sub(shown) {
            0 => {}
            1 => line += ", 1 more register",
            n => line += &format!(", {n} more registers"),
        }
        line + ")"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peripherals {
    pub clock: clock::Clock,
    pub bprot: bprot::Bprot,
    pub rtc: [rtc::Rtc; 3],
    pub wdt: wdt::Wdt,
    pub gpio: gpio::Gpio,
    pub uarte: uarte::Uarte,
    pub unmodelled: Unmodelled,
    /// Set when the watchdog resets the chip.
    pub watchdog_reset: bool,
}

impl Default for Peripherals {
    fn default() -> Self {
        Peripherals {
            clock: Default::default(),
            bprot: Default::default(),
            rtc: [rtc::Rtc::new(3), rtc::Rtc::new(4), rtc::Rtc::new(4)],
            wdt: Default::default(),
            gpio: Default::default(),
            uarte: Default::default(),
            unmodelled: Default::default(),
            watchdog_reset: false,
        }
    }
}

fn rtc_index(addr: u32) -> Option<usize> {
    match addr & !0xFFF {
        base::RTC0 => Some(0),
        base::RTC1 => Some(1),
        base::RTC2 => Some(2),
        _ => None,
    }
}

impl Peripherals {
    /// A chip reset: every peripheral to its reset state (the watchdog only if it caused the
    /// reset or power was lost: `keep_wdt` false); bytes still arriving on the serial line are
    /// lost, what was sent reaches the host, the bench keeps driving the button.
    pub fn reset(&mut self, keep_wdt: bool) {
        let wdt = if keep_wdt {
            self.wdt.clone()
        } else {
            Default::default()
        };
        let mut uarte = std::mem::take(&mut self.uarte);
        uarte.reset();
        let gpio = gpio::Gpio {
            driven: self.gpio.driven,
            driven_mask: self.gpio.driven_mask,
            ..Default::default()
        };
        let unmodelled = std::mem::take(&mut self.unmodelled);
        *self = Peripherals {
            wdt,
            uarte,
            gpio,
            unmodelled,
            ..Default::default()
        };
    }

    pub fn set_uart_byte_time(&mut self, t: Duration) {
        self.uarte.byte_time = t;
    }

    /// Whether the 32.768 kHz clock runs (the watchdog forces the LFRC on while it runs).
    fn lfclk(&self) -> bool {
        self.clock.lfclk_running() || self.wdt.running()
    }

    /// Generate every event due by `now`.
    pub fn advance(&mut self, now: SimTime, ram: &mut [u8]) {
        self.clock.advance(now);
        if self.lfclk() {
            for r in &mut self.rtc {
                r.advance(now);
            }
        }
        if self.wdt.advance(now) {
            self.watchdog_reset = true;
        }
        self.uarte.advance(now, ram);
    }

    /// When a peripheral next changes by itself.
    pub fn next_event(&self, now: SimTime) -> Option<SimTime> {
        let mut best: Option<SimTime> = None;
        let mut consider = |t: Option<SimTime>| {
            if let Some(t) = t {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        };
        consider(self.clock.next_event());
        if self.lfclk() {
            for r in &self.rtc {
                consider(r.next_event());
            }
        }
        consider(self.wdt.next_event());
        consider(self.uarte.next_event(now));
        best
    }

    /// The interrupt lines, by IRQ number.
    pub fn irq_lines(&self) -> u64 {
        let mut l = 0u64;
        let mut line = |n: u32, on: bool| {
            if on {
                l |= 1 << n;
            }
        };
        line(irq::POWER_CLOCK, self.clock.ev.irq());
        line(irq::UARTE0_UART0, self.uarte.ev.irq());
        line(irq::RTC0, self.rtc[0].ev.irq());
        line(irq::RTC1, self.rtc[1].ev.irq());
        line(irq::RTC2, self.rtc[2].ev.irq());
        line(irq::WDT, self.wdt.ev.irq());
        l
    }

    /// A word read of a peripheral register at `now` (None: not a peripheral address).
    pub fn read(&mut self, addr: u32, now: SimTime) -> Option<u32> {
        if !(0x4000_0000..0x4008_0000).contains(&addr)
            && !(0x5000_0000..0x5000_1000).contains(&addr)
        {
            return None;
        }
        let off = addr & 0xFFF;
        let v = match addr & !0xFFF {
            base::CLOCK_POWER if (0x600..0x618).contains(&off) => self.bprot.read(off),
            base::CLOCK_POWER => self.clock.read(off),
            base::UARTE0 => self.uarte.read(off),
            base::WDT => self.wdt.read(off),
            base::P0 => self.gpio.read(off),
            a => match rtc_index(a) {
                Some(i) => self.rtc[i].read(off, now),
                None => None,
            },
        };
        Some(v.unwrap_or_else(|| {
            self.unmodelled.note(addr, false);
            0
        }))
    }

    /// A word write at `now` (false: not a peripheral address).
    pub fn write(&mut self, addr: u32, v: u32, now: SimTime, ram: &[u8]) -> bool {
        if !(0x4000_0000..0x4008_0000).contains(&addr)
            && !(0x5000_0000..0x5000_1000).contains(&addr)
        {
            return false;
        }
        let off = addr & 0xFFF;
        let handled = match addr & !0xFFF {
            base::CLOCK_POWER if (0x600..0x618).contains(&off) => self.bprot.write(off, v),
            base::CLOCK_POWER => self.clock.write(off, v, now),
            base::UARTE0 => self.uarte.write(off, v, now, ram),
            base::WDT => self.wdt.write(off, v, now),
            base::P0 => self.gpio.write(off, v),
            a => match rtc_index(a) {
                Some(i) => self.rtc[i].write(off, v, now),
                None => false,
            },
        };
        if !handled {
            self.unmodelled.note(addr, true);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of register writes and reads at any times leaves the peripherals
        /// consistent: no panic, and once advanced to a time nothing is due by then (the next
        /// event is later) unless the watchdog is resetting the chip.
        #[test]
        fn arbitrary_register_traffic_never_panics(
            ops in proptest::collection::vec((0u32..0x50u32, 0u32..0x400u32, any::<u32>(), 0u64..2_000_000u64), 1..60)
        ) {
            let mut p = Peripherals::default();
            let mut ram = vec![0u8; 0x1_0000];
            let mut now = SimTime::ZERO;
            p.uarte.host_rx(now, b"abc", Duration::from_micros(87));
            for (page, word, v, dt) in ops {
                now += Duration::from_nanos(dt);
                p.advance(now, &mut ram);
                if let Some(next) = p.next_event(now) {
                    prop_assert!(next > now || p.watchdog_reset, "{next:?} due at {now:?}");
                }
                let base = if page == 0x4F { base::P0 } else { 0x4000_0000 + page * 0x1000 };
                let addr = base + word * 4;
                if v & 1 == 0 {
                    p.write(addr, v, now, &ram);
                } else {
                    let _ = p.read(addr, now);
                }
                let _ = p.irq_lines();
            }
        }
    }
}
