//! The 32-bit decoder against the ARM ARM's encodings: each row is an instruction assembled by
//! LLVM's Thumb-2 assembler (llvm-mc -triple=thumbv7em-none-eabihf -mattr=+dsp,+vfp4d16sp;
//! the source line is the comment) and the name of the ARMv7-M ARM encoding it must decode to.

use super::decode::{decode, Insn};
use super::decode32::{decode_imm_shift, thumb_expand_imm, Insn32, ShiftType};

#[rustfmt::skip]
static ENCODINGS: &[(u16, u16, &str)] = &[
    (0xF001, 0x20FF, "AND"), // and.w r0, r1, #0xFF00FF00
    (0xF412, 0x7F80, "TST"), // tst.w r2, #0x100
    (0xF024, 0x0301, "BIC"), // bic r3, r4, #1
    (0xF046, 0x4500, "ORR"), // orr r5, r6, #0x80000000
    (0xF44F, 0x77FF, "MOV"), // mov.w r7, #0x1FE
    (0xF069, 0x0803, "ORN"), // orn r8, r9, #3
    (0xF06F, 0x0A00, "MVN"), // mvn r10, #0
    (0xF08C, 0x0BAB, "EOR"), // eor r11, r12, #0xAB
    (0xF091, 0x0F01, "TEQ"), // teq r1, #1
    (0xF502, 0x6180, "ADD"), // add.w r1, r2, #0x400
    (0xF113, 0x0F01, "CMN"), // cmn.w r3, #1
    (0xF145, 0x0402, "ADC"), // adc r4, r5, #2
    (0xF167, 0x0602, "SBC"), // sbc r6, r7, #2
    (0xF1A9, 0x0804, "SUB"), // sub.w r8, r9, #4
    (0xF5BA, 0x5F80, "CMP"), // cmp.w r10, #0x1000
    (0xF1CC, 0x0B00, "RSB"), // rsb r11, r12, #0
    (0xEA11, 0x00C2, "AND"), // ands.w r0, r1, r2, lsl #3
    (0xEB11, 0x70E2, "ADD"), // adds.w r0, r1, r2, asr #31
    (0xEBA1, 0x2032, "SUB"), // sub.w r0, r1, r2, ror #8
    (0xEA4F, 0x0031, "MOV"), // mov.w r0, r1, rrx
    (0xEA4F, 0x0001, "MOV"), // mov.w r0, r1
    (0xEA4F, 0x00C1, "MOV"), // lsl.w r0, r1, #3
    (0xEAC1, 0x4002, "PKHBT"), // pkhbt r0, r1, r2, lsl #16
    (0xEAC1, 0x4022, "PKHTB"), // pkhtb r0, r1, r2, asr #16
    (0xF601, 0x70FF, "ADDW"), // addw r0, r1, #0xFFF
    (0xF2A1, 0x1023, "SUBW"), // subw r0, r1, #0x123
    (0xF20F, 0x00FC, "ADR.W (add)"), // adr.w r0, .+0x100
    (0xF64B, 0x60EF, "MOVW"), // movw r0, #0xBEEF
    (0xF6CD, 0x60AD, "MOVT"), // movt r0, #0xDEAD
    (0xF301, 0x0007, "SSAT"), // ssat r0, #8, r1
    (0xF381, 0x0088, "USAT"), // usat r0, #8, r1, lsl #2
    (0xF321, 0x0007, "SSAT16"), // ssat16 r0, #8, r1
    (0xF3A1, 0x0008, "USAT16"), // usat16 r0, #8, r1
    (0xF341, 0x1007, "SBFX"), // sbfx r0, r1, #4, #8
    (0xF3C1, 0x1007, "UBFX"), // ubfx r0, r1, #4, #8
    (0xF361, 0x200B, "BFI"), // bfi r0, r1, #8, #4
    (0xF36F, 0x200B, "BFC"), // bfc r0, #8, #4
    (0xF7FE, 0xBFFE, "B.W"), // b.w .-0x1000
    (0xF000, 0xFFFE, "BL"), // bl .+0x1000
    (0xF380, 0x8810, "MSR"), // msr PRIMASK, r0
    (0xF381, 0x8812, "MSR"), // msr BASEPRI_MAX, r1
    (0xF382, 0x8814, "MSR"), // msr CONTROL, r2
    (0xF383, 0x8800, "MSR"), // msr APSR_nzcvq, r3
    (0xF3EF, 0x8010, "MRS"), // mrs r0, PRIMASK
    (0xF3EF, 0x8108, "MRS"), // mrs r1, MSP
    (0xF3EF, 0x8203, "MRS"), // mrs r2, xPSR
    (0xF3AF, 0x8000, "hint.W"), // nop.w
    (0xF3AF, 0x8002, "hint.W"), // wfe.w
    (0xF3AF, 0x8003, "hint.W"), // wfi.w
    (0xF3AF, 0x8004, "hint.W"), // sev.w
    (0xF3BF, 0x8F5F, "DMB"), // dmb sy
    (0xF3BF, 0x8F4F, "DSB"), // dsb sy
    (0xF3BF, 0x8F6F, "ISB"), // isb sy
    (0xF3BF, 0x8F2F, "CLREX"), // clrex
    (0xF7F0, 0xA000, "UDF.W"), // udf.w #0
    (0xE8A0, 0x000E, "STM.W"), // stmia.w r0!, {r1, r2, r3}
    (0xE8B0, 0x000E, "LDM.W"), // ldmia.w r0!, {r1, r2, r3}
    (0xE92D, 0x4FF0, "PUSH.W"), // push.w {r4-r11, lr}
    (0xE8BD, 0x8FF0, "POP.W"), // pop.w {r4-r11, pc}
    (0xE900, 0x0006, "STMDB"), // stmdb r0, {r1, r2}
    (0xE930, 0x0006, "LDMDB"), // ldmdb r0!, {r1, r2}
    (0xE842, 0x1001, "STREX"), // strex r0, r1, [r2, #4]
    (0xE852, 0x1F01, "LDREX"), // ldrex r1, [r2, #4]
    (0xE8C2, 0x1F40, "STREXB"), // strexb r0, r1, [r2]
    (0xE8C2, 0x1F50, "STREXH"), // strexh r0, r1, [r2]
    (0xE8D2, 0x1F4F, "LDREXB"), // ldrexb r1, [r2]
    (0xE8D2, 0x1F5F, "LDREXH"), // ldrexh r1, [r2]
    (0xE8D0, 0xF001, "TBB"), // tbb [r0, r1]
    (0xE8D0, 0xF011, "TBH"), // tbh [r0, r1, lsl #1]
    (0xE9C2, 0x0102, "STRD"), // strd r0, r1, [r2, #8]
    (0xE972, 0x0102, "LDRD"), // ldrd r0, r1, [r2, #-8]!
    (0xE8F2, 0x0102, "LDRD"), // ldrd r0, r1, [r2], #8
    (0xE9DF, 0x0104, "LDRD"), // ldrd r0, r1, [pc, #16]
    (0xF8D1, 0x0FFF, "LDR.W"), // ldr.w r0, [r1, #0xFFF]
    (0xF851, 0x0C04, "LDR.W"), // ldr r0, [r1, #-4]
    (0xF851, 0x0F04, "LDR.W"), // ldr r0, [r1, #4]!
    (0xF851, 0x0904, "LDR.W"), // ldr r0, [r1], #-4
    (0xF851, 0x0022, "LDR.W"), // ldr.w r0, [r1, r2, lsl #2]
    (0xF85F, 0x0008, "LDR.W"), // ldr.w r0, [pc, #-8]
    (0xF891, 0x0001, "LDRB.W"), // ldrb.w r0, [r1, #1]
    (0xF991, 0x0001, "LDRSB"), // ldrsb.w r0, [r1, #1]
    (0xF8B1, 0x0002, "LDRH.W"), // ldrh.w r0, [r1, #2]
    (0xF9B1, 0x0002, "LDRSH"), // ldrsh.w r0, [r1, #2]
    (0xF931, 0x0C02, "LDRSH"), // ldrsh r0, [r1, #-2]
    (0xF881, 0x0001, "STRB.W"), // strb.w r0, [r1, #1]
    (0xF8A1, 0x0002, "STRH.W"), // strh.w r0, [r1, #2]
    (0xF8C1, 0x0004, "STR.W"), // str.w r0, [r1, #4]
    (0xF84D, 0x0D04, "STR.W"), // str r0, [sp, #-4]!
    (0xF801, 0x0012, "STRB.W"), // strb r0, [r1, r2, lsl #1]
    (0xF890, 0xF004, "PLD/PLI"), // pld [r0, #4]
    (0xF990, 0xF004, "PLD/PLI"), // pli [r0, #4]
    (0xF851, 0x0E04, "LDR.W"), // ldrt r0, [r1, #4]
    (0xF85D, 0xFB04, "LDR.W"), // ldr.w pc, [sp], #4
    (0xFA01, 0xF002, "shift (register)"), // lsl.w r0, r1, r2
    (0xFA31, 0xF002, "shift (register)"), // lsrs.w r0, r1, r2
    (0xFA41, 0xF002, "shift (register)"), // asr.w r0, r1, r2
    (0xFA61, 0xF002, "shift (register)"), // ror.w r0, r1, r2
    (0xFA01, 0xF082, "SXTAH/SXTH.W"), // sxtah r0, r1, r2
    (0xFA0F, 0xF091, "SXTAH/SXTH.W"), // sxth.w r0, r1, ror #8
    (0xFA11, 0xF082, "UXTAH/UXTH.W"), // uxtah r0, r1, r2
    (0xFA1F, 0xF081, "UXTAH/UXTH.W"), // uxth.w r0, r1
    (0xFA21, 0xF082, "SXTAB16/SXTB16"), // sxtab16 r0, r1, r2
    (0xFA3F, 0xF081, "UXTAB16/UXTB16"), // uxtb16 r0, r1
    (0xFA41, 0xF082, "SXTAB/SXTB.W"), // sxtab r0, r1, r2
    (0xFA4F, 0xF081, "SXTAB/SXTB.W"), // sxtb.w r0, r1
    (0xFA51, 0xF0A2, "UXTAB/UXTB.W"), // uxtab r0, r1, r2, ror #16
    (0xFA5F, 0xF081, "UXTAB/UXTB.W"), // uxtb.w r0, r1
    (0xFA91, 0xF002, "parallel add/sub"), // sadd16 r0, r1, r2
    (0xFA91, 0xF012, "parallel add/sub"), // qadd16 r0, r1, r2
    (0xFA91, 0xF022, "parallel add/sub"), // shadd16 r0, r1, r2
    (0xFA81, 0xF042, "parallel add/sub"), // uadd8 r0, r1, r2
    (0xFAC1, 0xF052, "parallel add/sub"), // uqsub8 r0, r1, r2
    (0xFA81, 0xF062, "parallel add/sub"), // uhadd8 r0, r1, r2
    (0xFAA1, 0xF002, "parallel add/sub"), // sasx r0, r1, r2
    (0xFAE1, 0xF002, "parallel add/sub"), // ssax r0, r1, r2
    (0xFAD1, 0xF042, "parallel add/sub"), // usub16 r0, r1, r2
    (0xFAC1, 0xF002, "parallel add/sub"), // ssub8 r0, r1, r2
    (0xFA82, 0xF081, "QADD"), // qadd r0, r1, r2
    (0xFA82, 0xF091, "QDADD"), // qdadd r0, r1, r2
    (0xFA82, 0xF0A1, "QSUB"), // qsub r0, r1, r2
    (0xFA82, 0xF0B1, "QDSUB"), // qdsub r0, r1, r2
    (0xFA91, 0xF081, "REV.W"), // rev.w r0, r1
    (0xFA91, 0xF091, "REV16.W"), // rev16.w r0, r1
    (0xFA91, 0xF0A1, "RBIT"), // rbit r0, r1
    (0xFA91, 0xF0B1, "REVSH.W"), // revsh.w r0, r1
    (0xFAA1, 0xF082, "SEL"), // sel r0, r1, r2
    (0xFAB1, 0xF081, "CLZ"), // clz r0, r1
    (0xFB01, 0x3002, "MLA"), // mla r0, r1, r2, r3
    (0xFB01, 0xF002, "MUL.W"), // mul r0, r1, r2
    (0xFB01, 0x3012, "MLS"), // mls r0, r1, r2, r3
    (0xFB11, 0x3002, "SMLA<x><y>"), // smlabb r0, r1, r2, r3
    (0xFB11, 0xF022, "SMUL<x><y>"), // smultb r0, r1, r2
    (0xFB21, 0x3002, "SMLAD"), // smlad r0, r1, r2, r3
    (0xFB21, 0xF012, "SMUAD"), // smuadx r0, r1, r2
    (0xFB31, 0x3002, "SMLAW<y>"), // smlawb r0, r1, r2, r3
    (0xFB31, 0xF012, "SMULW<y>"), // smulwt r0, r1, r2
    (0xFB41, 0x3002, "SMLSD"), // smlsd r0, r1, r2, r3
    (0xFB41, 0xF002, "SMUSD"), // smusd r0, r1, r2
    (0xFB51, 0x3002, "SMMLA"), // smmla r0, r1, r2, r3
    (0xFB51, 0xF012, "SMMUL"), // smmulr r0, r1, r2
    (0xFB61, 0x3002, "SMMLS"), // smmls r0, r1, r2, r3
    (0xFB71, 0x3002, "USADA8"), // usada8 r0, r1, r2, r3
    (0xFB71, 0xF002, "USAD8"), // usad8 r0, r1, r2
    (0xFB82, 0x0103, "SMULL"), // smull r0, r1, r2, r3
    (0xFB91, 0xF0F2, "SDIV"), // sdiv r0, r1, r2
    (0xFBA2, 0x0103, "UMULL"), // umull r0, r1, r2, r3
    (0xFBB1, 0xF0F2, "UDIV"), // udiv r0, r1, r2
    (0xFBC2, 0x0103, "SMLAL"), // smlal r0, r1, r2, r3
    (0xFBC2, 0x0193, "SMLAL<x><y>"), // smlalbt r0, r1, r2, r3
    (0xFBC2, 0x01C3, "SMLALD"), // smlald r0, r1, r2, r3
    (0xFBD2, 0x01C3, "SMLSLD"), // smlsld r0, r1, r2, r3
    (0xFBE2, 0x0103, "UMLAL"), // umlal r0, r1, r2, r3
    (0xFBE2, 0x0163, "UMAAL"), // umaal r0, r1, r2, r3
    (0xED90, 0x0A01, "VLDR"), // vldr s0, [r0, #4]
    (0xED11, 0x8B02, "VLDR"), // vldr d8, [r1, #-8]
    (0xEDCD, 0xFAFF, "VSTR"), // vstr s31, [sp, #1020]
    (0xED9F, 0x1A02, "VLDR"), // vldr s2, [pc, #8]
    (0xED2D, 0x8A10, "VPUSH"), // vpush {s16-s31}
    (0xECBD, 0x8A10, "VPOP"), // vpop {s16-s31}
    (0xED2D, 0x8B10, "VPUSH"), // vpush {d8-d15}
    (0xECB0, 0x0A04, "VLDM"), // vldmia r0!, {s0-s3}
    (0xEC80, 0x2A02, "VSTM"), // vstmia r0, {s4-s5}
    (0xED21, 0x0A01, "VSTM"), // vstmdb r1!, {s0}
    (0xEE10, 0x0A90, "VMOV (core and S)"), // vmov r0, s1
    (0xEE01, 0x3A10, "VMOV (core and S)"), // vmov s2, r3
    (0xEC51, 0x0A11, "VMOV (two core registers)"), // vmov r0, r1, s2, s3
    (0xEC43, 0x2A12, "VMOV (two core registers)"), // vmov s4, s5, r2, r3
    (0xEC51, 0x0B10, "VMOV (two core registers)"), // vmov r0, r1, d0
    (0xEC43, 0x2B11, "VMOV (two core registers)"), // vmov d1, r2, r3
    (0xEE31, 0x0B10, "VMOV (core and scalar)"), // vmov.32 r0, d1[1]
    (0xEE02, 0x1B10, "VMOV (core and scalar)"), // vmov.32 d2[0], r1
    (0xEEF1, 0x0A10, "VMRS"), // vmrs r0, fpscr
    (0xEEF1, 0xFA10, "VMRS"), // vmrs APSR_nzcv, fpscr
    (0xEEE1, 0x1A10, "VMSR"), // vmsr fpscr, r1
    (0xEE30, 0x0A81, "VADD"), // vadd.f32 s0, s1, s2
    (0xEE30, 0x0AC1, "VSUB"), // vsub.f32 s0, s1, s2
    (0xEE62, 0x1A22, "VMUL"), // vmul.f32 s3, s4, s5
    (0xEE62, 0x1A62, "VNMUL"), // vnmul.f32 s3, s4, s5
    (0xEE83, 0x3A84, "VDIV"), // vdiv.f32 s6, s7, s8
    (0xEE00, 0x0A81, "VMLA"), // vmla.f32 s0, s1, s2
    (0xEE00, 0x0AC1, "VMLS"), // vmls.f32 s0, s1, s2
    (0xEE10, 0x0AC1, "VNMLA"), // vnmla.f32 s0, s1, s2
    (0xEE10, 0x0A81, "VNMLS"), // vnmls.f32 s0, s1, s2
    (0xEEA0, 0x0A81, "VFMA"), // vfma.f32 s0, s1, s2
    (0xEEA0, 0x0AC1, "VFMS"), // vfms.f32 s0, s1, s2
    (0xEE90, 0x0AC1, "VFNMA"), // vfnma.f32 s0, s1, s2
    (0xEE90, 0x0A81, "VFNMS"), // vfnms.f32 s0, s1, s2
    (0xEEB7, 0x0A00, "VMOV (immediate)"), // vmov.f32 s0, #1.0
    (0xEEB0, 0x0A60, "VMOV (register)"), // vmov.f32 s0, s1
    (0xEEB0, 0x0AE0, "VABS"), // vabs.f32 s0, s1
    (0xEEB1, 0x0A60, "VNEG"), // vneg.f32 s0, s1
    (0xEEB1, 0x0AE0, "VSQRT"), // vsqrt.f32 s0, s1
    (0xEEB4, 0x0A60, "VCMP"), // vcmp.f32 s0, s1
    (0xEEB4, 0x0AE0, "VCMP"), // vcmpe.f32 s0, s1
    (0xEEB5, 0x0A40, "VCMP (zero)"), // vcmp.f32 s0, #0
    (0xEEB8, 0x0AE0, "VCVT.F32.<int>"), // vcvt.f32.s32 s0, s1
    (0xEEB8, 0x0A60, "VCVT.F32.<int>"), // vcvt.f32.u32 s0, s1
    (0xEEBD, 0x0AE0, "VCVT.<int>.F32"), // vcvt.s32.f32 s0, s1
    (0xEEBC, 0x0AE0, "VCVT.<int>.F32"), // vcvt.u32.f32 s0, s1
    (0xEEBD, 0x0A60, "VCVT.<int>.F32"), // vcvtr.s32.f32 s0, s1
    (0xEEBE, 0x0AC8, "VCVT (fixed point)"), // vcvt.s32.f32 s0, s0, #16
    (0xEEBB, 0x0A44, "VCVT (fixed point)"), // vcvt.f32.u16 s0, s0, #8
    (0xEEB2, 0x0A60, "VCVTB/VCVTT"), // vcvtb.f32.f16 s0, s1
    (0xEEB3, 0x0AE0, "VCVTB/VCVTT"), // vcvtt.f16.f32 s0, s1
];

