//! The System Control Space and the debug components as registers: CPUID, AIRCR, the fault
//! status registers, DHCSR/DCRSR/DCRDR/DEMCR (ARMv7-M ARM C1.6), the FPB (C1.11) and DWT (C1.8).
//! DHCSR and DCRSR need the register file and the run state, so the device handles those two;
//! everything else lives here.

/// Addresses (ARMv7-M ARM B3.2.2, C1.6, C1.8, C1.11).
pub mod addr {
    pub const CPUID: u32 = 0xE000_ED00;
    pub const VTOR: u32 = 0xE000_ED08;
    pub const AIRCR: u32 = 0xE000_ED0C;
    pub const SCR: u32 = 0xE000_ED10;
    pub const CCR: u32 = 0xE000_ED14;
    pub const SHCSR: u32 = 0xE000_ED24;
    pub const CFSR: u32 = 0xE000_ED28;
    pub const HFSR: u32 = 0xE000_ED2C;
    pub const DFSR: u32 = 0xE000_ED30;
    pub const MMFAR: u32 = 0xE000_ED34;
    pub const BFAR: u32 = 0xE000_ED38;
    pub const CPACR: u32 = 0xE000_ED88;
    pub const DHCSR: u32 = 0xE000_EDF0;
    pub const DCRSR: u32 = 0xE000_EDF4;
    pub const DCRDR: u32 = 0xE000_EDF8;
    pub const DEMCR: u32 = 0xE000_EDFC;
    pub const MVFR0: u32 = 0xE000_EF40;
    pub const MVFR1: u32 = 0xE000_EF44;
    pub const FP_CTRL: u32 = 0xE000_2000;
    pub const FP_REMAP: u32 = 0xE000_2004;
    pub const FP_COMP0: u32 = 0xE000_2008;
    pub const DWT_CTRL: u32 = 0xE000_1000;
    pub const DWT_CYCCNT: u32 = 0xE000_1004;
}

/// Cortex-M4 r0p1 (Cortex-M4 TRM 4.3.1): implementer 0x41, variant 0, PARTNO 0xC24, rev 1.
pub const CPUID_VALUE: u32 = 0x410F_C241;
/// FPv4-SP (Cortex-M4 TRM 7.3): single precision, FPSCR, divide and square root...
pub const MVFR0_VALUE: u32 = 0x1011_0021;
pub const MVFR1_VALUE: u32 = 0x1100_0011;
/// FP_CTRL read value: 6 instruction comparators, 2 literal comparators, FPBv1 (rev 0).
const FP_CTRL_RO: u32 = (6 << 4) | (2 << 8);
pub const FP_COMPARATORS: usize = 8;
pub const DWT_COMPARATORS: usize = 4;

/// DHCSR bits.
pub mod dhcsr {
    pub const KEY: u32 = 0xA05F_0000;
    pub const C_DEBUGEN: u32 = 1 << 0;
    pub const C_HALT: u32 = 1 << 1;
    pub const C_STEP: u32 = 1 << 2;
    pub const C_MASKINTS: u32 = 1 << 3;
    pub const C_SNAPSTALL: u32 = 1 << 5;
    pub const S_REGRDY: u32 = 1 << 16;
    pub const S_HALT: u32 = 1 << 17;
    pub const S_SLEEP: u32 = 1 << 18;
    pub const S_LOCKUP: u32 = 1 << 19;
    pub const S_RETIRE_ST: u32 = 1 << 24;
    pub const S_RESET_ST: u32 = 1 << 25;
}

/// DFSR bits (C1.6.1).
#[allow(dead_code)] // the register's full layout; the model raises only some
pub mod dfsr {
    pub const HALTED: u32 = 1 << 0;
    pub const BKPT: u32 = 1 << 1;
    pub const DWTTRAP: u32 = 1 << 2;
    pub const VCATCH: u32 = 1 << 3;
    pub const EXTERNAL: u32 = 1 << 4;
}

/// DEMCR bits (C1.6.5).
#[allow(dead_code)] // the register's full layout; TRCENA is only kept writable
pub mod demcr {
    pub const VC_CORERESET: u32 = 1 << 0;
    pub const VC_HARDERR: u32 = 1 << 10;
    pub const TRCENA: u32 = 1 << 24;
    pub const WRITABLE: u32 = 0x010F_07F1;
}

