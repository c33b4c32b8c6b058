//! An ARMv7-M core (the nRF52832's Cortex-M4F), built to grow into a full ARMv7E-M one: the
//! register file ([`regs`]), a table-driven Thumb decoder ([`decode`]), the instruction
//! semantics ([`exec`]), the SCS and debug registers ([`scs`]), the CoreSight IDs ([`rom`]),
//! exception entry and return (HardFault only so far), the WFE/SEV event register, and cycle
//! counting at 64 MHz. The memory bus is shared with the debug port (`crate::sysbus`).
//!
//! What it executes today is what probe-rs's nRF52 flash algorithm needs (the 16-bit Thumb
//! set and BL); every other encoding is UNDEFINED, which takes a HardFault: with
//! DEMCR.VC_HARDERR the core halts in debug state (DFSR.VCATCH), otherwise it enters the
//! HardFault handler, and a fault inside that handler locks the core up (DHCSR.S_LOCKUP), as a
//! debugger sees it on silicon.

pub mod decode;
pub mod exec;
pub mod ppb;
pub mod regs;
pub mod rom;
pub mod scs;

#[cfg(test)]
mod exec_tests;

use exec::{Bus, FaultKind, Outcome};
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

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cpu {
    pub regs: Regs,
    pub scs: Scs,
    /// The WFE event register (B1.5.18).
    pub event: bool,
    pub sleeping: bool,
    pub locked_up: bool,
    pub instructions: u64,
    pub cycles: u64,
    pub last_fault: Option<CpuFault>,
    /// The core wrote AIRCR.SYSRESETREQ: the device resets the chip.
    pub reset_requested: bool,
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
        self.locked_up = false;
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
        if self.sleeping {
            if self.event {
                self.event = false;
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
        let d = decode::decode(hw1, hw2);
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
                }
                self.retire(cycles)
            }
            Outcome::Breakpoint if self.scs.dhcsr_ctrl & scs::dhcsr::C_DEBUGEN != 0 => {
                self.scs.dfsr |= scs::dfsr::BKPT;
                Stop::Halted
            }
            // No debugger: the BKPT escalates to HardFault (B1.5.14, C1.5).
            Outcome::Breakpoint => self.fault(bus, pc, opcode, d.name, FaultKind::Breakpoint),
            Outcome::Stalled => Stop::Stalled,
            Outcome::Fault(kind) => self.fault(bus, pc, opcode, d.name, kind),
        }
        .after_exception_return(self, bus)
    }

    fn retire(&mut self, cycles: u32) -> Stop {
        self.instructions += 1;
        self.cycles += cycles as u64;
        self.scs.dhcsr_sticky |= scs::dhcsr::S_RETIRE_ST;
        Stop::Ran { cycles }
    }

    /// A synchronous fault: set the status bits, escalate to HardFault (the model has no
    /// configurable fault handlers enabled: SHCSR enables are not honoured yet), catch it for
    /// the debugger or enter the handler; a fault in the handler is a lockup.
    fn fault(
        &mut self,
        bus: &mut impl Bus,
        pc: u32,
        opcode: u32,
        name: &'static str,
        kind: FaultKind,
    ) -> Stop {
        let lockup = self.in_handler() == HARD_FAULT;
        self.last_fault = Some(CpuFault {
            pc,
            opcode,
            kind,
            name,
            lockup,
        });
        self.scs.cfsr |= match kind {
            FaultKind::Undefined | FaultKind::Svc => fault::UFSR_UNDEFINSTR,
            FaultKind::Breakpoint => {
                self.scs.hfsr |= fault::HFSR_DEBUGEVT;
                0
            }
            FaultKind::InvalidState => fault::UFSR_INVSTATE,
            FaultKind::Unaligned { .. } => fault::UFSR_UNALIGNED,
            FaultKind::Bus { addr } => {
                self.scs.bfar = addr;
                fault::BFSR_PRECISERR | fault::BFSR_BFARVALID
            }
        };
        if lockup {
            return self.lock_up();
        }
        if kind != FaultKind::Breakpoint {
            // A configurable fault escalated (its handler is not enabled in this model).
            self.scs.hfsr |= fault::HFSR_FORCED;
        }
        self.cycles += 12;
        if !self.take_exception(bus, HARD_FAULT, pc) {
            return self.lock_up();
        }
        let catch = self.scs.demcr & scs::demcr::VC_HARDERR != 0
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

    /// Exception entry (B1.5.6): push the basic frame on the current stack (aligned to 8,
    /// xPSR bit 9 noting the realignment), EXC_RETURN in LR, handler address from the vector
    /// table at VTOR. False if the frame or the vector cannot be accessed.
    pub fn take_exception(&mut self, bus: &mut impl Bus, number: u32, return_address: u32) -> bool {
        let r = &mut self.regs;
        let realign = r.r[13] & 4 != 0;
        let frame = (r.r[13].wrapping_sub(32)) & !7;
        let xpsr = r.xpsr & !(1 << 9) | if realign { 1 << 9 } else { 0 };
        let words = [
            r.r[0],
            r.r[1],
            r.r[2],
            r.r[3],
            r.r[12],
            r.r[14],
            return_address,
            xpsr,
        ];
        for (i, w) in words.iter().enumerate() {
            if bus.write(frame + 4 * i as u32, 4, *w).is_err() {
                return false;
            }
        }
        let Ok(vector) = bus.read(self.scs.vtor.wrapping_add(4 * number), 4) else {
            return false;
        };
        let thread = r.xpsr & psr::IPSR_MASK == 0;
        let psp = r.control & 2 != 0 && thread;
        r.r[13] = frame;
        r.sync_sp_out();
        r.r[14] = match (thread, psp) {
            (false, _) => 0xFFFF_FFF1,
            (true, false) => 0xFFFF_FFF9,
            (true, true) => 0xFFFF_FFFD,
        };
        r.xpsr = (r.xpsr & !psr::IPSR_MASK & !(1 << 9)) | number;
        r.control &= !2;
        r.sync_sp_in();
        if vector & 1 == 0 {
            r.xpsr &= !psr::T;
        } else {
            r.xpsr |= psr::T;
        }
        r.r[15] = vector & !1;
        true
    }

    /// Exception return (B1.5.8) when a handler loaded EXC_RETURN into the PC.
    fn exception_return(&mut self, bus: &mut impl Bus) -> bool {
        let exc = self.regs.r[15] | 1;
        let r = &mut self.regs;
        let to_thread = exc & 8 != 0;
        let use_psp = exc & 4 != 0;
        r.sync_sp_out();
        let sp = if use_psp { r.psp } else { r.msp };
        let mut words = [0u32; 8];
        for (i, w) in words.iter_mut().enumerate() {
            match bus.read(sp + 4 * i as u32, 4) {
                Ok(v) => *w = v,
                Err(_) => return false,
            }
        }
        let realign = words[7] & (1 << 9) != 0;
        let new_sp = sp + 32 + if realign { 4 } else { 0 };
        if use_psp {
            r.psp = new_sp;
            r.control |= 2;
        } else {
            r.msp = new_sp;
            r.control &= !2;
        }
        r.r[0..4].copy_from_slice(&words[0..4]);
        r.r[12] = words[4];
        r.r[14] = words[5];
        r.r[15] = words[6] & !1;
        r.xpsr = words[7] & !(1 << 9);
        if to_thread {
            r.xpsr &= !psr::IPSR_MASK;
        }
        r.sync_sp_in();
        true
    }
}

impl Stop {
    fn after_exception_return(self, cpu: &mut Cpu, bus: &mut impl Bus) -> Stop {
        if let Stop::Ran { .. } = self {
            if cpu.in_handler() != 0 && cpu.regs.r[15] >= 0xFFFF_FFF0 && !cpu.exception_return(bus)
            {
                return cpu.lock_up();
            }
        }
        self
    }
}
