//! The NVIC and the exception priorities (ARMv7-M ARM B1.5.4, B3.4), and SysTick (B3.3).
//!
//! Pending and active state are bitsets over exception numbers (1-15 system, 16+ external;
//! the nRF52832 has 39 external interrupts, nrf52.h IRQn_Type 0-38). Priorities keep the 3
//! bits the chip implements (__NVIC_PRIO_BITS = 3). The nRF52's peripheral interrupts are
//! level signals (EVENT and INTEN): an asserted line not active pends again, as B3.4.1 says
//! of level-sensitive interrupts.

use super::exec32::PRIO_MASK;

/// External interrupts of the nRF52832 (IRQn 0-38).
pub const IRQS: u32 = 39;
pub const NMI: u32 = 2;
pub const HARD_FAULT: u32 = 3;
pub const MEM_MANAGE: u32 = 4;
pub const BUS_FAULT: u32 = 5;
pub const USAGE_FAULT: u32 = 6;
pub const SVCALL: u32 = 11;
pub const PENDSV: u32 = 14;
pub const SYSTICK: u32 = 15;

/// Register addresses (B3.4.3, B3.2.2, B3.3.2, B3.2.20 ff.).
pub mod addr {
    pub const ICTR: u32 = 0xE000_E004;
    pub const SYST_CSR: u32 = 0xE000_E010;
    pub const SYST_RVR: u32 = 0xE000_E014;
    pub const SYST_CVR: u32 = 0xE000_E018;
    pub const SYST_CALIB: u32 = 0xE000_E01C;
    pub const ISER: u32 = 0xE000_E100;
    pub const ICER: u32 = 0xE000_E180;
    pub const ISPR: u32 = 0xE000_E200;
    pub const ICPR: u32 = 0xE000_E280;
    pub const IABR: u32 = 0xE000_E300;
    pub const IPR: u32 = 0xE000_E400;
    pub const ICSR: u32 = 0xE000_ED04;
    pub const SHPR1: u32 = 0xE000_ED18;
    pub const SHPR3: u32 = 0xE000_ED20;
    pub const SHCSR: u32 = 0xE000_ED24;
    pub const STIR: u32 = 0xE000_EF00;
    pub const FPCCR: u32 = 0xE000_EF34;
    pub const FPCAR: u32 = 0xE000_EF38;
    pub const FPDSCR: u32 = 0xE000_EF3C;
}

