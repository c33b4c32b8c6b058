//! The device at register level: the ARMv7-M core, the SoC registers of `sysbus`, and the
//! debug state a probe sees through the SWD port (module `swd`), joined to the firmware-level
//! [`Device`] on the same simulated time.
//!
//! How the two levels meet: the firmware models (MBR, bootloader, application stand-ins) run
//! as before until a debugger halts the core and changes its registers (probe-rs loading its
//! flash algorithm). Resuming then runs the core's instructions instead of the model
//! (`Run::Cpu`) until the next reset, which boots the firmware models again. A halted model
//! shows the registers of its reset (PC = the reset vector): the models have no program
//! counter of their own.

use crate::armv7m::exec::{Bus, BusError};
use crate::armv7m::regs::Regs;
use crate::armv7m::scs::{addr as scs_addr, demcr, dfsr, dhcsr};
use crate::armv7m::{ppb, Cpu, Stop, CPU_HZ};
use crate::events::SimTime;
use crate::power::ResetKind;
use crate::swd::SwdState;
use crate::sysbus::{is_locked, PartRevision, Soc, SysBus, PALL_HW_DISABLED};
use crate::virtual_device::Run;
use crate::Device;
use nrf_dfu::memory_map::UICR_APPROTECT;
use std::time::Duration;

/// Where the core stood when it last read a busy status register in a loop without writing
/// anything: if it comes back to the same instruction with the same registers, every
/// iteration until the status changes is the same, and the model skips them in one go.
///
/// The mark is taken just after the polling instruction (registers and counts), so the
/// registers are copied only for instructions that polled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PollMark {
    regs: Regs,
    instructions: u64,
    cycles: u64,
}

/// The register-level state of one device.
#[derive(Debug, Clone)]
pub(crate) struct Silicon {
    pub cpu: Cpu,
    pub soc: Soc,
    pub swd: SwdState,
    pub revision: PartRevision,
    /// The debugger wrote a core register while halted: resuming runs the core, not the model.
    pub redirected: bool,
    /// CTRL-AP RESET = 1: the chip is held in reset.
    pub ctrl_ap_reset: bool,
    /// nRESET asserted (and routed by PSELRESET): the chip is held in reset.
    pub pin_reset: bool,
    /// The reset in progress comes from the CTRL-AP.
    pub ctrl_ap_reset_pending: bool,
    /// DCRSR transfer done (DHCSR.S_REGRDY).
    pub regrdy: bool,
    /// Halt after one instruction (DHCSR.C_STEP with C_HALT cleared).
    pub stepping: bool,
    /// Nanoseconds owed by cycles not yet turned into simulated time (in 1/64 ns).
    cycle_remainder: u64,
    poll: Option<PollMark>,
    /// Instructions the idle-loop skip accounted without decoding them.
    pub skipped_instructions: u64,
    /// When a peripheral next changes by itself (events, received bytes, the watchdog).
    pub periph_due: Option<SimTime>,
    /// A peripheral register was accessed or a byte arrived: recompute events and lines.
    pub periph_dirty: bool,
}

impl Silicon {
    pub fn new() -> Silicon {
        Silicon {
            cpu: Cpu::new(),
            soc: Soc::new(),
            swd: SwdState::default(),
            revision: PartRevision::default(),
            redirected: false,
            ctrl_ap_reset: false,
            ctrl_ap_reset_pending: false,
            pin_reset: false,
            regrdy: true,
            stepping: false,
            cycle_remainder: 0,
            poll: None,
            skipped_instructions: 0,
            periph_due: None,
            periph_dirty: true,
        }
    }
}

/// Cycles at 64 MHz as simulated time, carrying the fraction of a nanosecond.
fn cycles_to_time(cycles: u64, remainder: &mut u64) -> Duration {
    let units = cycles as u128 * 1_000_000_000 + *remainder as u128;
    *remainder = (units % CPU_HZ as u128) as u64;
    Duration::from_nanos((units / CPU_HZ as u128) as u64)
}

