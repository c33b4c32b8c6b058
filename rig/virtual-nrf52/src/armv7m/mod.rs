//! An ARMv7E-M core: the nRF52832's Cortex-M4F. The register file ([`regs`]), a table-driven
//! Thumb decoder ([`decode`] for the 16-bit set, [`decode32`] for Thumb-2, [`vfp_decode`] for
//! the FPU), the instruction semantics ([`exec`], [`exec32`], [`dsp`], [`vfp`]), the SCS and
//! debug registers ([`scs`]), the NVIC and SysTick ([`nvic`]), exception entry and return with
//! the FP context ([`exception`]), the CoreSight IDs ([`rom`]), the WFE/WFI/SEV event register,
//! and cycle counting at 64 MHz. The memory bus is shared with the debug port
//! (`crate::sysbus`).
//!
//! Faults: an UNDEFINED encoding, an invalid state, a bus error or an unaligned access where
//! one is not allowed takes its configurable fault (UsageFault, BusFault) when SHCSR enables
//! it and its priority allows, else HardFault (HFSR.FORCED). With DEMCR.VC_HARDERR the core
//! halts in debug state on HardFault (DFSR.VCATCH); a fault in the HardFault or NMI handler
//! locks the core up (DHCSR.S_LOCKUP), as a debugger sees it on silicon. Simplified: a fault
//! while stacking or reading the vector locks up instead of taking its own fault.

pub mod decode;
pub mod decode32;
pub mod dsp;
pub mod exception;
pub mod exec;
pub mod exec32;
pub mod nvic;
pub mod ppb;
pub mod regs;
pub mod rom;
pub mod scs;
pub mod vfp;
pub mod vfp_decode;

#[cfg(test)]
mod decode32_tests;
#[cfg(test)]
mod exec32_tests;
#[cfg(test)]
mod exec_tests;

use decode::Decoded;
use exec::{Bus, FaultKind, Outcome};
use nvic::{Nvic, BUS_FAULT, SVCALL, USAGE_FAULT};
use regs::{psr, Regs};
use scs::{fault, Scs};

/// The core clock: 64 MHz (nRF52832 product spec, CPU chapter).
pub const CPU_HZ: u64 = 64_000_000;

/// HardFault is exception 3 (B1.5.2).
const HARD_FAULT: u32 = 3;

/// The last fault the core took (for the lab's status and the test that reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuFault {
    /// Address of the faulting instruction.
    pub pc: u32,
    /// Its first halfword (and second, for 32-bit encodings, in the upper half).
    pub opcode: u32,
    pub kind: FaultKind,
    /// The decoder table's name for the encoding.
    pub name: &'static str,
    /// Whether the core locked up (a fault while in the HardFault handler, or a vector/stack
    /// that could not be used).
    pub lockup: bool,
}

/// Why the core stopped executing after [`Cpu::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ran one instruction (or took an exception) in `cycles`.
    Ran { cycles: u32 },
    /// Entered debug state: BKPT, an FPB match, or a vector catch (DFSR says which).
    Halted,
    /// WFE/WFI with nothing pending: sleeping until an event.
    Sleeping,
    /// Locked up: no further progress until a reset.
    LockedUp,
    /// The bus is stalled: try again later.
    Stalled,
}

/// Decoded instructions by opcode (decoding depends on the opcode alone, so the cache never
/// needs invalidating when flash or RAM changes). Not part of the core's state.
#[derive(Clone, Default)]
pub struct DecodeCache(Vec<(u32, Decoded)>);

const DECODE_CACHE_SIZE: usize = 4096;

impl DecodeCache {
    fn get(&mut self, hw1: u16, hw2: u16) -> Decoded {
        if self.0.is_empty() {
            self.0 = vec![(u32::MAX, decode::decode(0xDE00, 0)); DECODE_CACHE_SIZE];
        }
        let key = hw1 as u32 | (hw2 as u32) << 16;
        let slot = (key.wrapping_mul(0x9E37_79B1) >> 20) as usize & (DECODE_CACHE_SIZE - 1);
        let e = &mut self.0[slot];
        if e.0 != key {
            *e = (key, decode::decode(hw1, hw2));
        }
        e.1
    }
}

impl std::fmt::Debug for DecodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecodeCache")
    }
}

