//! The 32-bit instructions, the FPU and the exception model against the ARMv7-M ARM (DDI
//! 0403E): flags of the add/subtract family, shifts, saturation, the long multiplies and the
//! divides as property tests against 64/128-bit reference arithmetic; the rest as examples.
//! Machine code was assembled with llvm-mc -triple=thumbv7em-none-eabihf (source in comments).

use super::exec::{Bus, FaultKind, Outcome};
use super::exec_tests::{cpu_at, flags, run1, with, Ram, BASE};
use super::regs::{psr, Regs};
use super::{Cpu, Stop};
use proptest::prelude::*;

/// Run one instruction given as halfwords with r1, r2 (and r3) set and the carry flag.
fn one(code: &[u16], set: &[(usize, u32)], carry: bool) -> Regs {
    let mut r = with(set);
    r.set_flag(psr::C, carry);
    let mut m = Ram::new();
    let o = run1(&mut r, &mut m, code);
    assert!(matches!(o, Outcome::Done { .. }), "{code:04X?}: {o:?}");
    r
}

/// (result, N, Z, C, V).
type Nzcv = (u32, bool, bool, bool, bool);

/// Reference AddWithCarry in 64-bit arithmetic (A2.2.1), written independently of the core's.
fn awc_ref(x: u32, y: u32, c: bool) -> Nzcv {
    let u = x as u64 + y as u64 + c as u64;
    let s = x as i32 as i64 + y as i32 as i64 + c as i64;
    let r = u as u32;
    (
        r,
        r >> 31 == 1,
        r == 0,
        u > 0xFFFF_FFFF,
        (r as i32 as i64) != s,
    )
}

