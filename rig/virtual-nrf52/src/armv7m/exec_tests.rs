//! Every implemented instruction against the ARMv7-M ARM (DDI 0403E) semantics, flags
//! included, plus the decoder table, faults, exception entry/return and the event register.

use super::decode::{decode, Insn};
use super::exec::{execute, Bus, BusError, FaultKind, Outcome};
use super::regs::{psr, Regs};
use super::{Cpu, Stop};

pub(super) const BASE: u32 = 0x2000_0000;

/// 4 KB of RAM at 0x20000000; anything else is a bus error.
pub(super) struct Ram(pub(super) Vec<u8>);

impl Ram {
    pub(super) fn new() -> Ram {
        Ram(vec![0; 0x1000])
    }
    pub(super) fn word(&self, a: u32) -> u32 {
        let o = (a - BASE) as usize;
        u32::from_le_bytes(self.0[o..o + 4].try_into().unwrap())
    }
    pub(super) fn set_word(&mut self, a: u32, v: u32) {
        let o = (a - BASE) as usize;
        self.0[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub(super) fn load(&mut self, at: u32, code: &[u16]) {
        for (i, h) in code.iter().enumerate() {
            let o = (at - BASE) as usize + 2 * i;
            self.0[o..o + 2].copy_from_slice(&h.to_le_bytes());
        }
    }
}

impl Bus for Ram {
    fn read(&mut self, a: u32, size: u32) -> Result<u32, BusError> {
        if !(BASE..BASE + 0x1000).contains(&a) {
            return Err(BusError::Fault);
        }
        let o = (a - BASE) as usize;
        Ok(self.0[o..o + size as usize]
            .iter()
            .rev()
            .fold(0, |x, &b| x << 8 | b as u32))
    }
    fn write(&mut self, a: u32, size: u32, v: u32) -> Result<(), BusError> {
        if !(BASE..BASE + 0x1000).contains(&a) {
            return Err(BusError::Fault);
        }
        let o = (a - BASE) as usize;
        self.0[o..o + size as usize].copy_from_slice(&v.to_le_bytes()[..size as usize]);
        Ok(())
    }
}

pub(super) fn regs() -> Regs {
    let mut r = Regs::default();
    r.r[15] = BASE + 0x100;
    r.r[13] = BASE + 0x800;
    r.msp = BASE + 0x800;
    r
}

/// Execute one instruction (one or two halfwords) at PC.
pub(super) fn run1(r: &mut Regs, mem: &mut Ram, hw: &[u16]) -> Outcome {
    let d = decode(hw[0], hw.get(1).copied().unwrap_or(0));
    execute(r, mem, &d)
}

pub(super) fn flags(r: &Regs) -> (bool, bool, bool, bool) {
    (
        r.flag(psr::N),
        r.flag(psr::Z),
        r.flag(psr::C),
        r.flag(psr::V),
    )
}

pub(super) fn with(set: &[(usize, u32)]) -> Regs {
    let mut r = regs();
    for &(i, v) in set {
        r.r[i] = v;
    }
    r
}

fn op(hw: u16, set: &[(usize, u32)], carry: bool) -> Regs {
    let mut r = with(set);
    r.set_flag(psr::C, carry);
    let mut m = Ram::new();
    let o = run1(&mut r, &mut m, &[hw]);
    assert!(matches!(o, Outcome::Done { .. }), "{hw:#06x}: {o:?}");
    r
}

#[test]
fn decoder_table_names() {
    let cases: &[(u16, &str)] = &[
        (0x0048, "LSLS (imm)"),
        (0x0808, "LSRS (imm)"),
        (0x17C8, "ASRS (imm)"),
        (0x1888, "ADDS (reg)"),
        (0x1A88, "SUBS (reg)"),
        (0x1CC8, "ADDS (imm3)"),
        (0x1E48, "SUBS (imm3)"),
        (0x2280, "MOVS (imm)"),
        (0x2A07, "CMP (imm)"),
        (0x3301, "ADDS (imm8)"),
        (0x3B01, "SUBS (imm8)"),
        (0x4008, "data processing"),
        (0x4480, "ADD (high reg)"),
        (0x4588, "CMP (high reg)"),
        (0x4689, "MOV (reg)"),
        (0x4770, "BX"),
        (0x4788, "BLX (reg)"),
        (0x4801, "LDR (literal)"),
        (0x5088, "load/store (reg)"),
        (0x6048, "STR (imm)"),
        (0x684A, "LDR (imm)"),
        (0x7048, "STRB (imm)"),
        (0x784A, "LDRB (imm)"),
        (0x8048, "STRH (imm)"),
        (0x884A, "LDRH (imm)"),
        (0x9002, "STR (SP)"),
        (0x9902, "LDR (SP)"),
        (0xA002, "ADR"),
        (0xA902, "ADD (SP imm)"),
        (0xB004, "ADD SP"),
        (0xB084, "SUB SP"),
        (0xB110, "CBZ/CBNZ"),
        (0xB208, "SXTH"),
        (0xB248, "SXTB"),
        (0xB288, "UXTH"),
        (0xB2C8, "UXTB"),
        (0xB510, "PUSH"),
        (0xB672, "CPS"),
        (0xBA08, "REV"),
        (0xBA48, "REV16"),
        (0xBAC8, "REVSH"),
        (0xBD10, "POP"),
        (0xBEAB, "BKPT"),
        (0xBF00, "NOP"),
        (0xBF10, "YIELD"),
        (0xBF20, "WFE"),
        (0xBF30, "WFI"),
        (0xBF40, "SEV"),
        (0xC006, "STM"),
        (0xC806, "LDM"),
        (0xDE00, "UDF"),
        (0xDF00, "SVC"),
        (0xD002, "B<cond>"),
        (0xE002, "B"),
    ];
    for &(hw, name) in cases {
        assert_eq!(decode(hw, 0).name, name, "{hw:#06x}");
    }
    assert_eq!(decode(0xF000, 0xF82C).name, "BL");
    assert_eq!(decode(0xBF08, 0).name, "IT");
    assert_eq!(decode(0xBF50, 0).name, "hint (NOP)");
    assert_eq!(decode(0xF8D0, 0x0000).name, "LDR.W");
    // An encoding outside every table (coprocessor 15 does not exist) is UNDEFINED.
    assert_eq!(decode(0xEE00, 0x0F10).insn, Insn::Undefined);
    assert_eq!(decode(0xEE00, 0x0F10).size, 4);
}

#[test]
fn shifts_by_immediate() {
    let r = op(0x0048, &[(1, 0x8000_0001)], false); // LSLS r0, r1, #1
    assert_eq!(r.r[0], 2);
    assert_eq!(flags(&r), (false, false, true, false));
    let r = op(0x0008, &[(1, 0)], true); // MOVS r0, r1 (LSL #0): C unchanged
    assert_eq!(flags(&r), (false, true, true, false));
    let r = op(0x0808, &[(1, 0x8000_0000)], false); // LSRS r0, r1, #32
    assert_eq!(r.r[0], 0);
    assert_eq!(flags(&r), (false, true, true, false));
    let r = op(0x0848, &[(1, 0x3)], false); // LSRS r0, r1, #1
    assert_eq!((r.r[0], r.flag(psr::C)), (1, true));
    let r = op(0x17C8, &[(1, 0x8000_0000)], true); // ASRS r0, r1, #31
    assert_eq!(r.r[0], 0xFFFF_FFFF);
    assert_eq!(flags(&r), (true, false, false, false));
    let r = op(0x1008, &[(1, 0x8000_0000)], false); // ASRS r0, r1, #32
    assert_eq!((r.r[0], r.flag(psr::C)), (0xFFFF_FFFF, true));
}

#[test]
fn add_subtract_register_and_immediate() {
    let r = op(0x1888, &[(1, 0x7FFF_FFFF), (2, 1)], false); // ADDS r0, r1, r2
    assert_eq!(r.r[0], 0x8000_0000);
    assert_eq!(flags(&r), (true, false, false, true));
    let r = op(0x1A88, &[(1, 0), (2, 1)], true); // SUBS r0, r1, r2: borrow
    assert_eq!(r.r[0], 0xFFFF_FFFF);
    assert_eq!(flags(&r), (true, false, false, false));
    let r = op(0x1A88, &[(1, 0x8000_0000), (2, 1)], false); // signed overflow
    assert_eq!(flags(&r), (false, false, true, true));
    let r = op(0x1CC8, &[(1, 0xFFFF_FFFE)], false); // ADDS r0, r1, #3
    assert_eq!(r.r[0], 1);
    assert_eq!(flags(&r), (false, false, true, false));
    let r = op(0x1E48, &[(1, 1)], false); // SUBS r0, r1, #1
    assert_eq!(r.r[0], 0);
    assert_eq!(flags(&r), (false, true, true, false));
    let r = op(0x3301, &[(3, 0xFFFF_FFFF)], false); // ADDS r3, #1
    assert_eq!(r.r[3], 0);
    assert_eq!(flags(&r), (false, true, true, false));
    let r = op(0x3B01, &[(3, 0)], true); // SUBS r3, #1
    assert_eq!(r.r[3], 0xFFFF_FFFF);
    assert_eq!(flags(&r), (true, false, false, false));
}

#[test]
fn move_and_compare_immediate() {
    let r = op(0x2280, &[], true); // MOVS r2, #0x80: C unchanged, V unchanged
    assert_eq!(r.r[2], 0x80);
    assert_eq!(flags(&r), (false, false, true, false));
    let r = op(0x2200, &[(2, 5)], false); // MOVS r2, #0
    assert!(r.flag(psr::Z));
    let r = op(0x2A07, &[(2, 5)], true); // CMP r2, #7
    assert_eq!(r.r[2], 5, "CMP writes no register");
    assert_eq!(flags(&r), (true, false, false, false));
    let r = op(0x2A05, &[(2, 7)], false);
    assert_eq!(flags(&r), (false, false, true, false));
    let r = op(0x2A07, &[(2, 7)], false);
    assert_eq!(flags(&r), (false, true, true, false));
}

/// The data-processing group: Rdn = r0, Rm = r1 (encoding 0x4008 | op << 6).
#[test]
fn data_processing_group() {
    let dp = |opn: u16, r0: u32, r1: u32, c: bool| op(0x4008 | (opn << 6), &[(0, r0), (1, r1)], c);
    let r = dp(0x0, 0xF0F0, 0x0FF0, false); // AND
    assert_eq!(r.r[0], 0x00F0);
    let r = dp(0x1, 0xFFFF_0000, 0xFFFF_FFFF, true); // EOR
    assert_eq!(r.r[0], 0x0000_FFFF);
    assert_eq!(flags(&r), (false, false, true, false));
    let r = dp(0x2, 1, 32, false); // LSL by 32: 0, C = bit 0
    assert_eq!((r.r[0], r.flag(psr::C), r.flag(psr::Z)), (0, true, true));
    let r = dp(0x2, 1, 33, true); // LSL by 33: 0, C = 0
    assert_eq!((r.r[0], r.flag(psr::C)), (0, false));
    let r = dp(0x2, 0x8000_0000, 0x100, true); // LSL by 0 (bottom byte): C unchanged
    assert_eq!((r.r[0], r.flag(psr::C)), (0x8000_0000, true));
    let r = dp(0x3, 0x10, 4, false); // LSR by 4
    assert_eq!((r.r[0], r.flag(psr::C)), (1, false));
    let r = dp(0x3, 0x8000_0000, 32, false); // LSR by 32
    assert_eq!((r.r[0], r.flag(psr::C)), (0, true));
    let r = dp(0x4, 0x8000_0000, 40, false); // ASR by >= 32
    assert_eq!((r.r[0], r.flag(psr::C)), (0xFFFF_FFFF, true));
    let r = dp(0x5, 0xFFFF_FFFF, 0, true); // ADC: 0xFFFFFFFF + 0 + 1
    assert_eq!(r.r[0], 0);
    assert_eq!(flags(&r), (false, true, true, false));
    let r = dp(0x6, 5, 3, false); // SBC: 5 - 3 - 1
    assert_eq!(r.r[0], 1);
    assert!(r.flag(psr::C));
    let r = dp(0x6, 5, 3, true); // SBC with C set: 5 - 3
    assert_eq!(r.r[0], 2);
    let r = dp(0x7, 0x0000_0011, 4, false); // ROR by 4
    assert_eq!((r.r[0], r.flag(psr::C)), (0x1000_0001, false));
    let r = dp(0x7, 0x0000_0018, 4, false);
    assert_eq!((r.r[0], r.flag(psr::C)), (0x8000_0001, true));
    let r = dp(0x8, 0xF0, 0x0F, false); // TST: no write
    assert_eq!((r.r[0], r.flag(psr::Z)), (0xF0, true));
    let r = dp(0x9, 0, 1, false); // RSB r0, r1, #0 = -1
    assert_eq!(r.r[0], 0xFFFF_FFFF);
    assert_eq!(flags(&r), (true, false, false, false));
    let r = dp(0x9, 0, 0, false); // -0: C set (no borrow)
    assert_eq!(flags(&r), (false, true, true, false));
    let r = dp(0xA, 3, 3, false); // CMP: no write
    assert_eq!((r.r[0], flags(&r)), (3, (false, true, true, false)));
    let r = dp(0xB, 1, 0xFFFF_FFFF, false); // CMN: 1 + -1
    assert_eq!((r.r[0], flags(&r)), (1, (false, true, true, false)));
    let r = dp(0xC, 0xF000, 0x000F, false); // ORR
    assert_eq!(r.r[0], 0xF00F);
    let r = dp(0xD, 0x10000, 0x10000, true); // MUL: low 32 bits, C unchanged
    assert_eq!((r.r[0], flags(&r)), (0, (false, true, true, false)));
    let r = dp(0xE, 0xFF, 0x0F, false); // BIC
    assert_eq!(r.r[0], 0xF0);
    let r = dp(0xF, 0, 0, false); // MVN
    assert_eq!((r.r[0], r.flag(psr::N)), (0xFFFF_FFFF, true));
}

#[test]
fn high_register_forms_and_branch_exchange() {
    let r = op(0x4480, &[(8, 10), (0, 5)], false); // ADD r8, r0: no flags
    assert_eq!((r.r[8], flags(&r)), (15, (false, false, false, false)));
    let r = op(0x4588, &[(8, 1), (1, 2)], false); // CMP r8, r1
    assert_eq!(flags(&r), (true, false, false, false));
    let r = op(0x4689, &[(1, 0)], false); // MOV r9, r1: no flags
    assert_eq!((r.r[9], r.flag(psr::Z)), (0, false));
    let r = op(0x468F, &[(1, BASE + 0x201)], false); // MOV pc, r1
    assert_eq!(r.pc(), BASE + 0x200);
    let r = op(0x4770, &[(14, BASE + 0x41)], false); // BX lr
    assert_eq!(r.pc(), BASE + 0x40);
    let r = op(0x4788, &[(1, BASE + 0x81)], false); // BLX r1
    assert_eq!((r.pc(), r.r[14]), (BASE + 0x80, BASE + 0x103));
    // BX to an even address: INVSTATE, registers untouched.
    let mut r = with(&[(14, BASE + 0x40)]);
    let o = run1(&mut r, &mut Ram::new(), &[0x4770]);
    assert_eq!(o, Outcome::Fault(FaultKind::InvalidState));
    assert_eq!(r.pc(), BASE + 0x100);
    // ADD r0, pc reads PC + 4.
    let r = op(0x4478, &[(0, 4)], false);
    assert_eq!(r.r[0], BASE + 0x108);
}

#[test]
fn loads_and_stores() {
    let mut m = Ram::new();
    // LDR r0, [pc, #4] at 0x102: Align(PC+4, 4) + 4 = 0x104 + 4.
    let mut r = regs();
    r.r[15] = BASE + 0x102;
    m.set_word(BASE + 0x108, 0xCAFE_F00D);
    run1(&mut r, &mut m, &[0x4801]);
    assert_eq!((r.r[0], r.pc()), (0xCAFE_F00D, BASE + 0x104));

    let mut r = with(&[(0, 0x8899_AABB), (1, BASE + 0x400), (2, 4)]);
    for hw in [0x5088u16, 0x5288, 0x5488] {
        run1(&mut r, &mut m, &[hw]); // STR, STRH, STRB r0, [r1, r2]
        r.r[15] = BASE + 0x100;
    }
    assert_eq!(m.word(BASE + 0x404), 0x8899_AABB);
    m.set_word(BASE + 0x404, 0x0000_80FF);
    let load = |hw: u16, m: &mut Ram| {
        let mut r = with(&[(1, BASE + 0x400), (2, 4)]);
        run1(&mut r, m, &[hw]);
        r.r[0]
    };
    assert_eq!(load(0x5688, &mut m), 0xFFFF_FFFF); // LDRSB
    assert_eq!(load(0x5888, &mut m), 0x0000_80FF); // LDR
    assert_eq!(load(0x5A88, &mut m), 0x80FF); // LDRH
    assert_eq!(load(0x5C88, &mut m), 0xFF); // LDRB
    assert_eq!(load(0x5E88, &mut m), 0xFFFF_80FF); // LDRSH
                                                   // Immediate offsets (scaled by size).
    let mut r = with(&[(0, 0x1122_3344), (1, BASE + 0x500)]);
    run1(&mut r, &mut m, &[0x6048]); // STR r0, [r1, #4]
    assert_eq!(m.word(BASE + 0x504), 0x1122_3344);
    run1(&mut r, &mut m, &[0x684A]); // LDR r2, [r1, #4]
    assert_eq!(r.r[2], 0x1122_3344);
    run1(&mut r, &mut m, &[0x7048]); // STRB r0, [r1, #1]
    run1(&mut r, &mut m, &[0x784A]); // LDRB r2, [r1, #1]
    assert_eq!(r.r[2], 0x44);
    run1(&mut r, &mut m, &[0x8048]); // STRH r0, [r1, #2]
    run1(&mut r, &mut m, &[0x884A]); // LDRH r2, [r1, #2]
    assert_eq!(r.r[2], 0x3344);
    assert_eq!(m.word(BASE + 0x500), 0x3344_4400);
    // SP-relative.
    let mut r = with(&[(0, 77)]);
    run1(&mut r, &mut m, &[0x9002]); // STR r0, [sp, #8]
    run1(&mut r, &mut m, &[0x9902]); // LDR r1, [sp, #8]
    assert_eq!((r.r[1], m.word(BASE + 0x808)), (77, 77));
}

#[test]
fn unaligned_and_bus_errors_fault_without_side_effects() {
    let mut m = Ram::new();
    // CCR.UNALIGN_TRP clear (reset): an unaligned STR is done byte by byte (A3.2.1).
    let mut r = with(&[(1, BASE + 0x402), (0, 0x4433_2211)]);
    assert!(matches!(
        run1(&mut r, &mut m, &[0x6008]),
        Outcome::Done { .. }
    )); // STR r0, [r1]
    assert_eq!(m.word(BASE + 0x400), 0x2211_0000);
    assert_eq!(m.word(BASE + 0x404) & 0xFFFF, 0x4433);
    run1(&mut r, &mut m, &[0x680A]); // LDR r2, [r1]
    assert_eq!(r.r[2], 0x4433_2211);
    // PUSH with an unaligned SP faults whatever CCR says, registers untouched.
    let mut r = with(&[(13, BASE + 0x802)]);
    let o = run1(&mut r, &mut m, &[0xB401]); // PUSH {r0}
    assert_eq!(
        o,
        Outcome::Fault(FaultKind::Unaligned { addr: BASE + 0x7FE })
    );
    assert_eq!((r.pc(), r.r[13]), (BASE + 0x100, BASE + 0x802));
    let mut r = with(&[(1, 0x6000_0000)]);
    let o = run1(&mut r, &mut m, &[0x680A]); // LDR r2, [r1]
    assert_eq!(o, Outcome::Fault(FaultKind::Bus { addr: 0x6000_0000 }));
}

#[test]
fn address_generation_and_stack_adjust() {
    let mut r = regs();
    r.r[15] = BASE + 0x102;
    run1(&mut r, &mut Ram::new(), &[0xA002]); // ADR r0, #8: Align(PC+4,4) + 8
    assert_eq!(r.r[0], BASE + 0x10C);
    let r = op(0xA902, &[], false); // ADD r1, sp, #8
    assert_eq!(r.r[1], BASE + 0x808);
    let r = op(0xB004, &[], false); // ADD sp, #16
    assert_eq!(r.r[13], BASE + 0x810);
    let r = op(0xB084, &[], false); // SUB sp, #16
    assert_eq!(r.r[13], BASE + 0x7F0);
}

#[test]
fn compare_and_branch_on_zero() {
    let r = op(0xB110, &[(0, 0)], false); // CBZ r0, +4
    assert_eq!(r.pc(), BASE + 0x108);
    let r = op(0xB110, &[(0, 1)], false);
    assert_eq!(r.pc(), BASE + 0x102);
    let r = op(0xB910, &[(0, 1)], false); // CBNZ r0, +4
    assert_eq!(r.pc(), BASE + 0x108);
    assert_eq!(flags(&r), (false, false, false, false), "CBZ sets no flags");
}

#[test]
fn extend_and_reverse() {
    let x = 0x1234_8081;
    assert_eq!(op(0xB208, &[(1, x)], false).r[0], 0xFFFF_8081); // SXTH
    assert_eq!(op(0xB248, &[(1, x)], false).r[0], 0xFFFF_FF81); // SXTB
    assert_eq!(op(0xB288, &[(1, x)], false).r[0], 0x8081); // UXTH
    assert_eq!(op(0xB2C8, &[(1, x)], false).r[0], 0x81); // UXTB
    assert_eq!(op(0xBA08, &[(1, x)], false).r[0], 0x8180_3412); // REV
    assert_eq!(op(0xBA48, &[(1, x)], false).r[0], 0x3412_8180); // REV16
    assert_eq!(op(0xBAC8, &[(1, x)], false).r[0], 0xFFFF_8180); // REVSH
}

#[test]
fn push_pop_and_multiple() {
    let mut m = Ram::new();
    let mut r = with(&[(4, 44), (14, BASE + 0x31)]);
    run1(&mut r, &mut m, &[0xB510]); // PUSH {r4, lr}
    assert_eq!(r.r[13], BASE + 0x7F8);
    assert_eq!(
        (m.word(BASE + 0x7F8), m.word(BASE + 0x7FC)),
        (44, BASE + 0x31)
    );
    r.r[4] = 0;
    let o = run1(&mut r, &mut m, &[0xBD10]); // POP {r4, pc}
    assert!(matches!(o, Outcome::Done { .. }));
    assert_eq!((r.r[4], r.pc(), r.r[13]), (44, BASE + 0x30, BASE + 0x800));
    // STM r0!, {r1, r2}; LDM r0!, {r1, r2}; LDM r0, {r0, r1} (no writeback: r0 in list).
    let mut r = with(&[(0, BASE + 0x600), (1, 1), (2, 2)]);
    run1(&mut r, &mut m, &[0xC006]);
    assert_eq!(
        (r.r[0], m.word(BASE + 0x600), m.word(BASE + 0x604)),
        (BASE + 0x608, 1, 2)
    );
    r.r[0] = BASE + 0x600;
    r.r[1] = 0;
    r.r[2] = 0;
    run1(&mut r, &mut m, &[0xC806]);
    assert_eq!((r.r[0], r.r[1], r.r[2]), (BASE + 0x608, 1, 2));
    r.r[0] = BASE + 0x600;
    run1(&mut r, &mut m, &[0xC803]);
    assert_eq!((r.r[0], r.r[1]), (1, 2));
}

#[test]
fn branches_and_conditions() {
    // (cond, flags N Z C V that pass, flags that fail)
    let cases: &[(u16, u32, u32)] = &[
        (0x0, psr::Z, 0),
        (0x1, 0, psr::Z),
        (0x2, psr::C, 0),
        (0x3, 0, psr::C),
        (0x4, psr::N, 0),
        (0x5, 0, psr::N),
        (0x6, psr::V, 0),
        (0x7, 0, psr::V),
        (0x8, psr::C, psr::C | psr::Z),
        (0x9, psr::Z, psr::C),
        (0xA, psr::N | psr::V, psr::N),
        (0xB, psr::N, psr::N | psr::V),
        (0xC, 0, psr::Z),
        (0xD, psr::Z, 0),
    ];
    for &(cond, pass, fail) in cases {
        for (f, taken) in [(pass, true), (fail, false)] {
            let mut r = regs();
            r.xpsr = psr::T | f;
            run1(&mut r, &mut Ram::new(), &[0xD002 | cond << 8]);
            let want = if taken { BASE + 0x108 } else { BASE + 0x102 };
            assert_eq!(r.pc(), want, "cond {cond:#x} flags {f:#x}");
        }
    }
    let r = op(0xE7FE, &[], false); // B . (-4 from PC+4)
    assert_eq!(r.pc(), BASE + 0x100);
    let r = op(0xE002, &[], false);
    assert_eq!(r.pc(), BASE + 0x108);
    let mut r = regs();
    run1(&mut r, &mut Ram::new(), &[0xF000, 0xF82C]); // BL +0x58
    assert_eq!((r.pc(), r.r[14]), (BASE + 0x104 + 0x58, BASE + 0x105));
    let mut r = regs();
    run1(&mut r, &mut Ram::new(), &[0xF7FF, 0xFFFE]); // BL -4
    assert_eq!((r.pc(), r.r[14]), (BASE + 0x100, BASE + 0x105));
}

#[test]
fn system_instructions() {
    let mut m = Ram::new();
    let mut r = regs();
    assert_eq!(run1(&mut r, &mut m, &[0xBEAB]), Outcome::Breakpoint);
    assert_eq!(r.pc(), BASE + 0x100, "BKPT leaves PC on itself");
    assert_eq!(run1(&mut r, &mut m, &[0xDF00]), Outcome::Svc);
    r.r[15] = BASE + 0x100;
    assert_eq!(
        run1(&mut r, &mut m, &[0xDE00]),
        Outcome::Fault(FaultKind::Undefined)
    );
    let r = op(0xB672, &[], false); // CPSID i
    assert_eq!(r.primask, 1);
    let mut r2 = r.clone();
    run1(&mut r2, &mut m, &[0xB662]); // CPSIE i
    assert_eq!(r2.primask, 0);
    assert_eq!(op(0xBF00, &[], false).pc(), BASE + 0x102);
    assert_eq!(op(0xBF10, &[], false).pc(), BASE + 0x102);
}

/// A Cpu with its code at 0x20000100.
pub(super) fn cpu_at(code: &[u16]) -> (Cpu, Ram) {
    let mut m = Ram::new();
    m.load(BASE + 0x100, code);
    let mut c = Cpu::new();
    c.regs = regs();
    (c, m)
}

#[test]
fn wfe_sev_event_register() {
    // SEV; WFE (consumes the event, no sleep); WFE (sleeps).
    let (mut c, mut m) = cpu_at(&[0xBF40, 0xBF20, 0xBF20]);
    assert!(matches!(c.step(&mut m, false), Stop::Ran { .. }));
    assert!(c.event);
    c.step(&mut m, false);
    assert!(!c.event && !c.sleeping);
    c.step(&mut m, false);
    assert!(c.sleeping);
    assert_eq!(c.step(&mut m, false), Stop::Sleeping);
    c.event = true;
    assert!(
        matches!(c.step(&mut m, false), Stop::Ran { .. }),
        "an event wakes the core"
    );
}

#[test]
fn undefined_instruction_takes_hardfault_then_locks_up() {
    // Vector table at 0x20000000: HardFault handler at 0x20000200 holds another UDF.
    let (mut c, mut m) = cpu_at(&[0xDE00]);
    m.load(BASE + 0x200, &[0xDE01]);
    m.set_word(BASE + 12, BASE + 0x201);
    c.scs.vtor = BASE;
    c.regs.r[0] = 0xA0;
    assert!(matches!(c.step(&mut m, false), Stop::Ran { .. }));
    assert_eq!(c.regs.pc(), BASE + 0x200);
    assert_eq!(c.regs.xpsr & psr::IPSR_MASK, 3);
    assert_eq!(c.regs.r[14], 0xFFFF_FFF9);
    assert_eq!(m.word(BASE + 0x7E0), 0xA0, "R0 stacked");
    assert_eq!(
        m.word(BASE + 0x7E0 + 24),
        BASE + 0x100,
        "return address stacked"
    );
    assert_ne!(c.scs.cfsr & super::scs::fault::UFSR_UNDEFINSTR, 0);
    assert_ne!(c.scs.hfsr & super::scs::fault::HFSR_FORCED, 0);
    assert_eq!(c.step(&mut m, false), Stop::LockedUp);
    let f = c.last_fault.unwrap();
    assert!(f.lockup);
    assert_eq!((f.pc, f.name), (BASE + 0x200, "UDF"));
    assert_eq!(c.regs.pc(), 0xFFFF_FFFE);
}

#[test]
fn exception_return_unstacks() {
    // Handler: BX lr with EXC_RETURN 0xFFFFFFF9 after a HardFault from thread mode.
    let (mut c, mut m) = cpu_at(&[0xDE00, 0xBF00]);
    m.load(BASE + 0x200, &[0x4770]);
    m.set_word(BASE + 12, BASE + 0x201);
    c.scs.vtor = BASE;
    c.regs.r[3] = 33;
    c.step(&mut m, false);
    c.regs.r[3] = 0;
    c.step(&mut m, false); // BX lr: exception return
    assert_eq!(
        c.regs.pc(),
        BASE + 0x100,
        "returns to the faulting instruction"
    );
    assert_eq!((c.regs.r[3], c.regs.r[13]), (33, BASE + 0x800));
    assert_eq!(c.regs.xpsr & psr::IPSR_MASK, 0);
}

#[test]
fn vector_catch_on_hardfault_halts() {
    let (mut c, mut m) = cpu_at(&[0xDE00]);
    m.set_word(BASE + 12, BASE + 0x201);
    c.scs.vtor = BASE;
    c.scs.demcr = super::scs::demcr::VC_HARDERR;
    c.scs.dhcsr_ctrl = super::scs::dhcsr::C_DEBUGEN;
    assert_eq!(c.step(&mut m, false), Stop::Halted);
    assert_ne!(c.scs.dfsr & super::scs::dfsr::VCATCH, 0);
    assert_eq!(
        c.regs.pc(),
        BASE + 0x200,
        "halted at the handler's first instruction"
    );
}

#[test]
fn fpb_breakpoint_halts_before_the_instruction() {
    let mut m = Ram::new();
    let mut c = Cpu::new();
    c.regs.r[15] = 0x1000;
    c.scs.write(super::scs::addr::FP_CTRL, 3, 0);
    c.scs
        .write(super::scs::addr::FP_COMP0, 0x1000 | (1 << 30) | 1, 0);
    assert_eq!(c.step(&mut m, false), Stop::Halted);
    assert_ne!(c.scs.dfsr & super::scs::dfsr::BKPT, 0);
    assert_eq!(c.regs.pc(), 0x1000);
    c.scs.write(super::scs::addr::FP_CTRL, 2, 0); // KEY with ENABLE = 0
    assert!(!c.scs.breakpoint_at(0x1000));
}

#[test]
fn bkpt_halts_with_a_debugger_and_faults_without() {
    let (mut c, mut m) = cpu_at(&[0xBE00]);
    m.set_word(BASE + 12, BASE + 0x201);
    c.scs.vtor = BASE;
    c.scs.dhcsr_ctrl = super::scs::dhcsr::C_DEBUGEN;
    assert_eq!(c.step(&mut m, false), Stop::Halted);
    assert_ne!(c.scs.dfsr & super::scs::dfsr::BKPT, 0);
    c.scs.dhcsr_ctrl = 0;
    assert!(matches!(c.step(&mut m, false), Stop::Ran { .. }));
    assert_eq!(c.regs.pc(), BASE + 0x200, "in the HardFault handler");
    assert_ne!(c.scs.hfsr & super::scs::fault::HFSR_DEBUGEVT, 0);
    assert_eq!(c.last_fault.unwrap().kind, FaultKind::Breakpoint);
}
