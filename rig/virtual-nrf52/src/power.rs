//! POWER: reset reasons and the retained GPREGRET registers (nRF52832 product spec, POWER chapter).
//!
//! RESETREAS bits: RESETPIN 0, DOG 1, SREQ 2, LOCKUP 3, OFF 16, LPCOMP 17, DIF 18, NFC 19. The
//! register is cumulative (bits accumulate over resets) until firmware clears them by writing 1s,
//! and a power-on reset (or brown-out) leaves it 0. GPREGRET/GPREGRET2 are 8-bit retained
//! registers: kept across soft, pin, watchdog and lockup resets and System OFF wake-up, lost
//! when power is lost.

use serde::{Deserialize, Serialize};

/// RESETREAS bit masks.
pub mod resetreas {
    pub const RESETPIN: u32 = 1 << 0;
    pub const DOG: u32 = 1 << 1;
    pub const SREQ: u32 = 1 << 2;
    pub const LOCKUP: u32 = 1 << 3;
    pub const OFF: u32 = 1 << 16;
    pub const LPCOMP: u32 = 1 << 17;
    pub const DIF: u32 = 1 << 18;
    pub const NFC: u32 = 1 << 19;
    /// Every implemented bit; writes to other bits are ignored.
    pub const ALL: u32 = RESETPIN | DOG | SREQ | LOCKUP | OFF | LPCOMP | DIF | NFC;
}

/// What woke the chip from System OFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WakeSource {
    /// A GPIO DETECT signal: RESETREAS.OFF.
    Gpio,
    Lpcomp,
    /// Entering debug interface mode: RESETREAS.DIF.
    DebugInterface,
    Nfc,
}

/// Why the chip (re)started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetKind {
    /// Power applied (or brown-out): everything volatile is lost.
    PowerOn,
    /// The reset pin (P0.21 when PSELRESET is set) was pulled.
    PinReset,
    /// AIRCR.SYSRESETREQ (`NVIC_SystemReset`): what firmware and a debugger's soft reset do.
    SoftReset,
    Watchdog,
    /// The CPU locked up (e.g. jumped into erased flash).
    Lockup,
    WakeFromOff(WakeSource),
}

impl ResetKind {
    /// The RESETREAS bit this reset sets (none for power-on).
    pub fn resetreas_bit(self) -> u32 {
        match self {
            ResetKind::PowerOn => 0,
            ResetKind::PinReset => resetreas::RESETPIN,
            ResetKind::SoftReset => resetreas::SREQ,
            ResetKind::Watchdog => resetreas::DOG,
            ResetKind::Lockup => resetreas::LOCKUP,
            ResetKind::WakeFromOff(WakeSource::Gpio) => resetreas::OFF,
            ResetKind::WakeFromOff(WakeSource::Lpcomp) => resetreas::LPCOMP,
            ResetKind::WakeFromOff(WakeSource::DebugInterface) => resetreas::DIF,
            ResetKind::WakeFromOff(WakeSource::Nfc) => resetreas::NFC,
        }
    }
}

/// The POWER registers the model keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Power {
    resetreas: u32,
    gpregret: u8,
    gpregret2: u8,
}

impl Power {
    pub fn resetreas(&self) -> u32 {
        self.resetreas
    }

    /// Write to RESETREAS: each 1 clears that bit.
    pub fn clear_resetreas(&mut self, ones: u32) {
        self.resetreas &= !ones;
    }

    pub fn gpregret(&self) -> u8 {
        self.gpregret
    }

    pub fn gpregret2(&self) -> u8 {
        self.gpregret2
    }

    /// Only the low 8 bits of a write are kept.
    pub fn set_gpregret(&mut self, v: u32) {
        self.gpregret = v as u8;
    }

    pub fn set_gpregret2(&mut self, v: u32) {
        self.gpregret2 = v as u8;
    }

    /// What a reset of `kind` does to these registers.
    pub fn on_reset(&mut self, kind: ResetKind) {
        match kind {
            ResetKind::PowerOn => *self = Power::default(),
            other => self.resetreas |= other.resetreas_bit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(ResetKind::PinReset, 0x1)]
    #[case(ResetKind::Watchdog, 0x2)]
    #[case(ResetKind::SoftReset, 0x4)]
    #[case(ResetKind::Lockup, 0x8)]
    #[case(ResetKind::WakeFromOff(WakeSource::Gpio), 0x1_0000)]
    #[case(ResetKind::WakeFromOff(WakeSource::Lpcomp), 0x2_0000)]
    #[case(ResetKind::WakeFromOff(WakeSource::DebugInterface), 0x4_0000)]
    #[case(ResetKind::WakeFromOff(WakeSource::Nfc), 0x8_0000)]
    fn resetreas_bit_per_reset(#[case] kind: ResetKind, #[case] bit: u32) {
        let mut p = Power::default();
        p.on_reset(kind);
        assert_eq!(p.resetreas(), bit);
    }

    #[test]
    fn resetreas_accumulates_until_cleared_and_por_zeroes() {
        let mut p = Power::default();
        p.on_reset(ResetKind::PowerOn);
        assert_eq!(p.resetreas(), 0);
        p.on_reset(ResetKind::SoftReset);
        p.on_reset(ResetKind::PinReset);
        assert_eq!(p.resetreas(), resetreas::SREQ | resetreas::RESETPIN);
        p.clear_resetreas(resetreas::SREQ);
        assert_eq!(p.resetreas(), resetreas::RESETPIN);
        p.clear_resetreas(0xFFFF_FFFF);
        assert_eq!(p.resetreas(), 0);
        p.on_reset(ResetKind::Watchdog);
        p.on_reset(ResetKind::PowerOn);
        assert_eq!(p.resetreas(), 0);
    }

    #[test]
    fn gpregret_keeps_eight_bits() {
        let mut p = Power::default();
        p.set_gpregret(0x1B1);
        p.set_gpregret2(0xA9);
        assert_eq!(p.gpregret(), 0xB1);
        assert_eq!(p.gpregret2(), 0xA9);
    }
}
