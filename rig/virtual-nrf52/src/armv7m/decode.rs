//! The Thumb decoder: a table of encodings (ARMv7-M ARM, A5.2 "16-bit Thumb instruction
//! encoding" and A5.3 for the 32-bit ones), each entry a mask/value pair and the function that
//! extracts its fields. An encoding not in the table decodes to [`Insn::Undefined`], which the
//! core turns into a HardFault (UsageFault UNDEFINSTR escalated). The 32-bit encodings are
//! decoded by `decode32` (and the FPU's by `vfp_decode`) into [`Insn::T32`].

use super::decode32::{self, Insn32};

/// Data-processing operations of the 16-bit "data processing" group (A5.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AluOp {
    And,
    Eor,
    Lsl,
    Lsr,
    Asr,
    Adc,
    Sbc,
    Ror,
    Tst,
    Rsb,
    Cmp,
    Cmn,
    Orr,
    Mul,
    Bic,
    Mvn,
}

/// Load/store width and signedness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemOp {
    Str,
    Strh,
    Strb,
    Ldr,
    Ldrh,
    Ldrb,
    Ldrsb,
    Ldrsh,
}

impl MemOp {
    pub fn is_load(self) -> bool {
        !matches!(self, MemOp::Str | MemOp::Strh | MemOp::Strb)
    }

