//! The DSP extension's arithmetic (ARMv7-M ARM A2.2.1 saturation, A7.7 parallel add/subtract
//! and the signed multiplies): pure functions of the operands, so they are tested against
//! 64-bit reference arithmetic directly.

use super::decode32::{MulOp, ParKind, ParOp};

/// SignedSatQ(v, bits): (result, saturated). `bits` is 1-32.
pub fn ssat(v: i64, bits: u32) -> (u32, bool) {
    let max = (1i64 << (bits - 1)) - 1;
    let min = -(1i64 << (bits - 1));
    if v > max {
        (max as u32, true)
    } else if v < min {
        (min as u32, true)
    } else {
        (v as u32, false)
    }
}

/// UnsignedSatQ(v, bits): (result, saturated). `bits` is 0-31.
pub fn usat(v: i64, bits: u32) -> (u32, bool) {
    let max = (1i64 << bits) - 1;
    if v > max {
        (max as u32, true)
    } else if v < 0 {
        (0, true)
    } else {
        (v as u32, false)
    }
}

/// The signed bottom (`top` false) or top halfword.
pub fn half(v: u32, top: bool) -> i32 {
    (if top { v >> 16 } else { v }) as u16 as i16 as i32
}

/// SADD16, UQSUB8, SHASX...: the result and, for the plain forms, the GE bits.
pub fn parallel(op: ParOp, unsigned: bool, kind: ParKind, n: u32, m: u32) -> (u32, Option<u32>) {
    let (size, lanes) = match op {
        ParOp::Add8 | ParOp::Sub8 => (8u32, 4u32),
        _ => (16, 2),
    };
    let mask = (1u64 << size) - 1;
    let lane = |v: u32, i: u32| -> i64 {
        let x = ((v >> (size * i)) as u64 & mask) as i64;
        if unsigned {
            x
        } else {
            (x << (64 - size)) >> (64 - size)
        }
    };
    let mut out = 0u32;
    let mut ge = 0u32;
    for i in 0..lanes {
        // ASX: lane 0 = n0 - m1, lane 1 = n1 + m0; SAX: lane 0 = n0 + m1, lane 1 = n1 - m0.
        let (a, b, sub) = match op {
            ParOp::Add16 | ParOp::Add8 => (lane(n, i), lane(m, i), false),
            ParOp::Sub16 | ParOp::Sub8 => (lane(n, i), lane(m, i), true),
            ParOp::Asx => (lane(n, i), lane(m, 1 - i), i == 0),
            ParOp::Sax => (lane(n, i), lane(m, 1 - i), i == 1),
        };
        let r = if sub { a - b } else { a + b };
        let v = match kind {
            ParKind::Plain => {
                let set = if unsigned && !sub {
                    r >= 1 << size
                } else {
                    r >= 0
                };
                if set {
                    ge |= if size == 8 { 1 << i } else { 3 << (2 * i) };
                }
                r
            }
            ParKind::Saturating => {
                if unsigned {
                    usat(r, size).0 as i64
                } else {
                    ssat(r, size).0 as i32 as i64
                }
            }
            ParKind::Halving => r >> 1,
        };
        out |= ((v as u64 & mask) as u32) << (size * i);
    }
    (out, (kind == ParKind::Plain).then_some(ge))
}

/// The 32-bit-result multiplies of A5.3.16: (result, Q set).
pub fn multiply(op: MulOp, n: u32, m: u32, acc: u32, accumulate: bool) -> (u32, bool) {
    let a = acc as i32 as i64;
    let overflow = |r: i64| (r as u32, r != r as i32 as i64);
    match op {
        MulOp::Mla => (n.wrapping_mul(m).wrapping_add(acc), false),
        MulOp::Mls => (acc.wrapping_sub(n.wrapping_mul(m)), false),
        MulOp::Smlaxy { n_top, m_top } => {
            let p = half(n, n_top) as i64 * half(m, m_top) as i64;
            overflow(p + a)
        }
        MulOp::Smlad { x, sub } => {
            let m2 = if x { m.rotate_right(16) } else { m };
            let p1 = half(n, false) as i64 * half(m2, false) as i64;
            let p2 = half(n, true) as i64 * half(m2, true) as i64;
            overflow(if sub { p1 - p2 } else { p1 + p2 } + a)
        }
        MulOp::Smlawy { m_top } => {
            let p = (n as i32 as i64 * half(m, m_top) as i64) >> 16;
            overflow(p + a)
        }
        MulOp::Smmla { round, sub } => {
            let p = n as i32 as i64 * m as i32 as i64;
            let acc64 = if accumulate {
                (acc as i32 as i64) << 32
            } else {
                0
            };
            let r = if sub {
                acc64.wrapping_sub(p)
            } else {
                acc64.wrapping_add(p)
            };
            let r = if round {
                r.wrapping_add(0x8000_0000)
            } else {
                r
            };
            ((r >> 32) as u32, false)
        }
        MulOp::Usada8 => {
            let sum = (0..4).fold(0u32, |s, i| {
                let x = (n >> (8 * i)) & 0xFF;
                let y = (m >> (8 * i)) & 0xFF;
                s + x.abs_diff(y)
            });
            (sum.wrapping_add(acc), false)
        }
    }
}