proptest! {
    #[test]
    fn add_subtract_flags_match_the_reference(x: u32, y: u32, c: bool) {
        // adds.w / adcs.w / subs.w / sbcs.w / rsbs.w r0, r1, r2
        let cases: [(&[u16], Nzcv); 5] = [
            (&[0xEB11, 0x0002], awc_ref(x, y, false)),
            (&[0xEB51, 0x0002], awc_ref(x, y, c)),
            (&[0xEBB1, 0x0002], awc_ref(x, !y, true)),
            (&[0xEB71, 0x0002], awc_ref(x, !y, c)),
            (&[0xEBD1, 0x0002], awc_ref(!x, y, true)),
        ];
        for (code, (v, n, z, cc, o)) in cases {
            let r = one(code, &[(1, x), (2, y)], c);
            prop_assert_eq!(r.r[0], v);
            prop_assert_eq!(flags(&r), (n, z, cc, o));
        }
    }

    #[test]
    fn register_shifts_match_the_reference(x: u32, amount in 0u32..300, c: bool) {
        let a = amount & 0xFF;
        let wide = x as u64;
        // LSL: bits shifted out of a 64-bit value; carry is the last bit out.
        let lsl = if a == 0 { (x, c) } else if a <= 32 {
            ((wide << a) as u32, (wide << a) >> 32 & 1 == 1)
        } else { (0, false) };
        let lsr = if a == 0 { (x, c) } else if a <= 32 {
            ((wide >> a) as u32, (wide >> (a - 1)) & 1 == 1)
        } else { (0, false) };
        let sx = x as i32 as i64;
        let asr = if a == 0 { (x, c) } else {
            let s = a.min(32);
            ((sx >> s) as u32, (sx >> (s - 1)) & 1 == 1)
        };
        let ror = if a == 0 { (x, c) } else {
            let v = x.rotate_right(a % 32);
            (v, v >> 31 == 1)
        };
        // lsls.w / lsrs.w / asrs.w / rors.w r0, r1, r2
        for (code, (v, cc)) in [
            (&[0xFA11u16, 0xF002][..], lsl),
            (&[0xFA31, 0xF002][..], lsr),
            (&[0xFA51, 0xF002][..], asr),
            (&[0xFA71, 0xF002][..], ror),
        ] {
            let r = one(code, &[(1, x), (2, amount)], c);
            prop_assert_eq!((r.r[0], r.flag(psr::C)), (v, cc), "{:04X?}", code);
            prop_assert_eq!((r.flag(psr::N), r.flag(psr::Z)), (v >> 31 == 1, v == 0));
        }
    }

    #[test]
    fn saturation_matches_the_reference(x: u32, y: u32) {
        // ssat r0, #8, r1 / usat r0, #8, r1 / ssat r0, #16, r1, asr #4 / usat r0, #31, r1
        let clamp = |v: i64, lo: i64, hi: i64| (v.clamp(lo, hi) as u32, v < lo || v > hi);
        let sx = x as i32 as i64;
        for (code, (v, q)) in [
            (&[0xF301u16, 0x0007][..], clamp(sx, -128, 127)),
            (&[0xF381, 0x0008][..], clamp(sx, 0, 255)),
            (&[0xF321, 0x100F][..], clamp(sx >> 4, -32768, 32767)),
            (&[0xF381, 0x001F][..], clamp(sx, 0, 0x7FFF_FFFF)),
        ] {
            let r = one(code, &[(1, x)], false);
            prop_assert_eq!(r.r[0], v);
            prop_assert_eq!(r.flag(psr::Q), q);
        }
        // qadd r0, r1, r2: Rm + Rn saturated to 32 bits.
        let (v, q) = clamp(sx + y as i32 as i64, i32::MIN as i64, i32::MAX as i64);
        let r = one(&[0xFA82, 0xF081], &[(1, x), (2, y)], false);
        prop_assert_eq!((r.r[0], r.flag(psr::Q)), (v, q));
        // uqsub8 r0, r1, r2: per byte, floored at 0.
        let want = (0..4).fold(0u32, |acc, i| {
            let a = (x >> (8 * i)) & 0xFF;
            let b = (y >> (8 * i)) & 0xFF;
            acc | a.saturating_sub(b) << (8 * i)
        });
        prop_assert_eq!(one(&[0xFAC1, 0xF052], &[(1, x), (2, y)], false).r[0], want);
        // uadd8 r0, r1, r2 sets GE per byte on carry out; sel r3, r1, r2 picks by GE.
        let mut r = with(&[(1, x), (2, y)]);
        let mut m = Ram::new();
        run1(&mut r, &mut m, &[0xFA81, 0xF042]);
        let mut want_sum = 0;
        let mut want_ge = 0;
        for i in 0..4 {
            let s = ((x >> (8 * i)) & 0xFF) + ((y >> (8 * i)) & 0xFF);
            want_sum |= (s & 0xFF) << (8 * i);
            if s > 0xFF { want_ge |= 1 << i; }
        }
        prop_assert_eq!(r.r[0], want_sum);
        prop_assert_eq!((r.xpsr >> 16) & 0xF, want_ge);
        run1(&mut r, &mut m, &[0xFAA1, 0xF382]);
        let sel = (0..4).fold(0, |acc, i| {
            let src = if want_ge & (1 << i) != 0 { x } else { y };
            acc | (src & (0xFF << (8 * i)))
        });
        prop_assert_eq!(r.r[3], sel);
    }

    #[test]
    fn long_multiplies_and_divides_match_the_reference(a: u32, b: u32, lo: u32, hi: u32) {
        let set = [(0, lo), (1, hi), (2, a), (3, b)];
        let acc = (hi as u64) << 32 | lo as u64;
        let pair = |r: &Regs| (r.r[1] as u64) << 32 | r.r[0] as u64;
        // umull / umlal / umaal / smull / smlal r0, r1, r2, r3
        prop_assert_eq!(pair(&one(&[0xFBA2, 0x0103], &set, false)), a as u64 * b as u64);
        prop_assert_eq!(
            pair(&one(&[0xFBE2, 0x0103], &set, false)),
            (a as u64 * b as u64).wrapping_add(acc)
        );
        prop_assert_eq!(
            pair(&one(&[0xFBE2, 0x0163], &set, false)) as u128,
            a as u128 * b as u128 + lo as u128 + hi as u128
        );
        let sp = a as i32 as i64 * b as i32 as i64;
        prop_assert_eq!(pair(&one(&[0xFB82, 0x0103], &set, false)), sp as u64);
        prop_assert_eq!(
            pair(&one(&[0xFBC2, 0x0103], &set, false)),
            sp.wrapping_add(acc as i64) as u64
        );
        // sdiv / udiv r0, r1, r2: round toward zero; by zero gives 0 (CCR.DIV_0_TRP clear).
        let set = [(1, a), (2, b)];
        let q = if b == 0 { 0 } else { (a as i32).wrapping_div(b as i32) as u32 };
        prop_assert_eq!(one(&[0xFB91, 0xF0F2], &set, false).r[0], q);
        let q = a.checked_div(b).unwrap_or(0);
        prop_assert_eq!(one(&[0xFBB1, 0xF0F2], &set, false).r[0], q);
    }
}