impl Device {
    /// Which nRF52832 build this is (how APPROTECT behaves); default [`PartRevision::Rev2`].
    pub fn set_part_revision(&mut self, revision: PartRevision) {
        self.si.revision = revision;
    }

    pub fn part_revision(&self) -> PartRevision {
        self.si.revision
    }

    /// Whether the AHB-AP is locked now (CTRL-AP APPROTECTSTATUS reads 0).
    pub fn ap_locked(&self) -> bool {
        is_locked(&self.core.hw, &self.si.soc, self.si.revision)
    }

    /// The last fault the core took (debugger-loaded code or, with the emulated CPU, the
    /// firmware; None: none since the device was created).
    pub fn cpu_fault(&self) -> Option<crate::armv7m::CpuFault> {
        self.si.cpu.last_fault
    }

    /// The bench drives GPIO pin `pin` high or low (None: releases it to its pull resistor).
    /// The PCA10040's DFU button is P0.16, active low: pressed is `Some(false)`.
    pub fn drive_pin(&mut self, pin: u32, level: Option<bool>) {
        self.si.soc.periph.gpio.drive(pin, level);
    }

    /// GPIO P0 OUT and DIR as the firmware left them (PCA10040 LEDs on P0.17-20, active low).
    pub fn gpio_outputs(&self) -> (u32, u32) {
        let g = &self.si.soc.periph.gpio;
        (g.out, g.dir)
    }

    /// Accesses to peripheral registers the model does not implement (emulated CPU).
    pub fn unmodelled_accesses(&self) -> &crate::periph::Unmodelled {
        &self.si.soc.periph.unmodelled
    }

