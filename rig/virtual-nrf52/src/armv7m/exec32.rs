//! Executing the 32-bit Thumb-2 instructions (ARMv7-M ARM A7.7, the pseudocode of each), the
//! DSP extension's included (`dsp`). Cycle counts follow the Cortex-M4 TRM table 3-1 in the
//! same simplified way as the 16-bit set.

use super::decode32::{
    Barrier, BitfieldOp, DpOp, ExclusiveOp, ExtendKind, Insn32, LongOp, MiscOp, MulOp, Offset,
    Operand, ShiftType,
};
use super::dsp;
use super::exec::{
    add_with_carry, bx_write_pc, condition, load_value, mem_read, mem_write, Bus, CoreConfig,
    FaultKind, Outcome,
};
use super::regs::{psr, Regs};
use super::vfp;

/// Shift_C (A7.4.2) for any amount (register-specified shifts use the bottom byte, which may
/// be 32 or more).
pub fn shift_c(v: u32, shift: ShiftType, amount: u32, carry_in: bool) -> (u32, bool) {
    if amount == 0 && shift != ShiftType::Rrx {
        return (v, carry_in);
    }
    match shift {
        ShiftType::Lsl => match amount {
            1..=31 => (v << amount, (v >> (32 - amount)) & 1 == 1),
            32 => (0, v & 1 == 1),
            _ => (0, false),
        },
        ShiftType::Lsr => match amount {
            1..=31 => (v >> amount, (v >> (amount - 1)) & 1 == 1),
            32 => (0, v >> 31 == 1),
            _ => (0, false),
        },
        ShiftType::Asr => match amount {
            1..=31 => (((v as i32) >> amount) as u32, (v >> (amount - 1)) & 1 == 1),
            _ => {
                let s = ((v as i32) >> 31) as u32;
                (s, s & 1 == 1)
            }
        },
        ShiftType::Ror => {
            let r = v.rotate_right(amount % 32);
            (r, r >> 31 == 1)
        }
        ShiftType::Rrx => ((carry_in as u32) << 31 | v >> 1, v & 1 == 1),
    }
}

/// Whether the code runs privileged (handler mode, or thread mode with CONTROL.nPRIV = 0).
fn privileged(regs: &Regs) -> bool {
    regs.xpsr & psr::IPSR_MASK != 0 || regs.control & 1 == 0
}

/// Priority bits the nRF52832 implements (__NVIC_PRIO_BITS = 3 in the SDK's nrf52.h): the
/// rest of BASEPRI and the priority registers read as zero.
pub const PRIO_MASK: u32 = 0xE0;

fn mrs(regs: &mut Regs, sysm: u8) -> u32 {
    let x = regs.xpsr;
    match sysm {
        0..=7 => {
            let mut v = 0;
            if sysm & 1 != 0 {
                v |= x & psr::IPSR_MASK;
            }
            if sysm & 4 == 0 {
                v |= x & 0xF80F_0000;
            }
            v
        }
        8 | 9 if !privileged(regs) => 0,
        8 => {
            regs.sync_sp_out();
            regs.msp
        }
        9 => {
            regs.sync_sp_out();
            regs.psp
        }
        16 => regs.primask & 1,
        17 | 18 => regs.basepri,
        19 => regs.faultmask & 1,
        20 => regs.control & 7,
        _ => 0,
    }
}

