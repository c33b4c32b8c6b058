//! The system bus behind the core and the debug port's AHB-AP: code flash, FICR, UICR, RAM and
//! the peripherals, with the NVMC at register level in lab time.
//!
//! Unlike the firmware-level path of `bus.rs` (where a flash write is done when the call
//! returns), here an NVMC operation takes its time: READY reads 0 (Busy) until it is done, a
//! read of flash or UICR in the meantime stalls the bus (the core waits, the AHB-AP answers
//! WAIT), and the content changes when the operation completes, or is torn if power goes first
//! (nRF52832 product spec v1.4, NVMC chapter: "the CPU is halted if ... accessing the flash while
//! the NVMC is writing/erasing"). Writes to flash with CONFIG != WEN and erase registers with
//! CONFIG != EEN are ignored, as silicon does. A word write to flash can only clear bits.

use crate::armv7m::exec::{Bus, BusError};
use crate::armv7m::ppb::lane;
use crate::events::SimTime;
use crate::hardware::Hardware;
use crate::nvmc::{self, FlashOp, FlashPath, NvmcConfig};
use nrf_dfu::memory_map::{FICR_BASE, NVMC_BASE, RAM_START, UICR_APPROTECT, UICR_BASE, UICR_SIZE};
use std::time::Duration;

// The NVMC registers the register-level bus shares with the firmware model's bus.
use crate::bus::{
    NVMC_CONFIG, NVMC_ERASEALL, NVMC_ERASEPAGE, NVMC_ERASEPCR0, NVMC_ERASEUICR, NVMC_READY,
};
const NVMC_ICACHECNF: u32 = NVMC_BASE + 0x540;

/// APPROTECT peripheral of the newer nRF52832 builds (revision 3; product spec v1.8 section
/// "APPROTECT"): FORCEPROTECT at 0x40000550, DISABLE at 0x40000558 (writing 0x5A, SwDisable,
/// opens the port if UICR.APPROTECT is HwDisabled).
pub const APPROTECT_FORCEPROTECT: u32 = 0x4000_0550;
pub const APPROTECT_DISABLE: u32 = 0x4000_0558;
/// UICR.APPROTECT.PALL = HwDisabled (revision 3).
pub const PALL_HW_DISABLED: u32 = 0x5A;

/// WDT RR[0-7] (PS chapter 38): reload requests.
const WDT_RR0: u32 = crate::periph::base::WDT + 0x600;

/// An NVMC operation in progress on the register-level path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvmcBusy {
    pub op: FlashOp,
    pub start: SimTime,
    pub end: SimTime,
    /// Started by CTRL-AP ERASEALL: also clears RAM and opens the access port when done.
    pub ctrl_ap: bool,
}

/// Which nRF52832 build: how APPROTECT behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartRevision {
    /// Builds up to revision 2: the port is locked at reset when UICR.APPROTECT.PALL is not
    /// 0xFF; CTRL-AP ERASEALL erases the UICR and so unlocks it.
    #[default]
    Rev2,
    /// Revision 3 (hardware APPROTECT): locked at every reset unless UICR.APPROTECT.PALL is
    /// HwDisabled (0x5A) and the running firmware writes APPROTECT.DISABLE = SwDisable (0x5A);
    /// CTRL-AP ERASEALL opens it until the next pin, power-on or watchdog reset (a soft reset,
    /// the CTRL-AP one included, keeps it open; see `Device::silicon_reset`).
    Rev3,
}

/// Register state of the SoC outside the hardware model (which keeps flash, UICR, FICR, RAM,
/// POWER and NVMC.CONFIG).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Soc {
    pub nvmc: Option<NvmcBusy>,
    pub icachecnf: u32,
    pub approtect_disable: u32,
    pub approtect_force: bool,
    /// ERASEALL through the CTRL-AP opened the port (revision 3), until a pin or power-on reset.
    pub erase_unlocked: bool,
    /// CLOCK, POWER, BPROT, RTCs, WDT, GPIO, UARTE (`crate::periph`).
    pub periph: crate::periph::Peripherals,
}

impl Soc {
    pub fn new() -> Soc {
        let mut s = Soc::default();
        s.reset(false);
        s
    }

    /// A reset of the chip: the peripherals return to their reset values (the watchdog only
    /// at power-on or its own reset: `keep_wdt` for the other resets).
    pub fn reset(&mut self, keep_wdt: bool) {
        self.icachecnf = 0;
        self.approtect_disable = 0;
        self.approtect_force = false;
        self.periph.reset(keep_wdt);
    }

    pub fn nvmc_busy_at(&self, now: SimTime) -> bool {
        self.nvmc.as_ref().is_some_and(|b| now < b.end)
    }
}