    /// Access size in bytes.
    pub fn size(self) -> u32 {
        match self {
            MemOp::Str | MemOp::Ldr => 4,
            MemOp::Strh | MemOp::Ldrh | MemOp::Ldrsh => 2,
            MemOp::Strb | MemOp::Ldrb | MemOp::Ldrsb => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendOp {
    Sxth,
    Sxtb,
    Uxth,
    Uxtb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevOp {
    Rev,
    Rev16,
    Revsh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintOp {
    Nop,
    Yield,
    Wfe,
    Wfi,
    Sev,
}

/// One decoded instruction. Register fields are register numbers (0-15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insn {
    /// LSLS/LSRS/ASRS Rd, Rm, #imm (T1; imm already mapped: 0 means 32 for LSR/ASR).
    ShiftImm {
        op: AluOp,
        d: u8,
        m: u8,
        imm: u8,
    },
    /// ADDS/SUBS Rd, Rn, Rm (T1).
    AddSubReg {
        sub: bool,
        d: u8,
        n: u8,
        m: u8,
    },
    /// ADDS/SUBS Rd, Rn, #imm3 (T1) and ADDS/SUBS Rdn, #imm8 (T2).
    AddSubImm {
        sub: bool,
        d: u8,
        n: u8,
        imm: u32,
    },
    /// MOVS Rd, #imm8 (T1).
    MovImm {
        d: u8,
        imm: u32,
    },
    /// CMP Rn, #imm8 (T1).
    CmpImm {
        n: u8,
        imm: u32,
    },
    /// The data-processing group, Rdn = Rdn op Rm, flags set.
    Alu {
        op: AluOp,
        dn: u8,
        m: u8,
    },
    /// ADD Rdn, Rm (T2, high registers, no flags; Rdn = PC branches).
    AddHigh {
        dn: u8,
        m: u8,
    },
    /// CMP Rn, Rm (T2, high registers).
    CmpHigh {
        n: u8,
        m: u8,
    },
    /// MOV Rd, Rm (T1, no flags; Rd = PC branches).
    MovHigh {
        d: u8,
        m: u8,
    },
    Bx {
        m: u8,
    },
    Blx {
        m: u8,
    },
    /// LDR Rt, [PC, #imm] (T1).
    LdrLit {
        t: u8,
        imm: u32,
    },
    /// Register-offset load/store (T1).
    MemReg {
        op: MemOp,
        t: u8,
        n: u8,
        m: u8,
    },
    /// Immediate-offset load/store (T1 forms and the SP-relative T2 forms).
    MemImm {
        op: MemOp,
        t: u8,
        n: u8,
        imm: u32,
    },
    /// ADR Rd, label (T1).
    Adr {
        d: u8,
        imm: u32,
    },
    /// ADD Rd, SP, #imm (T1).
    AddSpImm {
        d: u8,
        imm: u32,
    },
    /// ADD/SUB SP, SP, #imm (T2/T1).
    AdjustSp {
        sub: bool,
        imm: u32,
    },
    /// CBZ/CBNZ Rn, label.
    Cbz {
        nonzero: bool,
        n: u8,
        imm: u32,
    },
    Extend {
        op: ExtendOp,
        d: u8,
        m: u8,
    },
    Rev {
        op: RevOp,
        d: u8,
        m: u8,
    },
    /// PUSH {list}: bit 14 = LR.
    Push {
        list: u16,
    },
    /// POP {list}: bit 15 = PC.
    Pop {
        list: u16,
    },
    /// CPSID/CPSIE i/f.
    Cps {
        disable: bool,
        i: bool,
        f: bool,
    },
    Bkpt {
        imm: u8,
    },
    Hint {
        op: HintOp,
    },
    /// STMIA Rn!, {list} (T1).
    Stm {
        n: u8,
        list: u16,
    },
    /// LDMIA Rn{!}, {list} (T1: writeback unless Rn is in the list).
    Ldm {
        n: u8,
        list: u16,
    },
    /// B<cond> label (T1); imm is the sign-extended byte offset from PC+4.
    BCond {
        cond: u8,
        imm: i32,
    },
    /// B label (T2).
    B {
        imm: i32,
    },
    Svc {
        imm: u8,
    },
    /// BL label (T1, 32-bit).
    Bl {
        imm: i32,
    },
    /// IT{x{y{z}}} firstcond (A7.7.38): `mask` is the 4-bit mask field.
    It {
        firstcond: u8,
        mask: u8,
    },
    /// A 32-bit Thumb-2 instruction other than BL.
    T32(Insn32),
    /// Anything the tables do not hold (including the permanently UNDEFINED UDF).
    Undefined,
}

/// An instruction and its size in bytes (2 or 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub insn: Insn,
    pub size: u32,
    /// The table entry's name (for fault reports and the test of the table itself).
    pub name: &'static str,
}

/// Whether the halfword starts a 32-bit instruction (A5.1: bits 15:11 = 0b11101/11110/11111).
pub fn is_32bit(hw1: u16) -> bool {
    matches!(hw1 >> 11, 0b11101..=0b11111)
}

struct Enc16 {
    mask: u16,
    value: u16,
    name: &'static str,
    make: fn(u16) -> Insn,
}

fn r(x: u16, at: u32) -> u8 {
    ((x >> at) & 7) as u8
}

fn sext(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((v << shift) as i32) >> shift
}

fn shift_imm(op: AluOp, x: u16) -> Insn {
    let imm5 = ((x >> 6) & 0x1F) as u8;
    let imm = if imm5 == 0 && op != AluOp::Lsl {
        32
    } else {
        imm5
    };
    Insn::ShiftImm {
        op,
        d: r(x, 0),
        m: r(x, 3),
        imm,
    }
}

fn alu(x: u16) -> Insn {
    use AluOp::*;
    const OPS: [AluOp; 16] = [
        And, Eor, Lsl, Lsr, Asr, Adc, Sbc, Ror, Tst, Rsb, Cmp, Cmn, Orr, Mul, Bic, Mvn,
    ];
    Insn::Alu {
        op: OPS[((x >> 6) & 0xF) as usize],
        dn: r(x, 0),
        m: r(x, 3),
    }
}

fn mem_reg(x: u16) -> Insn {
    use MemOp::*;
    const OPS: [MemOp; 8] = [Str, Strh, Strb, Ldrsb, Ldr, Ldrh, Ldrb, Ldrsh];
    Insn::MemReg {
        op: OPS[((x >> 9) & 7) as usize],
        t: r(x, 0),
        n: r(x, 3),
        m: r(x, 6),
    }
}

fn mem_imm(op: MemOp, x: u16) -> Insn {
    let imm5 = ((x >> 6) & 0x1F) as u32;
    Insn::MemImm {
        op,
        t: r(x, 0),
        n: r(x, 3),
        imm: imm5 * op.size(),
    }
}

fn high_dn(x: u16) -> u8 {
    (((x >> 4) & 8) | (x & 7)) as u8
}

fn high_m(x: u16) -> u8 {
    ((x >> 3) & 0xF) as u8
}

/// The 16-bit encodings, most specific first (the first match wins).
#[rustfmt::skip]
static THUMB16: &[Enc16] = &[
    // A5.2.1 shift (immediate), add, subtract, move, and compare
    Enc16 { mask: 0xF800, value: 0x0000, name: "LSLS (imm)", make: |x| shift_imm(AluOp::Lsl, x) },
    Enc16 { mask: 0xF800, value: 0x0800, name: "LSRS (imm)", make: |x| shift_imm(AluOp::Lsr, x) },
    Enc16 { mask: 0xF800, value: 0x1000, name: "ASRS (imm)", make: |x| shift_imm(AluOp::Asr, x) },
    Enc16 { mask: 0xFE00, value: 0x1800, name: "ADDS (reg)", make: |x| Insn::AddSubReg { sub: false, d: r(x, 0), n: r(x, 3), m: r(x, 6) } },
    Enc16 { mask: 0xFE00, value: 0x1A00, name: "SUBS (reg)", make: |x| Insn::AddSubReg { sub: true, d: r(x, 0), n: r(x, 3), m: r(x, 6) } },
    Enc16 { mask: 0xFE00, value: 0x1C00, name: "ADDS (imm3)", make: |x| Insn::AddSubImm { sub: false, d: r(x, 0), n: r(x, 3), imm: r(x, 6) as u32 } },
    Enc16 { mask: 0xFE00, value: 0x1E00, name: "SUBS (imm3)", make: |x| Insn::AddSubImm { sub: true, d: r(x, 0), n: r(x, 3), imm: r(x, 6) as u32 } },
    Enc16 { mask: 0xF800, value: 0x2000, name: "MOVS (imm)", make: |x| Insn::MovImm { d: r(x, 8), imm: (x & 0xFF) as u32 } },
    Enc16 { mask: 0xF800, value: 0x2800, name: "CMP (imm)", make: |x| Insn::CmpImm { n: r(x, 8), imm: (x & 0xFF) as u32 } },
    Enc16 { mask: 0xF800, value: 0x3000, name: "ADDS (imm8)", make: |x| Insn::AddSubImm { sub: false, d: r(x, 8), n: r(x, 8), imm: (x & 0xFF) as u32 } },
    Enc16 { mask: 0xF800, value: 0x3800, name: "SUBS (imm8)", make: |x| Insn::AddSubImm { sub: true, d: r(x, 8), n: r(x, 8), imm: (x & 0xFF) as u32 } },
    // A5.2.2 data processing
    Enc16 { mask: 0xFC00, value: 0x4000, name: "data processing", make: alu },
    // A5.2.3 special data instructions and branch and exchange
    Enc16 { mask: 0xFF00, value: 0x4400, name: "ADD (high reg)", make: |x| Insn::AddHigh { dn: high_dn(x), m: high_m(x) } },
    Enc16 { mask: 0xFF00, value: 0x4500, name: "CMP (high reg)", make: |x| Insn::CmpHigh { n: high_dn(x), m: high_m(x) } },
    Enc16 { mask: 0xFF00, value: 0x4600, name: "MOV (reg)", make: |x| Insn::MovHigh { d: high_dn(x), m: high_m(x) } },
    Enc16 { mask: 0xFF87, value: 0x4700, name: "BX", make: |x| Insn::Bx { m: high_m(x) } },
    Enc16 { mask: 0xFF87, value: 0x4780, name: "BLX (reg)", make: |x| Insn::Blx { m: high_m(x) } },
    // A5.2.4 load from literal pool
    Enc16 { mask: 0xF800, value: 0x4800, name: "LDR (literal)", make: |x| Insn::LdrLit { t: r(x, 8), imm: (x & 0xFF) as u32 * 4 } },
    // A5.2.4 load/store single data item
    Enc16 { mask: 0xF000, value: 0x5000, name: "load/store (reg)", make: mem_reg },
    Enc16 { mask: 0xF800, value: 0x6000, name: "STR (imm)", make: |x| mem_imm(MemOp::Str, x) },
    Enc16 { mask: 0xF800, value: 0x6800, name: "LDR (imm)", make: |x| mem_imm(MemOp::Ldr, x) },
    Enc16 { mask: 0xF800, value: 0x7000, name: "STRB (imm)", make: |x| mem_imm(MemOp::Strb, x) },
    Enc16 { mask: 0xF800, value: 0x7800, name: "LDRB (imm)", make: |x| mem_imm(MemOp::Ldrb, x) },
    Enc16 { mask: 0xF800, value: 0x8000, name: "STRH (imm)", make: |x| mem_imm(MemOp::Strh, x) },
    Enc16 { mask: 0xF800, value: 0x8800, name: "LDRH (imm)", make: |x| mem_imm(MemOp::Ldrh, x) },
    Enc16 { mask: 0xF800, value: 0x9000, name: "STR (SP)", make: |x| Insn::MemImm { op: MemOp::Str, t: r(x, 8), n: 13, imm: (x & 0xFF) as u32 * 4 } },
    Enc16 { mask: 0xF800, value: 0x9800, name: "LDR (SP)", make: |x| Insn::MemImm { op: MemOp::Ldr, t: r(x, 8), n: 13, imm: (x & 0xFF) as u32 * 4 } },
    // A5.2.5 generate PC-/SP-relative address
    Enc16 { mask: 0xF800, value: 0xA000, name: "ADR", make: |x| Insn::Adr { d: r(x, 8), imm: (x & 0xFF) as u32 * 4 } },
    Enc16 { mask: 0xF800, value: 0xA800, name: "ADD (SP imm)", make: |x| Insn::AddSpImm { d: r(x, 8), imm: (x & 0xFF) as u32 * 4 } },
    // A5.2.5 miscellaneous 16-bit instructions
    Enc16 { mask: 0xFF80, value: 0xB000, name: "ADD SP", make: |x| Insn::AdjustSp { sub: false, imm: (x & 0x7F) as u32 * 4 } },
    Enc16 { mask: 0xFF80, value: 0xB080, name: "SUB SP", make: |x| Insn::AdjustSp { sub: true, imm: (x & 0x7F) as u32 * 4 } },
    Enc16 { mask: 0xF500, value: 0xB100, name: "CBZ/CBNZ", make: |x| Insn::Cbz { nonzero: x & 0x0800 != 0, n: r(x, 0), imm: ((((x >> 9) & 1) << 6) | (((x >> 3) & 0x1F) << 1)) as u32 } },
    Enc16 { mask: 0xFFC0, value: 0xB200, name: "SXTH", make: |x| Insn::Extend { op: ExtendOp::Sxth, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFFC0, value: 0xB240, name: "SXTB", make: |x| Insn::Extend { op: ExtendOp::Sxtb, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFFC0, value: 0xB280, name: "UXTH", make: |x| Insn::Extend { op: ExtendOp::Uxth, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFFC0, value: 0xB2C0, name: "UXTB", make: |x| Insn::Extend { op: ExtendOp::Uxtb, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFE00, value: 0xB400, name: "PUSH", make: |x| Insn::Push { list: (x & 0xFF) | ((x & 0x100) << 6) } },
    Enc16 { mask: 0xFFEC, value: 0xB660, name: "CPS", make: |x| Insn::Cps { disable: x & 0x10 != 0, i: x & 2 != 0, f: x & 1 != 0 } },
    Enc16 { mask: 0xFFC0, value: 0xBA00, name: "REV", make: |x| Insn::Rev { op: RevOp::Rev, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFFC0, value: 0xBA40, name: "REV16", make: |x| Insn::Rev { op: RevOp::Rev16, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFFC0, value: 0xBAC0, name: "REVSH", make: |x| Insn::Rev { op: RevOp::Revsh, d: r(x, 0), m: r(x, 3) } },
    Enc16 { mask: 0xFE00, value: 0xBC00, name: "POP", make: |x| Insn::Pop { list: (x & 0xFF) | ((x & 0x100) << 7) } },
    Enc16 { mask: 0xFF00, value: 0xBE00, name: "BKPT", make: |x| Insn::Bkpt { imm: x as u8 } },
    Enc16 { mask: 0xFFFF, value: 0xBF00, name: "NOP", make: |_| Insn::Hint { op: HintOp::Nop } },
    Enc16 { mask: 0xFFFF, value: 0xBF10, name: "YIELD", make: |_| Insn::Hint { op: HintOp::Yield } },
    Enc16 { mask: 0xFFFF, value: 0xBF20, name: "WFE", make: |_| Insn::Hint { op: HintOp::Wfe } },
    Enc16 { mask: 0xFFFF, value: 0xBF30, name: "WFI", make: |_| Insn::Hint { op: HintOp::Wfi } },
    Enc16 { mask: 0xFFFF, value: 0xBF40, name: "SEV", make: |_| Insn::Hint { op: HintOp::Sev } },
    // Other hints (mask 0) are NOPs; a non-zero mask is IT (A5.2.5 "If-Then, and hints").
    Enc16 { mask: 0xFF0F, value: 0xBF00, name: "hint (NOP)", make: |_| Insn::Hint { op: HintOp::Nop } },
    Enc16 { mask: 0xFF00, value: 0xBF00, name: "IT", make: |x| Insn::It { firstcond: ((x >> 4) & 0xF) as u8, mask: (x & 0xF) as u8 } },
    // A5.2.6 load/store multiple
    Enc16 { mask: 0xF800, value: 0xC000, name: "STM", make: |x| Insn::Stm { n: r(x, 8), list: x & 0xFF } },
    Enc16 { mask: 0xF800, value: 0xC800, name: "LDM", make: |x| Insn::Ldm { n: r(x, 8), list: x & 0xFF } },
    // A5.2.7 conditional branch and supervisor call (cond 0b1110 is UDF, 0b1111 SVC)
    Enc16 { mask: 0xFF00, value: 0xDE00, name: "UDF", make: |_| Insn::Undefined },
    Enc16 { mask: 0xFF00, value: 0xDF00, name: "SVC", make: |x| Insn::Svc { imm: x as u8 } },
    Enc16 { mask: 0xF000, value: 0xD000, name: "B<cond>", make: |x| Insn::BCond { cond: ((x >> 8) & 0xF) as u8, imm: sext((x & 0xFF) as u32 * 2, 9) } },
    Enc16 { mask: 0xF800, value: 0xE000, name: "B", make: |x| Insn::B { imm: sext((x & 0x7FF) as u32 * 2, 12) } },
];

/// Decode the instruction starting with `hw1` (`hw2` is the next halfword, used only by 32-bit
/// encodings).
pub fn decode(hw1: u16, hw2: u16) -> Decoded {
    if is_32bit(hw1) {
        let x = (hw1 as u32) << 16 | hw2 as u32;
        return match decode32::decode(x) {
            Some((Insn32::Bl { imm }, name)) => Decoded {
                insn: Insn::Bl { imm },
                size: 4,
                name,
            },
            Some((i, name)) => Decoded {
                insn: Insn::T32(i),
                size: 4,
                name,
            },
            None => Decoded {
                insn: Insn::Undefined,
                size: 4,
                name: "32-bit UNDEFINED",
            },
        };
    }
    for e in THUMB16 {
        if hw1 & e.mask == e.value {
            return Decoded {
                insn: (e.make)(hw1),
                size: 2,
                name: e.name,
            };
        }
    }
    Decoded {
        insn: Insn::Undefined,
        size: 2,
        name: "16-bit (not implemented)",
    }
}