#[test]
fn modified_immediate_carry_and_logical_flags() {
    // ands.w r0, r1, #0x80000000: a rotated constant sets C from its bit 31.
    let r = one(&[0xF011, 0x4000], &[(1, 0x8000_0001)], false);
    assert_eq!(
        (r.r[0], flags(&r)),
        (0x8000_0000, (true, false, true, false))
    );
    // ands.w r0, r1, #0x00FF00FF: not rotated, C unchanged.
    let r = one(&[0xF011, 0x10FF], &[(1, 0xFF00_0000)], true);
    assert_eq!((r.r[0], flags(&r)), (0, (false, true, true, false)));
}

#[test]
fn bitfields_and_misc() {
    // ubfx r0, r1, #4, #8; sbfx r2, r1, #4, #8; bfi r3, r1, #8, #4; bfc r4, #0, #16
    let (mut c, mut m) = cpu_at(&[
        0xF3C1, 0x1007, 0xF341, 0x1207, 0xF361, 0x230B, 0xF36F, 0x040F,
    ]);
    c.regs.r[1] = 0x0000_0F85;
    c.regs.r[3] = 0xFFFF_FFFF;
    c.regs.r[4] = 0x1234_5678;
    for _ in 0..4 {
        c.step(&mut m, false);
    }
    assert_eq!(c.regs.r[0], 0xF8);
    assert_eq!(c.regs.r[2], 0xFFFF_FFF8);
    assert_eq!(c.regs.r[3], 0xFFFF_F5FF);
    assert_eq!(c.regs.r[4], 0x1234_0000);
    // mla, mls, smlabb, smmul, usad8, clz, rbit, sxtab (ror #8)
    let (mut c, mut m) = cpu_at(&[
        0xFB01, 0x3002, 0xFB01, 0x3412, 0xFB11, 0x3502, 0xFB51, 0xF602, 0xFB71, 0xF702, 0xFAB1,
        0xF881, 0xFA91, 0xF9A1, 0xFA43, 0xFA91,
    ]);
    c.regs.r[1] = 0x0001_FFFE; // low half -2
    c.regs.r[2] = 0x0003_0005;
    c.regs.r[3] = 100;
    for _ in 0..8 {
        c.step(&mut m, false);
    }
    let (a, b) = (0x0001_FFFEu32, 0x0003_0005u32);
    assert_eq!(c.regs.r[0], a.wrapping_mul(b).wrapping_add(100));
    assert_eq!(c.regs.r[4], 100u32.wrapping_sub(a.wrapping_mul(b)));
    assert_eq!(c.regs.r[5], (-2i32 * 5 + 100) as u32);
    assert_eq!(c.regs.r[6], ((a as i64 * b as i64) >> 32) as u32);
    assert_eq!(c.regs.r[7], 2 + (0xFE - 0x05) + 0xFF);
    assert_eq!(c.regs.r[8], 15);
    assert_eq!(c.regs.r[9], a.reverse_bits());
    assert_eq!(c.regs.r[10], 100u32.wrapping_add(0xFFFF_FFFF)); // byte 1 of r1 = 0xFF: -1
}

#[test]
fn it_block_conditions_and_flag_setting() {
    // cmp r0, #1; ite eq; moveq r1, #10; movne r1, #20; itt ne; addne r2, r2, #1;
    // addne.w r3, r3, #1
    let code = [
        0x2801, 0xBF0C, 0x210A, 0x2114, 0xBF1C, 0x1C52, 0xF103, 0x0301,
    ];
    for (r0, r1, added) in [(1, 10, 0), (2, 20, 1)] {
        let (mut c, mut m) = cpu_at(&code);
        c.regs.r[0] = r0;
        c.regs.r[2] = 0xFFFF_FFFF;
        for _ in 0..7 {
            c.step(&mut m, false);
        }
        assert_eq!(c.regs.r[1], r1, "r0 = {r0}");
        assert_eq!(c.regs.r[2], 0xFFFF_FFFFu32.wrapping_add(added));
        assert_eq!(c.regs.r[3], added);
        // MOVS/ADDS inside the block do not set flags: Z is still CMP's.
        assert_eq!(c.regs.flag(psr::Z), r0 == 1);
        assert_eq!(c.regs.itstate(), 0);
        assert_eq!(c.regs.pc(), BASE + 0x110);
    }
}

