//! Executing one decoded instruction: the ARMv7-M ARM pseudocode of each (A7.7), flags
//! included, against a [`Bus`]. Returns what happened and the cycles it took (Cortex-M4 TRM
//! 3.3.1 instruction timings, with 2 cycles for a pipeline refill: one for most data
//! processing, two for a single load, 1+N for load/store multiple, 1+2 for a taken branch).

use super::decode::{AluOp, Decoded, ExtendOp, HintOp, Insn, MemOp, RevOp};
use super::exec32;
use super::regs::{psr, Regs};

/// Why a bus access did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusError {
    /// A bus error (unmapped address, refused access): the core takes a BusFault.
    Fault,
    /// The bus is stalled (NVMC busy) until the given cycle count from now; retry then.
    Stall,
}

/// The SCS settings that change how instructions execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreConfig {
    /// CCR.UNALIGN_TRP: unaligned LDR/STR/LDRH/STRH fault instead of being split.
    pub unaligned_trap: bool,
    /// CCR.DIV_0_TRP: SDIV/UDIV by zero fault instead of giving 0.
    pub div0_trap: bool,
    /// CPACR grants CP10 and CP11 (else FP instructions take UsageFault NOCP).
    pub fpu_enabled: bool,
    /// FPCCR.ASPEN: an FP instruction sets CONTROL.FPCA.
    pub fp_aspen: bool,
    /// FPDSCR: the FPSCR defaults of a new FP context.
    pub fpdscr: u32,
}

impl Default for CoreConfig {
    /// A bus without an SCS (the tests' RAM): reset values, with the FPU enabled.
    fn default() -> Self {
        CoreConfig {
            unaligned_trap: false,
            div0_trap: false,
            fpu_enabled: true,
            fp_aspen: true,
            fpdscr: 0,
        }
    }
}

/// The memory the core sees. `size` is 1, 2 or 4; addresses are aligned by the caller.
pub trait Bus {
    fn read(&mut self, addr: u32, size: u32) -> Result<u32, BusError>;
    fn write(&mut self, addr: u32, size: u32, value: u32) -> Result<(), BusError>;
    /// The execution settings of the SCS behind this bus.
    fn config(&self) -> CoreConfig {
        CoreConfig::default()
    }
}

/// What an instruction did besides updating registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Executed; took `cycles`.
    Done { cycles: u32 },
    /// BKPT: enter debug state (the instruction is not executed, PC stays on it).
    Breakpoint,
    /// WFE/WFI: sleep until an event (after the instruction, PC advanced).
    Sleep { wfe: bool, cycles: u32 },
    /// SEV: set the event register (and every other core's).
    Sev { cycles: u32 },
    /// SVC: the SVCall exception is taken (PC advanced past the instruction).
    Svc,
    /// The instruction faulted; PC still points at it.
    Fault(FaultKind),
    /// A bus stall: nothing happened, run the instruction again once the bus is free.
    Stalled,
}

/// Why an instruction faulted (ARMv7-M ARM B1.5.14, the CFSR bits a fault sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// UsageFault UNDEFINSTR: an encoding this core does not execute.
    Undefined,
    /// UsageFault UNALIGNED: an unaligned access where the architecture requires alignment
    /// (LDM/STM, LDRD/STRD, LDREX/STREX, VLDR/VSTR...) or CCR.UNALIGN_TRP is set.
    Unaligned { addr: u32 },
    /// UsageFault NOCP: an FP instruction with the FPU disabled in CPACR.
    NoCoprocessor,
    /// UsageFault DIVBYZERO: SDIV/UDIV by zero with CCR.DIV_0_TRP.
    DivideByZero,
    /// UsageFault INVSTATE: a branch to an address with bit 0 clear (ARM state).
    InvalidState,
    /// BusFault PRECISERR on a data access.
    Bus { addr: u32 },
    /// SVC where SVCall cannot be taken (its priority is not above the current one): escalated.
    Svc,
    /// BKPT with halting debug disabled and no DebugMonitor: HardFault with HFSR.DEBUGEVT.
    Breakpoint,
}