/// Whether the access port is locked now.
pub fn is_locked(hw: &Hardware, soc: &Soc, rev: PartRevision) -> bool {
    match rev {
        PartRevision::Rev2 => hw.is_protected(),
        PartRevision::Rev3 => {
            if soc.approtect_force {
                return true;
            }
            let pall = hw
                .memory()
                .uicr
                .read_word(UICR_APPROTECT)
                .unwrap_or(u32::MAX)
                & 0xFF;
            let opened = pall == PALL_HW_DISABLED && soc.approtect_disable == PALL_HW_DISABLED;
            !(soc.erase_unlocked || opened)
        }
    }
}

/// Side effects a sequence of accesses had, for the core's idle-loop detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effects {
    /// Something was written.
    pub wrote: bool,
    /// A register whose value changes with time alone was read while it said "busy".
    pub polled_busy: bool,
    /// A peripheral register was accessed (events or interrupt lines may have changed).
    pub periph: bool,
}

/// The system bus at time `now`.
pub struct SysBus<'a> {
    pub hw: &'a mut Hardware,
    pub soc: &'a mut Soc,
    pub now: SimTime,
    pub effects: Effects,
    /// The access comes from the core (BPROT applies), not the debugger.
    pub from_cpu: bool,
}

enum Target {
    Flash,
    Ram,
    Register,
}

impl SysBus<'_> {
    fn target(&self, addr: u32) -> Target {
        let flash_end = self.hw.chip().flash_size();
        if addr < flash_end || (UICR_BASE..UICR_BASE + UICR_SIZE).contains(&addr) {
            Target::Flash
        } else if (RAM_START..RAM_START + self.hw.chip().ram_size()).contains(&addr) {
            Target::Ram
        } else {
            Target::Register
        }
    }

    fn stalled(&self) -> bool {
        self.soc.nvmc_busy_at(self.now)
    }

    /// Whether BPROT refuses `op` from this bus master (PS chapter 15: a write or erase of a
    /// protected region from the CPU faults; DISABLEINDEBUG lifts it for the debugger).
    fn protected(&self, op: &FlashOp) -> bool {
        let b = &self.soc.periph.bprot;
        if !self.from_cpu && b.disable_in_debug & 1 == 1 {
            return false;
        }
        match op {
            FlashOp::WriteWords { addr, .. } => b.protects(*addr),
            FlashOp::ErasePage { addr } => b.protects(*addr),
            FlashOp::EraseAll => b.any(),
            _ => false,
        }
    }

    /// Start an NVMC operation now (the caller checked CONFIG and that none is in progress).
    fn start(&mut self, op: FlashOp) -> Result<(), BusError> {
        if self.protected(&op) {
            return Err(BusError::Fault);
        }
        if op.validate(self.hw.memory()).is_err() {
            // Silicon ignores an erase of a non-existent page; a write outside flash faulted
            // before it got here.
            return Ok(());
        }
        let d: Duration = nvmc::cost(&op, FlashPath::Nvmc, self.hw.timing());
        self.soc.nvmc = Some(NvmcBusy {
            op,
            start: self.now,
            end: self.now + d,
            ctrl_ap: false,
        });
        self.effects.wrote = true;
        Ok(())
    }

    fn read_register(&mut self, addr: u32) -> Result<u32, BusError> {
        use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_GPREGRET2, POWER_RESETREAS};
        Ok(match addr {
            NVMC_READY => {
                let busy = self.stalled();
                self.effects.polled_busy |= busy;
                !busy as u32
            }
            NVMC_ICACHECNF => self.soc.icachecnf,
            APPROTECT_DISABLE => self.soc.approtect_disable,
            APPROTECT_FORCEPROTECT => !self.soc.approtect_force as u32 * 0xFF,
            a if (FICR_BASE..FICR_BASE + 0x1000).contains(&a) => {
                self.hw.read_u32(a).map_err(|_| BusError::Fault)?
            }
            POWER_RESETREAS | POWER_GPREGRET | POWER_GPREGRET2 | NVMC_CONFIG => {
                self.hw.read_u32(addr).map_err(|_| BusError::Fault)?
            }
            // The part's identification words the MDK's errata checks fall back to when FICR
            // 0x10000130 is unprogrammed (nrf52_erratas.h: var1 = *(0xF0000FE0) & 0xFF,
            // var2 = (*(0xF0000FE8) & 0xF0) >> 4). GCC hoists those loads above the test, so
            // they must read without a fault: nRF52832 (0x06), revision 2 (var2 0x05).
            0xF000_0FE0 => 0x06,
            0xF000_0FE8 => 0x50,
            a if (0xF000_0FC0..0xF000_1000).contains(&a) => 0,
            a => {
                self.effects.periph = true;
                self.soc.periph.read(a, self.now).ok_or(BusError::Fault)?
            }
        })
    }

    fn write_register(&mut self, addr: u32, v: u32) -> Result<(), BusError> {
        use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_GPREGRET2, POWER_RESETREAS};
        let now = self.now;
        if (WDT_RR0..WDT_RR0 + 0x20).contains(&addr) {
            // RR[n]: a reload request. It moves the watchdog's deadline only, so a READY poll
            // loop that feeds the dog on every turn (probe-rs 0.32's nRF52 algorithm,
            // targets/nRF52_Series.yaml, does) stays an idle loop to skip.
            self.soc.periph.write(addr, v, now, &self.hw.ram);
            self.effects.periph = true;
            return Ok(());
        }
        self.effects.wrote = true;
        let config = self.hw.nvmc_config;
        match addr {
            NVMC_CONFIG => {
                // CONFIG cannot change while an operation runs: the write waits.
                if self.stalled() {
                    return Err(BusError::Stall);
                }
                self.hw.nvmc_config = NvmcConfig::from_register(v);
            }
            NVMC_ERASEPAGE | NVMC_ERASEPCR0 | NVMC_ERASEALL | NVMC_ERASEUICR => {
                if self.stalled() {
                    return Err(BusError::Stall);
                }
                if config != NvmcConfig::EraseEnabled {
                    return Ok(());
                }
                let op = match addr {
                    NVMC_ERASEALL if v & 1 == 1 => FlashOp::EraseAll,
                    NVMC_ERASEUICR if v & 1 == 1 => FlashOp::EraseUicr,
                    NVMC_ERASEPAGE | NVMC_ERASEPCR0 => FlashOp::ErasePage { addr: v },
                    _ => return Ok(()),
                };
                self.start(op)?;
            }
            NVMC_ICACHECNF => self.soc.icachecnf = v & 0x101,
            APPROTECT_DISABLE => self.soc.approtect_disable = v,
            APPROTECT_FORCEPROTECT => {
                if v & 0xFF == 0 {
                    self.soc.approtect_force = true;
                }
            }
            POWER_RESETREAS | POWER_GPREGRET | POWER_GPREGRET2 => {
                self.hw.write_u32(addr, v).map_err(|_| BusError::Fault)?
            }
            a => {
                self.effects.periph = true;
                if !self.soc.periph.write(a, v, now, &self.hw.ram) {
                    return Err(BusError::Fault);
                }
            }
        }
        Ok(())
    }
}