/// Whether a byte write at `addr` may be merged into its word (the priority registers are
/// byte-accessible: CMSIS's NVIC_SetPriority writes NVIC->IP[n] and SCB->SHP[n] as bytes).
pub fn byte_accessible(addr: u32) -> bool {
    (addr::IPR..addr::IPR + IRQS.next_multiple_of(4)).contains(&addr)
        || (addr::SHPR1..addr::SHPR3 + 4).contains(&addr)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nvic {
    /// Enabled external interrupts, by IRQ number.
    pub enabled: u64,
    /// Pending exceptions, by exception number.
    pub pending: u64,
    /// Active exceptions, by exception number.
    pub active: u64,
    /// Configurable priorities by exception number (4-15 from SHPR, 16+ from IPR).
    pub prio: [u8; 64],
    /// Interrupt lines asserted by the peripherals, by IRQ number.
    pub lines: u64,
    /// The exception the core is in (IPSR), for ICSR.VECTACTIVE.
    pub vectactive: u32,
    /// A pending bit went from 0 to 1 (SCR.SEVONPEND turns it into an event).
    pub newly_pending: bool,
}

impl Default for Nvic {
    fn default() -> Self {
        Nvic {
            enabled: 0,
            pending: 0,
            active: 0,
            prio: [0; 64],
            lines: 0,
            vectactive: 0,
            newly_pending: false,
        }
    }
}

/// SHCSR bits for the system exceptions' active state (B3.2.13).
const SHCSR_ACTIVE: [(u32, u32); 7] = [
    (MEM_MANAGE, 0),
    (BUS_FAULT, 1),
    (USAGE_FAULT, 3),
    (SVCALL, 7),
    (12, 8),
    (PENDSV, 10),
    (SYSTICK, 11),
];

impl Nvic {
    /// The priority of exception `n`: Reset -3, NMI -2, HardFault -1, others configured.
    pub fn priority(&self, n: u32) -> i32 {
        match n {
            1 => -3,
            NMI => -2,
            HARD_FAULT => -1,
            n => self.prio[n as usize & 63] as i32,
        }
    }

    /// The group priority of a priority under AIRCR.PRIGROUP (B1.5.4).
    pub fn group(p: i32, prigroup: u32) -> i32 {
        if p < 0 {
            return p;
        }
        let shift = prigroup + 1;
        (p >> shift) << shift
    }

    pub fn set_pending(&mut self, n: u32) {
        if self.pending & (1 << n) == 0 {
            self.newly_pending = true;
        }
        self.pending |= 1 << n;
    }

    /// Level-sensitive lines: an asserted line whose interrupt is not active becomes pending.
    pub fn sample_lines(&mut self) {
        let want = (self.lines << 16) & !self.active & !self.pending;
        if want != 0 {
            self.pending |= want;
            self.newly_pending = true;
        }
    }

    /// The pending exceptions that can be taken at all (external ones must be enabled).
    fn candidates(&self) -> u64 {
        self.pending & ((self.enabled << 16) | 0xFFFF)
    }

    /// The highest-priority pending exception: lowest group priority, then subpriority, then
    /// exception number (B1.5.4).
    pub fn highest_pending(&self) -> Option<u32> {
        let mut c = self.candidates();
        let mut best: Option<(i32, u32)> = None;
        while c != 0 {
            let n = c.trailing_zeros();
            c &= c - 1;
            let p = self.priority(n);
            if best.is_none_or(|(bp, _)| p < bp) {
                best = Some((p, n));
            }
        }
        best.map(|(_, n)| n)
    }

    /// The execution priority (B1.5.4 ExecutionPriority).
    pub fn execution_priority(
        &self,
        prigroup: u32,
        primask: bool,
        basepri: u32,
        faultmask: bool,
        ignore_primask: bool,
    ) -> i32 {
        let mut highest = 256;
        let mut a = self.active;
        while a != 0 {
            let n = a.trailing_zeros();
            a &= a - 1;
            highest = highest.min(Self::group(self.priority(n), prigroup));
        }
        let mut boosted = 256;
        if basepri != 0 {
            boosted = Self::group(basepri as i32, prigroup);
        }
        if primask && !ignore_primask {
            boosted = 0;
        }
        if faultmask {
            boosted = -1;
        }
        highest.min(boosted)
    }

    /// The exception to take now, if one preempts `exec_priority`.
    pub fn preempting(&self, exec_priority: i32, prigroup: u32) -> Option<u32> {
        let n = self.highest_pending()?;
        (Self::group(self.priority(n), prigroup) < exec_priority).then_some(n)
    }

    pub fn activate(&mut self, n: u32) {
        self.pending &= !(1 << n);
        self.active |= 1 << n;
        self.vectactive = n;
    }

    pub fn deactivate(&mut self, n: u32) {
        self.active &= !(1 << n);
    }

    /// The number of active exceptions (RETTOBASE is 1 when it is 1).
    pub fn active_count(&self) -> u32 {
        self.active.count_ones()
    }

    fn icsr(&self) -> u32 {
        let mut v = self.vectactive & 0x1FF;
        if self.active_count() <= 1 {
            v |= 1 << 11;
        }
        if let Some(n) = self.highest_pending() {
            v |= n << 12;
        }
        if self.pending >> 16 != 0 {
            v |= 1 << 22;
        }
        if self.pending & (1 << SYSTICK) != 0 {
            v |= 1 << 26;
        }
        if self.pending & (1 << PENDSV) != 0 {
            v |= 1 << 28;
        }
        if self.pending & (1 << NMI) != 0 {
            v |= 1 << 31;
        }
        v
    }

    fn shcsr_status(&self) -> u32 {
        let mut v = 0;
        for (n, b) in SHCSR_ACTIVE {
            if self.active & (1 << n) != 0 {
                v |= 1 << b;
            }
        }
        for (n, b) in [
            (USAGE_FAULT, 12),
            (MEM_MANAGE, 13),
            (BUS_FAULT, 14),
            (SVCALL, 15),
        ] {
            if self.pending & (1 << n) != 0 {
                v |= 1 << b;
            }
        }
        v
    }

    /// A word read of an NVIC/SCB register this block owns (None: not one of them).
    pub fn read(&self, a: u32, shcsr_enables: u32) -> Option<u32> {
        let irq_word = |base: u32, bits: u64| -> Option<u32> {
            let k = (a - base) / 4;
            Some(if k < 2 { (bits >> (32 * k)) as u32 } else { 0 })
        };
        let implemented = (1u64 << IRQS) - 1;
        Some(match a {
            addr::ICTR => (IRQS - 1) / 32,
            a if (addr::ISER..addr::ISER + 0x40).contains(&a) => {
                irq_word(addr::ISER, self.enabled)?
            }
            a if (addr::ICER..addr::ICER + 0x40).contains(&a) => {
                irq_word(addr::ICER, self.enabled)?
            }
            a if (addr::ISPR..addr::ISPR + 0x40).contains(&a) => {
                irq_word(addr::ISPR, (self.pending >> 16) & implemented)?
            }
            a if (addr::ICPR..addr::ICPR + 0x40).contains(&a) => {
                irq_word(addr::ICPR, (self.pending >> 16) & implemented)?
            }
            a if (addr::IABR..addr::IABR + 0x40).contains(&a) => {
                irq_word(addr::IABR, (self.active >> 16) & implemented)?
            }
            a if (addr::IPR..addr::IPR + 0x1F0).contains(&a) => {
                let first = 16 + (a - addr::IPR);
                (0..4).fold(0, |v, i| {
                    let n = first + i;
                    let p = if n < 16 + IRQS {
                        self.prio[n as usize]
                    } else {
                        0
                    };
                    v | (p as u32) << (8 * i)
                })
            }
            addr::ICSR => self.icsr(),
            a if (addr::SHPR1..addr::SHPR3 + 4).contains(&a) => {
                let first = 4 + (a - addr::SHPR1);
                (0..4).fold(0, |v, i| {
                    v | (self.prio[(first + i) as usize] as u32) << (8 * i)
                })
            }
            addr::SHCSR => self.shcsr_status() | shcsr_enables,
            _ => return None,
        })
    }

    /// A word write; false if `a` is not one of this block's registers.
    pub fn write(&mut self, a: u32, v: u32) -> bool {
        let implemented = (1u64 << IRQS) - 1;
        let irq_bits = |base: u32| -> u64 {
            let k = (a - base) / 4;
            if k < 2 {
                ((v as u64) << (32 * k)) & implemented
            } else {
                0
            }
        };
        match a {
            a if (addr::ISER..addr::ISER + 0x40).contains(&a) => {
                self.enabled |= irq_bits(addr::ISER)
            }
            a if (addr::ICER..addr::ICER + 0x40).contains(&a) => {
                self.enabled &= !irq_bits(addr::ICER)
            }
            a if (addr::ISPR..addr::ISPR + 0x40).contains(&a) => {
                let b = irq_bits(addr::ISPR) << 16;
                if b & !self.pending != 0 {
                    self.newly_pending = true;
                }
                self.pending |= b;
            }
            a if (addr::ICPR..addr::ICPR + 0x40).contains(&a) => {
                self.pending &= !(irq_bits(addr::ICPR) << 16)
            }
            a if (addr::IABR..addr::IABR + 0x40).contains(&a) => {}
            a if (addr::IPR..addr::IPR + 0x1F0).contains(&a) => {
                let first = 16 + (a - addr::IPR);
                for i in 0..4 {
                    let n = first + i;
                    if n < 16 + IRQS {
                        self.prio[n as usize] = ((v >> (8 * i)) as u8) & PRIO_MASK as u8;
                    }
                }
            }
            addr::ICSR => {
                if v & (1 << 31) != 0 {
                    self.set_pending(NMI);
                }
                if v & (1 << 28) != 0 {
                    self.set_pending(PENDSV);
                } else if v & (1 << 27) != 0 {
                    self.pending &= !(1 << PENDSV);
                }
                if v & (1 << 26) != 0 {
                    self.set_pending(SYSTICK);
                } else if v & (1 << 25) != 0 {
                    self.pending &= !(1 << SYSTICK);
                }
            }
            a if (addr::SHPR1..addr::SHPR3 + 4).contains(&a) => {
                let first = 4 + (a - addr::SHPR1);
                for i in 0..4 {
                    let n = (first + i) as usize;
                    // Only the configurable handlers have priority fields (B3.2.10-12).
                    if matches!(n, 4 | 5 | 6 | 11 | 12 | 14 | 15) {
                        self.prio[n] = ((v >> (8 * i)) as u8) & PRIO_MASK as u8;
                    }
                }
            }
            addr::STIR => {
                let irq = v & 0x1FF;
                if irq < IRQS {
                    self.set_pending(16 + irq);
                }
            }
            _ => return false,
        }
        true
    }
}

/// SysTick (B3.3): a 24-bit down-counter on the processor clock, kept as the cycle at which
/// it next reaches zero, so time can jump (sleep, idle-loop skips) without ticking it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SysTick {
    /// CSR ENABLE, TICKINT, CLKSOURCE.
    pub ctrl: u32,
    pub reload: u32,
    /// The counter value while disabled.
    pub value: u32,
    /// While enabled: the cycle count at which the counter is next 0.
    pub next_zero: u64,
    pub countflag: bool,
}