impl PartialEq for DecodeCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for DecodeCache {}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cpu {
    pub regs: Regs,
    pub scs: Scs,
    /// The WFE event register (B1.5.18).
    pub event: bool,
    pub sleeping: bool,
    /// The sleep is a WFI (woken by interrupts only, not by the event register).
    pub wfi: bool,
    pub locked_up: bool,
    pub instructions: u64,
    pub cycles: u64,
    pub last_fault: Option<CpuFault>,
    /// The core wrote AIRCR.SYSRESETREQ: the device resets the chip.
    pub reset_requested: bool,
    pub cache: DecodeCache,
}

impl Cpu {
    pub fn new() -> Cpu {
        Cpu {
            scs: Scs::power_on(),
            ..Cpu::default()
        }
    }

    /// TakeReset (B1.5.5): registers from the vector table at 0, event register cleared.
    pub fn reset(&mut self, vector_sp: u32, vector_pc: u32) {
        self.regs = Regs::reset(vector_sp, vector_pc);
        self.event = false;
        self.sleeping = false;
        self.wfi = false;
        self.locked_up = false;
    }

    /// A peripheral's interrupt line (nRF52: EVENT and INTEN), by IRQ number.
    pub fn set_irq_line(&mut self, irq: u32, level: bool) {
        if irq < nvic::IRQS {
            let bit = 1u64 << irq;
            let lines = &mut self.scs.nvic.lines;
            *lines = if level { *lines | bit } else { *lines & !bit };
        }
    }

    fn prigroup(&self) -> u32 {
        self.scs.prigroup
    }

    fn execution_priority(&self, ignore_primask: bool) -> i32 {
        let r = &self.regs;
        self.scs.nvic.execution_priority(
            self.prigroup(),
            r.primask & 1 != 0,
            r.basepri,
            r.faultmask & 1 != 0,
            ignore_primask,
        )
    }

    /// SysTick wraps, level lines, SEVONPEND.
    fn update_interrupts(&mut self) {
        let scs = &mut self.scs;
        scs.systick.catch_up(self.cycles, &mut scs.nvic);
        scs.nvic.sample_lines();
        if std::mem::take(&mut scs.nvic.newly_pending) && scs.scr & 0x10 != 0 {
            self.event = true;
        }
    }

    /// The exception that preempts now (None while a debugger masks interrupts with
    /// DHCSR.C_MASKINTS).
    fn exception_to_take(&self) -> Option<u32> {
        let d = self.scs.dhcsr_ctrl;
        if d & scs::dhcsr::C_DEBUGEN != 0 && d & scs::dhcsr::C_MASKINTS != 0 {
            return None;
        }
        if self.scs.nvic.pending == 0 {
            return None;
        }
        self.scs
            .nvic
            .preempting(self.execution_priority(false), self.prigroup())
    }

    /// Whether a sleeping core wakes: an exception that would preempt if PRIMASK were clear
    /// (WFI and WFE), or the event register (WFE, which consumes it) (B1.5.18, B1.5.19).
    fn wakes(&mut self) -> bool {
        if !self.wfi && self.event {
            self.event = false;
            return true;
        }
        self.scs.nvic.pending != 0
            && self
                .scs
                .nvic
                .preempting(self.execution_priority(true), self.prigroup())
                .is_some()
    }

    fn in_handler(&self) -> u32 {
        self.regs.xpsr & psr::IPSR_MASK
    }

