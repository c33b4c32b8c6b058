//! Executing the FPv4-SP instructions (ARMv7-M ARM A7.7 V* pages, the FP pseudocode of A2.5).
//!
//! Arithmetic is IEEE 754 single precision on the host's `f32` (round to nearest even), with
//! the ARM rules around it: NaN propagation (FPProcessNaNs: the first signalling NaN quietened,
//! else the first quiet NaN; FPSCR.DN gives the default NaN 0x7FC00000), flush-to-zero of
//! inputs and results with FPSCR.FZ, and the cumulative flags IOC (invalid), DZC (divide by
//! zero) and IDC/UFC for flushed values. Simplified: arithmetic rounds to nearest whatever
//! FPSCR.RMode says (the conversions honour RMode), IXC/OFC are not raised, and AHP is ignored.

use super::exec::{mem_read, mem_write, Bus, CoreConfig, FaultKind, Outcome};
use super::regs::Regs;
use super::vfp_decode::{FpInsn, FpOp, FpUnary};

pub const DEFAULT_NAN: u32 = 0x7FC0_0000;
/// FPSCR bits (A2.5.3).
pub mod fpscr {
    pub const IOC: u32 = 1 << 0;
    pub const DZC: u32 = 1 << 1;
    pub const UFC: u32 = 1 << 3;
    pub const IDC: u32 = 1 << 7;
    pub const FZ: u32 = 1 << 24;
    pub const DN: u32 = 1 << 25;
    pub const WRITABLE: u32 = 0xF7C0_009F;
    /// AHP, DN, FZ, RMode: the bits FPDSCR supplies.
    pub const DEFAULTS: u32 = 0x07C0_0000;
}

fn is_nan(v: u32) -> bool {
    v & 0x7F80_0000 == 0x7F80_0000 && v & 0x007F_FFFF != 0
}

fn is_snan(v: u32) -> bool {
    is_nan(v) && v & 0x0040_0000 == 0
}

struct Fp<'a> {
    fpscr: &'a mut u32,
}

impl Fp<'_> {
    fn flag(&mut self, f: u32) {
        *self.fpscr |= f;
    }

    /// An operand after FZ (denormal inputs read as zero, IDC).
    fn input(&mut self, v: u32) -> f32 {
        if *self.fpscr & fpscr::FZ != 0 && v & 0x7F80_0000 == 0 && v & 0x007F_FFFF != 0 {
            self.flag(fpscr::IDC);
            return f32::from_bits(v & 0x8000_0000);
        }
        f32::from_bits(v)
    }

    /// FPProcessNaNs over the operands, in order.
    fn nans(&mut self, ops: &[u32]) -> Option<u32> {
        let dn = *self.fpscr & fpscr::DN != 0;
        if let Some(&v) = ops.iter().find(|&&v| is_snan(v)) {
            self.flag(fpscr::IOC);
            return Some(if dn { DEFAULT_NAN } else { v | 0x0040_0000 });
        }
        ops.iter()
            .find(|&&v| is_nan(v))
            .map(|&v| if dn { DEFAULT_NAN } else { v })
    }

    /// A result: a NaN made here (no NaN operand) is the default NaN and Invalid Operation;
    /// a denormal result is flushed with FZ (UFC).
    fn output(&mut self, r: f32) -> u32 {
        if r.is_nan() {
            self.flag(fpscr::IOC);
            return DEFAULT_NAN;
        }
        let v = r.to_bits();
        if *self.fpscr & fpscr::FZ != 0 && v & 0x7F80_0000 == 0 && v & 0x007F_FFFF != 0 {
            self.flag(fpscr::UFC);
            return v & 0x8000_0000;
        }
        v
    }

    fn binary(&mut self, a: u32, b: u32, f: impl Fn(f32, f32) -> f32) -> u32 {
        if let Some(n) = self.nans(&[a, b]) {
            return n;
        }
        let (x, y) = (self.input(a), self.input(b));
        self.output(f(x, y))
    }

    fn div(&mut self, a: u32, b: u32) -> u32 {
        if self.nans(&[a, b]).is_none() {
            let (x, y) = (self.input(a), self.input(b));
            if y == 0.0 && x.is_finite() && x != 0.0 {
                self.flag(fpscr::DZC);
            }
        }
        self.binary(a, b, |x, y| x / y)
    }

    /// FPMulAdd: addend + op1 * op2 rounded once.
    fn fused(&mut self, addend: u32, op1: u32, op2: u32) -> u32 {
        if let Some(n) = self.nans(&[addend, op1, op2]) {
            // Inf * 0 + quiet NaN is still Invalid Operation (FPMulAdd).
            let (x, y) = (f32::from_bits(op1), f32::from_bits(op2));
            if (x.is_infinite() && y == 0.0) || (x == 0.0 && y.is_infinite()) {
                self.flag(fpscr::IOC);
                return DEFAULT_NAN;
            }
            return n;
        }
        let (a, x, y) = (self.input(addend), self.input(op1), self.input(op2));
        self.output(x.mul_add(y, a))
    }
}

