//! The 32-bit Thumb-2 encodings (ARMv7-M ARM DDI 0403E, A5.3): a table of the encoding groups
//! of A5.3 (mask/value over `hw1 << 16 | hw2`), each with the function that decodes its
//! sub-table (A5.3.1 to A5.3.18) into an [`Insn32`] and the ARM ARM's name for the encoding.
//! The floating-point encodings of the coprocessor space are in `vfp_decode`.

use super::decode::MemOp;
use super::vfp_decode::{self, FpInsn};

/// The shift of a register operand (A7.4.2 DecodeImmShift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftType {
    Lsl,
    Lsr,
    Asr,
    Ror,
    /// Rotate right with extend (ROR #0 in the encoding): one bit through the carry.
    Rrx,
}

/// DecodeImmShift (A7.4.2): type and imm5 to shift and amount.
pub fn decode_imm_shift(ty: u32, imm5: u32) -> (ShiftType, u8) {
    let imm5 = imm5 as u8;
    match ty & 3 {
        0 => (ShiftType::Lsl, imm5),
        1 => (ShiftType::Lsr, if imm5 == 0 { 32 } else { imm5 }),
        2 => (ShiftType::Asr, if imm5 == 0 { 32 } else { imm5 }),
        _ if imm5 == 0 => (ShiftType::Rrx, 1),
        _ => (ShiftType::Ror, imm5),
    }
}

/// The second operand of a data-processing instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// A modified immediate (ThumbExpandImm_C): the value and, for rotated forms, the carry
    /// out (None: the carry flag is unchanged).
    Imm { value: u32, carry: Option<bool> },
    /// A register shifted by an immediate.
    Reg { m: u8, shift: ShiftType, amount: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpOp {
    And,
    Bic,
    Orr,
    Orn,
    Eor,
    Add,
    Adc,
    Sbc,
    Sub,
    Rsb,
    Mov,
    Mvn,
    Tst,
    Teq,
    Cmp,
    Cmn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitfieldOp {
    Sbfx,
    Ubfx,
    Bfi,
    Bfc,
}

/// SXTAB/UXTAH and friends: what is extracted from the rotated Rm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendKind {
    Sxth,
    Uxth,
    Sxtb16,
    Uxtb16,
    Sxtb,
    Uxtb,
}

/// The miscellaneous operations of A5.3.15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiscOp {
    Qadd,
    Qdadd,
    Qsub,
    Qdsub,
    Rev,
    Rev16,
    Rbit,
    Revsh,
    Sel,
    Clz,
}

/// Parallel addition and subtraction (A5.3.13, A5.3.14): the lane operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParOp {
    Add16,
    Asx,
    Sax,
    Sub16,
    Add8,
    Sub8,
}

/// Parallel addition and subtraction: plain (setting GE), saturating, or halving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParKind {
    Plain,
    Saturating,
    Halving,
}

/// Multiply and multiply-accumulate (A5.3.16), 32-bit results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MulOp {
    /// MLA (MUL when Ra is 15).
    Mla,
    Mls,
    /// SMLA<x><y> (SMUL<x><y> when Ra is 15): n_top, m_top select the halfwords.
    Smlaxy {
        n_top: bool,
        m_top: bool,
    },
    /// SMLAD/SMUAD (`sub` false) and SMLSD/SMUSD (`sub` true); `x` swaps Rm's halves.
    Smlad {
        x: bool,
        sub: bool,
    },
    /// SMLAW<y> / SMULW<y>.
    Smlawy {
        m_top: bool,
    },
    /// SMMLA/SMMUL (`sub` false) and SMMLS (`sub` true); `round` adds 0x80000000.
    Smmla {
        round: bool,
        sub: bool,
    },
    /// USADA8 / USAD8.
    Usada8,
}

/// Long multiply, multiply-accumulate and divide (A5.3.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongOp {
    Smull,
    Umull,
    Smlal,
    Umlal,
    Umaal,
    Smlalxy {
        n_top: bool,
        m_top: bool,
    },
    /// SMLALD (`sub` false) and SMLSLD (`sub` true).
    Smlald {
        x: bool,
        sub: bool,
    },
}