/// SYST_CALIB: NOREF = 1 (no reference clock on the nRF52), SKEW = 1, TENMS = 0.
const SYST_CALIB_VALUE: u32 = 0xC000_0000;

impl SysTick {
    fn enabled(&self) -> bool {
        self.ctrl & 1 != 0
    }

    /// Account wraps up to cycle `now`: COUNTFLAG and, with TICKINT, SysTick pending.
    pub fn catch_up(&mut self, now: u64, nvic: &mut Nvic) {
        if !self.enabled() || now < self.next_zero {
            return;
        }
        if self.reload == 0 {
            // The counter stops at zero after the wrap (reload 0 disables it, B3.3.1).
            if self.value != 0 {
                self.value = 0;
                self.countflag = true;
                if self.ctrl & 2 != 0 {
                    nvic.set_pending(SYSTICK);
                }
            }
            self.next_zero = u64::MAX;
            return;
        }
        let period = self.reload as u64 + 1;
        let k = (now - self.next_zero) / period + 1;
        self.next_zero += k * period;
        self.value = 1; // not zero: a later zero is a wrap again
        self.countflag = true;
        if self.ctrl & 2 != 0 {
            nvic.set_pending(SYSTICK);
        }
    }

    fn current(&self, now: u64) -> u32 {
        if !self.enabled() {
            return self.value;
        }
        if self.next_zero == u64::MAX {
            return 0;
        }
        self.next_zero.saturating_sub(now) as u32 & 0xFF_FFFF
    }