impl Bus for SysBus<'_> {
    fn read(&mut self, addr: u32, size: u32) -> Result<u32, BusError> {
        if !self.hw.is_powered() {
            return Err(BusError::Fault);
        }
        match self.target(addr) {
            Target::Flash => {
                if self.stalled() {
                    return Err(BusError::Stall);
                }
                let b = self
                    .hw
                    .memory()
                    .read(addr, size)
                    .map_err(|_| BusError::Fault)?;
                Ok(b.iter().rev().fold(0, |acc, &x| acc << 8 | x as u32))
            }
            Target::Ram => {
                let o = (addr - RAM_START) as usize;
                let b = self
                    .hw
                    .ram
                    .get(o..o + size as usize)
                    .ok_or(BusError::Fault)?;
                Ok(b.iter().rev().fold(0, |acc, &x| acc << 8 | x as u32))
            }
            Target::Register => Ok(lane(self.read_register(addr & !3)?, addr, size)),
        }
    }

    fn write(&mut self, addr: u32, size: u32, value: u32) -> Result<(), BusError> {
        if !self.hw.is_powered() {
            return Err(BusError::Fault);
        }
        match self.target(addr) {
            Target::Flash => {
                if size != 4 {
                    return Err(BusError::Fault);
                }
                if self.stalled() {
                    return Err(BusError::Stall);
                }
                self.effects.wrote = true;
                if self.hw.nvmc_config != NvmcConfig::WriteEnabled {
                    return Ok(());
                }
                self.start(FlashOp::WriteWords {
                    addr,
                    words: vec![value],
                })
            }
            Target::Ram => {
                self.effects.wrote = true;
                let o = (addr - RAM_START) as usize;
                let b = self
                    .hw
                    .ram
                    .get_mut(o..o + size as usize)
                    .ok_or(BusError::Fault)?;
                b.copy_from_slice(&value.to_le_bytes()[..size as usize]);
                Ok(())
            }
            Target::Register => {
                if size != 4 {
                    return Err(BusError::Fault);
                }
                self.write_register(addr, value)
            }
        }
    }
}

impl Hardware {
    /// Finish (or tear, with `cut`) the register-level NVMC operation. Errors are the model's
    /// power-loss report; the caller has already accounted the time.
    pub(crate) fn complete_nvmc(&mut self, busy: &NvmcBusy, cut: Option<f64>) {
        let r = match cut {
            None => self.flash_op(&busy.op, FlashPath::Nvmc),
            Some(f) => self.flash_op_cut(&busy.op, FlashPath::Nvmc, f),
        };
        if r.is_ok() && busy.ctrl_ap {
            self.ram.fill(0);
            self.approtect = false;
        }
    }
}