    /// What the core does now: "off", "held in reset", "halted", "locked up", "sleeping",
    /// "running", or "firmware model" when the models run instead of the core.
    pub fn cpu_state(&self) -> &'static str {
        if !self.core.hw.is_powered() {
            "off"
        } else if self.held_in_reset() {
            "held in reset"
        } else if self.halted_at.is_some() {
            "halted"
        } else if !matches!(self.run, Run::Cpu) {
            "firmware model"
        } else if self.si.cpu.locked_up {
            "locked up"
        } else if self.si.cpu.sleeping {
            "sleeping"
        } else {
            "running"
        }
    }

    /// The emulated core sleeps in WFE/WFI: it costs nothing until its next peripheral event
    /// ([`Device::next_event_time`] includes it).
    pub fn cpu_sleeping(&self) -> bool {
        self.cpu_runnable() && self.si.cpu.sleeping
    }

    /// A peripheral register as the core would read it now, without side effects (for
    /// diagnostics; None: not a peripheral address).
    pub fn peek_peripheral(&self, addr: u32) -> Option<u32> {
        self.si.soc.periph.clone().read(addr & !3, self.core.now)
    }

    /// Instructions the core has retired since the device was created.
    pub fn cpu_instructions(&self) -> u64 {
        self.si.cpu.instructions
    }

    /// The core's registers as a debugger would read them.
    pub fn cpu_registers(&self) -> &Regs {
        &self.si.cpu.regs
    }

    pub(crate) fn held_in_reset(&self) -> bool {
        self.si.ctrl_ap_reset || self.si.pin_reset
    }

    /// When the register-level NVMC operation in progress ends, if one runs (the lab persists
    /// a device as a power loss would leave it whenever one starts).
    pub fn nvmc_busy_until(&self) -> Option<SimTime> {
        self.nvmc_due()
    }

    /// The end of the register-level NVMC operation in progress, if any.
    pub(crate) fn nvmc_due(&self) -> Option<SimTime> {
        if !self.core.hw.is_powered() {
            return None;
        }
        self.si.soc.nvmc.as_ref().map(|b| b.end)
    }

    /// The NVMC operation in progress is done: apply it.
    pub(crate) fn finish_nvmc(&mut self) {
        let Some(busy) = self.si.soc.nvmc.take() else {
            return;
        };
        self.core.ops_started += 1;
        self.core.hw.complete_nvmc(&busy, None);
        if busy.ctrl_ap {
            self.si.soc.erase_unlocked = true;
            // Nothing is left to run: the code the models stood for is erased.
            self.core.queue.clear();
            self.run = Run::Silent(crate::status::SilentReason::NothingToRun);
        }
        if !self.core.hw.is_powered() {
            // An armed power cut struck during the operation.
            self.lost_power();
        }
    }

    /// Power is going away at `core.now`: tear the NVMC operation in flight.
    pub(crate) fn silicon_power_off(&mut self) {
        if let Some(busy) = self.si.soc.nvmc.take() {
            let t = self.core.now;
            if t < busy.end {
                let total = (busy.end - busy.start).as_secs_f64();
                let f = if total == 0.0 {
                    0.0
                } else {
                    (t - busy.start).as_secs_f64() / total
                };
                self.core.hw.complete_nvmc(&busy, Some(f));
            } else {
                self.core.hw.complete_nvmc(&busy, None);
            }
        }
        self.si.swd.power_lost();
        self.si.cpu.sleeping = false;
        self.si.poll = None;
    }

    /// After the chip (re)started through `cause`: the core takes its reset (registers from the
    /// vector table), the SoC registers reset, DHCSR.S_RESET_ST is set, and a vector catch on
    /// core reset halts the core before the first instruction.
    ///
    /// `keeps_erase_unlock`: a revision 3 port opened by CTRL-AP ERASEALL stays open through
    /// this reset. It does through a soft reset (SYSRESETREQ, the CTRL-AP reset, a lockup
    /// reset): probe-rs' `--allow-erase-all` on a locked revision 3 part unlocks, re-attaches
    /// and resets with AIRCR.SYSRESETREQ before flashing, and that flash succeeds on silicon
    /// (probe-rs issue 3406, nRF52840 rev 3); a pin, power-on, brown-out or watchdog reset
    /// locks it again (Nordic, "Working with the nRF52 Series' improved APPROTECT").
    /// `keep_wdt`: the watchdog keeps running (every reset but power-on and its own).
    pub(crate) fn silicon_reset(
        &mut self,
        power_on: bool,
        keeps_erase_unlock: bool,
        keep_wdt: bool,
    ) {
        let mem = self.core.hw.memory();
        let sp = mem.read_word(0).unwrap_or(u32::MAX);
        let pc = mem.read_word(4).unwrap_or(u32::MAX);
        let si = &mut self.si;
        si.cpu.reset(sp, pc);
        if power_on {
            si.cpu.scs = crate::armv7m::scs::Scs::power_on();
        } else {
            si.cpu.scs.system_reset();
        }
        si.cpu.scs.dhcsr_sticky |= dhcsr::S_RESET_ST;
        si.soc.reset(keep_wdt && !power_on);
        si.periph_dirty = true;
        if !keeps_erase_unlock {
            si.soc.erase_unlocked = false;
        }
        si.redirected = false;
        si.stepping = false;
        si.poll = None;
        // Firmware built with nRF MDK 8.40 or later opens the port at start-up when UICR says
        // HwDisabled (system_nrf52.c, nrf52_handle_approtect); the models stand for such builds.
        let runs_firmware = !matches!(self.run, Run::Off | Run::Silent(_));
        let pall = self
            .core
            .hw
            .memory()
            .uicr
            .read_word(UICR_APPROTECT)
            .unwrap_or(u32::MAX)
            & 0xFF;
        if self.si.revision == PartRevision::Rev3 && runs_firmware && pall == PALL_HW_DISABLED {
            self.si.soc.approtect_disable = PALL_HW_DISABLED;
        }
        let scs = &self.si.cpu.scs;
        if scs.demcr & demcr::VC_CORERESET != 0 && scs.dhcsr_ctrl & dhcsr::C_DEBUGEN != 0 {
            self.si.cpu.scs.dfsr |= dfsr::VCATCH;
            self.enter_debug_state(0);
        }
    }

    pub(crate) fn cpu_runnable(&self) -> bool {
        matches!(self.run, Run::Cpu)
            && self.halted_at.is_none()
            && self.core.hw.is_powered()
            && !self.si.cpu.locked_up
            && !self.held_in_reset()
    }

    /// Run the core until `horizon` (or until it halts, locks up, sleeps or resets).
    pub(crate) fn run_cpu(&mut self, horizon: SimTime) {
        while self.cpu_runnable() && self.core.now < horizon {
            if let Some(end) = self.nvmc_due() {
                if end <= self.core.now {
                    self.finish_nvmc();
                    continue;
                }
            }
            if self.peripherals_due() {
                return;
            }
            let mut bus = SysBus {
                hw: &mut self.core.hw,
                soc: &mut self.si.soc,
                now: self.core.now,
                effects: Default::default(),
                from_cpu: true,
            };
            let stop = self.si.cpu.step(&mut bus, self.si.stepping);
            let effects = bus.effects;
            self.si.periph_dirty |= effects.periph;
            match stop {
                Stop::Ran { cycles } => {
                    self.core.now += cycles_to_time(cycles as u64, &mut self.si.cycle_remainder);
                }
                Stop::Halted => {
                    // DFSR already says why (BKPT or VCATCH).
                    self.enter_debug_state(0);
                    return;
                }
                Stop::LockedUp => return,
                Stop::Sleeping => {
                    // SysTick stops with the CPU clock in sleep; the next peripheral event
                    // (an RTC compare, a received byte, the end of a transmission) is what
                    // can wake the core before the horizon (or a debugger, or an SEV).
                    let wake = self.si.periph_due.unwrap_or(horizon).min(horizon);
                    self.core.now = self.core.now.max(wake);
                    if self.core.now >= horizon {
                        return;
                    }
                    continue;
                }
                Stop::Stalled => {
                    let until = self.nvmc_due().unwrap_or(horizon).min(horizon);
                    self.core.now = self.core.now.max(until);
                    continue;
                }
            }
            if self.si.cpu.reset_requested {
                self.si.cpu.reset_requested = false;
                let t = self.core.now;
                self.reset(t, ResetKind::SoftReset);
                return;
            }
            if self.si.stepping {
                self.si.stepping = false;
                self.enter_debug_state(dfsr::HALTED);
                return;
            }
            self.skip_idle_loop(effects, horizon);
        }
    }

    /// Bring the peripherals to `core.now` when one has an event due or a register was
    /// touched: events, interrupt lines to the NVIC, the watchdog's reset. True if the chip
    /// reset (the caller stops running the old context).
    fn peripherals_due(&mut self) -> bool {
        let now = self.core.now;
        let due = self.si.periph_due.is_some_and(|d| d <= now);
        if !(due || self.si.periph_dirty) {
            return false;
        }
        let p = &mut self.si.soc.periph;
        p.advance(now, &mut self.core.hw.ram);
        if std::mem::take(&mut p.watchdog_reset) {
            self.reset(now, ResetKind::Watchdog);
            return true;
        }
        self.si.cpu.scs.nvic.lines = p.irq_lines();
        self.si.periph_due = p.next_event(now);
        self.si.periph_dirty = false;
        false
    }

    /// The idle-loop skip (see [`PollMark`]).
    fn skip_idle_loop(&mut self, effects: crate::sysbus::Effects, horizon: SimTime) {
        if effects.wrote {
            self.si.poll = None;
            return;
        }
        if !effects.polled_busy {
            return;
        }
        let before = self.si.cpu.regs.clone();
        let (instr0, cycles0) = (self.si.cpu.instructions, self.si.cpu.cycles);
        let same = self.si.poll.as_ref().is_some_and(|m| m.regs == before);
        if !same {
            self.si.poll = Some(PollMark {
                regs: before,
                instructions: instr0,
                cycles: cycles0,
            });
            return;
        }
        let Some(mark) = self.si.poll.take() else {
            return;
        };
        let Some(end) = self.nvmc_due() else { return };
        let period_cycles = cycles0 - mark.cycles;
        let period_instr = instr0 - mark.instructions;
        if period_cycles == 0 {
            return;
        }
        // Whole iterations that end before the status can change (or the horizon).
        let limit = end.min(horizon);
        if limit <= self.core.now {
            return;
        }
        let ns = (limit - self.core.now).as_nanos() as u64;
        let available = ns * CPU_HZ / 1_000_000_000;
        let k = available / period_cycles;
        if k == 0 {
            return;
        }
        let cpu = &mut self.si.cpu;
        cpu.cycles += k * period_cycles;
        cpu.instructions += k * period_instr;
        self.si.skipped_instructions += k * period_instr;
        self.core.now += cycles_to_time(k * period_cycles, &mut self.si.cycle_remainder);
        // The registers are those of the last iteration's poll; mark it again.
        self.si.poll = Some(PollMark {
            regs: before,
            instructions: self.si.cpu.instructions - period_instr,
            cycles: self.si.cpu.cycles - period_cycles,
        });
    }

    /// The core stops in debug state (BKPT, FPB, step, vector catch, halt request).
    fn enter_debug_state(&mut self, why: u32) {
        // Entering debug state sets C_HALT (ARMv7-M ARM C1.6.3); leaving it clears it.
        self.si.cpu.scs.dhcsr_ctrl |= dhcsr::C_HALT;
        // A debug event wakes a sleeping core (C1.6.3: S_SLEEP reads 0 in debug state; WFI/WFE
        // may return on resume). probe-rs reads S_SLEEP before S_HALT and took a halted core
        // that had been in WFE for a running one: its halt timed out against the genuine
        // bootloader, which waits for UART traffic in WFE.
        self.si.cpu.sleeping = false;
        if self.halted_at.is_none() {
            self.halted_at = Some(self.core.now);
            let _ = self.core.hw.halt();
        }
        self.si.cpu.scs.dfsr |= why;
    }

    // --- the debugger's view of the core -------------------------------------------------

    fn dhcsr_read(&mut self) -> u32 {
        let si = &mut self.si;
        let mut v = si.cpu.scs.dhcsr_ctrl & 0x2F;
        if si.regrdy {
            v |= dhcsr::S_REGRDY;
        }
        if self.halted_at.is_some() {
            v |= dhcsr::S_HALT;
        }
        if si.cpu.sleeping {
            v |= dhcsr::S_SLEEP;
        }
        if si.cpu.locked_up {
            v |= dhcsr::S_LOCKUP;
        }
        v |= si.cpu.scs.dhcsr_sticky;
        // S_RETIRE_ST and S_RESET_ST clear when read (C1.6.3).
        si.cpu.scs.dhcsr_sticky = 0;
        v
    }

    fn dhcsr_write(&mut self, v: u32) {
        if v & 0xFFFF_0000 != dhcsr::KEY {
            return;
        }
        let ctrl = v
            & (dhcsr::C_DEBUGEN
                | dhcsr::C_HALT
                | dhcsr::C_STEP
                | dhcsr::C_MASKINTS
                | dhcsr::C_SNAPSTALL);
        let t = self.core.now;
        if ctrl & dhcsr::C_DEBUGEN == 0 {
            // Debug disabled: the core runs whatever the halt state was.
            self.si.cpu.scs.dhcsr_ctrl = 0;
            self.debug_resume(t, false);
            return;
        }
        self.si.cpu.scs.dhcsr_ctrl = ctrl;
        if ctrl & dhcsr::C_HALT != 0 {
            if self.halted_at.is_none() && self.core.hw.is_powered() {
                self.halt(t);
                self.si.cpu.scs.dfsr |= dfsr::HALTED;
            }
            // Entering debug state takes the core out of lockup (ARMv7-M ARM B1.5.15); the PC
            // stays 0xFFFFFFFE until the debugger sets it.
            if self.halted_at.is_some() {
                self.si.cpu.locked_up = false;
            }
        } else if self.halted_at.is_some() {
            self.debug_resume(t, ctrl & dhcsr::C_STEP != 0);
        }
    }

    /// Leave debug state: the model resumes, or the core runs the code the debugger set up.
    fn debug_resume(&mut self, t: SimTime, step: bool) {
        if self.halted_at.is_none() {
            return;
        }
        if self.si.redirected && !matches!(self.run, Run::Cpu) {
            // The firmware model is abandoned: finish the flash work it had started.
            if let Some(head) = self.core.queue.head().filter(|h| h.start <= t).cloned() {
                self.core.apply(&head);
            }
            self.core.queue.clear();
            self.run = Run::Cpu;
        }
        if step && !matches!(self.run, Run::Cpu) {
            // The firmware models have no instructions to step: the step retires at once and
            // the core is halted again where it was (probe-rs steps before every run).
            let scs = &mut self.si.cpu.scs;
            scs.dfsr |= dfsr::HALTED;
            scs.dhcsr_sticky |= dhcsr::S_RETIRE_ST;
            scs.dhcsr_ctrl |= dhcsr::C_HALT;
            return;
        }
        self.si.stepping = step;
        self.si.poll = None;
        self.si.cpu.scs.dhcsr_ctrl &= !dhcsr::C_HALT;
        self.resume(t);
    }

    fn dcrsr_write(&mut self, v: u32) {
        let sel = v & 0x7F;
        let regs = &mut self.si.cpu.regs;
        if v & (1 << 16) != 0 {
            if regs.debug_write(sel, self.si.cpu.scs.dcrdr) {
                self.si.redirected = true;
            }
        } else if let Some(x) = regs.debug_read(sel) {
            self.si.cpu.scs.dcrdr = x;
        }
        self.si.regrdy = true;
    }

    fn aircr_write(&mut self, v: u32) {
        if v >> 16 != 0x05FA {
            return;
        }
        self.si.cpu.scs.prigroup = (v >> 8) & 7;
        // SYSRESETREQ, and VECTRESET (which on the nRF52 a debugger uses only halted; the model
        // resets the whole chip for both).
        if v & 0b101 != 0 {
            let t = self.core.now;
            self.reset(t, ResetKind::SoftReset);
        }
    }

    /// A memory access through the AHB-AP at `core.now`.
    pub(crate) fn ahb_read(&mut self, addr: u32, size: u32) -> Result<u32, BusError> {
        if !self.core.hw.is_powered() {
            return Err(BusError::Fault);
        }
        if ppb::is_ppb(addr) {
            let word = match addr & !3 {
                scs_addr::DHCSR => self.dhcsr_read(),
                a => {
                    ppb::read(&mut self.si.cpu.scs, self.si.cpu.cycles, a).ok_or(BusError::Fault)?
                }
            };
            return Ok(ppb::lane(word, addr, size));
        }
        self.system_bus().read(addr, size)
    }

    pub(crate) fn ahb_write(&mut self, addr: u32, size: u32, value: u32) -> Result<(), BusError> {
        if !self.core.hw.is_powered() {
            return Err(BusError::Fault);
        }
        if ppb::is_ppb(addr) {
            if size != 4 {
                return Err(BusError::Fault);
            }
            match addr {
                scs_addr::DHCSR => self.dhcsr_write(value),
                scs_addr::DCRSR => self.dcrsr_write(value),
                scs_addr::AIRCR => self.aircr_write(value),
                a if ppb::write(&mut self.si.cpu.scs, self.si.cpu.cycles, a, value) => {}
                _ => return Err(BusError::Fault),
            }
            return Ok(());
        }
        self.si.periph_dirty = true;
        self.system_bus().write(addr, size, value)
    }

    fn system_bus(&mut self) -> SysBus<'_> {
        SysBus {
            hw: &mut self.core.hw,
            soc: &mut self.si.soc,
            now: self.core.now,
            effects: Default::default(),
            from_cpu: false,
        }
    }
}