    pub fn read(&mut self, a: u32, now: u64) -> Option<u32> {
        Some(match a {
            addr::SYST_CSR => {
                let v = self.ctrl | (self.countflag as u32) << 16;
                self.countflag = false;
                v
            }
            addr::SYST_RVR => self.reload,
            addr::SYST_CVR => self.current(now),
            addr::SYST_CALIB => SYST_CALIB_VALUE,
            _ => return None,
        })
    }

    pub fn write(&mut self, a: u32, v: u32, now: u64) -> bool {
        match a {
            addr::SYST_CSR => {
                let was = self.enabled();
                let cur = self.current(now);
                self.ctrl = v & 7;
                match (was, self.enabled()) {
                    (false, true) => {
                        self.value = cur;
                        // From 0 the counter loads RVR on the next clock, else counts down.
                        self.next_zero = if cur == 0 {
                            now + 1 + self.reload as u64
                        } else {
                            now + cur as u64
                        };
                    }
                    (true, false) => self.value = cur,
                    _ => {}
                }
            }
            addr::SYST_RVR => self.reload = v & 0xFF_FFFF,
            addr::SYST_CVR => {
                // Any write clears the counter and COUNTFLAG.
                self.value = 0;
                self.countflag = false;
                if self.enabled() {
                    self.next_zero = now + 1 + self.reload as u64;
                }
            }
            addr::SYST_CALIB => {}
            _ => return false,
        }
        true
    }
}
