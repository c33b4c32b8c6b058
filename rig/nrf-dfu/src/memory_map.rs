//! The nRF52832 memory map as the Secure DFU bootloader sees it (SDK 17.1
//! `secure_bootloader_gcc_nrf52.ld`, `nrf_dfu_types.h`, `nrf_dfu_utils.c`), the SoftDevice info
//! struct, and the table of S132 firmware IDs used in `sd_req`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Flash page size of the nRF52 series (FICR CODEPAGESIZE).
pub const PAGE_SIZE: u32 = 4096;
/// The MBR occupies the first page.
pub const MBR_SIZE: u32 = 0x1000;
/// MBR flash slot holding the bootloader start address (SDK 15.3 linker; 17.1 fills it at boot).
pub const MBR_BOOTLOADER_ADDR_SLOT: u32 = 0xFF8;
/// MBR flash slot holding the MBR parameter page address.
pub const MBR_PARAMS_PAGE_ADDR_SLOT: u32 = 0xFFC;
/// SoftDevices start right after the MBR.
pub const SOFTDEVICE_START: u32 = 0x1000;
/// Offset of the SoftDevice info struct from the SoftDevice base (0x1000 + 0x2000 = 0x3000).
pub const SD_INFO_STRUCT_OFFSET: u32 = 0x2000;
/// Absolute address of the SoftDevice info-struct magic word.
pub const SD_MAGIC_ADDR: u32 = SOFTDEVICE_START + SD_INFO_STRUCT_OFFSET + 4;
/// The info-struct magic (`SD_MAGIC_NUMBER`).
pub const SD_MAGIC: u32 = 0x51B1_E5DB;

/// FICR base and the two registers a bootloader reads.
pub const FICR_BASE: u32 = 0x1000_0000;
pub const FICR_CODEPAGESIZE: u32 = FICR_BASE + 0x010;
pub const FICR_CODESIZE: u32 = FICR_BASE + 0x014;
pub const FICR_INFO_PART: u32 = FICR_BASE + 0x100;
pub const FICR_INFO_VARIANT: u32 = FICR_BASE + 0x104;
pub const FICR_INFO_RAM: u32 = FICR_BASE + 0x10C;
pub const FICR_INFO_FLASH: u32 = FICR_BASE + 0x110;
/// UICR base and size (one 4 KB region on the nRF52832; only the first 0x210 bytes are registers).
pub const UICR_BASE: u32 = 0x1000_1000;
pub const UICR_SIZE: u32 = 0x1000;
/// UICR.NRFFW[0]: bootloader start address.
pub const UICR_NRFFW0: u32 = UICR_BASE + 0x014;
/// UICR.NRFFW[1]: MBR parameter page address.
pub const UICR_NRFFW1: u32 = UICR_BASE + 0x018;
/// UICR.PSELRESET[0..2].
pub const UICR_PSELRESET0: u32 = UICR_BASE + 0x200;
pub const UICR_PSELRESET1: u32 = UICR_BASE + 0x204;
/// UICR.APPROTECT.
pub const UICR_APPROTECT: u32 = UICR_BASE + 0x208;
/// POWER registers.
pub const POWER_RESETREAS: u32 = 0x4000_0400;
pub const POWER_GPREGRET: u32 = 0x4000_051C;
pub const POWER_GPREGRET2: u32 = 0x4000_0520;
/// NVMC base.
pub const NVMC_BASE: u32 = 0x4001_E000;
/// RAM.
pub const RAM_START: u32 = 0x2000_0000;
pub const RAM_SIZE: u32 = 64 * 1024;

/// Secure bootloader region (release builds, BLE and UART): 0x78000, 24 KB.
pub const BOOTLOADER_START: u32 = 0x7_8000;
pub const BOOTLOADER_SIZE: u32 = 0x6000;
/// `NRF_DFU_APP_DATA_AREA_SIZE` default: 3 pages kept below the bootloader.
pub const APP_DATA_AREA_SIZE: u32 = 3 * PAGE_SIZE;

