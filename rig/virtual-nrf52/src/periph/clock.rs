//! CLOCK and POWER at 0x40000000 (nRF52832 PS v1.4 chapters 18 and 17): the clocks start when
//! asked (LFCLKSTARTED and HFCLKSTARTED after the start-up times of the table "Low frequency
//! clock source" / "64 MHz crystal oscillator"), LFCLKSTAT says which source runs; the POWER
//! registers beyond RESETREAS/GPREGRET (kept by the hardware model) are plain storage, and
//! SYSTEMOFF stops the core. CLOCK and POWER share one event block and one interrupt (IRQ 0).

use super::events::EventBlock;
use crate::events::SimTime;
use std::time::Duration;

/// LFXO start-up, typical (PS table "32.768 kHz crystal oscillator": t_START,LFXO 0.25 s).
const LFXO_START: Duration = Duration::from_millis(250);
/// LFRC start-up (t_START,LFRC 600 us).
const LFRC_START: Duration = Duration::from_micros(600);
/// HFXO start-up (t_START,HFXO 0.36 ms typical).
const HFXO_START: Duration = Duration::from_micros(360);

const EV_HFCLKSTARTED: u32 = 0;
const EV_LFCLKSTARTED: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clock {
    pub ev: EventBlock,
    /// LFCLKSRC: 0 RC, 1 XTAL, 2 synthesized.
    pub lfclksrc: u32,
    /// The source that runs (LFCLKSTAT.SRC) and since when (None: stopped).
    pub lf_running: Option<(u32, SimTime)>,
    pub lf_starting: Option<(u32, SimTime)>,
    pub hf_xtal: bool,
    pub hf_starting: Option<SimTime>,
    pub lfclkrun: bool,
    pub hfclkrun: bool,
    /// POWER registers kept as storage (POFCON, DCDCEN, RAM[n].POWER, TASKS...).
    pub power_regs: std::collections::BTreeMap<u32, u32>,
    /// SYSTEMOFF was written: the core stops (System OFF is left only by a reset here).
    pub system_off: bool,
}

impl Clock {
    /// Whether the 32.768 kHz clock runs (the RTCs and the watchdog count only then; the
    /// watchdog forces LFRC on, see `wdt`).
    pub fn lfclk_running(&self) -> bool {
        self.lf_running.is_some()
    }

    pub fn advance(&mut self, now: SimTime) {
        if let Some((src, at)) = self.lf_starting {
            if at <= now {
                self.lf_starting = None;
                self.lf_running = Some((src, at));
                self.ev.set(EV_LFCLKSTARTED);
            }
        }
        if let Some(at) = self.hf_starting {
            if at <= now {
                self.hf_starting = None;
                self.hf_xtal = true;
                self.ev.set(EV_HFCLKSTARTED);
            }
        }
    }

    pub fn next_event(&self) -> Option<SimTime> {
        let lf = self.lf_starting.map(|(_, t)| t);
        match (lf, self.hf_starting) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn read(&self, off: u32) -> Option<u32> {
        if let Some(v) = self.ev.read(off) {
            return Some(v);
        }
        Some(match off {
            0x408 => self.hfclkrun as u32,
            // HFCLKSTAT: SRC (bit 0, 1 = Xtal), STATE (bit 16).
            0x40C => {
                if self.hf_xtal {
                    0x1_0001
                } else {
                    0x1_0000
                }
            }
            0x414 => self.lfclkrun as u32,
            // LFCLKSTAT: SRC (bits 1:0), STATE (bit 16).
            0x418 => self.lf_running.map_or(0, |(src, _)| src | 0x1_0000),
            0x41C => self.lfclksrc,
            0x518 => self.lfclksrc,
            // POWER RAMSTATUS: all RAM blocks on.
            0x428 => 0xF,
            off if off >= 0x500 => self.power_regs.get(&off).copied().unwrap_or(0),
            _ => return None,
        })
    }

    pub fn write(&mut self, off: u32, v: u32, now: SimTime) -> bool {
        if self.ev.write(off, v) {
            return true;
        }
        match off {
            0x000 if v & 1 == 1 => {
                self.hfclkrun = true;
                self.hf_starting = Some(now + HFXO_START);
            }
            0x004 if v & 1 == 1 => {
                self.hfclkrun = false;
                self.hf_xtal = false;
                self.hf_starting = None;
            }
            0x008 if v & 1 == 1 => {
                self.lfclkrun = true;
                let src = self.lfclksrc & 3;
                let delay = if src == 1 { LFXO_START } else { LFRC_START };
                self.lf_starting = Some((src, now + delay));
            }
            0x00C if v & 1 == 1 => {
                self.lfclkrun = false;
                self.lf_running = None;
                self.lf_starting = None;
            }
            // CAL, CTSTART, CTSTOP, POWER CONSTLAT/LOWPWR: nothing to model.
            0x010..=0x018 | 0x078 | 0x07C => {}
            0x518 => self.lfclksrc = v & 0x3_0003,
            0x500 if v & 1 == 1 => self.system_off = true,
            off if off >= 0x500 => {
                self.power_regs.insert(off, v);
            }
            _ => return false,
        }
        true
    }
}