/// ARM ARM A2.2.1 AddWithCarry: (result, carry_out, overflow).
pub fn add_with_carry(x: u32, y: u32, carry: bool) -> (u32, bool, bool) {
    let unsigned = x as u64 + y as u64 + carry as u64;
    let signed = x as i32 as i64 + y as i32 as i64 + carry as i64;
    let result = unsigned as u32;
    (result, unsigned >> 32 != 0, result as i32 as i64 != signed)
}

/// ConditionPassed for a 4-bit condition (A7.3).
pub fn condition(regs: &Regs, cond: u8) -> bool {
    let n = regs.flag(psr::N);
    let z = regs.flag(psr::Z);
    let c = regs.flag(psr::C);
    let v = regs.flag(psr::V);
    let base = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => !z && n == v,
        _ => true,
    };
    if cond & 1 == 1 && cond != 0xF {
        !base
    } else {
        base
    }
}

/// Shift with carry (A2.2.2 Shift_C) for a register-specified amount (bottom byte).
fn shift_c(op: AluOp, v: u32, amount: u32, carry_in: bool) -> (u32, bool) {
    if amount == 0 {
        return (v, carry_in);
    }
    match op {
        AluOp::Lsl => match amount {
            1..=31 => (v << amount, (v >> (32 - amount)) & 1 == 1),
            32 => (0, v & 1 == 1),
            _ => (0, false),
        },
        AluOp::Lsr => match amount {
            1..=31 => (v >> amount, (v >> (amount - 1)) & 1 == 1),
            32 => (0, v >> 31 == 1),
            _ => (0, false),
        },
        AluOp::Asr => match amount {
            1..=31 => (((v as i32) >> amount) as u32, (v >> (amount - 1)) & 1 == 1),
            _ => {
                let s = ((v as i32) >> 31) as u32;
                (s, s & 1 == 1)
            }
        },
        AluOp::Ror => {
            let a = amount % 32;
            let r = v.rotate_right(a);
            (r, r >> 31 == 1)
        }
        _ => (v, carry_in),
    }
}

fn taken(cycles: u32) -> Outcome {
    Outcome::Done { cycles: cycles + 2 }
}

/// BranchWritePC / BXWritePC for interworking branches (bit 0 must be 1 on M profile).
pub(super) fn bx_write_pc(regs: &mut Regs, target: u32) -> Result<(), FaultKind> {
    if target & 1 == 0 {
        return Err(FaultKind::InvalidState);
    }
    regs.r[15] = target & !1;
    Ok(())
}

fn bus_err(e: BusError, addr: u32) -> Outcome {
    match e {
        BusError::Stall => Outcome::Stalled,
        BusError::Fault => Outcome::Fault(FaultKind::Bus { addr }),
    }
}

/// A data read of `size` bytes. An unaligned halfword or word read is done byte by byte
/// unless CCR.UNALIGN_TRP is set or the instruction requires alignment (`strict`: LDM,
/// LDRD, LDREX, VLDR...), which fault (A3.2.1).
pub(super) fn mem_read(
    bus: &mut impl Bus,
    cfg: &CoreConfig,
    addr: u32,
    size: u32,
    strict: bool,
) -> Result<u32, Outcome> {
    if addr.is_multiple_of(size) {
        return bus.read(addr, size).map_err(|e| bus_err(e, addr));
    }
    if strict || cfg.unaligned_trap {
        return Err(Outcome::Fault(FaultKind::Unaligned { addr }));
    }
    let mut v = 0;
    for i in 0..size {
        let a = addr.wrapping_add(i);
        v |= bus.read(a, 1).map_err(|e| bus_err(e, a))? << (8 * i);
    }
    Ok(v)
}

/// A data write (see [`mem_read`] for alignment).
pub(super) fn mem_write(
    bus: &mut impl Bus,
    cfg: &CoreConfig,
    addr: u32,
    size: u32,
    v: u32,
    strict: bool,
) -> Result<(), Outcome> {
    let v = match size {
        1 => v & 0xFF,
        2 => v & 0xFFFF,
        _ => v,
    };
    if addr.is_multiple_of(size) {
        return bus.write(addr, size, v).map_err(|e| bus_err(e, addr));
    }
    if strict || cfg.unaligned_trap {
        return Err(Outcome::Fault(FaultKind::Unaligned { addr }));
    }
    for i in 0..size {
        let a = addr.wrapping_add(i);
        bus.write(a, 1, (v >> (8 * i)) & 0xFF)
            .map_err(|e| bus_err(e, a))?;
    }
    Ok(())
}