    /// Execute one instruction (or wake, or take an exception). Breakpoints (BKPT, FPB) and
    /// vector catches are reported as [`Stop::Halted`] with DFSR updated; the caller puts the
    /// core in debug state.
    pub fn step(&mut self, bus: &mut impl Bus, ignore_fpb_once: bool) -> Stop {
        if self.locked_up {
            return Stop::LockedUp;
        }
        self.update_interrupts();
        if let Some(n) = self.exception_to_take() {
            self.sleeping = false;
            let ret = self.regs.pc();
            return self.enter(bus, n, ret);
        }
        if self.sleeping {
            if self.wakes() {
                self.sleeping = false;
            } else {
                return Stop::Sleeping;
            }
        }
        let pc = self.regs.pc();
        if !ignore_fpb_once && self.scs.breakpoint_at(pc) {
            self.scs.dfsr |= scs::dfsr::BKPT;
            return Stop::Halted;
        }
        if self.regs.xpsr & psr::T == 0 {
            return self.fault(bus, pc, 0, "EPSR.T = 0", FaultKind::InvalidState);
        }
        let hw1 = match bus.read(pc, 2) {
            Ok(v) => v as u16,
            Err(exec::BusError::Stall) => return Stop::Stalled,
            Err(exec::BusError::Fault) => {
                return self.fault(bus, pc, 0, "instruction fetch", FaultKind::Bus { addr: pc })
            }
        };
        let hw2 = if decode::is_32bit(hw1) {
            match bus.read(pc.wrapping_add(2), 2) {
                Ok(v) => v as u16,
                Err(exec::BusError::Stall) => return Stop::Stalled,
                Err(exec::BusError::Fault) => {
                    return self.fault(
                        bus,
                        pc,
                        hw1 as u32,
                        "instruction fetch",
                        FaultKind::Bus { addr: pc + 2 },
                    )
                }
            }
        } else {
            0
        };
        let d = self.cache.get(hw1, hw2);
        let opcode = hw1 as u32 | (hw2 as u32) << 16;
        let mut core_bus = ppb::CoreBus {
            scs: &mut self.scs,
            cycles: self.cycles,
            system: bus,
            requests: ppb::PpbRequests::default(),
        };
        let outcome = exec::execute(&mut self.regs, &mut core_bus, &d);
        if core_bus.requests.sysresetreq {
            self.reset_requested = true;
        }
        // Only an instruction that wrote the PC can return from an exception (a vector of
        // 0xFFFFFFFF is a fetch fault, not an EXC_RETURN).
        let executed = matches!(
            outcome,
            Outcome::Done { .. } | Outcome::Sev { .. } | Outcome::Sleep { .. }
        );
        match outcome {
            Outcome::Done { cycles } => self.retire(cycles),
            Outcome::Sev { cycles } => {
                self.event = true;
                self.retire(cycles)
            }
            Outcome::Sleep { wfe, cycles } => {
                // WFE consumes a pending event and does not sleep (B1.5.18).
                if wfe && self.event {
                    self.event = false;
                } else {
                    self.sleeping = true;
                    self.wfi = !wfe;
                }
                self.retire(cycles)
            }
            Outcome::Svc => self.svc(bus, pc, opcode, d.name),
            Outcome::Breakpoint if self.scs.dhcsr_ctrl & scs::dhcsr::C_DEBUGEN != 0 => {
                self.scs.dfsr |= scs::dfsr::BKPT;
                Stop::Halted
            }
            // No debugger: the BKPT escalates to HardFault (B1.5.14, C1.5).
            Outcome::Breakpoint => self.fault(bus, pc, opcode, d.name, FaultKind::Breakpoint),
            Outcome::Stalled => Stop::Stalled,
            Outcome::Fault(kind) => self.fault(bus, pc, opcode, d.name, kind),
        }
        .after_exception_return(self, bus, executed)
    }

    fn retire(&mut self, cycles: u32) -> Stop {
        self.instructions += 1;
        self.cycles += cycles as u64;
        self.scs.dhcsr_sticky |= scs::dhcsr::S_RETIRE_ST;
        Stop::Ran { cycles }
    }

    /// Enter exception `n` (an interrupt or SVCall): 12 cycles of stacking.
    fn enter(&mut self, bus: &mut impl Bus, n: u32, return_address: u32) -> Stop {
        match self.take_exception(bus, n, return_address) {
            Ok(()) => {
                self.cycles += 12;
                Stop::Ran { cycles: 12 }
            }
            Err(exec::BusError::Stall) => Stop::Stalled,
            Err(exec::BusError::Fault) => self.entry_lockup(n),
        }
    }

    /// The frame or the vector of exception `n` could not be accessed: a lockup (simplified:
    /// the architecture would take a stacking fault first).
    fn entry_lockup(&mut self, n: u32) -> Stop {
        let addr = self.scs.vtor.wrapping_add(4 * n);
        self.last_fault = Some(CpuFault {
            pc: self.regs.pc(),
            opcode: n,
            kind: FaultKind::Bus { addr },
            name: "exception entry",
            lockup: true,
        });
        self.lock_up()
    }

