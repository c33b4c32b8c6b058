//! UICR registers the bootloader and the MBR read (nRF52832 product spec, UICR chapter).
//!
//! The UICR is one flash-like page at 0x10001000: it erases to 0xFF (only by ERASEALL or
//! ERASEUICR, never by ERASEPAGE) and a write can only clear bits. These helpers interpret the
//! words; the words themselves live in [`crate::nvmc::FlashMemory::uicr`].

use crate::flash::FlashArray;
use nrf_dfu::memory_map::{
    UICR_APPROTECT, UICR_NRFFW0, UICR_NRFFW1, UICR_PSELRESET0, UICR_PSELRESET1,
};

/// Read-only view of the UICR page.
#[derive(Debug, Clone, Copy)]
pub struct Uicr<'a>(pub &'a FlashArray);

/// An erased (unset) UICR word.
pub const UNSET: u32 = 0xFFFF_FFFF;

impl Uicr<'_> {
    fn word(&self, addr: u32) -> u32 {
        // The accessors only name addresses inside the page.
        self.0.read_word(addr).unwrap_or(UNSET)
    }

    fn set(&self, addr: u32) -> Option<u32> {
        Some(self.word(addr)).filter(|&w| w != UNSET)
    }

    /// NRFFW\[0\]: bootloader start address, if set.
    pub fn bootloader_address(&self) -> Option<u32> {
        self.set(UICR_NRFFW0)
    }

    /// NRFFW\[1\]: MBR parameter page address, if set.
    pub fn mbr_params_page(&self) -> Option<u32> {
        self.set(UICR_NRFFW1)
    }

    /// PSELRESET\[0..1\] raw values.
    pub fn pselreset(&self) -> [u32; 2] {
        [self.word(UICR_PSELRESET0), self.word(UICR_PSELRESET1)]
    }

    /// The pin reset is routed to a GPIO only when both PSELRESET registers name the same pin
    /// with CONNECT = 0 (bit 31 clear); on the nRF52832 that pin is P0.21.
    pub fn reset_pin(&self) -> Option<u32> {
        let [a, b] = self.pselreset();
        (a == b && a & 0x8000_0000 == 0).then_some(a & 0x1F)
    }

    /// APPROTECT raw value.
    pub fn approtect_raw(&self) -> u32 {
        self.word(UICR_APPROTECT)
    }

    /// Access port protection on nRF52832 revisions 1 and 2: field PALL (bits 7:0) reads 0xFF when
    /// disabled and 0x00 when enabled; the product spec (v1.4) says any value other than 0xFF
    /// enables it. Revision 3 (hardware-controlled APPROTECT, `0x5A` = HwDisabled) is not modelled.
    pub fn approtect_enabled(&self) -> bool {
        self.approtect_raw() & 0xFF != 0xFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::memory_map::UICR_BASE;
    use rstest::rstest;

    fn uicr() -> FlashArray {
        FlashArray::new("UICR", UICR_BASE, 1)
    }

    #[test]
    fn erased_uicr_has_nothing_set() {
        let a = uicr();
        let u = Uicr(&a);
        assert_eq!(u.bootloader_address(), None);
        assert_eq!(u.mbr_params_page(), None);
        assert_eq!(u.reset_pin(), None);
        assert!(!u.approtect_enabled());
    }

    #[test]
    fn nrffw_words() {
        let mut a = uicr();
        a.write_word(UICR_NRFFW0, 0x78000).unwrap();
        a.write_word(UICR_NRFFW1, 0x7E000).unwrap();
        let u = Uicr(&a);
        assert_eq!(u.bootloader_address(), Some(0x78000));
        assert_eq!(u.mbr_params_page(), Some(0x7E000));
    }

    #[test]
    fn pin_reset_needs_both_registers() {
        let mut a = uicr();
        a.write_word(UICR_PSELRESET0, 21).unwrap();
        assert_eq!(Uicr(&a).reset_pin(), None);
        a.write_word(UICR_PSELRESET1, 21).unwrap();
        assert_eq!(Uicr(&a).reset_pin(), Some(21));
    }

    #[rstest]
    #[case(0xFFFF_FFFF, false)]
    #[case(0xFFFF_FF00, true)]
    #[case(0x0000_0000, true)]
    #[case(0xFFFF_FF5A, true)]
    #[case(0x0000_00FF, false)]
    fn approtect_low_byte(#[case] raw: u32, #[case] enabled: bool) {
        let mut a = uicr();
        a.write_word(UICR_APPROTECT, raw).unwrap();
        assert_eq!(Uicr(&a).approtect_enabled(), enabled);
    }
}