#[test]
fn loads_stores_and_writeback() {
    // ldr.w r0, [r1, #-4]!; ldr r2, [r1], #8; ldrsh r3, [r1, #-4]; ldr.w r4, [r1, r5, lsl #2];
    // str r0, [r1, #4]!
    let (mut c, mut m) = cpu_at(&[
        0xF851, 0x0D04, 0xF851, 0x2B08, 0xF931, 0x3C04, 0xF851, 0x4025, 0xF841, 0x0F04,
    ]);
    for i in 0..8 {
        m.set_word(BASE + 0x400 + 4 * i, 0x1000 * i + 0x8000);
    }
    c.regs.r[1] = BASE + 0x404;
    c.regs.r[5] = 2;
    for _ in 0..5 {
        c.step(&mut m, false);
    }
    assert_eq!(c.regs.r[0], 0x8000);
    assert_eq!(c.regs.r[2], 0x8000);
    assert_eq!(
        c.regs.r[3], 0xFFFF_9000,
        "the halfword 0x9000 sign-extended"
    );
    assert_eq!(c.regs.r[4], 0xC000);
    assert_eq!(c.regs.r[1], BASE + 0x40C);
    assert_eq!(m.word(BASE + 0x40C), 0x8000);
    // ldrd r2, r3, [r0, #8]!; strd r2, r3, [r1], #-8
    let (mut c, mut m) = cpu_at(&[0xE9F0, 0x2302, 0xE861, 0x2302]);
    m.set_word(BASE + 0x408, 0xAAAA_0001);
    m.set_word(BASE + 0x40C, 0xBBBB_0002);
    c.regs.r[0] = BASE + 0x400;
    c.regs.r[1] = BASE + 0x500;
    c.step(&mut m, false);
    c.step(&mut m, false);
    assert_eq!(
        (c.regs.r[2], c.regs.r[3], c.regs.r[0]),
        (0xAAAA_0001, 0xBBBB_0002, BASE + 0x408)
    );
    assert_eq!(
        (m.word(BASE + 0x500), m.word(BASE + 0x504)),
        (0xAAAA_0001, 0xBBBB_0002)
    );
    assert_eq!(c.regs.r[1], BASE + 0x4F8);
    // LDRD needs word alignment whatever CCR says.
    let mut r = with(&[(0, BASE + 0x402)]);
    let o = run1(&mut r, &mut Ram::new(), &[0xE9F0, 0x2302]);
    assert_eq!(
        o,
        Outcome::Fault(FaultKind::Unaligned { addr: BASE + 0x40A })
    );
    // str.w r0, [r1, #1]; ldrh.w r2, [r1, #3]: unaligned, split into bytes.
    let (mut c, mut m) = cpu_at(&[0xF8C1, 0x0001, 0xF8B1, 0x2003]);
    c.regs.r[0] = 0x4433_2211;
    c.regs.r[1] = BASE + 0x400;
    c.step(&mut m, false);
    c.step(&mut m, false);
    assert_eq!(m.word(BASE + 0x400), 0x3322_1100);
    assert_eq!(c.regs.r[2], 0x4433);
}

#[test]
fn push_pop_wide_and_table_branches() {
    // push.w {r4-r11, lr}; pop.w {r4-r11, pc}
    let (mut c, mut m) = cpu_at(&[0xE92D, 0x4FF0, 0xE8BD, 0x8FF0]);
    for i in 4..12 {
        c.regs.r[i] = i as u32 * 11;
    }
    c.regs.r[14] = BASE + 0x301;
    c.step(&mut m, false);
    assert_eq!(c.regs.r[13], BASE + 0x800 - 36);
    assert_eq!(m.word(BASE + 0x800 - 4), BASE + 0x301);
    c.regs.r[4] = 0;
    c.step(&mut m, false);
    assert_eq!(
        (c.regs.r[4], c.regs.pc(), c.regs.r[13]),
        (44, BASE + 0x300, BASE + 0x800)
    );
    // tbb [pc, r0]; .byte 2, 3; nop; movs r1, #1; movs r1, #2
    for (r0, pc) in [(0, 0x108), (1, 0x10A)] {
        let (mut c, mut m) = cpu_at(&[0xE8DF, 0xF000, 0x0302, 0xBF00, 0x2101, 0x2102]);
        c.regs.r[0] = r0;
        c.step(&mut m, false);
        assert_eq!(c.regs.pc(), BASE + pc);
    }
    // tbh [pc, r0, lsl #1]; .short 3, 4; nop; movs r1, #1; movs r1, #2
    let (mut c, mut m) = cpu_at(&[0xE8DF, 0xF010, 0x0003, 0x0004, 0xBF00, 0x2101, 0x2102]);
    c.regs.r[0] = 1;
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), BASE + 0x10C);
}