fn neg(v: u32) -> u32 {
    v ^ 0x8000_0000
}

/// Round `v` to an integer by FPSCR.RMode (0 nearest even, 1 +inf, 2 -inf, 3 zero).
fn round(v: f64, rmode: u32) -> f64 {
    match rmode & 3 {
        0 => v.round_ties_even(),
        1 => v.ceil(),
        2 => v.floor(),
        _ => v.trunc(),
    }
}

/// FPToFixed: a saturating conversion; Invalid Operation for NaN and out-of-range values.
fn to_fixed(fp: &mut Fp, v: u32, signed: bool, size: u32, frac: u32, rmode: u32) -> u32 {
    if is_nan(v) {
        fp.flag(fpscr::IOC);
        return 0;
    }
    let x = fp.input(v) as f64 * f64::powi(2.0, frac as i32);
    let r = round(x, rmode);
    let (lo, hi) = if signed {
        (
            -(2f64.powi(size as i32 - 1)),
            2f64.powi(size as i32 - 1) - 1.0,
        )
    } else {
        (0.0, 2f64.powi(size as i32) - 1.0)
    };
    let c = if r < lo {
        fp.flag(fpscr::IOC);
        lo
    } else if r > hi {
        fp.flag(fpscr::IOC);
        hi
    } else {
        r
    };
    let int = c as i64 as u32;
    if size == 16 {
        if signed {
            int as u16 as i16 as i32 as u32
        } else {
            int & 0xFFFF
        }
    } else {
        int
    }
}

fn from_fixed(fp: &mut Fp, v: u32, signed: bool, size: u32, frac: u32) -> u32 {
    let int = match (size, signed) {
        (16, true) => v as u16 as i16 as f64,
        (16, false) => (v & 0xFFFF) as f64,
        (_, true) => v as i32 as f64,
        _ => v as f64,
    };
    fp.output((int / f64::powi(2.0, frac as i32)) as f32)
}

/// IEEE half precision to single (exact).
fn half_to_single(h: u32) -> u32 {
    let sign = (h >> 15 & 1) << 31;
    let exp = h >> 10 & 0x1F;
    let frac = h & 0x3FF;
    match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            let v = f as f32 / 1024.0 / 16384.0;
            sign | v.to_bits()
        }
        (0x1F, 0) => sign | 0x7F80_0000,
        (0x1F, f) => sign | 0x7FC0_0000 | f << 13,
        (e, f) => sign | (e + 112) << 23 | f << 13,
    }
}

