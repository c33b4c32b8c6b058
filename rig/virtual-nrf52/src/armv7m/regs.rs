//! The ARMv7-M register file (ARMv7-M ARM, B1.4): R0-R12, the banked SP (MSP/PSP), LR, PC,
//! xPSR (APSR flags, IPSR, EPSR T bit), the special registers, and the FPv4-SP bank of a
//! Cortex-M4F (S0-S31, FPSCR).

/// APSR flag bits.
#[allow(dead_code)] // the whole flag set, as B1.4.2 lists it; Q is never set by the model
pub mod psr {
    pub const N: u32 = 1 << 31;
    pub const Z: u32 = 1 << 30;
    pub const C: u32 = 1 << 29;
    pub const V: u32 = 1 << 28;
    pub const Q: u32 = 1 << 27;
    /// EPSR.T: Thumb state (must be 1 on M profile; 0 faults with INVSTATE).
    pub const T: u32 = 1 << 24;
    pub const IPSR_MASK: u32 = 0x1FF;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regs {
    /// R0-R15; r\[13\] is the SP of the current stack (the banked copy lives in msp/psp).
    pub r: [u32; 16],
    pub xpsr: u32,
    pub msp: u32,
    pub psp: u32,
    /// CONTROL: nPRIV bit 0, SPSEL bit 1, FPCA bit 2.
    pub control: u32,
    pub primask: u32,
    pub faultmask: u32,
    pub basepri: u32,
    pub s: [u32; 32],
    pub fpscr: u32,
    /// The local exclusive monitor is in the Exclusive Access state (LDREX was executed; STREX,
    /// CLREX and exception entry or return clear it; the Cortex-M4's monitor does not compare
    /// addresses).
    pub monitor: bool,
}

impl Default for Regs {
    fn default() -> Self {
        Regs {
            r: [0; 16],
            xpsr: psr::T,
            msp: 0,
            psp: 0,
            control: 0,
            primask: 0,
            faultmask: 0,
            basepri: 0,
            s: [0; 32],
            fpscr: 0,
            monitor: false,
        }
    }
}

impl Regs {
    pub fn pc(&self) -> u32 {
        self.r[15]
    }

    pub fn flag(&self, bit: u32) -> bool {
        self.xpsr & bit != 0
    }

    pub fn set_flag(&mut self, bit: u32, on: bool) {
        if on {
            self.xpsr |= bit;
        } else {
            self.xpsr &= !bit;
        }
    }

    /// ITSTATE (EPSR.IT): bits 7:2 live in xPSR 15:10, bits 1:0 in xPSR 26:25 (B1.4.2).
    pub fn itstate(&self) -> u8 {
        (((self.xpsr >> 25) & 3) | (((self.xpsr >> 10) & 0x3F) << 2)) as u8
    }

    pub fn set_itstate(&mut self, it: u8) {
        let it = it as u32;
        self.xpsr = (self.xpsr & !0x0600_FC00) | ((it & 3) << 25) | (((it >> 2) & 0x3F) << 10);
    }

    /// N and Z from a result.
    pub fn set_nz(&mut self, v: u32) {
        self.set_flag(psr::N, v & 0x8000_0000 != 0);
        self.set_flag(psr::Z, v == 0);
    }

    /// Whether the current SP is the PSP (thread mode with CONTROL.SPSEL).
    fn on_psp(&self) -> bool {
        self.control & 2 != 0 && self.xpsr & psr::IPSR_MASK == 0
    }

    /// Move r13 into its bank (before the bank changes or is read by the debugger).
    pub fn sync_sp_out(&mut self) {
        if self.on_psp() {
            self.psp = self.r[13];
        } else {
            self.msp = self.r[13];
        }
    }

    /// Load r13 from the bank now in use.
    pub fn sync_sp_in(&mut self) {
        self.r[13] = if self.on_psp() { self.psp } else { self.msp };
    }

    /// Reset values (B1.5.5 TakeReset): SP_main from the vector table word 0, PC from word 1,
    /// EPSR.T from bit 0 of the reset vector, LR = 0xFFFFFFFF, everything else 0.
    pub fn reset(vector_sp: u32, vector_pc: u32) -> Regs {
        let mut r = Regs {
            msp: vector_sp & !3,
            xpsr: if vector_pc & 1 == 1 { psr::T } else { 0 },
            ..Regs::default()
        };
        r.r[13] = r.msp;
        r.r[14] = 0xFFFF_FFFF;
        r.r[15] = vector_pc & !1;
        r
    }

    /// DCRSR.REGSEL read (ARMv7-M ARM C1.6.3): 0-12 R0-R12, 13 SP, 14 LR, 15 DebugReturnAddress,
    /// 16 xPSR, 17 MSP, 18 PSP, 20 CONTROL/FAULTMASK/BASEPRI/PRIMASK, 33 FPSCR, 64-95 S0-S31.
    pub fn debug_read(&mut self, sel: u32) -> Option<u32> {
        self.sync_sp_out();
        Some(match sel {
            0..=15 => self.r[sel as usize],
            16 => self.xpsr,
            17 => self.msp,
            18 => self.psp,
            20 => {
                (self.control & 7) << 24
                    | (self.faultmask & 1) << 16
                    | (self.basepri & 0xFF) << 8
                    | (self.primask & 1)
            }
            33 => self.fpscr,
            64..=95 => self.s[(sel - 64) as usize],
            _ => return None,
        })
    }

    pub fn debug_write(&mut self, sel: u32, v: u32) -> bool {
        self.sync_sp_out();
        match sel {
            0..=12 | 14 => self.r[sel as usize] = v,
            13 => {
                self.r[13] = v & !3;
                self.sync_sp_out();
            }
            15 => self.r[15] = v & !1,
            16 => self.xpsr = v,
            17 => self.msp = v & !3,
            18 => self.psp = v & !3,
            20 => {
                self.control = (v >> 24) & 7;
                self.faultmask = (v >> 16) & 1;
                self.basepri = (v >> 8) & 0xFF;
                self.primask = v & 1;
            }
            33 => self.fpscr = v & 0xF7C0_009F,
            64..=95 => self.s[(sel - 64) as usize] = v,
            _ => return false,
        }
        self.sync_sp_in();
        true
    }
}