#[test]
fn exclusive_monitor() {
    // ldrex r1, [r0]; adds r1, #1; strex r2, r1, [r0]; strex r3, r1, [r0]
    let (mut c, mut m) = cpu_at(&[0xE850, 0x1F00, 0x3101, 0xE840, 0x1200, 0xE840, 0x1300]);
    m.set_word(BASE + 0x400, 41);
    c.regs.r[0] = BASE + 0x400;
    c.regs.r[3] = 7;
    for _ in 0..4 {
        c.step(&mut m, false);
    }
    assert_eq!(m.word(BASE + 0x400), 42);
    assert_eq!((c.regs.r[2], c.regs.r[3]), (0, 1), "the second STREX fails");
}

#[test]
fn special_registers_and_stack_selection() {
    // msr PSP, r0; movs r1, #2; msr CONTROL, r1; isb; mov r2, sp; mrs r3, MSP; mrs r4, CONTROL
    let (mut c, mut m) = cpu_at(&[
        0xF380, 0x8809, 0x2102, 0xF381, 0x8814, 0xF3BF, 0x8F6F, 0x466A, 0xF3EF, 0x8308, 0xF3EF,
        0x8414,
    ]);
    c.regs.r[0] = BASE + 0x600;
    for _ in 0..7 {
        c.step(&mut m, false);
    }
    assert_eq!(
        c.regs.r[2],
        BASE + 0x600,
        "SP is the PSP in thread mode with SPSEL"
    );
    assert_eq!(c.regs.r[3], BASE + 0x800);
    assert_eq!(c.regs.r[4], 2);
    // movs r0, #1; msr BASEPRI, r0: only the 3 implemented priority bits are kept.
    let (mut c, mut m) = cpu_at(&[0x2001, 0xF380, 0x8811]);
    c.step(&mut m, false);
    c.step(&mut m, false);
    assert_eq!(c.regs.basepri, 0);
}

fn fpu_cpu(code: &[u16]) -> (Cpu, Ram) {
    let (mut c, m) = cpu_at(code);
    c.scs.cpacr = 0xF << 20;
    (c, m)
}

#[test]
fn floating_point_program() {
    let code = [
        0xEE00, 0x0A10, 0xEE00, 0x1A90, 0xEE30, 0x1A20, 0xEE60, 0x1A20, 0xEE80, 0x2A20, 0xEEB4,
        0x0A60, 0xEEF1, 0xFA10, 0xEEFD, 0x2AC2, 0xEE12, 0x2A90, 0xEEB1, 0x3AE0, 0xED8D, 0x1A00,
        0xEDDD, 0x3A00, 0xED2D, 0x0A04, 0xECBD, 0x4A04, 0xEC55, 0x4B14, 0xEEA0, 0x6A20, 0xEEF8,
        0x6A66,
    ];
    let (mut c, mut m) = fpu_cpu(&code);
    c.regs.r[0] = 7.5f32.to_bits();
    c.regs.r[1] = 2.0f32.to_bits();
    c.regs.s[12] = 1.0f32.to_bits();
    c.regs.s[13] = 3_000_000_000;
    for _ in 0..17 {
        assert!(
            matches!(c.step(&mut m, false), Stop::Ran { .. }),
            "{:?}",
            c.last_fault
        );
    }
    let f = |i: usize| f32::from_bits(c.regs.s[i]);
    assert_eq!((f(2), f(3), f(4)), (9.5, 15.0, 3.75));
    // vcmp 7.5 > 2.0, vmrs APSR_nzcv: N=0 Z=0 C=1 V=0.
    assert_eq!(flags(&c.regs), (false, false, true, false));
    assert_eq!(c.regs.r[2], 3, "vcvt.s32 rounds toward zero");
    assert_eq!(f(6), 2.0f32.sqrt());
    assert_eq!(f(7), 9.5);
    assert_eq!((f(8), f(9), f(10), f(11)), (7.5, 2.0, 9.5, 15.0));
    assert_eq!(
        (c.regs.r[4], c.regs.r[5]),
        (7.5f32.to_bits(), 2.0f32.to_bits())
    );
    assert_eq!(f(12), 16.0, "vfma: 1 + 7.5 * 2");
    assert_eq!(f(13), 3_000_000_000u32 as f32);
    assert_eq!(
        c.regs.control & 4,
        4,
        "CONTROL.FPCA set by the first FP instruction"
    );
}

