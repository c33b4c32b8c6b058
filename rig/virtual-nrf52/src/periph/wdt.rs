//! WDT (nRF52832 PS v1.4 chapter 38): once started it counts CRV + 1 ticks of the 32.768 kHz
//! clock; writing the reload value 0x6E524635 to every enabled RR[n] restarts the count. At
//! the timeout the TIMEOUT event is set and, two 32.768 kHz cycles later, the chip resets
//! (RESETREAS.DOG). Simplified: the count runs whether or not the CPU sleeps or is halted
//! (CONFIG.SLEEP/HALT are kept but not applied).

use super::events::EventBlock;
use crate::events::SimTime;
use std::time::Duration;

pub const RELOAD: u32 = 0x6E52_4635;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wdt {
    pub ev: EventBlock,
    pub crv: u32,
    pub rren: u32,
    pub config: u32,
    /// When the running count times out.
    pub deadline: Option<SimTime>,
    /// RR[n] written since the last reload.
    pub fed: u32,
    /// When the timeout resets the chip.
    pub reset_at: Option<SimTime>,
}

impl Default for Wdt {
    fn default() -> Self {
        Wdt {
            ev: EventBlock::default(),
            crv: 0xFFFF_FFFF,
            rren: 1,
            config: 1,
            deadline: None,
            fed: 0,
            reset_at: None,
        }
    }
}

fn lf_ticks(n: u64) -> Duration {
    Duration::from_nanos((n as u128 * 1_000_000_000 / 32_768) as u64)
}

impl Wdt {
    fn period(&self) -> Duration {
        lf_ticks(self.crv as u64 + 1)
    }

    pub fn running(&self) -> bool {
        self.deadline.is_some()
    }

    /// Returns true when the watchdog resets the chip now.
    pub fn advance(&mut self, now: SimTime) -> bool {
        if let Some(d) = self.deadline {
            if d <= now && self.reset_at.is_none() {
                self.ev.set(0);
                self.reset_at = Some(d + lf_ticks(2));
            }
        }
        self.reset_at.is_some_and(|r| r <= now)
    }

    pub fn next_event(&self) -> Option<SimTime> {
        self.reset_at.or(self.deadline)
    }

    pub fn read(&self, off: u32) -> Option<u32> {
        if let Some(v) = self.ev.read(off) {
            return Some(v);
        }
        Some(match off {
            0x400 => self.running() as u32,
            // REQSTATUS: the enabled registers not yet written since the last reload.
            0x404 => self.rren & !self.fed & 0xFF,
            0x504 => self.crv,
            0x508 => self.rren,
            0x50C => self.config,
            0x600..=0x61C => 0,
            _ => return None,
        })
    }

    pub fn write(&mut self, off: u32, v: u32, now: SimTime) -> bool {
        if self.ev.write(off, v) {
            return true;
        }
        let running = self.running();
        match off {
            0x000 if v & 1 == 1 && !running => {
                self.deadline = Some(now + self.period());
                self.fed = 0;
            }
            0x504 if !running => self.crv = v.max(0xF),
            0x508 if !running => self.rren = v & 0xFF,
            0x50C if !running => self.config = v & 9,
            0x600..=0x61C => {
                let n = (off - 0x600) / 4;
                if running && v == RELOAD && self.rren & (1 << n) != 0 {
                    self.fed |= 1 << n;
                    if self.fed & self.rren == self.rren && self.reset_at.is_none() {
                        self.deadline = Some(now + self.period());
                        self.fed = 0;
                    }
                }
            }
            // Registers locked while running (and TASKS_START again) ignore writes.
            0x000 | 0x504 | 0x508 | 0x50C => {}
            _ => return false,
        }
        true
    }
}