fn msr(regs: &mut Regs, sysm: u8, mask: u8, v: u32) {
    if sysm <= 7 {
        if sysm & 4 == 0 {
            if mask & 2 != 0 {
                regs.xpsr = (regs.xpsr & !0xF800_0000) | (v & 0xF800_0000);
            }
            if mask & 1 != 0 {
                regs.xpsr = (regs.xpsr & !0x000F_0000) | (v & 0x000F_0000);
            }
        }
        return;
    }
    if !privileged(regs) {
        return;
    }
    let handler = regs.xpsr & psr::IPSR_MASK;
    match sysm {
        8 => {
            regs.sync_sp_out();
            regs.msp = v & !3;
            regs.sync_sp_in();
        }
        9 => {
            regs.sync_sp_out();
            regs.psp = v & !3;
            regs.sync_sp_in();
        }
        16 => regs.primask = v & 1,
        17 => regs.basepri = v & PRIO_MASK,
        18 => {
            let v = v & PRIO_MASK;
            if v != 0 && (v < regs.basepri || regs.basepri == 0) {
                regs.basepri = v;
            }
        }
        // FAULTMASK cannot be set by the NMI or HardFault handler (B5.2.3).
        19 if handler != 2 && handler != 3 => regs.faultmask = v & 1,
        20 => {
            regs.sync_sp_out();
            let mut c = (regs.control & !1) | (v & 1);
            if handler == 0 {
                c = (c & !2) | (v & 2);
            }
            c = (c & !4) | (v & 4);
            regs.control = c;
            regs.sync_sp_in();
        }
        _ => {}
    }
}

fn ror(v: u32, n: u8) -> u32 {
    v.rotate_right(n as u32)
}