/// Sign extension of a loaded value.
pub(super) fn load_value(op: MemOp, v: u32) -> u32 {
    match op {
        MemOp::Ldrsb => v as u8 as i8 as i32 as u32,
        MemOp::Ldrsh => v as u16 as i16 as i32 as u32,
        _ => v,
    }
}

fn load(bus: &mut impl Bus, op: MemOp, addr: u32) -> Result<u32, Outcome> {
    let cfg = bus.config();
    Ok(load_value(op, mem_read(bus, &cfg, addr, op.size(), false)?))
}

fn store(bus: &mut impl Bus, op: MemOp, addr: u32, v: u32) -> Result<(), Outcome> {
    let cfg = bus.config();
    mem_write(bus, &cfg, addr, op.size(), v, false)
}

/// A word of LDM/STM/PUSH/POP: always aligned.
fn load_word_strict(bus: &mut impl Bus, addr: u32) -> Result<u32, Outcome> {
    let cfg = bus.config();
    mem_read(bus, &cfg, addr, 4, true)
}

/// ITAdvance (A7.3.3).
fn it_advance(it: u8) -> u8 {
    if it & 7 == 0 {
        0
    } else {
        (it & 0xE0) | ((it << 1) & 0x1F)
    }
}

/// The 16-bit instructions that set flags only outside an IT block (ADDS becomes ADD...).
fn sets_flags_outside_it(insn: &Insn) -> bool {
    match insn {
        Insn::ShiftImm { .. } | Insn::AddSubReg { .. } | Insn::AddSubImm { .. } => true,
        Insn::MovImm { .. } => true,
        Insn::Alu { op, .. } => !matches!(op, AluOp::Tst | AluOp::Cmp | AluOp::Cmn),
        _ => false,
    }
}

/// Run one instruction at `regs.pc()`. On `Fault`, `Stalled` and `Breakpoint` the registers
/// are as before the instruction (loads and stores of multiple registers check every address
/// before the first access, so a fault leaves no partial update).
pub fn execute(regs: &mut Regs, bus: &mut impl Bus, d: &Decoded) -> Outcome {
    let it = regs.itstate();
    let in_it = it & 0xF != 0;
    // An instruction in an IT block whose condition fails is skipped (A7.3.2); BKPT is
    // unconditional.
    if in_it && !matches!(d.insn, Insn::Bkpt { .. }) && !condition(regs, it >> 4) {
        regs.r[15] = regs.r[15].wrapping_add(d.size);
        regs.set_itstate(it_advance(it));
        return Outcome::Done { cycles: 1 };
    }
    // What an instruction can change before it faults: the core registers, xPSR, CONTROL
    // (FPCA), the monitor and, for FP loads, the S registers and FPSCR. MSP/PSP and the mask
    // registers change only in instructions that cannot fault (MSR, CPS).
    let before = Snapshot::take(regs, d);
    let r = step(regs, bus, d);
    if matches!(
        r,
        Outcome::Fault(_) | Outcome::Stalled | Outcome::Breakpoint
    ) {
        before.restore(regs);
    } else if in_it {
        if sets_flags_outside_it(&d.insn) {
            regs.xpsr = (regs.xpsr & 0x0FFF_FFFF) | (before.xpsr & 0xF000_0000);
        }
        regs.set_itstate(it_advance(it));
    }
    r
}

/// The registers an instruction may have changed when it faults (see [`execute`]).
struct Snapshot {
    r: [u32; 16],
    xpsr: u32,
    control: u32,
    monitor: bool,
    fp: Option<([u32; 32], u32)>,
}

impl Snapshot {
    fn take(regs: &Regs, d: &Decoded) -> Snapshot {
        let fp = matches!(d.insn, Insn::T32(super::decode32::Insn32::Fp(_)))
            .then(|| (regs.s, regs.fpscr));
        Snapshot {
            r: regs.r,
            xpsr: regs.xpsr,
            control: regs.control,
            monitor: regs.monitor,
            fp,
        }
    }

