//! FICR: factory information, read only (nRF52832 product spec, FICR chapter).

use crate::rng::DeviceRng;
use nrf_dfu::memory_map::{FICR_BASE, PAGE_SIZE};
use nrf_dfu::Chip;

/// Register offsets from 0x10000000.
pub mod reg {
    pub const CODEPAGESIZE: u32 = 0x010;
    pub const CODESIZE: u32 = 0x014;
    pub const DEVICEID0: u32 = 0x060;
    pub const DEVICEID1: u32 = 0x064;
    pub const DEVICEADDRTYPE: u32 = 0x0A0;
    pub const DEVICEADDR0: u32 = 0x0A4;
    pub const DEVICEADDR1: u32 = 0x0A8;
    pub const INFO_PART: u32 = 0x100;
    pub const INFO_VARIANT: u32 = 0x104;
    pub const INFO_PACKAGE: u32 = 0x108;
    pub const INFO_RAM: u32 = 0x10C;
    pub const INFO_FLASH: u32 = 0x110;
}

/// FICR content of one chip. Identity words (DEVICEID, DEVICEADDR) come from a seed so that a
/// virtual device keeps its BLE address for as long as its state file lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ficr {
    chip: Chip,
    device_id: [u32; 2],
    device_addr: [u32; 2],
}

impl Ficr {
    pub fn new(chip: Chip, identity_seed: u64) -> Ficr {
        let mut rng = DeviceRng::new(identity_seed).derive("ficr");
        Ficr {
            chip,
            device_id: [rng.next_u32(), rng.next_u32()],
            device_addr: [rng.next_u32(), rng.next_u32() | 0xFFFF_0000],
        }
    }

    pub fn chip(&self) -> Chip {
        self.chip
    }

    /// The register at `addr` (0x10000000..0x10001000). Words the model does not name read as
    /// 0xFFFFFFFF, as unprogrammed FICR words do.
    pub fn read_word(&self, addr: u32) -> u32 {
        match addr.wrapping_sub(FICR_BASE) {
            reg::CODEPAGESIZE => PAGE_SIZE,
            reg::CODESIZE => self.chip.page_count(),
            reg::DEVICEID0 => self.device_id[0],
            reg::DEVICEID1 => self.device_id[1],
            reg::DEVICEADDRTYPE => 0xFFFF_FFFF, // bit 0 = 1: random address
            reg::DEVICEADDR0 => self.device_addr[0],
            reg::DEVICEADDR1 => self.device_addr[1],
            reg::INFO_PART => self.chip.part(),
            reg::INFO_VARIANT => self.chip.variant(),
            reg::INFO_PACKAGE => 0x2000, // QF (QFN48)
            reg::INFO_RAM => self.chip.ram_size() / 1024,
            reg::INFO_FLASH => self.chip.flash_size() / 1024,
            // The undocumented words the MDK's errata checks read (nrf52_erratas.h, MDK
            // 8.40: var1 = *(uint32_t *)0x10000130, var2 = *(uint32_t *)0x10000134; the
            // nRF52832 is var1 0x06, and var2 0x05 is the revision 2 build this model is).
            0x130 => 0x06,
            0x134 => 0x05,
            _ => 0xFFFF_FFFF,
        }
    }

    /// The BLE random static address the SoftDevice derives from DEVICEADDR (LSB first, the two
    /// top bits of the last byte set).
    pub fn ble_address(&self) -> [u8; 6] {
        let a = self.device_addr[0].to_le_bytes();
        let b = self.device_addr[1].to_le_bytes();
        [a[0], a[1], a[2], a[3], b[0], b[1] | 0xC0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::memory_map::{
        FICR_CODEPAGESIZE, FICR_CODESIZE, FICR_INFO_FLASH, FICR_INFO_PART, FICR_INFO_RAM,
        FICR_INFO_VARIANT,
    };
    use rstest::rstest;

    #[rstest]
    #[case(Chip::Nrf52832Qfaa, 128, 0x4141_4230, 64, 512)]
    #[case(Chip::Nrf52832Qfab, 64, 0x4142_4230, 32, 256)]
    fn info_registers(
        #[case] chip: Chip,
        #[case] pages: u32,
        #[case] variant: u32,
        #[case] ram_kb: u32,
        #[case] flash_kb: u32,
    ) {
        let f = Ficr::new(chip, 1);
        assert_eq!(f.read_word(FICR_CODEPAGESIZE), 4096);
        assert_eq!(f.read_word(FICR_CODESIZE), pages);
        assert_eq!(f.read_word(FICR_INFO_PART), 0x52832);
        assert_eq!(f.read_word(FICR_INFO_VARIANT), variant);
        assert_eq!(f.read_word(FICR_INFO_RAM), ram_kb);
        assert_eq!(f.read_word(FICR_INFO_FLASH), flash_kb);
        assert_eq!(f.read_word(FICR_BASE + 0x800), 0xFFFF_FFFF);
    }

    #[test]
    fn identity_follows_the_seed() {
        let a = Ficr::new(Chip::Nrf52832Qfaa, 1);
        assert_eq!(a, Ficr::new(Chip::Nrf52832Qfaa, 1));
        assert_ne!(
            a.ble_address(),
            Ficr::new(Chip::Nrf52832Qfaa, 2).ble_address()
        );
        assert_eq!(a.ble_address()[5] & 0xC0, 0xC0, "random static address");
    }
}