/// Execute a 32-bit instruction; PC already points past it.
pub fn execute(
    regs: &mut Regs,
    bus: &mut impl Bus,
    insn: &Insn32,
    pc_read: u32,
    next: u32,
) -> Outcome {
    let reg = |regs: &Regs, n: u8| if n == 15 { pc_read } else { regs.r[n as usize] };
    let c_in = regs.flag(psr::C);
    let cfg: CoreConfig = bus.config();
    match *insn {
        Insn32::Dp { op, s, d, n, op2 } => {
            let (v, carry) = match op2 {
                Operand::Imm { value, carry } => (value, carry.unwrap_or(c_in)),
                Operand::Reg { m, shift, amount } => {
                    shift_c(reg(regs, m), shift, amount as u32, c_in)
                }
            };
            let rn = reg(regs, n);
            let logical = |r: u32| (r, carry, regs.flag(psr::V));
            let (r, c, o) = match op {
                DpOp::And | DpOp::Tst => logical(rn & v),
                DpOp::Bic => logical(rn & !v),
                DpOp::Orr => logical(rn | v),
                DpOp::Orn => logical(rn | !v),
                DpOp::Eor | DpOp::Teq => logical(rn ^ v),
                DpOp::Mov => logical(v),
                DpOp::Mvn => logical(!v),
                DpOp::Add | DpOp::Cmn => add_with_carry(rn, v, false),
                DpOp::Adc => add_with_carry(rn, v, c_in),
                DpOp::Sbc => add_with_carry(rn, !v, c_in),
                DpOp::Sub | DpOp::Cmp => add_with_carry(rn, !v, true),
                DpOp::Rsb => add_with_carry(!rn, v, true),
            };
            if s {
                regs.set_nz(r);
                regs.set_flag(psr::C, c);
                regs.set_flag(psr::V, o);
            }
            if !matches!(op, DpOp::Tst | DpOp::Teq | DpOp::Cmp | DpOp::Cmn) {
                if d == 15 {
                    regs.r[15] = r & !1;
                    return Outcome::Done { cycles: 3 };
                }
                regs.r[d as usize] = r;
            }
        }
        Insn32::Pkh {
            tb,
            d,
            n,
            m,
            amount,
        } => {
            let (rn, rm) = (regs.r[n as usize], regs.r[m as usize]);
            regs.r[d as usize] = if tb {
                let sh = shift_c(rm, ShiftType::Asr, amount as u32, false).0;
                (rn & 0xFFFF_0000) | (sh & 0xFFFF)
            } else {
                (rn & 0xFFFF) | ((rm << amount) & 0xFFFF_0000)
            };
        }
        Insn32::AddW { sub, d, n, imm } => {
            let base = if n == 15 {
                pc_read & !3
            } else {
                regs.r[n as usize]
            };
            regs.r[d as usize] = if sub {
                base.wrapping_sub(imm)
            } else {
                base.wrapping_add(imm)
            };
        }
        Insn32::MovW { d, imm } => regs.r[d as usize] = imm as u32,
        Insn32::MovT { d, imm } => {
            regs.r[d as usize] = (regs.r[d as usize] & 0xFFFF) | (imm as u32) << 16
        }
        Insn32::Sat {
            unsigned,
            d,
            n,
            sat,
            shift,
            amount,
        } => {
            let v = shift_c(regs.r[n as usize], shift, amount as u32, false).0 as i32 as i64;
            let (r, q) = if unsigned {
                dsp::usat(v, sat as u32)
            } else {
                dsp::ssat(v, sat as u32)
            };
            regs.r[d as usize] = r;
            if q {
                regs.xpsr |= psr::Q;
            }
        }
        Insn32::Sat16 {
            unsigned,
            d,
            n,
            sat,
        } => {
            let v = regs.r[n as usize];
            let mut q = false;
            let mut out = 0;
            for lane in 0..2 {
                let h = (v >> (16 * lane)) as u16 as i16 as i64;
                let (r, qq) = if unsigned {
                    dsp::usat(h, sat as u32)
                } else {
                    dsp::ssat(h, sat as u32)
                };
                q |= qq;
                out |= (r & 0xFFFF) << (16 * lane);
            }
            regs.r[d as usize] = out;
            if q {
                regs.xpsr |= psr::Q;
            }
        }
        Insn32::Bitfield { op, d, n, lsb, w } => {
            let (lsb, w) = (lsb as u32, w as u32);
            let rn = regs.r[n as usize];
            regs.r[d as usize] = match op {
                BitfieldOp::Ubfx | BitfieldOp::Sbfx => {
                    let field = ((rn as u64 >> lsb) & ((1u64 << w) - 1)) as u32;
                    if op == BitfieldOp::Sbfx && w < 32 {
                        ((field << (32 - w)) as i32 >> (32 - w)) as u32
                    } else {
                        field
                    }
                }
                BitfieldOp::Bfi | BitfieldOp::Bfc => {
                    // w holds msb here.
                    if w < lsb {
                        return Outcome::Fault(FaultKind::Undefined);
                    }
                    let width = w - lsb + 1;
                    let mask = (((1u64 << width) - 1) << lsb) as u32;
                    let src = if op == BitfieldOp::Bfi { rn << lsb } else { 0 };
                    (regs.r[d as usize] & !mask) | (src & mask)
                }
            };
        }
        Insn32::ShiftReg { shift, s, d, n, m } => {
            let amount = regs.r[m as usize] & 0xFF;
            let (r, c) = shift_c(regs.r[n as usize], shift, amount, c_in);
            regs.r[d as usize] = r;
            if s {
                regs.set_nz(r);
                regs.set_flag(psr::C, c);
            }
        }
        Insn32::Extend { kind, d, n, m, rot } => {
            let v = ror(regs.r[m as usize], rot);
            let add = if n == 15 { 0 } else { regs.r[n as usize] };
            regs.r[d as usize] = match kind {
                ExtendKind::Sxth => add.wrapping_add(v as u16 as i16 as i32 as u32),
                ExtendKind::Uxth => add.wrapping_add(v & 0xFFFF),
                ExtendKind::Sxtb => add.wrapping_add(v as u8 as i8 as i32 as u32),
                ExtendKind::Uxtb => add.wrapping_add(v & 0xFF),
                ExtendKind::Sxtb16 | ExtendKind::Uxtb16 => {
                    let ext = |b: u32| {
                        if kind == ExtendKind::Sxtb16 {
                            b as u8 as i8 as i16 as u16 as u32
                        } else {
                            b & 0xFF
                        }
                    };
                    let lo = (add & 0xFFFF).wrapping_add(ext(v)) & 0xFFFF;
                    let hi = (add >> 16).wrapping_add(ext(v >> 16)) & 0xFFFF;
                    hi << 16 | lo
                }
            };
        }
        Insn32::Parallel {
            op,
            unsigned,
            kind,
            d,
            n,
            m,
        } => {
            let (r, ge) = dsp::parallel(op, unsigned, kind, regs.r[n as usize], regs.r[m as usize]);
            regs.r[d as usize] = r;
            if let Some(ge) = ge {
                regs.xpsr = (regs.xpsr & !0x000F_0000) | (ge << 16);
            }
        }
        Insn32::Misc { op, d, n, m } => {
            let (rn, rm) = (regs.r[n as usize], regs.r[m as usize]);
            let mut q = false;
            let mut sat = |v: i64| {
                let (r, qq) = dsp::ssat(v, 32);
                q |= qq;
                r as i32 as i64
            };
            let r = match op {
                MiscOp::Qadd => sat(rm as i32 as i64 + rn as i32 as i64) as u32,
                MiscOp::Qsub => sat(rm as i32 as i64 - rn as i32 as i64) as u32,
                MiscOp::Qdadd => {
                    let dbl = sat(2 * rn as i32 as i64);
                    sat(rm as i32 as i64 + dbl) as u32
                }
                MiscOp::Qdsub => {
                    let dbl = sat(2 * rn as i32 as i64);
                    sat(rm as i32 as i64 - dbl) as u32
                }
                MiscOp::Rev => rm.swap_bytes(),
                MiscOp::Rev16 => ((rm & 0x00FF_00FF) << 8) | ((rm & 0xFF00_FF00) >> 8),
                MiscOp::Rbit => rm.reverse_bits(),
                MiscOp::Revsh => (rm as u16).swap_bytes() as i16 as i32 as u32,
                MiscOp::Sel => {
                    let ge = (regs.xpsr >> 16) & 0xF;
                    (0..4).fold(0, |acc, i| {
                        let src = if ge & (1 << i) != 0 { rn } else { rm };
                        acc | (src & (0xFF << (8 * i)))
                    })
                }
                MiscOp::Clz => rm.leading_zeros(),
            };
            regs.r[d as usize] = r;
            if q {
                regs.xpsr |= psr::Q;
            }
        }
        Insn32::Mul { op, d, n, m, a } => {
            let (rn, rm) = (regs.r[n as usize], regs.r[m as usize]);
            let acc = if a == 15 { 0 } else { regs.r[a as usize] };
            let (r, q) = dsp::multiply(op, rn, rm, acc, a != 15);
            regs.r[d as usize] = r;
            if q {
                regs.xpsr |= psr::Q;
            }
            return Outcome::Done {
                cycles: if matches!(op, MulOp::Mla | MulOp::Mls) && a != 15 {
                    2
                } else {
                    1
                },
            };
        }
        Insn32::MulLong { op, lo, hi, n, m } => {
            let (rn, rm) = (regs.r[n as usize], regs.r[m as usize]);
            let acc = (regs.r[hi as usize] as u64) << 32 | regs.r[lo as usize] as u64;
            let r: u64 = match op {
                LongOp::Smull => (rn as i32 as i64).wrapping_mul(rm as i32 as i64) as u64,
                LongOp::Umull => rn as u64 * rm as u64,
                LongOp::Smlal => {
                    ((rn as i32 as i64) * (rm as i32 as i64)).wrapping_add(acc as i64) as u64
                }
                LongOp::Umlal => (rn as u64 * rm as u64).wrapping_add(acc),
                LongOp::Umaal => {
                    rn as u64 * rm as u64 + regs.r[lo as usize] as u64 + regs.r[hi as usize] as u64
                }
                LongOp::Smlalxy { n_top, m_top } => {
                    let x = dsp::half(rn, n_top) as i64;
                    let y = dsp::half(rm, m_top) as i64;
                    (x * y).wrapping_add(acc as i64) as u64
                }
                LongOp::Smlald { x, sub } => {
                    let rm2 = if x { rm.rotate_right(16) } else { rm };
                    let p1 = dsp::half(rn, false) as i64 * dsp::half(rm2, false) as i64;
                    let p2 = dsp::half(rn, true) as i64 * dsp::half(rm2, true) as i64;
                    let p = if sub { p1 - p2 } else { p1 + p2 };
                    p.wrapping_add(acc as i64) as u64
                }
            };
            regs.r[lo as usize] = r as u32;
            regs.r[hi as usize] = (r >> 32) as u32;
        }
        Insn32::Div { signed, d, n, m } => {
            let (rn, rm) = (regs.r[n as usize], regs.r[m as usize]);
            if rm == 0 {
                if cfg.div0_trap {
                    return Outcome::Fault(FaultKind::DivideByZero);
                }
                regs.r[d as usize] = 0;
            } else {
                regs.r[d as usize] = if signed {
                    (rn as i32).wrapping_div(rm as i32) as u32
                } else {
                    rn / rm
                };
            }
            // 2 to 12 cycles on the Cortex-M4 depending on the operands: a middle value.
            return Outcome::Done { cycles: 7 };
        }
        Insn32::Mem {
            op,
            t,
            n,
            offset,
            index,
            wback,
        } => {
            let base = if n == 15 {
                pc_read & !3
            } else {
                regs.r[n as usize]
            };
            let off = match offset {
                Offset::Imm(i) => i as u32,
                Offset::Reg { m, shift } => regs.r[m as usize] << shift,
            };
            let offset_addr = base.wrapping_add(off);
            let addr = if index { offset_addr } else { base };
            if op.is_load() {
                let v = match mem_read(bus, &cfg, addr, op.size(), false) {
                    Ok(v) => load_value(op, v),
                    Err(o) => return o,
                };
                if wback {
                    regs.r[n as usize] = offset_addr;
                }
                if t == 15 {
                    if let Err(f) = bx_write_pc(regs, v) {
                        return Outcome::Fault(f);
                    }
                    return Outcome::Done { cycles: 4 };
                }
                regs.r[t as usize] = v;
                return Outcome::Done { cycles: 2 };
            }
            if let Err(o) = mem_write(bus, &cfg, addr, op.size(), regs.r[t as usize], false) {
                return o;
            }
            if wback {
                regs.r[n as usize] = offset_addr;
            }
        }
        Insn32::Preload => {}
        Insn32::Dual {
            load,
            t,
            t2,
            n,
            imm,
            index,
            wback,
        } => {
            let base = if n == 15 {
                pc_read & !3
            } else {
                regs.r[n as usize]
            };
            let offset_addr = base.wrapping_add(imm as u32);
            let addr = if index { offset_addr } else { base };
            if load {
                let lo = match mem_read(bus, &cfg, addr, 4, true) {
                    Ok(v) => v,
                    Err(o) => return o,
                };
                let hi = match mem_read(bus, &cfg, addr.wrapping_add(4), 4, true) {
                    Ok(v) => v,
                    Err(o) => return o,
                };
                if wback {
                    regs.r[n as usize] = offset_addr;
                }
                regs.r[t as usize] = lo;
                regs.r[t2 as usize] = hi;
            } else {
                let (lo, hi) = (regs.r[t as usize], regs.r[t2 as usize]);
                if let Err(o) = mem_write(bus, &cfg, addr, 4, lo, true) {
                    return o;
                }
                if let Err(o) = mem_write(bus, &cfg, addr.wrapping_add(4), 4, hi, true) {
                    return o;
                }
                if wback {
                    regs.r[n as usize] = offset_addr;
                }
            }
            return Outcome::Done { cycles: 3 };
        }
        Insn32::Exclusive { op, d, t, n, imm } => {
            let addr = regs.r[n as usize].wrapping_add(imm);
            let size = match op {
                ExclusiveOp::Ldrex | ExclusiveOp::Strex => 4,
                ExclusiveOp::Ldrexh | ExclusiveOp::Strexh => 2,
                ExclusiveOp::Ldrexb | ExclusiveOp::Strexb => 1,
            };
            match op {
                ExclusiveOp::Ldrex | ExclusiveOp::Ldrexh | ExclusiveOp::Ldrexb => {
                    match mem_read(bus, &cfg, addr, size, true) {
                        Ok(v) => regs.r[t as usize] = v,
                        Err(o) => return o,
                    }
                    regs.monitor = true;
                    return Outcome::Done { cycles: 2 };
                }
                _ => {
                    if regs.monitor {
                        if let Err(o) = mem_write(bus, &cfg, addr, size, regs.r[t as usize], true) {
                            return o;
                        }
                        regs.r[d as usize] = 0;
                    } else {
                        regs.r[d as usize] = 1;
                    }
                    regs.monitor = false;
                }
            }
        }
        Insn32::Clrex => regs.monitor = false,
        Insn32::TableBranch { half, n, m } => {
            let base = reg(regs, n);
            let rm = regs.r[m as usize];
            let (addr, size) = if half {
                (base.wrapping_add(rm << 1), 2)
            } else {
                (base.wrapping_add(rm), 1)
            };
            let v = match mem_read(bus, &cfg, addr, size, false) {
                Ok(v) => v,
                Err(o) => return o,
            };
            regs.r[15] = pc_read.wrapping_add(2 * v);
            return Outcome::Done { cycles: 4 };
        }
        Insn32::Multiple {
            load,
            db,
            n,
            list,
            wback,
        } => {
            let count = list.count_ones();
            let rn = regs.r[n as usize];
            let start = if db { rn.wrapping_sub(4 * count) } else { rn };
            let end = if db {
                start
            } else {
                rn.wrapping_add(4 * count)
            };
            let regs_in = (0..16u8).filter(|i| list & (1 << i) != 0);
            if load {
                let mut loaded = [0u32; 16];
                for (k, i) in regs_in.clone().enumerate() {
                    match mem_read(bus, &cfg, start.wrapping_add(4 * k as u32), 4, true) {
                        Ok(v) => loaded[i as usize] = v,
                        Err(o) => return o,
                    }
                }
                if wback && list & (1 << n) == 0 {
                    regs.r[n as usize] = end;
                }
                for i in regs_in {
                    if i == 15 {
                        if let Err(f) = bx_write_pc(regs, loaded[15]) {
                            return Outcome::Fault(f);
                        }
                        return Outcome::Done { cycles: 3 + count };
                    }
                    regs.r[i as usize] = loaded[i as usize];
                }
            } else {
                for (k, i) in regs_in.enumerate() {
                    let v = regs.r[i as usize];
                    if let Err(o) =
                        mem_write(bus, &cfg, start.wrapping_add(4 * k as u32), 4, v, true)
                    {
                        return o;
                    }
                }
                if wback {
                    regs.r[n as usize] = end;
                }
            }
            return Outcome::Done { cycles: 1 + count };
        }
        Insn32::Branch { cond, imm } => {
            if cond == 14 || condition(regs, cond) {
                regs.r[15] = pc_read.wrapping_add(imm as u32);
                return Outcome::Done { cycles: 3 };
            }
        }
        Insn32::Bl { imm } => {
            regs.r[14] = next | 1;
            regs.r[15] = pc_read.wrapping_add(imm as u32);
            return Outcome::Done { cycles: 4 };
        }
        Insn32::Msr { n, sysm, mask } => {
            let v = regs.r[n as usize];
            msr(regs, sysm, mask, v);
            return Outcome::Done { cycles: 2 };
        }
        Insn32::Mrs { d, sysm } => {
            let v = mrs(regs, sysm);
            regs.r[d as usize] = v;
        }
        Insn32::Barrier(b) => {
            return Outcome::Done {
                cycles: if b == Barrier::Dmb { 1 } else { 3 },
            }
        }
        Insn32::Hint(h) => {
            return match h {
                2 => Outcome::Sleep {
                    wfe: true,
                    cycles: 1,
                },
                3 => Outcome::Sleep {
                    wfe: false,
                    cycles: 1,
                },
                4 => Outcome::Sev { cycles: 1 },
                _ => Outcome::Done { cycles: 1 },
            }
        }
        Insn32::Udf => return Outcome::Fault(FaultKind::Undefined),
        Insn32::Fp(ref f) => return vfp::execute(regs, bus, f, pc_read),
    }
    Outcome::Done { cycles: 1 }
}