#[test]
fn every_encoding_decodes_to_its_arm_arm_name() {
    let mut wrong = Vec::new();
    for &(hw1, hw2, name) in ENCODINGS {
        let d = decode(hw1, hw2);
        if d.name != name || d.size != 4 || d.insn == Insn::Undefined {
            wrong.push(format!("{hw1:04X} {hw2:04X}: {} (want {name})", d.name));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn thumb_expand_imm_follows_a5_3_2() {
    assert_eq!(thumb_expand_imm(0x0AB), (0xAB, None));
    assert_eq!(thumb_expand_imm(0x1AB), (0x00AB_00AB, None));
    assert_eq!(thumb_expand_imm(0x2AB), (0xAB00_AB00, None));
    assert_eq!(thumb_expand_imm(0x3AB), (0xABAB_ABAB, None));
    // Rotations: 1:imm7 rotated right by imm12<11:7>; carry = bit 31.
    assert_eq!(thumb_expand_imm(0x400), (0x8000_0000, Some(true)));
    assert_eq!(thumb_expand_imm(0x47F), (0xFF00_0000, Some(true)));
    assert_eq!(thumb_expand_imm(0x4FF), (0x7F80_0000, Some(false)));
    assert_eq!(thumb_expand_imm(0xFFF), (0x0000_01FE, Some(false)));
}

#[test]
fn decode_imm_shift_follows_a7_4_2() {
    assert_eq!(decode_imm_shift(0, 0), (ShiftType::Lsl, 0));
    assert_eq!(decode_imm_shift(1, 0), (ShiftType::Lsr, 32));
    assert_eq!(decode_imm_shift(2, 0), (ShiftType::Asr, 32));
    assert_eq!(decode_imm_shift(3, 0), (ShiftType::Rrx, 1));
    assert_eq!(decode_imm_shift(3, 8), (ShiftType::Ror, 8));
}

#[test]
fn fields_of_representative_encodings() {
    let t32 = |hw1, hw2| match decode(hw1, hw2).insn {
        Insn::T32(i) => i,
        other => panic!("{hw1:04X} {hw2:04X}: {other:?}"),
    };
    // ldrd r0, r1, [r2, #-8]!
    assert_eq!(
        t32(0xE972, 0x0102),
        Insn32::Dual {
            load: true,
            t: 0,
            t2: 1,
            n: 2,
            imm: -8,
            index: true,
            wback: true
        }
    );
    // ldr r0, [r1], #-4
    assert!(matches!(
        t32(0xF851, 0x0B04),
        Insn32::Mem {
            t: 0,
            n: 1,
            index: false,
            wback: true,
            ..
        }
    ));
    // push.w {r4-r11, lr}
    assert_eq!(
        t32(0xE92D, 0x4FF0),
        Insn32::Multiple {
            load: false,
            db: true,
            n: 13,
            list: 0x4FF0,
            wback: true
        }
    );
    // bl with imm = 8
    assert_eq!(decode(0xF000, 0xF804).insn, Insn::Bl { imm: 8 });
    // b.w back 4 bytes (to itself).
    assert_eq!(t32(0xF7FF, 0xBFFE), Insn32::Branch { cond: 14, imm: -4 });
    // movw r0, #0xBEEF
    assert_eq!(t32(0xF64B, 0x60EF), Insn32::MovW { d: 0, imm: 0xBEEF });
}