/// The addressing of a single load/store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    Imm(i32),
    /// Rm, LSL #shift (0-3).
    Reg {
        m: u8,
        shift: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusiveOp {
    Ldrex,
    Ldrexb,
    Ldrexh,
    Strex,
    Strexb,
    Strexh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barrier {
    Dmb,
    Dsb,
    Isb,
}

/// One decoded 32-bit instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insn32 {
    /// Data processing with a modified immediate or a shifted register (A5.3.1, A5.3.11).
    Dp {
        op: DpOp,
        s: bool,
        d: u8,
        n: u8,
        op2: Operand,
    },
    /// PKHBT/PKHTB (`tb`): Rd = halves of Rn and the shifted Rm.
    Pkh {
        tb: bool,
        d: u8,
        n: u8,
        m: u8,
        amount: u8,
    },
    /// ADDW/SUBW (imm12), ADR.W when Rn is 15.
    AddW {
        sub: bool,
        d: u8,
        n: u8,
        imm: u32,
    },
    MovW {
        d: u8,
        imm: u16,
    },
    MovT {
        d: u8,
        imm: u16,
    },
    /// SSAT/USAT Rd, #sat, Rn{, shift}; `sat` is the bit count (SSAT: 1-32, USAT: 0-31).
    Sat {
        unsigned: bool,
        d: u8,
        n: u8,
        sat: u8,
        shift: ShiftType,
        amount: u8,
    },
    /// SSAT16/USAT16.
    Sat16 {
        unsigned: bool,
        d: u8,
        n: u8,
        sat: u8,
    },
    /// SBFX/UBFX (lsb, width) and BFI/BFC (lsb, msb).
    Bitfield {
        op: BitfieldOp,
        d: u8,
        n: u8,
        lsb: u8,
        w: u8,
    },
    /// LSL/LSR/ASR/ROR Rd, Rn, Rm (register-specified amount).
    ShiftReg {
        shift: ShiftType,
        s: bool,
        d: u8,
        n: u8,
        m: u8,
    },
    /// SXTAH/UXTAB... (n: Rn, or 15 for the forms without addition).
    Extend {
        kind: ExtendKind,
        d: u8,
        n: u8,
        m: u8,
        rot: u8,
    },
    Parallel {
        op: ParOp,
        unsigned: bool,
        kind: ParKind,
        d: u8,
        n: u8,
        m: u8,
    },
    Misc {
        op: MiscOp,
        d: u8,
        n: u8,
        m: u8,
    },
    /// 32-bit multiplies; a = 15 means no accumulate (MUL, SMULBB, SMUAD...).
    Mul {
        op: MulOp,
        d: u8,
        n: u8,
        m: u8,
        a: u8,
    },
    MulLong {
        op: LongOp,
        lo: u8,
        hi: u8,
        n: u8,
        m: u8,
    },
    Div {
        signed: bool,
        d: u8,
        n: u8,
        m: u8,
    },
    /// LDR/STR (byte, halfword, word, signed) with immediate or register offset; `index`
    /// false is post-indexed; n = 15 is the literal form (immediate offset from Align(PC, 4)).
    Mem {
        op: MemOp,
        t: u8,
        n: u8,
        offset: Offset,
        index: bool,
        wback: bool,
    },
    /// PLD/PLI and the unallocated memory hints: no architectural effect.
    Preload,
    /// LDRD/STRD (immediate, and literal for LDRD when n = 15).
    Dual {
        load: bool,
        t: u8,
        t2: u8,
        n: u8,
        imm: i32,
        index: bool,
        wback: bool,
    },
    Exclusive {
        op: ExclusiveOp,
        d: u8,
        t: u8,
        n: u8,
        imm: u32,
    },
    Clrex,
    /// TBB/TBH [Rn, Rm].
    TableBranch {
        half: bool,
        n: u8,
        m: u8,
    },
    /// LDM/STM increment after (`db` false) or decrement before, PUSH.W/POP.W included.
    Multiple {
        load: bool,
        db: bool,
        n: u8,
        list: u16,
        wback: bool,
    },
    /// B<cond>.W (T3) and B.W (T4, cond 14); imm relative to PC + 4.
    Branch {
        cond: u8,
        imm: i32,
    },
    Bl {
        imm: i32,
    },
    Msr {
        n: u8,
        sysm: u8,
        mask: u8,
    },
    Mrs {
        d: u8,
        sysm: u8,
    },
    Barrier(Barrier),
    /// NOP.W, YIELD.W, WFE.W, WFI.W, SEV.W (the 16-bit hint numbering), DBG.
    Hint(u8),
    /// UDF.W, and encodings this core treats as UNDEFINED.
    Udf,
    Fp(FpInsn),
}

type Leaf = Option<(Insn32, &'static str)>;

struct Group {
    mask: u32,
    value: u32,
    decode: fn(u32) -> Leaf,
}

fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

fn bit(x: u32, n: u32) -> bool {
    (x >> n) & 1 == 1
}

fn reg(x: u32, lo: u32) -> u8 {
    bits(x, lo + 3, lo) as u8
}

fn sext(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((v << shift) as i32) >> shift
}

/// ThumbExpandImm_C (A5.3.2).
pub fn thumb_expand_imm(imm12: u32) -> (u32, Option<bool>) {
    let imm8 = imm12 & 0xFF;
    if imm12 >> 10 == 0 {
        let v = match (imm12 >> 8) & 3 {
            0 => imm8,
            1 => imm8 << 16 | imm8,
            2 => imm8 << 24 | imm8 << 8,
            _ => imm8 * 0x0101_0101,
        };
        (v, None)
    } else {
        let unrotated = 0x80 | (imm12 & 0x7F);
        let v = unrotated.rotate_right(imm12 >> 7);
        (v, Some(v >> 31 == 1))
    }
}

/// The data-processing opcodes shared by A5.3.1 and A5.3.11, with the Rd/Rn = 15 aliases.
fn dp_op(op: u32, d: u8, n: u8, s: bool) -> Option<(DpOp, &'static str)> {
    use DpOp::*;
    Some(match op {
        0b0000 if d == 15 && s => (Tst, "TST"),
        0b0000 => (And, "AND"),
        0b0001 => (Bic, "BIC"),
        0b0010 if n == 15 => (Mov, "MOV"),
        0b0010 => (Orr, "ORR"),
        0b0011 if n == 15 => (Mvn, "MVN"),
        0b0011 => (Orn, "ORN"),
        0b0100 if d == 15 && s => (Teq, "TEQ"),
        0b0100 => (Eor, "EOR"),
        0b1000 if d == 15 && s => (Cmn, "CMN"),
        0b1000 => (Add, "ADD"),
        0b1010 => (Adc, "ADC"),
        0b1011 => (Sbc, "SBC"),
        0b1101 if d == 15 && s => (Cmp, "CMP"),
        0b1101 => (Sub, "SUB"),
        0b1110 => (Rsb, "RSB"),
        _ => return None,
    })
}

/// A5.3.1 Data processing (modified immediate).
fn dp_modified_imm(x: u32) -> Leaf {
    let (d, n, s) = (reg(x, 8), reg(x, 16), bit(x, 20));
    let imm12 = (bits(x, 26, 26) << 11) | (bits(x, 14, 12) << 8) | bits(x, 7, 0);
    let (value, carry) = thumb_expand_imm(imm12);
    let (op, name) = dp_op(bits(x, 24, 21), d, n, s)?;
    Some((
        Insn32::Dp {
            op,
            s,
            d,
            n,
            op2: Operand::Imm { value, carry },
        },
        name,
    ))
}

/// A5.3.11 Data processing (shifted register).
fn dp_shifted_reg(x: u32) -> Leaf {
    let (d, n, m, s) = (reg(x, 8), reg(x, 16), reg(x, 0), bit(x, 20));
    let imm5 = (bits(x, 14, 12) << 2) | bits(x, 7, 6);
    let ty = bits(x, 5, 4);
    if bits(x, 24, 21) == 0b0110 {
        // PKHBT (tb = 0, LSL) / PKHTB (tb = 1, ASR; imm5 0 means 32).
        let tb = bit(x, 5);
        if s || bit(x, 4) {
            return None;
        }
        let amount = if tb && imm5 == 0 { 32 } else { imm5 as u8 };
        return Some((
            Insn32::Pkh {
                tb,
                d,
                n,
                m,
                amount,
            },
            if tb { "PKHTB" } else { "PKHBT" },
        ));
    }
    let (shift, amount) = decode_imm_shift(ty, imm5);
    let (op, name) = dp_op(bits(x, 24, 21), d, n, s)?;
    Some((
        Insn32::Dp {
            op,
            s,
            d,
            n,
            op2: Operand::Reg { m, shift, amount },
        },
        name,
    ))
}

/// A5.3.3 Data processing (plain binary immediate).
fn dp_plain_imm(x: u32) -> Leaf {
    let (d, n) = (reg(x, 8), reg(x, 16));
    let imm12 = (bits(x, 26, 26) << 11) | (bits(x, 14, 12) << 8) | bits(x, 7, 0);
    let imm16 = ((bits(x, 19, 16) << 12) | imm12) as u16;
    let lsb = ((bits(x, 14, 12) << 2) | bits(x, 7, 6)) as u8;
    let low5 = bits(x, 4, 0) as u8;
    Some(match bits(x, 24, 20) {
        0b00000 => (
            Insn32::AddW {
                sub: false,
                d,
                n,
                imm: imm12,
            },
            if n == 15 { "ADR.W (add)" } else { "ADDW" },
        ),
        0b01010 => (
            Insn32::AddW {
                sub: true,
                d,
                n,
                imm: imm12,
            },
            if n == 15 { "ADR.W (sub)" } else { "SUBW" },
        ),
        0b00100 => (Insn32::MovW { d, imm: imm16 }, "MOVW"),
        0b01100 => (Insn32::MovT { d, imm: imm16 }, "MOVT"),
        op @ (0b10000 | 0b10010 | 0b11000 | 0b11010) => {
            let unsigned = op & 0b01000 != 0;
            let sh = op & 0b00010 != 0;
            if sh && lsb == 0 {
                let sat = if unsigned {
                    low5 & 0xF
                } else {
                    (low5 & 0xF) + 1
                };
                return Some((
                    Insn32::Sat16 {
                        unsigned,
                        d,
                        n,
                        sat,
                    },
                    if unsigned { "USAT16" } else { "SSAT16" },
                ));
            }
            let (shift, amount) = decode_imm_shift(if sh { 2 } else { 0 }, lsb as u32);
            let sat = if unsigned { low5 } else { low5 + 1 };
            (
                Insn32::Sat {
                    unsigned,
                    d,
                    n,
                    sat,
                    shift,
                    amount,
                },
                if unsigned { "USAT" } else { "SSAT" },
            )
        }
        0b10100 => (
            Insn32::Bitfield {
                op: BitfieldOp::Sbfx,
                d,
                n,
                lsb,
                w: low5 + 1,
            },
            "SBFX",
        ),
        0b11100 => (
            Insn32::Bitfield {
                op: BitfieldOp::Ubfx,
                d,
                n,
                lsb,
                w: low5 + 1,
            },
            "UBFX",
        ),
        0b10110 if n == 15 => (
            Insn32::Bitfield {
                op: BitfieldOp::Bfc,
                d,
                n,
                lsb,
                w: low5,
            },
            "BFC",
        ),
        0b10110 => (
            Insn32::Bitfield {
                op: BitfieldOp::Bfi,
                d,
                n,
                lsb,
                w: low5,
            },
            "BFI",
        ),
        _ => return None,
    })
}

/// A5.3.4 Branches and miscellaneous control.
fn branch_misc(x: u32) -> Leaf {
    let op = bits(x, 26, 20);
    let op1 = bits(x, 14, 12);
    let s = bits(x, 26, 26);
    let (j1, j2) = (bits(x, 13, 13), bits(x, 11, 11));
    match op1 {
        0b000 | 0b010 => {
            if op & 0b0111000 != 0b0111000 {
                let imm = (s << 20)
                    | (j2 << 19)
                    | (j1 << 18)
                    | (bits(x, 21, 16) << 12)
                    | (bits(x, 10, 0) << 1);
                return Some((
                    Insn32::Branch {
                        cond: bits(x, 25, 22) as u8,
                        imm: sext(imm, 21),
                    },
                    "B<cond>.W",
                ));
            }
            if op1 == 0b010 && op == 0b1111111 {
                return Some((Insn32::Udf, "UDF.W"));
            }
            match op {
                0b0111000 | 0b0111001 => Some((
                    Insn32::Msr {
                        n: reg(x, 16),
                        sysm: bits(x, 7, 0) as u8,
                        mask: bits(x, 11, 10) as u8,
                    },
                    "MSR",
                )),
                0b0111010 => {
                    if bits(x, 10, 8) != 0 {
                        return None;
                    }
                    let hint = bits(x, 7, 0) as u8;
                    match hint {
                        0..=4 => Some((Insn32::Hint(hint), "hint.W")),
                        0xF0..=0xFF => Some((Insn32::Hint(0), "DBG")),
                        _ => Some((Insn32::Hint(0), "hint.W (NOP)")),
                    }
                }
                0b0111011 => match bits(x, 7, 4) {
                    0b0010 => Some((Insn32::Clrex, "CLREX")),
                    0b0100 => Some((Insn32::Barrier(Barrier::Dsb), "DSB")),
                    0b0101 => Some((Insn32::Barrier(Barrier::Dmb), "DMB")),
                    0b0110 => Some((Insn32::Barrier(Barrier::Isb), "ISB")),
                    _ => None,
                },
                0b0111110 | 0b0111111 => Some((
                    Insn32::Mrs {
                        d: reg(x, 8),
                        sysm: bits(x, 7, 0) as u8,
                    },
                    "MRS",
                )),
                _ => None,
            }
        }
        0b001 | 0b011 | 0b101 | 0b111 => {
            let i1 = !(j1 ^ s) & 1;
            let i2 = !(j2 ^ s) & 1;
            let imm = (s << 24)
                | (i1 << 23)
                | (i2 << 22)
                | (bits(x, 25, 16) << 12)
                | (bits(x, 10, 0) << 1);
            let imm = sext(imm, 25);
            if op1 & 0b100 != 0 {
                Some((Insn32::Bl { imm }, "BL"))
            } else {
                Some((Insn32::Branch { cond: 14, imm }, "B.W"))
            }
        }
        // BLX (immediate) does not exist on M profile.
        _ => None,
    }
}

/// A5.3.5 Load/store multiple.
fn load_store_multiple(x: u32) -> Leaf {
    let load = bit(x, 20);
    let wback = bit(x, 21);
    let n = reg(x, 16);
    let list = bits(x, 15, 0) as u16;
    let db = match bits(x, 24, 23) {
        0b01 => false,
        0b10 => true,
        _ => return None,
    };
    let name = match (load, db, n == 13 && wback) {
        (true, false, true) => "POP.W",
        (false, true, true) => "PUSH.W",
        (true, false, _) => "LDM.W",
        (true, true, _) => "LDMDB",
        (false, false, _) => "STM.W",
        (false, true, _) => "STMDB",
    };
    Some((
        Insn32::Multiple {
            load,
            db,
            n,
            list,
            wback,
        },
        name,
    ))
}

/// A5.3.6 Load/store dual or exclusive, table branch.
fn dual_exclusive_tb(x: u32) -> Leaf {
    let (n, t, t2) = (reg(x, 16), reg(x, 12), reg(x, 8));
    let (p, u, w, l) = (bit(x, 24), bit(x, 23), bit(x, 21), bit(x, 20));
    if !p && !w {
        let op3 = bits(x, 7, 4);
        return Some(match (u, l, op3) {
            (false, false, _) => (
                Insn32::Exclusive {
                    op: ExclusiveOp::Strex,
                    d: t2,
                    t,
                    n,
                    imm: bits(x, 7, 0) * 4,
                },
                "STREX",
            ),
            (false, true, _) => (
                Insn32::Exclusive {
                    op: ExclusiveOp::Ldrex,
                    d: 15,
                    t,
                    n,
                    imm: bits(x, 7, 0) * 4,
                },
                "LDREX",
            ),
            (true, false, 0b0100 | 0b0101) => {
                let half = op3 == 0b0101;
                (
                    Insn32::Exclusive {
                        op: if half {
                            ExclusiveOp::Strexh
                        } else {
                            ExclusiveOp::Strexb
                        },
                        d: reg(x, 0),
                        t,
                        n,
                        imm: 0,
                    },
                    if half { "STREXH" } else { "STREXB" },
                )
            }
            (true, true, 0b0000 | 0b0001) => {
                let half = op3 == 1;
                (
                    Insn32::TableBranch {
                        half,
                        n,
                        m: reg(x, 0),
                    },
                    if half { "TBH" } else { "TBB" },
                )
            }
            (true, true, 0b0100 | 0b0101) => {
                let half = op3 == 0b0101;
                (
                    Insn32::Exclusive {
                        op: if half {
                            ExclusiveOp::Ldrexh
                        } else {
                            ExclusiveOp::Ldrexb
                        },
                        d: 15,
                        t,
                        n,
                        imm: 0,
                    },
                    if half { "LDREXH" } else { "LDREXB" },
                )
            }
            _ => return None,
        });
    }
    let imm = (bits(x, 7, 0) * 4) as i32;
    Some((
        Insn32::Dual {
            load: l,
            t,
            t2,
            n,
            imm: if u { imm } else { -imm },
            index: p,
            wback: w,
        },
        if l { "LDRD" } else { "STRD" },
    ))
}

/// A5.3.7 to A5.3.10: single loads and stores (word, halfword, byte, signed), the literal
/// forms and the preload hints.
fn load_store_single(x: u32) -> Leaf {
    let signed = bit(x, 24);
    let l = bit(x, 20);
    let size = bits(x, 22, 21);
    let (n, t) = (reg(x, 16), reg(x, 12));
    let op = match (l, signed, size) {
        (false, false, 0) => MemOp::Strb,
        (false, false, 1) => MemOp::Strh,
        (false, false, 2) => MemOp::Str,
        (true, false, 0) => MemOp::Ldrb,
        (true, false, 1) => MemOp::Ldrh,
        (true, false, 2) => MemOp::Ldr,
        (true, true, 0) => MemOp::Ldrsb,
        (true, true, 1) => MemOp::Ldrsh,
        _ => return None,
    };
    let name: &'static str = match op {
        MemOp::Str => "STR.W",
        MemOp::Strh => "STRH.W",
        MemOp::Strb => "STRB.W",
        MemOp::Ldr => "LDR.W",
        MemOp::Ldrh => "LDRH.W",
        MemOp::Ldrb => "LDRB.W",
        MemOp::Ldrsb => "LDRSB",
        MemOp::Ldrsh => "LDRSH",
    };
    // Byte and halfword loads into PC are the preload hints (PLD, PLI, unallocated hints).
    let hint = l && t == 15 && op != MemOp::Ldr;
    let (offset, index, wback, name) = if n == 15 {
        if !l {
            return None;
        }
        let imm = bits(x, 11, 0) as i32;
        let imm = if bit(x, 23) { imm } else { -imm };
        (
            Offset::Imm(imm),
            true,
            false,
            if hint { "PLD (literal)" } else { name },
        )
    } else if bit(x, 23) {
        (Offset::Imm(bits(x, 11, 0) as i32), true, false, name)
    } else if bits(x, 11, 6) == 0 {
        (
            Offset::Reg {
                m: reg(x, 0),
                shift: bits(x, 5, 4) as u8,
            },
            true,
            false,
            name,
        )
    } else if bit(x, 11) {
        // imm8 with P, U, W (the unprivileged LDRT/STRT forms, P=1 U=1 W=0, run privileged).
        let imm = bits(x, 7, 0) as i32;
        let (p, u, w) = (bit(x, 10), bit(x, 9), bit(x, 8));
        if !p && !w {
            return None;
        }
        (Offset::Imm(if u { imm } else { -imm }), p, w, name)
    } else {
        return None;
    };
    if hint && !wback {
        return Some((Insn32::Preload, "PLD/PLI"));
    }
    Some((
        Insn32::Mem {
            op,
            t,
            n,
            offset,
            index,
            wback,
        },
        name,
    ))
}

/// A5.3.12 Data processing (register), with A5.3.13-A5.3.15.
fn dp_register(x: u32) -> Leaf {
    let (d, n, m) = (reg(x, 8), reg(x, 16), reg(x, 0));
    let op1 = bits(x, 23, 20);
    let op2 = bits(x, 7, 4);
    if op2 == 0 && op1 & 0b1000 == 0 {
        let shift = [
            ShiftType::Lsl,
            ShiftType::Lsr,
            ShiftType::Asr,
            ShiftType::Ror,
        ][(op1 >> 1) as usize];
        return Some((
            Insn32::ShiftReg {
                shift,
                s: op1 & 1 == 1,
                d,
                n,
                m,
            },
            "shift (register)",
        ));
    }
    if op2 & 0b1000 != 0 && op1 & 0b1000 == 0 {
        let (kind, name) = match op1 {
            0b0000 => (ExtendKind::Sxth, "SXTAH/SXTH.W"),
            0b0001 => (ExtendKind::Uxth, "UXTAH/UXTH.W"),
            0b0010 => (ExtendKind::Sxtb16, "SXTAB16/SXTB16"),
            0b0011 => (ExtendKind::Uxtb16, "UXTAB16/UXTB16"),
            0b0100 => (ExtendKind::Sxtb, "SXTAB/SXTB.W"),
            0b0101 => (ExtendKind::Uxtb, "UXTAB/UXTB.W"),
            _ => return None,
        };
        return Some((
            Insn32::Extend {
                kind,
                d,
                n,
                m,
                rot: (bits(x, 5, 4) * 8) as u8,
            },
            name,
        ));
    }
    if op1 & 0b1000 != 0 && op2 & 0b1000 == 0 {
        let op = match bits(x, 22, 20) {
            0b001 => ParOp::Add16,
            0b010 => ParOp::Asx,
            0b110 => ParOp::Sax,
            0b101 => ParOp::Sub16,
            0b000 => ParOp::Add8,
            0b100 => ParOp::Sub8,
            _ => return None,
        };
        let kind = match op2 & 3 {
            0 => ParKind::Plain,
            1 => ParKind::Saturating,
            2 => ParKind::Halving,
            _ => return None,
        };
        return Some((
            Insn32::Parallel {
                op,
                unsigned: op2 & 0b0100 != 0,
                kind,
                d,
                n,
                m,
            },
            "parallel add/sub",
        ));
    }
    if op1 & 0b1100 == 0b1000 && op2 & 0b1100 == 0b1000 {
        let (op, name) = match (op1 & 3, op2 & 3) {
            (0, 0) => (MiscOp::Qadd, "QADD"),
            (0, 1) => (MiscOp::Qdadd, "QDADD"),
            (0, 2) => (MiscOp::Qsub, "QSUB"),
            (0, 3) => (MiscOp::Qdsub, "QDSUB"),
            (1, 0) => (MiscOp::Rev, "REV.W"),
            (1, 1) => (MiscOp::Rev16, "REV16.W"),
            (1, 2) => (MiscOp::Rbit, "RBIT"),
            (1, 3) => (MiscOp::Revsh, "REVSH.W"),
            (2, 0) => (MiscOp::Sel, "SEL"),
            (3, 0) => (MiscOp::Clz, "CLZ"),
            _ => return None,
        };
        return Some((Insn32::Misc { op, d, n, m }, name));
    }
    None
}

/// A5.3.16 Multiply, multiply accumulate, and absolute difference.
fn multiply(x: u32) -> Leaf {
    let (a, d, n, m) = (reg(x, 12), reg(x, 8), reg(x, 16), reg(x, 0));
    let op2 = bits(x, 5, 4);
    let (op, name) = match (bits(x, 22, 20), op2) {
        (0, 0) => (MulOp::Mla, if a == 15 { "MUL.W" } else { "MLA" }),
        (0, 1) => (MulOp::Mls, "MLS"),
        (1, _) => (
            MulOp::Smlaxy {
                n_top: bit(x, 5),
                m_top: bit(x, 4),
            },
            if a == 15 { "SMUL<x><y>" } else { "SMLA<x><y>" },
        ),
        (2, 0 | 1) => (
            MulOp::Smlad {
                x: bit(x, 4),
                sub: false,
            },
            if a == 15 { "SMUAD" } else { "SMLAD" },
        ),
        (3, 0 | 1) => (
            MulOp::Smlawy { m_top: bit(x, 4) },
            if a == 15 { "SMULW<y>" } else { "SMLAW<y>" },
        ),
        (4, 0 | 1) => (
            MulOp::Smlad {
                x: bit(x, 4),
                sub: true,
            },
            if a == 15 { "SMUSD" } else { "SMLSD" },
        ),
        (5, 0 | 1) => (
            MulOp::Smmla {
                round: bit(x, 4),
                sub: false,
            },
            if a == 15 { "SMMUL" } else { "SMMLA" },
        ),
        (6, 0 | 1) => (
            MulOp::Smmla {
                round: bit(x, 4),
                sub: true,
            },
            "SMMLS",
        ),
        (7, 0) => (MulOp::Usada8, if a == 15 { "USAD8" } else { "USADA8" }),
        _ => return None,
    };
    Some((Insn32::Mul { op, d, n, m, a }, name))
}

/// A5.3.17 Long multiply, long multiply accumulate, and divide.
fn long_multiply(x: u32) -> Leaf {
    let (lo, hi, n, m) = (reg(x, 12), reg(x, 8), reg(x, 16), reg(x, 0));
    let op2 = bits(x, 7, 4);
    let long = |op, name| Some((Insn32::MulLong { op, lo, hi, n, m }, name));
    match (bits(x, 22, 20), op2) {
        (0, 0) => long(LongOp::Smull, "SMULL"),
        (1, 0b1111) => Some((
            Insn32::Div {
                signed: true,
                d: hi,
                n,
                m,
            },
            "SDIV",
        )),
        (2, 0) => long(LongOp::Umull, "UMULL"),
        (3, 0b1111) => Some((
            Insn32::Div {
                signed: false,
                d: hi,
                n,
                m,
            },
            "UDIV",
        )),
        (4, 0) => long(LongOp::Smlal, "SMLAL"),
        (4, 0b1000..=0b1011) => long(
            LongOp::Smlalxy {
                n_top: bit(x, 5),
                m_top: bit(x, 4),
            },
            "SMLAL<x><y>",
        ),
        (4, 0b1100 | 0b1101) => long(
            LongOp::Smlald {
                x: bit(x, 4),
                sub: false,
            },
            "SMLALD",
        ),
        (5, 0b1100 | 0b1101) => long(
            LongOp::Smlald {
                x: bit(x, 4),
                sub: true,
            },
            "SMLSLD",
        ),
        (6, 0) => long(LongOp::Umlal, "UMLAL"),
        (6, 0b0110) => long(LongOp::Umaal, "UMAAL"),
        _ => None,
    }
}

/// A5.3.18 Coprocessor instructions: only CP10/CP11 (the FPU) exist on the Cortex-M4F.
fn coprocessor(x: u32) -> Leaf {
    vfp_decode::decode(x).map(|(i, name)| (Insn32::Fp(i), name))
}

/// The groups of A5.3, most specific first (the first match wins).
#[rustfmt::skip]
static GROUPS: &[Group] = &[
    Group { mask: 0xFE40_0000, value: 0xE800_0000, decode: load_store_multiple },
    Group { mask: 0xFE40_0000, value: 0xE840_0000, decode: dual_exclusive_tb },
    Group { mask: 0xFE00_0000, value: 0xEA00_0000, decode: dp_shifted_reg },
    Group { mask: 0xEC00_0000, value: 0xEC00_0000, decode: coprocessor },
    Group { mask: 0xFA00_8000, value: 0xF000_0000, decode: dp_modified_imm },
    Group { mask: 0xFA00_8000, value: 0xF200_0000, decode: dp_plain_imm },
    Group { mask: 0xF800_8000, value: 0xF000_8000, decode: branch_misc },
    Group { mask: 0xFE00_0000, value: 0xF800_0000, decode: load_store_single },
    Group { mask: 0xFF00_F000, value: 0xFA00_F000, decode: dp_register },
    Group { mask: 0xFF80_00C0, value: 0xFB00_0000, decode: multiply },
    Group { mask: 0xFF80_0000, value: 0xFB80_0000, decode: long_multiply },
];

/// Decode a 32-bit instruction (`x` = first halfword << 16 | second halfword).
pub fn decode(x: u32) -> Option<(Insn32, &'static str)> {
    GROUPS
        .iter()
        .find(|g| x & g.mask == g.value)
        .and_then(|g| (g.decode)(x))
}