#[test]
fn fpu_disabled_in_cpacr_is_a_nocp_usage_fault() {
    let (mut c, mut m) = cpu_at(&[0xEE00, 0x0A10]);
    m.set_word(BASE + 12, BASE + 0x201);
    m.load(BASE + 0x200, &[0xBF00]);
    c.scs.vtor = BASE;
    c.step(&mut m, false);
    assert_eq!(c.last_fault.unwrap().kind, FaultKind::NoCoprocessor);
    assert_ne!(c.scs.cfsr & super::scs::fault::UFSR_NOCP, 0);
    assert_eq!(c.regs.pc(), BASE + 0x200);
}

// --- exceptions -------------------------------------------------------------------------

/// A core with VTOR at BASE, every vector pointing at a handler `bx lr` of its own at
/// BASE + 0x200 + 0x10 * n, and `code` at BASE + 0x100.
fn with_vectors(code: &[u16]) -> (Cpu, Ram) {
    let (mut c, mut m) = cpu_at(code);
    c.scs.vtor = BASE;
    for n in 2..48u32 {
        let h = BASE + 0x200 + 0x10 * n;
        if h + 2 > BASE + 0x780 {
            break;
        }
        m.set_word(BASE + 4 * n, h | 1);
        m.load(h, &[0x4770]);
    }
    (c, m)
}

fn handler(n: u32) -> u32 {
    BASE + 0x200 + 0x10 * n
}

#[test]
fn interrupt_entry_priorities_and_return() {
    let (mut c, mut m) = with_vectors(&[0xBF00, 0xBF00, 0xBF00, 0xBF00]);
    c.regs.r[0] = 0xA0;
    c.scs.nvic.enabled = 0b111;
    c.scs.nvic.prio[16] = 0x40;
    c.scs.nvic.prio[17] = 0x20;
    c.scs.nvic.prio[18] = 0x60;
    c.set_irq_line(0, true);
    assert_eq!(c.step(&mut m, false), Stop::Ran { cycles: 12 });
    assert_eq!(c.regs.pc(), handler(16));
    assert_eq!(c.regs.xpsr & psr::IPSR_MASK, 16);
    assert_eq!(c.regs.r[14], 0xFFFF_FFF9);
    assert_eq!(m.word(BASE + 0x800 - 32), 0xA0, "R0 stacked");
    assert_eq!(
        m.word(BASE + 0x800 - 8),
        BASE + 0x100,
        "return address stacked"
    );
    c.set_irq_line(0, false);
    // A higher priority (lower number) interrupt preempts; a lower one waits.
    c.scs.nvic.set_pending(16 + 2);
    c.scs.nvic.set_pending(16 + 1);
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), handler(17));
    assert_eq!(c.regs.r[14], 0xFFFF_FFF1, "nested: return to handler mode");
    c.step(&mut m, false); // bx lr from IRQ1
    assert_eq!(c.regs.pc(), handler(16));
    c.step(&mut m, false); // bx lr from IRQ0
    assert_eq!(c.regs.pc(), BASE + 0x100);
    assert_eq!(c.regs.xpsr & psr::IPSR_MASK, 0);
    c.step(&mut m, false); // IRQ2 now preempts thread mode
    assert_eq!(c.regs.pc(), handler(18));
    c.step(&mut m, false);
    assert_eq!((c.regs.pc(), c.regs.r[13]), (BASE + 0x100, BASE + 0x800));
    assert_eq!(c.scs.nvic.active, 0);
}