    /// SVC: SVCall is taken if its priority is above the execution priority, else the SVC
    /// escalates to HardFault (B1.5.14).
    fn svc(&mut self, bus: &mut impl Bus, pc: u32, opcode: u32, name: &'static str) -> Stop {
        let prio = Nvic::group(self.scs.nvic.priority(SVCALL), self.prigroup());
        if prio < self.execution_priority(false) {
            let next = self.regs.pc();
            return match self.enter(bus, SVCALL, next) {
                Stop::Ran { cycles } => {
                    self.retire(1);
                    Stop::Ran { cycles: cycles + 1 }
                }
                Stop::Stalled => {
                    // The vector table is in flash the NVMC holds: the SVC runs again later.
                    self.regs.r[15] = pc;
                    Stop::Stalled
                }
                other => other,
            };
        }
        self.regs.r[15] = pc;
        self.fault(bus, pc, opcode, name, FaultKind::Svc)
    }

    /// A synchronous fault: set the status bits, take the configurable fault if SHCSR enables
    /// it and its priority allows, else escalate to HardFault; catch HardFault for the debugger
    /// or enter the handler; a fault that escalates inside the HardFault or NMI handler is a
    /// lockup.
    fn fault(
        &mut self,
        bus: &mut impl Bus,
        pc: u32,
        opcode: u32,
        name: &'static str,
        kind: FaultKind,
    ) -> Stop {
        let (own, enable) = match kind {
            FaultKind::Bus { .. } => (BUS_FAULT, 1 << 17),
            FaultKind::Breakpoint | FaultKind::Svc => (HARD_FAULT, 0),
            _ => (USAGE_FAULT, 1 << 18),
        };
        let ep = self.execution_priority(false);
        let own_ok = own != HARD_FAULT
            && self.scs.shcsr & enable != 0
            && Nvic::group(self.scs.nvic.priority(own), self.prigroup()) < ep;
        let target = if own_ok { own } else { HARD_FAULT };
        let lockup = target == HARD_FAULT && ep < 0;
        self.last_fault = Some(CpuFault {
            pc,
            opcode,
            kind,
            name,
            lockup,
        });
        self.scs.cfsr |= match kind {
            FaultKind::Undefined => fault::UFSR_UNDEFINSTR,
            FaultKind::Svc => 0,
            FaultKind::Breakpoint => {
                self.scs.hfsr |= fault::HFSR_DEBUGEVT;
                0
            }
            FaultKind::InvalidState => fault::UFSR_INVSTATE,
            FaultKind::Unaligned { .. } => fault::UFSR_UNALIGNED,
            FaultKind::NoCoprocessor => fault::UFSR_NOCP,
            FaultKind::DivideByZero => fault::UFSR_DIVBYZERO,
            FaultKind::Bus { addr } => {
                self.scs.bfar = addr;
                fault::BFSR_PRECISERR | fault::BFSR_BFARVALID
            }
        };
        if lockup {
            return self.lock_up();
        }
        if target == HARD_FAULT && kind != FaultKind::Breakpoint {
            // A configurable fault (or SVC) escalated.
            self.scs.hfsr |= fault::HFSR_FORCED;
        }
        self.cycles += 12;
        match self.take_exception(bus, target, pc) {
            Ok(()) => {}
            Err(exec::BusError::Stall) => {
                // Taken once the flash is free: the instruction faults again then.
                self.cycles -= 12;
                return Stop::Stalled;
            }
            Err(exec::BusError::Fault) => return self.entry_lockup(target),
        }
        let catch = target == HARD_FAULT
            && self.scs.demcr & scs::demcr::VC_HARDERR != 0
            && self.scs.dhcsr_ctrl & scs::dhcsr::C_DEBUGEN != 0;
        if catch {
            self.scs.dfsr |= scs::dfsr::VCATCH;
            return Stop::Halted;
        }
        Stop::Ran { cycles: 12 }
    }

    fn lock_up(&mut self) -> Stop {
        if let Some(f) = &mut self.last_fault {
            f.lockup = true;
        }
        self.locked_up = true;
        // B1.5.15: the PC reads 0xFFFFFFFE in lockup.
        self.regs.r[15] = 0xFFFF_FFFE;
        Stop::LockedUp
    }
}

impl Stop {
    fn after_exception_return(self, cpu: &mut Cpu, bus: &mut impl Bus, executed: bool) -> Stop {
        if let (Stop::Ran { .. }, true) = (self, executed) {
            let pc = cpu.regs.r[15];
            if cpu.in_handler() != 0 && pc | 0x1F == 0xFFFF_FFFF {
                if !cpu.exception_return(bus) {
                    return cpu.lock_up();
                }
                cpu.cycles += 10;
            }
        }
        self
    }
}