/// CFSR / HFSR bits the fault model sets (B3.2.15, B3.2.16).
pub mod fault {
    pub const UFSR_UNDEFINSTR: u32 = 1 << 16;
    pub const UFSR_INVSTATE: u32 = 1 << 17;
    pub const UFSR_NOCP: u32 = 1 << 19;
    pub const UFSR_UNALIGNED: u32 = 1 << 24;
    pub const UFSR_DIVBYZERO: u32 = 1 << 25;
    pub const BFSR_PRECISERR: u32 = 1 << 9;
    pub const BFSR_BFARVALID: u32 = 1 << 15;
    pub const HFSR_FORCED: u32 = 1 << 30;
    pub const HFSR_DEBUGEVT: u32 = 1 << 31;
}

/// The registers of SCS, FPB and DWT that are plain state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scs {
    /// DHCSR control bits C_DEBUGEN, C_HALT (request), C_STEP, C_MASKINTS, C_SNAPSTALL.
    pub dhcsr_ctrl: u32,
    /// Sticky S_RETIRE_ST / S_RESET_ST (cleared when DHCSR is read).
    pub dhcsr_sticky: u32,
    pub dcrdr: u32,
    pub demcr: u32,
    pub dfsr: u32,
    pub vtor: u32,
    pub prigroup: u32,
    pub scr: u32,
    pub ccr: u32,
    pub shcsr: u32,
    pub cfsr: u32,
    pub hfsr: u32,
    pub mmfar: u32,
    pub bfar: u32,
    pub cpacr: u32,
    pub fp_enable: bool,
    pub fp_remap: u32,
    pub fp_comp: [u32; FP_COMPARATORS],
    pub dwt_ctrl: u32,
    pub dwt_comp: [[u32; 3]; DWT_COMPARATORS],
    pub nvic: super::nvic::Nvic,
    pub systick: super::nvic::SysTick,
    /// FPCCR (ASPEN, LSPEN; lazy stacking itself is not modelled: the FP context is stored at
    /// exception entry), FPCAR and FPDSCR (B3.2.20-22).
    pub fpccr: u32,
    pub fpcar: u32,
    pub fpdscr: u32,
}

impl Scs {
    /// Values after a power-on reset (a system reset keeps the debug registers, B1.5.5, C1.6).
    pub fn power_on() -> Scs {
        Scs {
            ccr: 0x200,
            fpccr: 0xC000_0000,
            ..Scs::default()
        }
    }

    /// A system reset (SYSRESETREQ, pin, CTRL-AP): the SCS outside the debug registers resets;
    /// DHCSR control bits, DEMCR, DFSR and the FPB/DWT keep their values (ARMv7-M ARM C1.6:
    /// "not reset by a Local reset").
    pub fn system_reset(&mut self) {
        let keep = Scs {
            dhcsr_ctrl: self.dhcsr_ctrl & (dhcsr::C_DEBUGEN | dhcsr::C_MASKINTS),
            dhcsr_sticky: self.dhcsr_sticky,
            dcrdr: self.dcrdr,
            demcr: self.demcr,
            dfsr: self.dfsr,
            fp_enable: self.fp_enable,
            fp_remap: self.fp_remap,
            fp_comp: self.fp_comp,
            dwt_comp: self.dwt_comp,
            ..Scs::power_on()
        };
        *self = keep;
    }

    /// FPB: whether an enabled comparator matches the instruction at `pc` (FPBv1: code region
    /// below 0x20000000; REPLACE 01 matches the lower halfword, 10 the upper, 11 both).
    pub fn breakpoint_at(&self, pc: u32) -> bool {
        if !self.fp_enable || pc >= 0x2000_0000 {
            return false;
        }
        self.fp_comp[..6].iter().any(|&c| {
            if c & 1 == 0 || (c & 0x1FFF_FFFC) != (pc & 0x1FFF_FFFC) {
                return false;
            }
            match c >> 30 {
                1 => pc & 2 == 0,
                2 => pc & 2 != 0,
                3 => true,
                _ => false,
            }
        })
    }

    /// The execution settings instructions depend on (CCR, CPACR, FPCCR, FPDSCR).
    pub fn core_config(&self) -> super::exec::CoreConfig {
        super::exec::CoreConfig {
            unaligned_trap: self.ccr & 8 != 0,
            div0_trap: self.ccr & 0x10 != 0,
            // CP10 and CP11 both granted (privileged or full access).
            fpu_enabled: (self.cpacr >> 20) & 0x5 == 0x5,
            fp_aspen: self.fpccr & (1 << 31) != 0,
            fpdscr: self.fpdscr,
        }
    }