#[test]
fn primask_and_basepri_mask_interrupts() {
    let (mut c, mut m) = with_vectors(&[0xBF00, 0xBF00, 0xBF00]);
    c.scs.nvic.enabled = 1;
    c.scs.nvic.prio[16] = 0x40;
    c.scs.nvic.set_pending(16);
    c.regs.primask = 1;
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), BASE + 0x102, "PRIMASK: not taken");
    c.regs.primask = 0;
    c.regs.basepri = 0x40;
    c.step(&mut m, false);
    assert_eq!(
        c.regs.pc(),
        BASE + 0x104,
        "BASEPRI 0x40 masks priority 0x40"
    );
    c.regs.basepri = 0x60;
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), handler(16));
    // A disabled interrupt is never taken.
    let (mut c, mut m) = with_vectors(&[0xBF00]);
    c.scs.nvic.set_pending(16 + 5);
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), BASE + 0x102);
}

#[test]
fn svc_enters_svcall_with_the_next_instruction_stacked() {
    let (mut c, mut m) = with_vectors(&[0xDF05, 0xBF00]); // svc #5
    assert!(matches!(c.step(&mut m, false), Stop::Ran { .. }));
    assert_eq!(c.regs.pc(), handler(11));
    assert_eq!(m.word(BASE + 0x800 - 8), BASE + 0x102);
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), BASE + 0x102);
    // With PRIMASK set, SVCall (priority 0) cannot be taken: the SVC escalates to HardFault.
    let (mut c, mut m) = with_vectors(&[0xDF05]);
    c.regs.primask = 1;
    c.step(&mut m, false);
    assert_eq!(c.regs.pc(), handler(3));
    assert_ne!(c.scs.hfsr & super::scs::fault::HFSR_FORCED, 0);
}

#[test]
fn fp_context_is_stacked_and_restored() {
    // vmov s0, r0; nop; nop  /  handler of IRQ0: vmov s0, r1; bx lr
    let (mut c, mut m) = with_vectors(&[0xEE00, 0x0A10, 0xBF00, 0xBF00]);
    c.scs.cpacr = 0xF << 20;
    m.load(handler(16), &[0xEE00, 0x1A10, 0x4770]);
    c.regs.r[0] = 1.5f32.to_bits();
    c.regs.r[1] = 9.0f32.to_bits();
    c.step(&mut m, false);
    c.scs.nvic.enabled = 1;
    c.scs.nvic.set_pending(16);
    c.step(&mut m, false);
    assert_eq!(
        c.regs.r[14], 0xFFFF_FFE9,
        "EXC_RETURN with the extended frame"
    );
    assert_eq!(c.regs.r[13], BASE + 0x800 - 0x68);
    assert_eq!(
        m.word(BASE + 0x800 - 0x68 + 0x20),
        1.5f32.to_bits(),
        "S0 stacked"
    );
    assert_eq!(c.regs.control & 4, 0, "FPCA clear in the handler");
    c.step(&mut m, false);
    assert_eq!(c.regs.s[0], 9.0f32.to_bits());
    c.step(&mut m, false); // bx lr
    assert_eq!(c.regs.pc(), BASE + 0x104);
    assert_eq!(c.regs.s[0], 1.5f32.to_bits(), "S0 restored");
    assert_eq!((c.regs.r[13], c.regs.control & 4), (BASE + 0x800, 4));
}

#[test]
fn systick_fires_after_reload_plus_one_cycles() {
    let nops = [0xBF00u16; 128];
    let (mut c, mut m) = with_vectors(&nops);
    use super::nvic::addr;
    c.scs.write(addr::SYST_RVR, 99, 0);
    c.scs.write(addr::SYST_CVR, 0, 0);
    c.scs.write(addr::SYST_CSR, 7, 0);
    let mut steps = 0;
    while c.regs.pc() != handler(15) {
        c.step(&mut m, false);
        steps += 1;
        assert!(steps < 150, "SysTick never fired");
    }
    // Enabled at cycle 0 from CVR = 0: reload on the next cycle, zero 100 cycles later.
    assert!(
        (100..=102).contains(&(c.cycles - 12)),
        "fired at cycle {}",
        c.cycles - 12
    );
    assert_eq!(
        c.scs.read(addr::SYST_CSR, c.cycles).unwrap() >> 16,
        1,
        "COUNTFLAG"
    );
    assert_eq!(
        c.scs.read(addr::SYST_CSR, c.cycles).unwrap() >> 16,
        0,
        "cleared by the read"
    );
}