/// Single to IEEE half precision, rounding to nearest even.
fn single_to_half(v: u32) -> u32 {
    let sign = (v >> 16) & 0x8000;
    let f = f32::from_bits(v & 0x7FFF_FFFF);
    if f.is_nan() {
        return sign | 0x7E00 | ((v >> 13) & 0x1FF);
    }
    if f >= 65520.0 {
        return sign | 0x7C00;
    }
    if f < 6.103_515_6e-5 {
        // Subnormal half: units of 2^-24.
        let q = (f as f64 * 16_777_216.0).round_ties_even() as u32;
        return sign | q;
    }
    let exp = ((v >> 23) & 0xFF) as i32 - 127 + 15;
    let mant = v & 0x7F_FFFF;
    let mut h = ((exp as u32) << 10) | (mant >> 13);
    let rest = mant & 0x1FFF;
    if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) {
        h += 1;
    }
    sign | h
}

/// ExecuteFPCheck: the FPU must be enabled in CPACR (else UsageFault NOCP); with
/// FPCCR.ASPEN the first FP instruction of a context sets CONTROL.FPCA and takes FPSCR's
/// defaults from FPDSCR.
fn fp_check(regs: &mut Regs, cfg: &CoreConfig) -> Result<(), Outcome> {
    if !cfg.fpu_enabled {
        return Err(Outcome::Fault(FaultKind::NoCoprocessor));
    }
    if cfg.fp_aspen && regs.control & 4 == 0 {
        regs.fpscr = (regs.fpscr & !fpscr::DEFAULTS) | (cfg.fpdscr & fpscr::DEFAULTS);
        regs.control |= 4;
    }
    Ok(())
}