    /// A read of one of these registers (None: not an address of this block). Reading
    /// SYST_CSR clears COUNTFLAG.
    pub fn read(&mut self, a: u32, cycles: u64) -> Option<u32> {
        use super::nvic::addr as n;
        use addr::*;
        if let Some(v) = self.systick.read(a, cycles) {
            return Some(v);
        }
        if let Some(v) = self.nvic.read(a, self.shcsr) {
            return Some(v);
        }
        Some(match a {
            CPUID => CPUID_VALUE,
            n::FPCCR => self.fpccr,
            n::FPCAR => self.fpcar,
            n::FPDSCR => self.fpdscr,
            VTOR => self.vtor,
            AIRCR => 0xFA05_0000 | (self.prigroup << 8),
            SCR => self.scr,
            CCR => self.ccr,
            CFSR => self.cfsr,
            HFSR => self.hfsr,
            DFSR => self.dfsr,
            MMFAR => self.mmfar,
            BFAR => self.bfar,
            CPACR => self.cpacr,
            DCRDR => self.dcrdr,
            DEMCR => self.demcr,
            MVFR0 => MVFR0_VALUE,
            MVFR1 => MVFR1_VALUE,
            FP_CTRL => FP_CTRL_RO | self.fp_enable as u32,
            FP_REMAP => self.fp_remap,
            a if (FP_COMP0..FP_COMP0 + 4 * FP_COMPARATORS as u32).contains(&a) => {
                self.fp_comp[((a - FP_COMP0) / 4) as usize]
            }
            DWT_CTRL => (DWT_COMPARATORS as u32) << 28 | self.dwt_ctrl,
            DWT_CYCCNT => cycles as u32,
            a if (0xE000_1020..0xE000_1020 + 16 * DWT_COMPARATORS as u32).contains(&a) => {
                let off = a - 0xE000_1020;
                match off % 16 {
                    12 => return None,
                    r => self.dwt_comp[(off / 16) as usize][(r / 4) as usize],
                }
            }
            _ => return None,
        })
    }

    /// A write; returns false if `a` is not a writable register of this block. AIRCR and
    /// DHCSR/DCRSR are the device's (they reset or halt the core).
    pub fn write(&mut self, a: u32, v: u32, cycles: u64) -> bool {
        use super::nvic::addr as n;
        use addr::*;
        if a == SHCSR {
            self.shcsr = v & 0x7_0000;
            return true;
        }
        if self.systick.write(a, v, cycles) || self.nvic.write(a, v) {
            return true;
        }
        match a {
            // ASPEN, LSPEN writable; LSPACT and the ready bits are state of lazy stacking,
            // which is not modelled.
            n::FPCCR => self.fpccr = v & 0xC000_0000,
            n::FPCAR => self.fpcar = v & !7,
            n::FPDSCR => self.fpdscr = v & 0x07C0_0000,
            VTOR => self.vtor = v & 0xFFFF_FF80,
            SCR => self.scr = v & 0x16,
            CCR => self.ccr = v & 0x31B,
            // Write-one-to-clear status registers.
            CFSR => self.cfsr &= !v,
            HFSR => self.hfsr &= !v,
            DFSR => self.dfsr &= !v,
            MMFAR => self.mmfar = v,
            BFAR => self.bfar = v,
            CPACR => self.cpacr = v & 0x00F0_0000,
            DCRDR => self.dcrdr = v,
            DEMCR => self.demcr = v & demcr::WRITABLE,
            // FP_CTRL.ENABLE changes only when KEY (bit 1) is written as 1.
            FP_CTRL => {
                if v & 2 != 0 {
                    self.fp_enable = v & 1 != 0;
                }
            }
            FP_REMAP => {}
            a if (FP_COMP0..FP_COMP0 + 4 * FP_COMPARATORS as u32).contains(&a) => {
                self.fp_comp[((a - FP_COMP0) / 4) as usize] = v & 0xDFFF_FFFD;
            }
            DWT_CTRL => self.dwt_ctrl = v & 0x0FFF_FFFF,
            DWT_CYCCNT => {}
            a if (0xE000_1020..0xE000_1020 + 16 * DWT_COMPARATORS as u32).contains(&a) => {
                let off = a - 0xE000_1020;
                if off % 16 != 12 {
                    self.dwt_comp[(off / 16) as usize][((off % 16) / 4) as usize] = v;
                }
            }
            _ => return false,
        }
        true
    }
}