/// The nRF52832 package variants that differ in flash size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Chip {
    /// nRF52832-QFAA: 512 KB flash, 64 KB RAM.
    #[serde(rename = "nRF52832_xxAA")]
    Nrf52832Qfaa,
    /// nRF52832-QFAB: 256 KB flash, 32 KB RAM.
    #[serde(rename = "nRF52832_xxAB")]
    Nrf52832Qfab,
}

impl Chip {
    /// Flash size in bytes.
    pub fn flash_size(self) -> u32 {
        match self {
            Chip::Nrf52832Qfaa => 512 * 1024,
            Chip::Nrf52832Qfab => 256 * 1024,
        }
    }

    /// RAM size in bytes (FICR INFO.RAM).
    pub fn ram_size(self) -> u32 {
        match self {
            Chip::Nrf52832Qfaa => 64 * 1024,
            Chip::Nrf52832Qfab => 32 * 1024,
        }
    }

    /// Number of 4 KB pages (FICR CODESIZE).
    pub fn page_count(self) -> u32 {
        self.flash_size() / PAGE_SIZE
    }

    /// The bootloader settings page: the last flash page (0x7F000 on QFAA, 0x3F000 on QFAB, as
    /// nrfutil's `--family NRF52` / `NRF52QFAB` place it).
    pub fn settings_address(self) -> u32 {
        self.flash_size() - PAGE_SIZE
    }

    /// The MBR parameter page, which doubles as the settings backup from SDK 15.2 on.
    pub fn mbr_params_address(self) -> u32 {
        self.flash_size() - 2 * PAGE_SIZE
    }

    /// Default start of the 24 KB secure bootloader: 0x78000 on QFAA. On QFAB the same layout is
    /// shifted down by the 256 KB difference (0x38000), as QFAB bootloader builds link it.
    pub fn bootloader_address(self) -> u32 {
        self.flash_size() - 2 * PAGE_SIZE - BOOTLOADER_SIZE
    }

    /// FICR INFO.PART.
    pub fn part(self) -> u32 {
        0x52832
    }

    /// FICR INFO.VARIANT as its four ASCII characters ("AAB0", "ABB0"), stored big-endian so that
    /// the register reads 0x41414230 for "AAB0".
    pub fn variant(self) -> u32 {
        match self {
            Chip::Nrf52832Qfaa => u32::from_be_bytes(*b"AAB0"),
            Chip::Nrf52832Qfab => u32::from_be_bytes(*b"ABB0"),
        }
    }

    /// probe-rs target name.
    pub fn probe_rs_name(self) -> &'static str {
        match self {
            Chip::Nrf52832Qfaa => "nRF52832_xxAA",
            Chip::Nrf52832Qfab => "nRF52832_xxAB",
        }
    }
}

impl fmt::Display for Chip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.probe_rs_name())
    }
}

/// The text did not name a supported chip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown chip `{0}`: expected nRF52832_xxAA (QFAA, 512 KB) or nRF52832_xxAB (QFAB, 256 KB)"
)]
pub struct UnknownChip(pub String);

impl FromStr for Chip {
    type Err = UnknownChip;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NRF52832_XXAA" | "NRF52832-QFAA" | "QFAA" | "NRF52" | "NRF52832" => {
                Ok(Chip::Nrf52832Qfaa)
            }
            "NRF52832_XXAB" | "NRF52832-QFAB" | "QFAB" | "NRF52QFAB" => Ok(Chip::Nrf52832Qfab),
            _ => Err(UnknownChip(s.to_string())),
        }
    }
}

/// Round `addr` up to the next page boundary.
pub fn align_to_page(addr: u32) -> u32 {
    addr.div_ceil(PAGE_SIZE) * PAGE_SIZE
}