/// Execute one FP instruction; PC has been advanced, `pc_read` is the instruction address + 4.
pub fn execute(regs: &mut Regs, bus: &mut impl Bus, insn: &FpInsn, pc_read: u32) -> Outcome {
    let cfg = bus.config();
    if let Err(o) = fp_check(regs, &cfg) {
        return o;
    }
    let mut fpscr_v = regs.fpscr;
    let mut fp = Fp {
        fpscr: &mut fpscr_v,
    };
    let mut cycles = 1;
    match *insn {
        FpInsn::Transfer {
            load,
            d,
            count,
            n,
            imm,
        } => {
            let base = if n == 15 {
                pc_read & !3
            } else {
                regs.r[n as usize]
            };
            let addr = base.wrapping_add(imm as u32);
            for k in 0..count as usize {
                let a = addr.wrapping_add(4 * k as u32);
                let s = d as usize + k;
                if load {
                    match mem_read(bus, &cfg, a, 4, true) {
                        Ok(v) => regs.s[s] = v,
                        Err(o) => return o,
                    }
                } else if let Err(o) = mem_write(bus, &cfg, a, 4, regs.s[s], true) {
                    return o;
                }
            }
            cycles = 1 + count as u32;
        }
        FpInsn::Multiple {
            load,
            d,
            count,
            n,
            db,
            wback,
        } => {
            let rn = regs.r[n as usize];
            let size = 4 * count as u32;
            let start = if db { rn.wrapping_sub(size) } else { rn };
            for k in 0..count as usize {
                let a = start.wrapping_add(4 * k as u32);
                let s = d as usize + k;
                if load {
                    match mem_read(bus, &cfg, a, 4, true) {
                        Ok(v) => regs.s[s] = v,
                        Err(o) => return o,
                    }
                } else if let Err(o) = mem_write(bus, &cfg, a, 4, regs.s[s], true) {
                    return o;
                }
            }
            if wback {
                regs.r[n as usize] = if db {
                    rn.wrapping_sub(size)
                } else {
                    rn.wrapping_add(size)
                };
            }
            cycles = 1 + count as u32;
        }
        FpInsn::MovCore { to_core, t, s } => {
            if to_core {
                regs.r[t as usize] = regs.s[s as usize];
            } else {
                regs.s[s as usize] = regs.r[t as usize];
            }
        }
        FpInsn::MovCore2 { to_core, t, t2, s } => {
            let s2 = (s as usize + 1) & 31;
            if to_core {
                regs.r[t as usize] = regs.s[s as usize];
                regs.r[t2 as usize] = regs.s[s2];
            } else {
                regs.s[s as usize] = regs.r[t as usize];
                regs.s[s2] = regs.r[t2 as usize];
            }
            cycles = 2;
        }
        FpInsn::Vmrs { t } => {
            if t == 15 {
                regs.xpsr = (regs.xpsr & 0x0FFF_FFFF) | (regs.fpscr & 0xF000_0000);
            } else {
                regs.r[t as usize] = regs.fpscr;
            }
            return Outcome::Done { cycles: 1 };
        }
        FpInsn::Vmsr { t } => {
            regs.fpscr = regs.r[t as usize] & fpscr::WRITABLE;
            return Outcome::Done { cycles: 1 };
        }
        FpInsn::Arith { op, d, n, m } => {
            let (vd, vn, vm) = (regs.s[d as usize], regs.s[n as usize], regs.s[m as usize]);
            let mul = |fp: &mut Fp| fp.binary(vn, vm, |x, y| x * y);
            let add = |fp: &mut Fp, a: u32, b: u32| fp.binary(a, b, |x, y| x + y);
            let r = match op {
                FpOp::Add => add(&mut fp, vn, vm),
                FpOp::Sub => fp.binary(vn, vm, |x, y| x - y),
                FpOp::Mul => mul(&mut fp),
                FpOp::Nmul => neg(mul(&mut fp)),
                FpOp::Div => {
                    cycles = 14;
                    fp.div(vn, vm)
                }
                FpOp::Mla => {
                    let p = mul(&mut fp);
                    add(&mut fp, vd, p)
                }
                FpOp::Mls => {
                    let p = mul(&mut fp);
                    add(&mut fp, vd, neg(p))
                }
                FpOp::Nmla => {
                    let p = mul(&mut fp);
                    add(&mut fp, neg(vd), neg(p))
                }
                FpOp::Nmls => {
                    let p = mul(&mut fp);
                    add(&mut fp, neg(vd), p)
                }
                FpOp::Fma => fp.fused(vd, vn, vm),
                FpOp::Fms => fp.fused(vd, neg(vn), vm),
                FpOp::Fnma => fp.fused(neg(vd), neg(vn), vm),
                FpOp::Fnms => fp.fused(neg(vd), vn, vm),
            };
            if matches!(op, FpOp::Mla | FpOp::Mls | FpOp::Nmla | FpOp::Nmls) {
                cycles = 3;
            }
            regs.s[d as usize] = r;
        }
        FpInsn::Unary { op, d, m } => {
            let v = regs.s[m as usize];
            regs.s[d as usize] = match op {
                FpUnary::Mov => v,
                FpUnary::Abs => v & 0x7FFF_FFFF,
                FpUnary::Neg => neg(v),
                FpUnary::Sqrt => {
                    cycles = 14;
                    match fp.nans(&[v]) {
                        Some(n) => n,
                        None => {
                            let x = fp.input(v);
                            fp.output(x.sqrt())
                        }
                    }
                }
            };
        }
        FpInsn::MovImm { d, imm } => regs.s[d as usize] = imm,
        FpInsn::Cmp { e, d, m } => {
            let a = regs.s[d as usize];
            let b = m.map_or(0, |m| regs.s[m as usize]);
            let nzcv = if is_nan(a) || is_nan(b) {
                if e || is_snan(a) || is_snan(b) {
                    fp.flag(fpscr::IOC);
                }
                0b0011
            } else {
                let (x, y) = (fp.input(a), fp.input(b));
                if x == y {
                    0b0110
                } else if x < y {
                    0b1000
                } else {
                    0b0010
                }
            };
            *fp.fpscr = (*fp.fpscr & 0x0FFF_FFFF) | nzcv << 28;
        }
        FpInsn::ToInt {
            signed,
            round_zero,
            d,
            m,
        } => {
            let rmode = if round_zero { 3 } else { regs.fpscr >> 22 };
            regs.s[d as usize] = to_fixed(&mut fp, regs.s[m as usize], signed, 32, 0, rmode);
        }
        FpInsn::FromInt { signed, d, m } => {
            let v = regs.s[m as usize];
            let f = if signed { v as i32 as f32 } else { v as f32 };
            regs.s[d as usize] = fp.output(f);
        }
        FpInsn::Fixed {
            to_fixed: to,
            signed,
            size,
            frac,
            d,
        } => {
            let v = regs.s[d as usize];
            regs.s[d as usize] = if to {
                to_fixed(&mut fp, v, signed, size as u32, frac as u32, 3)
            } else {
                from_fixed(&mut fp, v, signed, size as u32, frac as u32)
            };
        }
        FpInsn::Half { to_half, top, d, m } => {
            let v = regs.s[m as usize];
            let shift = if top { 16 } else { 0 };
            if to_half {
                let h = single_to_half(v);
                let keep = regs.s[d as usize] & !(0xFFFF << shift);
                regs.s[d as usize] = keep | h << shift;
            } else {
                regs.s[d as usize] = half_to_single((v >> shift) & 0xFFFF);
            }
        }
    }
    regs.fpscr = fpscr_v;
    Outcome::Done { cycles }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_immediate_matches_the_arm_arm_examples() {
        use super::super::vfp_decode::expand_imm;
        assert_eq!(f32::from_bits(expand_imm(0x70)), 1.0);
        assert_eq!(f32::from_bits(expand_imm(0x00)), 2.0);
        assert_eq!(f32::from_bits(expand_imm(0xF0)), -1.0);
        assert_eq!(f32::from_bits(expand_imm(0x60)), 0.5);
        assert_eq!(f32::from_bits(expand_imm(0x24)), 10.0);
    }

    #[test]
    fn half_precision_round_trips() {
        for h in [0u32, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0xFC00] {
            assert_eq!(single_to_half(half_to_single(h)), h, "{h:#06x}");
        }
        assert_eq!(f32::from_bits(half_to_single(0x3C00)), 1.0);
        assert_eq!(single_to_half(1.0f32.to_bits()), 0x3C00);
    }

    #[test]
    fn nan_rules() {
        let mut f = 0;
        let mut fp = Fp { fpscr: &mut f };
        // 0/0 is the default NaN with IOC; a quiet NaN operand propagates.
        assert_eq!(fp.div(0, 0), DEFAULT_NAN);
        assert_ne!(*fp.fpscr & fpscr::IOC, 0);
        let qnan = 0x7FC0_1234;
        assert_eq!(fp.binary(qnan, 1.0f32.to_bits(), |x, y| x + y), qnan);
        // A signalling NaN is quietened.
        assert_eq!(
            fp.binary(1.0f32.to_bits(), 0x7F80_0001, |x, y| x + y),
            0x7FC0_0001
        );
        assert_eq!(fp.div(1.0f32.to_bits(), 0), 0x7F80_0000);
        assert_ne!(*fp.fpscr & fpscr::DZC, 0);
    }

    #[test]
    fn conversions_saturate_and_round() {
        let mut f = 0;
        let mut fp = Fp { fpscr: &mut f };
        assert_eq!(to_fixed(&mut fp, 2.5f32.to_bits(), true, 32, 0, 0), 2);
        assert_eq!(to_fixed(&mut fp, 3.5f32.to_bits(), true, 32, 0, 0), 4);
        assert_eq!(
            to_fixed(&mut fp, (-2.7f32).to_bits(), true, 32, 0, 3),
            (-2i32) as u32
        );
        assert_eq!(
            to_fixed(&mut fp, 1e20f32.to_bits(), true, 32, 0, 3),
            i32::MAX as u32
        );
        assert_ne!(*fp.fpscr & fpscr::IOC, 0);
        assert_eq!(to_fixed(&mut fp, (-1.0f32).to_bits(), false, 32, 0, 3), 0);
        assert_eq!(to_fixed(&mut fp, 1.5f32.to_bits(), true, 16, 8, 3), 384);
        assert_eq!(f32::from_bits(from_fixed(&mut fp, 384, true, 16, 8)), 1.5);
    }
}
