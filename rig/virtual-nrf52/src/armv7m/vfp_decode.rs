//! The FPv4-SP encodings of the Cortex-M4F (ARMv7-M ARM A6: "Floating-point instruction
//! encodings"): extension register load/store (A6.5), the 32-bit and 64-bit transfers between
//! core and extension registers (A6.6, A6.7) and floating-point data processing (A6.4).
//! FPv4-SP has single precision only: a data-processing encoding with sz = 1 is UNDEFINED;
//! D0-D15 exist as pairs of S registers for loads, stores and moves (hard-float code saves
//! them with VPUSH {d8-d15} and passes doubles in them).

/// A register index: S0-S31.
pub type SReg = u8;

/// Two-operand arithmetic: Sd = f(Sd, Sn, Sm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpOp {
    Add,
    Sub,
    Mul,
    Nmul,
    Div,
    /// VMLA: d + n*m (rounded twice).
    Mla,
    /// VMLS: d - n*m.
    Mls,
    /// VNMLA: -d - n*m.
    Nmla,
    /// VNMLS: -d + n*m.
    Nmls,
    /// VFMA: d + n*m (fused).
    Fma,
    /// VFMS: d - n*m (fused).
    Fms,
    /// VFNMA: -d - n*m (fused).
    Fnma,
    /// VFNMS: -d + n*m (fused).
    Fnms,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpUnary {
    Mov,
    Abs,
    Neg,
    Sqrt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpInsn {
    /// VLDR/VSTR (count 1 for .32, 2 for .64): [Rn, #imm] (Rn = 15: Align(PC, 4)).
    Transfer {
        load: bool,
        d: SReg,
        count: u8,
        n: u8,
        imm: i32,
    },
    /// VLDM/VSTM (VPUSH/VPOP): `count` S registers from Sd, increment after or decrement
    /// before.
    Multiple {
        load: bool,
        d: SReg,
        count: u8,
        n: u8,
        db: bool,
        wback: bool,
    },
    /// VMOV Rt <-> Sn (`to_core`), and VMOV Rt <-> Dn[x] (the scalar forms name the S register).
    MovCore {
        to_core: bool,
        t: u8,
        s: SReg,
    },
    /// VMOV Rt, Rt2 <-> Sm, Sm+1 (or Dm, its two halves).
    MovCore2 {
        to_core: bool,
        t: u8,
        t2: u8,
        s: SReg,
    },
    /// VMRS Rt, FPSCR (t = 15: APSR_nzcv).
    Vmrs {
        t: u8,
    },
    Vmsr {
        t: u8,
    },
    Arith {
        op: FpOp,
        d: SReg,
        n: SReg,
        m: SReg,
    },
    Unary {
        op: FpUnary,
        d: SReg,
        m: SReg,
    },
    MovImm {
        d: SReg,
        imm: u32,
    },
    /// VCMP/VCMPE (`e`: quiet NaNs signal Invalid Operation too); m None: compare with 0.
    Cmp {
        e: bool,
        d: SReg,
        m: Option<SReg>,
    },
    /// VCVT{R}.S32/U32.F32 Sd, Sm (`round_zero` false: FPSCR rounding, the VCVTR form).
    ToInt {
        signed: bool,
        round_zero: bool,
        d: SReg,
        m: SReg,
    },
    /// VCVT.F32.S32/U32 Sd, Sm.
    FromInt {
        signed: bool,
        d: SReg,
        m: SReg,
    },
    /// VCVT between F32 and fixed point in place (`size` 16 or 32, `frac` fraction bits).
    Fixed {
        to_fixed: bool,
        signed: bool,
        size: u8,
        frac: u8,
        d: SReg,
    },
    /// VCVTB/VCVTT (`top`): half precision in the bottom or top half of Sd/Sm.
    Half {
        to_half: bool,
        top: bool,
        d: SReg,
        m: SReg,
    },
}

fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

fn bit(x: u32, n: u32) -> bool {
    (x >> n) & 1 == 1
}

/// Vd:D, Vn:N, Vm:M for single-precision registers.
fn sd(x: u32) -> SReg {
    (bits(x, 15, 12) << 1 | bits(x, 22, 22)) as u8
}
fn sn(x: u32) -> SReg {
    (bits(x, 19, 16) << 1 | bits(x, 7, 7)) as u8
}
fn sm(x: u32) -> SReg {
    (bits(x, 3, 0) << 1 | bits(x, 5, 5)) as u8
}

/// VFPExpandImm for single precision (A6.4.1).
pub fn expand_imm(imm8: u32) -> u32 {
    let b6 = (imm8 >> 6) & 1;
    let exp_hi = if b6 == 1 { 0x1F << 25 } else { 1 << 30 };
    (imm8 >> 7) << 31 | exp_hi | (imm8 & 0x3F) << 19
}

type Leaf = Option<(FpInsn, &'static str)>;

/// Decode a coprocessor-space instruction; None if it is not an FPv4-SP one.
pub fn decode(x: u32) -> Leaf {
    let coproc = bits(x, 11, 8);
    if coproc & 0b1110 != 0b1010 || x >> 28 != 0xE {
        return None;
    }
    let double = coproc == 0b1011;
    match bits(x, 27, 24) {
        0b1100 | 0b1101 => load_store(x, double),
        0b1110 if bit(x, 4) => transfer32(x, double),
        0b1110 if !double => data_processing(x),
        _ => None,
    }
}

/// A6.5 extension register load/store and A6.7 64-bit transfers.
fn load_store(x: u32, double: bool) -> Leaf {
    let (p, u, w, l) = (bit(x, 24), bit(x, 23), bit(x, 21), bit(x, 20));
    let n = bits(x, 19, 16) as u8;
    let imm8 = bits(x, 7, 0);
    if !p && !u && !w {
        if !bit(x, 22) || bits(x, 7, 6) != 0 || !bit(x, 4) {
            return None;
        }
        // VMOV Rt, Rt2, Sm, Sm1 / Dm.
        let s = if double {
            if bit(x, 5) {
                return None;
            }
            (bits(x, 3, 0) * 2) as u8
        } else {
            sm(x)
        };
        return Some((
            FpInsn::MovCore2 {
                to_core: l,
                t: bits(x, 15, 12) as u8,
                t2: bits(x, 19, 16) as u8,
                s,
            },
            "VMOV (two core registers)",
        ));
    }
    let d = if double {
        if bit(x, 22) {
            return None; // D16-D31 do not exist
        }
        (bits(x, 15, 12) * 2) as u8
    } else {
        sd(x)
    };
    if p && !w {
        let imm = (imm8 * 4) as i32;
        return Some((
            FpInsn::Transfer {
                load: l,
                d,
                count: if double { 2 } else { 1 },
                n,
                imm: if u { imm } else { -imm },
            },
            if l { "VLDR" } else { "VSTR" },
        ));
    }
    if p == u {
        return None;
    }
    let count = if double { imm8 & !1 } else { imm8 };
    if count == 0 || d as u32 + count > 32 {
        return None;
    }
    let name = match (l, p, n == 13 && w) {
        (true, false, true) => "VPOP",
        (false, true, true) => "VPUSH",
        (true, _, _) => "VLDM",
        (false, _, _) => "VSTM",
    };
    Some((
        FpInsn::Multiple {
            load: l,
            d,
            count: count as u8,
            n,
            db: p,
            wback: w,
        },
        name,
    ))
}

/// A6.6 8, 16, and 32-bit transfers between core and extension registers.
fn transfer32(x: u32, scalar: bool) -> Leaf {
    let a = bits(x, 23, 21);
    let l = bit(x, 20);
    let t = bits(x, 15, 12) as u8;
    if bits(x, 3, 0) != 0 {
        return None;
    }
    if !scalar {
        return match a {
            0b000 => Some((
                FpInsn::MovCore {
                    to_core: l,
                    t,
                    s: sn(x),
                },
                "VMOV (core and S)",
            )),
            0b111 if bits(x, 19, 16) == 1 => Some(if l {
                (FpInsn::Vmrs { t }, "VMRS")
            } else {
                (FpInsn::Vmsr { t }, "VMSR")
            }),
            _ => None,
        };
    }
    // VMOV.32 Dd[x], Rt / Rt, Dn[x]: opc1 = 0x, opc2 = 00 (bits 6:5), U = 0.
    if bit(x, 23) || bit(x, 22) || bits(x, 6, 5) != 0 || bit(x, 7) {
        return None;
    }
    let s = (bits(x, 19, 16) * 2 + bits(x, 21, 21)) as u8;
    Some((
        FpInsn::MovCore { to_core: l, t, s },
        "VMOV (core and scalar)",
    ))
}

/// A6.4 floating-point data processing (single precision).
fn data_processing(x: u32) -> Leaf {
    let opc1 = bits(x, 23, 20) & 0b1011;
    let op = bit(x, 6);
    let (d, n, m) = (sd(x), sn(x), sm(x));
    let arith = |o, name| Some((FpInsn::Arith { op: o, d, n, m }, name));
    match (opc1, op) {
        (0b0000, false) => arith(FpOp::Mla, "VMLA"),
        (0b0000, true) => arith(FpOp::Mls, "VMLS"),
        (0b0001, false) => arith(FpOp::Nmls, "VNMLS"),
        (0b0001, true) => arith(FpOp::Nmla, "VNMLA"),
        (0b0010, false) => arith(FpOp::Mul, "VMUL"),
        (0b0010, true) => arith(FpOp::Nmul, "VNMUL"),
        (0b0011, false) => arith(FpOp::Add, "VADD"),
        (0b0011, true) => arith(FpOp::Sub, "VSUB"),
        (0b1000, false) => arith(FpOp::Div, "VDIV"),
        (0b1001, false) => arith(FpOp::Fnms, "VFNMS"),
        (0b1001, true) => arith(FpOp::Fnma, "VFNMA"),
        (0b1010, false) => arith(FpOp::Fma, "VFMA"),
        (0b1010, true) => arith(FpOp::Fms, "VFMS"),
        (0b1011, _) => other(x),
        _ => None,
    }
}

/// A6.4 "other floating-point data-processing instructions" (opc1 = 1x11).
fn other(x: u32) -> Leaf {
    let (d, m) = (sd(x), sm(x));
    let opc2 = bits(x, 19, 16);
    let opc3 = bits(x, 7, 6);
    if opc3 & 1 == 0 {
        let imm8 = bits(x, 19, 16) << 4 | bits(x, 3, 0);
        return Some((
            FpInsn::MovImm {
                d,
                imm: expand_imm(imm8),
            },
            "VMOV (immediate)",
        ));
    }
    let unary = |op, name| Some((FpInsn::Unary { op, d, m }, name));
    match (opc2, opc3) {
        (0b0000, 0b01) => unary(FpUnary::Mov, "VMOV (register)"),
        (0b0000, 0b11) => unary(FpUnary::Abs, "VABS"),
        (0b0001, 0b01) => unary(FpUnary::Neg, "VNEG"),
        (0b0001, 0b11) => unary(FpUnary::Sqrt, "VSQRT"),
        (0b0010 | 0b0011, _) => Some((
            FpInsn::Half {
                to_half: opc2 & 1 == 1,
                top: bit(x, 7),
                d,
                m,
            },
            "VCVTB/VCVTT",
        )),
        (0b0100, _) => Some((
            FpInsn::Cmp {
                e: bit(x, 7),
                d,
                m: Some(m),
            },
            "VCMP",
        )),
        (0b0101, _) if bits(x, 5, 0) == 0 => Some((
            FpInsn::Cmp {
                e: bit(x, 7),
                d,
                m: None,
            },
            "VCMP (zero)",
        )),
        (0b1000, _) => Some((
            FpInsn::FromInt {
                signed: bit(x, 7),
                d,
                m,
            },
            "VCVT.F32.<int>",
        )),
        (0b1100 | 0b1101, _) => Some((
            FpInsn::ToInt {
                signed: opc2 & 1 == 1,
                round_zero: bit(x, 7),
                d,
                m,
            },
            "VCVT.<int>.F32",
        )),
        (0b1010 | 0b1011 | 0b1110 | 0b1111, _) => {
            let size = if bit(x, 7) { 32 } else { 16 };
            let imm = bits(x, 3, 0) << 1 | bits(x, 5, 5);
            if imm > size {
                return None;
            }
            Some((
                FpInsn::Fixed {
                    to_fixed: opc2 & 0b0100 != 0,
                    signed: opc2 & 1 == 0,
                    size: size as u8,
                    frac: (size - imm) as u8,
                    d,
                },
                "VCVT (fixed point)",
            ))
        }
        _ => None,
    }
}