/// Where bank 0 (the application) starts: the page-aligned end of the installed SoftDevice, or
/// right after the MBR without one (SDK 17.1
/// `components/libraries/bootloader/dfu/nrf_dfu_utils.c`, `nrf_dfu_bank0_start_addr`).
pub fn bank0_start(softdevice: Option<&SoftDeviceInfo>) -> u32 {
    softdevice.map_or(MBR_SIZE, |sd| align_to_page(sd.end_address))
}

/// The SoftDevice info struct at SD base + 0x2000 (`SOFTDEVICE_INFO_STRUCT_OFFSET` and the
/// `SD_*_OFFSET` / `SD_*_GET` macros of S132 7.2.0 `nrf_sdm.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftDeviceInfo {
    /// Size byte of the struct (0x18 in S132 3.0.0, 0x2C later).
    pub info_size: u8,
    /// End address of the SoftDevice, MBR included, page aligned: where bank 0 starts.
    pub end_address: u32,
    /// Firmware ID, the value `sd_req` lists.
    pub fwid: u16,
    /// SoftDevice id (132 for S132); 0 when the struct is too short to carry it.
    pub sd_id: u32,
    /// Version as major·1 000 000 + minor·1000 + patch; 0 when the struct is too short.
    pub version: u32,
}

impl SoftDeviceInfo {
    /// Read the info struct from an image that starts at `base` (the SoftDevice start, 0x1000, or
    /// 0 for a full flash image). Returns `None` when the magic is not where it must be.
    pub fn parse(image: &[u8], base: u32) -> Option<SoftDeviceInfo> {
        let at = (SOFTDEVICE_START + SD_INFO_STRUCT_OFFSET).checked_sub(base)? as usize;
        let word = |off: usize| -> Option<u32> {
            let b = image.get(at + off..at + off + 4)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        if word(4)? != SD_MAGIC {
            return None;
        }
        let info_size = *image.get(at)?;
        let end_address = word(8)?;
        let fwid = (word(0x0C)? & 0xFFFF) as u16;
        let (sd_id, version) = if info_size as usize >= 0x18 {
            (word(0x10).unwrap_or(0), word(0x14).unwrap_or(0))
        } else {
            (0, 0)
        };
        Some(SoftDeviceInfo {
            info_size,
            end_address,
            fwid,
            sd_id,
            version,
        })
    }

    /// Encode the info struct as the SoftDevice carries it (used to build stand-in SoftDevices).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0xFFu8; self.info_size.max(0x18) as usize];
        out[0] = self.info_size;
        out[1..4].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        out[4..8].copy_from_slice(&SD_MAGIC.to_le_bytes());
        out[8..12].copy_from_slice(&self.end_address.to_le_bytes());
        out[12..16].copy_from_slice(&(0xFFFF_0000 | self.fwid as u32).to_le_bytes());
        out[16..20].copy_from_slice(&self.sd_id.to_le_bytes());
        out[20..24].copy_from_slice(&self.version.to_le_bytes());
        out
    }
}

/// A known SoftDevice firmware ID (`--sd-req` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fwid {
    pub fwid: u16,
    pub name: &'static str,
    /// End address (= application start) where verified from the SDK's hex, else `None`.
    pub end_address: Option<u32>,
}

/// `sd_req` value meaning "the application overwrites / needs no SoftDevice".
pub const SD_REQ_APP_OVERWRITES_SD: u32 = 0x0000;
/// `sd_req` value meaning "any SoftDevice" (external applications only).
pub const SD_REQ_ANY_VERSION: u32 = 0xFFFE;