    fn restore(self, regs: &mut Regs) {
        regs.r = self.r;
        regs.xpsr = self.xpsr;
        regs.control = self.control;
        regs.monitor = self.monitor;
        if let Some((s, fpscr)) = self.fp {
            regs.s = s;
            regs.fpscr = fpscr;
        }
    }
}

fn step(regs: &mut Regs, bus: &mut impl Bus, d: &Decoded) -> Outcome {
    let pc = regs.pc();
    // The PC an instruction reads is its address + 4 (A5.1.2).
    let pc_read = pc.wrapping_add(4);
    let next = pc.wrapping_add(d.size);
    let reg = |regs: &Regs, n: u8| if n == 15 { pc_read } else { regs.r[n as usize] };
    regs.r[15] = next;
    let c_in = regs.flag(psr::C);
    match d.insn {
        Insn::ShiftImm { op, d, m, imm } => {
            let (v, c) = shift_c(op, regs.r[m as usize], imm as u32, c_in);
            regs.r[d as usize] = v;
            regs.set_nz(v);
            regs.set_flag(psr::C, c);
        }
        Insn::AddSubReg { sub, d, n, m } => {
            let (x, y) = (regs.r[n as usize], regs.r[m as usize]);
            let (v, c, o) = if sub {
                add_with_carry(x, !y, true)
            } else {
                add_with_carry(x, y, false)
            };
            regs.r[d as usize] = v;
            set_nzcv(regs, v, c, o);
        }
        Insn::AddSubImm { sub, d, n, imm } => {
            let x = regs.r[n as usize];
            let (v, c, o) = if sub {
                add_with_carry(x, !imm, true)
            } else {
                add_with_carry(x, imm, false)
            };
            regs.r[d as usize] = v;
            set_nzcv(regs, v, c, o);
        }
        Insn::MovImm { d, imm } => {
            regs.r[d as usize] = imm;
            regs.set_nz(imm);
        }
        Insn::CmpImm { n, imm } => {
            let (v, c, o) = add_with_carry(regs.r[n as usize], !imm, true);
            set_nzcv(regs, v, c, o);
        }
        Insn::Alu { op, dn, m } => {
            let (x, y) = (regs.r[dn as usize], regs.r[m as usize]);
            let mut write = true;
            let v = match op {
                AluOp::And | AluOp::Tst => {
                    write = op == AluOp::And;
                    x & y
                }
                AluOp::Eor => x ^ y,
                AluOp::Orr => x | y,
                AluOp::Bic => x & !y,
                AluOp::Mvn => !y,
                AluOp::Mul => x.wrapping_mul(y),
                AluOp::Lsl | AluOp::Lsr | AluOp::Asr | AluOp::Ror => {
                    let (v, c) = shift_c(op, x, y & 0xFF, c_in);
                    regs.set_flag(psr::C, c);
                    v
                }
                AluOp::Adc | AluOp::Sbc | AluOp::Rsb | AluOp::Cmp | AluOp::Cmn => {
                    let (v, c, o) = match op {
                        AluOp::Adc => add_with_carry(x, y, c_in),
                        AluOp::Sbc => add_with_carry(x, !y, c_in),
                        AluOp::Rsb => add_with_carry(!y, 0, true),
                        AluOp::Cmp => add_with_carry(x, !y, true),
                        _ => add_with_carry(x, y, false),
                    };
                    write = !matches!(op, AluOp::Cmp | AluOp::Cmn);
                    regs.set_flag(psr::C, c);
                    regs.set_flag(psr::V, o);
                    v
                }
            };
            // RSB is RSBS Rd, Rn, #0: Rd = 0 - Rm (A7.7.115 T1; Rdn is Rd, Rm is Rn).
            regs.set_nz(v);
            if write {
                regs.r[dn as usize] = v;
            }
        }
        Insn::AddHigh { dn, m } => {
            let v = reg(regs, dn).wrapping_add(reg(regs, m));
            if dn == 15 {
                regs.r[15] = v & !1;
                return taken(1);
            }
            write_reg(regs, dn, v);
        }
        Insn::CmpHigh { n, m } => {
            let (v, c, o) = add_with_carry(reg(regs, n), !reg(regs, m), true);
            set_nzcv(regs, v, c, o);
        }
        Insn::MovHigh { d, m } => {
            let v = reg(regs, m);
            if d == 15 {
                regs.r[15] = v & !1;
                return taken(1);
            }
            write_reg(regs, d, v);
        }
        Insn::Bx { m } => {
            let target = reg(regs, m);
            if let Err(f) = bx_write_pc(regs, target) {
                return Outcome::Fault(f);
            }
            return taken(1);
        }
        Insn::Blx { m } => {
            let target = reg(regs, m);
            regs.r[14] = next | 1;
            if let Err(f) = bx_write_pc(regs, target) {
                return Outcome::Fault(f);
            }
            return taken(1);
        }
        Insn::LdrLit { t, imm } => {
            let addr = (pc_read & !3).wrapping_add(imm);
            match load(bus, MemOp::Ldr, addr) {
                Ok(v) => regs.r[t as usize] = v,
                Err(o) => return o,
            }
            return Outcome::Done { cycles: 2 };
        }
        Insn::MemReg { op, t, n, m } => {
            let addr = regs.r[n as usize].wrapping_add(regs.r[m as usize]);
            return mem_single(regs, bus, op, t, addr);
        }
        Insn::MemImm { op, t, n, imm } => {
            let addr = regs.r[n as usize].wrapping_add(imm);
            return mem_single(regs, bus, op, t, addr);
        }
        Insn::Adr { d, imm } => regs.r[d as usize] = (pc_read & !3).wrapping_add(imm),
        Insn::AddSpImm { d, imm } => regs.r[d as usize] = regs.r[13].wrapping_add(imm),
        Insn::AdjustSp { sub, imm } => {
            regs.r[13] = if sub {
                regs.r[13].wrapping_sub(imm)
            } else {
                regs.r[13].wrapping_add(imm)
            };
        }
        Insn::Cbz { nonzero, n, imm } => {
            if (regs.r[n as usize] != 0) == nonzero {
                regs.r[15] = pc_read.wrapping_add(imm);
                return taken(1);
            }
        }
        Insn::Extend { op, d, m } => {
            let v = regs.r[m as usize];
            regs.r[d as usize] = match op {
                ExtendOp::Sxth => v as u16 as i16 as i32 as u32,
                ExtendOp::Sxtb => v as u8 as i8 as i32 as u32,
                ExtendOp::Uxth => v & 0xFFFF,
                ExtendOp::Uxtb => v & 0xFF,
            };
        }
        Insn::Rev { op, d, m } => {
            let v = regs.r[m as usize];
            regs.r[d as usize] = match op {
                RevOp::Rev => v.swap_bytes(),
                RevOp::Rev16 => ((v & 0x00FF_00FF) << 8) | ((v & 0xFF00_FF00) >> 8),
                RevOp::Revsh => (v as u16).swap_bytes() as i16 as i32 as u32,
            };
        }
        Insn::Push { list } => {
            let count = list.count_ones();
            let start = regs.r[13].wrapping_sub(4 * count);
            let values: Vec<(u32, u32)> = (0..16u8)
                .filter(|i| list & (1 << i) != 0)
                .enumerate()
                .map(|(k, i)| (start + 4 * k as u32, regs.r[i as usize]))
                .collect();
            if let Err(o) = store_all(bus, &values) {
                return o;
            }
            regs.r[13] = start;
            return Outcome::Done { cycles: 1 + count };
        }
        Insn::Pop { list } => {
            let count = list.count_ones();
            let start = regs.r[13];
            let mut loaded = Vec::with_capacity(count as usize);
            for (k, i) in (0..16u8).filter(|i| list & (1 << i) != 0).enumerate() {
                match load_word_strict(bus, start.wrapping_add(4 * k as u32)) {
                    Ok(v) => loaded.push((i, v)),
                    Err(o) => return o,
                }
            }
            regs.r[13] = start.wrapping_add(4 * count);
            for (i, v) in loaded {
                if i == 15 {
                    if let Err(f) = bx_write_pc(regs, v) {
                        return Outcome::Fault(f);
                    }
                    return taken(1 + count);
                }
                regs.r[i as usize] = v;
            }
            return Outcome::Done { cycles: 1 + count };
        }
        Insn::Cps { disable, i, f } => {
            if i {
                regs.primask = disable as u32;
            }
            if f {
                regs.faultmask = disable as u32;
            }
        }
        Insn::Bkpt { .. } => return Outcome::Breakpoint,
        Insn::Hint { op } => {
            return match op {
                HintOp::Nop | HintOp::Yield => Outcome::Done { cycles: 1 },
                HintOp::Wfe => Outcome::Sleep {
                    wfe: true,
                    cycles: 1,
                },
                HintOp::Wfi => Outcome::Sleep {
                    wfe: false,
                    cycles: 1,
                },
                HintOp::Sev => Outcome::Sev { cycles: 1 },
            }
        }
        Insn::Stm { n, list } => {
            let count = list.count_ones();
            let start = regs.r[n as usize];
            let values: Vec<(u32, u32)> = (0..8u8)
                .filter(|i| list & (1 << i) != 0)
                .enumerate()
                .map(|(k, i)| (start.wrapping_add(4 * k as u32), regs.r[i as usize]))
                .collect();
            if let Err(o) = store_all(bus, &values) {
                return o;
            }
            regs.r[n as usize] = start.wrapping_add(4 * count);
            return Outcome::Done { cycles: 1 + count };
        }
        Insn::Ldm { n, list } => {
            let count = list.count_ones();
            let start = regs.r[n as usize];
            let mut loaded = Vec::with_capacity(count as usize);
            for (k, i) in (0..8u8).filter(|i| list & (1 << i) != 0).enumerate() {
                match load_word_strict(bus, start.wrapping_add(4 * k as u32)) {
                    Ok(v) => loaded.push((i, v)),
                    Err(o) => return o,
                }
            }
            if list & (1 << n) == 0 {
                regs.r[n as usize] = start.wrapping_add(4 * count);
            }
            for (i, v) in loaded {
                regs.r[i as usize] = v;
            }
            return Outcome::Done { cycles: 1 + count };
        }
        Insn::BCond { cond, imm } => {
            if condition(regs, cond) {
                regs.r[15] = pc_read.wrapping_add(imm as u32);
                return taken(1);
            }
        }
        Insn::B { imm } => {
            regs.r[15] = pc_read.wrapping_add(imm as u32);
            return taken(1);
        }
        Insn::Bl { imm } => {
            regs.r[14] = next | 1;
            regs.r[15] = pc_read.wrapping_add(imm as u32);
            return taken(2);
        }
        Insn::Svc { .. } => return Outcome::Svc,
        Insn::It { firstcond, mask } => {
            if mask == 0 || regs.itstate() & 0xF != 0 {
                return Outcome::Fault(FaultKind::Undefined);
            }
            regs.set_itstate(firstcond << 4 | mask);
        }
        Insn::T32(ref i) => return exec32::execute(regs, bus, i, pc_read, next),
        Insn::Undefined => return Outcome::Fault(FaultKind::Undefined),
    }
    Outcome::Done { cycles: 1 }
}

fn set_nzcv(regs: &mut Regs, v: u32, c: bool, o: bool) {
    regs.set_nz(v);
    regs.set_flag(psr::C, c);
    regs.set_flag(psr::V, o);
}

/// A register write by MOV/ADD (high): SP keeps word alignment.
fn write_reg(regs: &mut Regs, d: u8, v: u32) {
    regs.r[d as usize] = if d == 13 { v & !3 } else { v };
}

fn mem_single(regs: &mut Regs, bus: &mut impl Bus, op: MemOp, t: u8, addr: u32) -> Outcome {
    if op.is_load() {
        match load(bus, op, addr) {
            Ok(v) => {
                regs.r[t as usize] = v;
                Outcome::Done { cycles: 2 }
            }
            Err(o) => o,
        }
    } else {
        match store(bus, op, addr, regs.r[t as usize]) {
            Ok(()) => Outcome::Done { cycles: 1 },
            Err(o) => o,
        }
    }
}

fn store_all(bus: &mut impl Bus, values: &[(u32, u32)]) -> Result<(), Outcome> {
    let cfg = bus.config();
    for &(addr, v) in values {
        mem_write(bus, &cfg, addr, 4, v, true)?;
    }
    Ok(())
}