#[test]
fn wfi_wakes_on_an_interrupt_even_with_primask() {
    let (mut c, mut m) = with_vectors(&[0xBF30, 0x2001]); // wfi; movs r0, #1
    c.scs.nvic.enabled = 1;
    c.step(&mut m, false);
    assert_eq!(c.step(&mut m, false), Stop::Sleeping);
    c.event = true;
    assert_eq!(
        c.step(&mut m, false),
        Stop::Sleeping,
        "WFI ignores the event register"
    );
    c.regs.primask = 1;
    c.set_irq_line(0, true);
    c.step(&mut m, false);
    assert_eq!(c.regs.r[0], 1, "woken, the interrupt not taken (PRIMASK)");
    assert_eq!(c.regs.xpsr & psr::IPSR_MASK, 0);
}

#[test]
fn exception_entry_and_sev_wake_wfe() {
    // wfe; movs r0, #1 with an interrupt arriving while asleep.
    let (mut c, mut m) = with_vectors(&[0xBF20, 0x2001]);
    c.scs.nvic.enabled = 1;
    c.step(&mut m, false);
    assert!(c.sleeping);
    c.set_irq_line(0, true);
    c.step(&mut m, false); // taken: wakes
    assert_eq!(c.regs.pc(), handler(16));
    c.set_irq_line(0, false);
    c.step(&mut m, false); // bx lr
    c.step(&mut m, false);
    assert_eq!(c.regs.r[0], 1);
    // SEVONPEND: a pending interrupt that is disabled still sets the event register.
    let (mut c, mut m) = with_vectors(&[0xBF20, 0x2001]);
    c.step(&mut m, false);
    assert!(c.sleeping);
    c.scs.scr = 0x10;
    c.scs.nvic.set_pending(16 + 3);
    c.step(&mut m, false);
    assert!(!c.sleeping);
    assert_eq!(c.regs.xpsr & psr::IPSR_MASK, 0);
}

#[test]
fn ldr_pc_is_an_exception_return_in_handler_mode() {
    // ldr.w pc, [sp], #4 as the handler's return.
    let (mut c, mut m) = with_vectors(&[0xBF00, 0xBF00]);
    m.load(handler(16), &[0xB500, 0xF85D, 0xFB04]); // push {lr}; ldr.w pc, [sp], #4
    c.scs.nvic.enabled = 1;
    c.scs.nvic.set_pending(16);
    c.step(&mut m, false);
    c.step(&mut m, false);
    c.step(&mut m, false);
    assert_eq!((c.regs.pc(), c.regs.r[13]), (BASE + 0x100, BASE + 0x800));
    assert_eq!(c.scs.nvic.active, 0);
}

#[test]
fn priority_registers_take_byte_writes() {
    let mut c = Cpu::new();
    let mut m = Ram::new();
    let mut bus = super::ppb::CoreBus {
        scs: &mut c.scs,
        cycles: 0,
        system: &mut m,
        requests: Default::default(),
    };
    bus.write(0xE000_E400 + 6, 1, 0xFF).unwrap(); // NVIC->IP[6]
    bus.write(0xE000_ED1F, 1, 0x80).unwrap(); // SCB->SHP[7]: SVCall
    assert_eq!(bus.read(0xE000_E404, 4).unwrap(), 0x00E0_0000);
    assert_eq!(c.scs.nvic.prio[22], 0xE0);
    assert_eq!(c.scs.nvic.prio[11], 0x80);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Any encoding with any register values executes without a panic: it runs, faults or
    /// halts (library code never panics on bad input).
    #[test]
    fn arbitrary_instructions_never_panic(hw1: u16, hw2: u16, r: [u32; 16], xpsr: u32, s: [u32; 8]) {
        let (mut c, mut m) = cpu_at(&[hw1, hw2, 0xBF00, 0xBF00]);
        c.scs.cpacr = 0xF << 20;
        for (i, v) in r.iter().enumerate().take(15) {
            c.regs.r[i] = *v;
        }
        c.regs.xpsr = (xpsr & 0xF80F_0000) | psr::T;
        c.regs.s[..8].copy_from_slice(&s);
        c.scs.vtor = BASE;
        for _ in 0..4 {
            let _ = c.step(&mut m, false);
        }
    }
}