/// S132 firmware IDs, from pc-nrfutil 6.1.7's `--sd-req` help (`nordicsemi/__main__.py`) and the
/// info structs of the SoftDevice hex files shipped in the SDKs.
pub const S132_FWIDS: &[Fwid] = &[
    Fwid {
        fwid: 0x81,
        name: "s132_nrf52_2.0.0",
        end_address: None,
    },
    Fwid {
        fwid: 0x88,
        name: "s132_nrf52_2.0.1",
        end_address: None,
    },
    Fwid {
        fwid: 0x8C,
        name: "s132_nrf52_3.0.0",
        end_address: Some(0x1F000),
    },
    Fwid {
        fwid: 0x91,
        name: "s132_nrf52_3.1.0",
        end_address: None,
    },
    Fwid {
        fwid: 0x95,
        name: "s132_nrf52_4.0.0",
        end_address: None,
    },
    Fwid {
        fwid: 0x98,
        name: "s132_nrf52_4.0.2",
        end_address: None,
    },
    Fwid {
        fwid: 0x99,
        name: "s132_nrf52_4.0.3",
        end_address: None,
    },
    Fwid {
        fwid: 0x9E,
        name: "s132_nrf52_4.0.4",
        end_address: None,
    },
    Fwid {
        fwid: 0x9F,
        name: "s132_nrf52_4.0.5",
        end_address: None,
    },
    Fwid {
        fwid: 0x9D,
        name: "s132_nrf52_5.0.0",
        end_address: Some(0x23000),
    },
    Fwid {
        fwid: 0xA5,
        name: "s132_nrf52_5.1.0",
        end_address: None,
    },
    Fwid {
        fwid: 0xA8,
        name: "s132_nrf52_6.0.0",
        end_address: Some(0x26000),
    },
    Fwid {
        fwid: 0xAF,
        name: "s132_nrf52_6.1.0",
        end_address: Some(0x26000),
    },
    Fwid {
        fwid: 0xB7,
        name: "s132_nrf52_6.1.1",
        end_address: Some(0x26000),
    },
    Fwid {
        fwid: 0xC2,
        name: "s132_nrf52_7.0.0",
        end_address: None,
    },
    Fwid {
        fwid: 0xCB,
        name: "s132_nrf52_7.0.1",
        end_address: None,
    },
    Fwid {
        fwid: 0x101,
        name: "s132_nrf52_7.2.0",
        end_address: Some(0x26000),
    },
    Fwid {
        fwid: 0x124,
        name: "s132_nrf52_7.3.0",
        end_address: None,
    },
];

/// Look up a FWID's SoftDevice name.
pub fn s132_by_fwid(fwid: u16) -> Option<&'static Fwid> {
    S132_FWIDS.iter().find(|f| f.fwid == fwid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qfaa_addresses() {
        let c = Chip::Nrf52832Qfaa;
        assert_eq!(c.settings_address(), 0x7F000);
        assert_eq!(c.mbr_params_address(), 0x7E000);
        assert_eq!(c.bootloader_address(), 0x78000);
        assert_eq!(c.page_count(), 128);
    }

    #[test]
    fn qfab_addresses() {
        let c = Chip::Nrf52832Qfab;
        assert_eq!(c.settings_address(), 0x3F000);
        assert_eq!(c.mbr_params_address(), 0x3E000);
        assert_eq!(c.page_count(), 64);
    }

    #[test]
    fn info_struct_round_trip() {
        let info = SoftDeviceInfo {
            info_size: 0x2C,
            end_address: 0x26000,
            fwid: 0x101,
            sd_id: 132,
            version: 7_002_000,
        };
        let mut img = vec![0xFF; 0x3000];
        img.extend_from_slice(&info.encode());
        assert_eq!(SoftDeviceInfo::parse(&img, 0), Some(info));
        // Same struct seen from an image that starts at the SoftDevice base.
        assert_eq!(SoftDeviceInfo::parse(&img[0x1000..], 0x1000), Some(info));
        assert_eq!(SoftDeviceInfo::parse(&img[..0x3004], 0), None);
    }

    #[test]
    fn fwid_table() {
        assert_eq!(s132_by_fwid(0x8C).unwrap().name, "s132_nrf52_3.0.0");
        assert_eq!(s132_by_fwid(0x101).unwrap().end_address, Some(0x26000));
    }
}
