//! The three `nrf_dfu_settings_t` layouts and their byte offsets (`nrf_dfu_types.h` of
//! SDK 12.3, 15.2 and 17.0, packed with `#pragma pack(4)` and built with `-fshort-enums`).

use super::SettingsError;
use crate::SdkVersion;
use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// Byte offsets inside `nrf_dfu_settings_t`. Identical in every layout up to `init_command`.
pub mod offset {
    pub const CRC: usize = 0x000;
    pub const SETTINGS_VERSION: usize = 0x004;
    pub const APP_VERSION: usize = 0x008;
    pub const BOOTLOADER_VERSION: usize = 0x00C;
    pub const BANK_LAYOUT: usize = 0x010;
    pub const BANK_CURRENT: usize = 0x014;
    pub const BANK_0: usize = 0x018;
    pub const BANK_1: usize = 0x024;
    pub const WRITE_OFFSET: usize = 0x030;
    pub const SD_SIZE: usize = 0x034;
    pub const PROGRESS: usize = 0x038;
    pub const ENTER_BUTTONLESS_DFU: usize = 0x058;
    pub const INIT_COMMAND: usize = 0x05C;
    /// v2 (SDK 15.3+) only from here on.
    pub const BOOT_VALIDATION_CRC: usize = 0x25C;
    pub const BOOT_VALIDATION_SOFTDEVICE: usize = 0x260;
    pub const BOOT_VALIDATION_APP: usize = 0x2A1;
    pub const BOOT_VALIDATION_BOOTLOADER: usize = 0x2E2;
    /// The pad byte `#pragma pack(4)` leaves after the three 65-byte boot validation entries.
    pub const V2_PADDING: usize = 0x323;
    pub const PEER_DATA_V1: usize = 0x15C;
    pub const ADV_NAME_V1: usize = 0x19C;
    pub const PEER_DATA_V2: usize = 0x324;
    pub const ADV_NAME_V2: usize = 0x364;
}

/// `crc` covers the struct from `settings_version` up to (not including) `init_command`.
pub const CRC_RANGE: Range<usize> = 0x004..0x05C;
/// `boot_validation_crc` covers the three boot validation entries (3 × 65 bytes).
pub const BOOT_VALIDATION_CRC_RANGE: Range<usize> = 0x260..0x323;
/// `nrf_dfu_peer_data_t` is 64 bytes (`NRF_DFU_PEER_DATA_LEN`).
pub const PEER_DATA_LEN: usize = 64;
/// `nrf_dfu_adv_name_t` is 28 bytes (`NRF_DFU_ADV_NAME_LEN`).
pub const ADV_NAME_LEN: usize = 28;
/// `boot_validation_t`: a 1-byte type (short enums) and 64 bytes.
pub const BOOT_VALIDATION_LEN: usize = 65;
/// `SETTINGS_BOOT_VALIDATION_SIZE`.
pub const BOOT_VALIDATION_BYTES_LEN: usize = 64;

/// Which `nrf_dfu_settings_t` a bootloader was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SettingsLayout {
    /// SDK 12: the struct ends after a 256-byte `init_command` (348 B, "Writing 0x57 words").
    #[serde(rename = "sdk12")]
    Sdk12,
    /// settings_version 1 of SDK 13/14 to 15.2: `peer_data` @0x15C and `adv_name` @0x19C follow the
    /// 256-byte init command (440 B).
    #[serde(rename = "v1")]
    V1,
    /// settings_version 2 of SDK 15.3+: 512-byte init command, boot validation @0x25C..0x323,
    /// `peer_data` @0x324, `adv_name` @0x364 (896 B).
    #[serde(rename = "v2")]
    V2,
}

impl SettingsLayout {
    pub const ALL: [SettingsLayout; 3] = [
        SettingsLayout::Sdk12,
        SettingsLayout::V1,
        SettingsLayout::V2,
    ];

    /// The layout a given SDK's bootloader reads and writes.
    pub fn for_sdk(sdk: SdkVersion) -> Self {
        match sdk {
            SdkVersion::Sdk12 => SettingsLayout::Sdk12,
            SdkVersion::Sdk14 | SdkVersion::Sdk15_0 | SdkVersion::Sdk15_2 => SettingsLayout::V1,
            SdkVersion::Sdk15_3 | SdkVersion::Sdk16 | SdkVersion::Sdk17 => SettingsLayout::V2,
        }
    }

    /// `sizeof(nrf_dfu_settings_t)`: the bytes a bootloader writes after erasing the page.
    pub const fn size(self) -> usize {
        match self {
            SettingsLayout::Sdk12 => 0x15C,
            SettingsLayout::V1 => 0x1B8,
            SettingsLayout::V2 => 0x380,
        }
    }

    /// `INIT_COMMAND_MAX_SIZE`.
    pub const fn init_command_len(self) -> usize {
        match self {
            SettingsLayout::Sdk12 | SettingsLayout::V1 => 256,
            SettingsLayout::V2 => 512,
        }
    }

    /// The `settings_version` value this layout's bootloaders write (`NRF_DFU_SETTINGS_VERSION`).
    pub const fn settings_version(self) -> u32 {
        match self {
            SettingsLayout::Sdk12 | SettingsLayout::V1 => 1,
            SettingsLayout::V2 => 2,
        }
    }

    /// Where `peer_data` starts, if the layout has it.
    pub const fn peer_data_offset(self) -> Option<usize> {
        match self {
            SettingsLayout::Sdk12 => None,
            SettingsLayout::V1 => Some(offset::PEER_DATA_V1),
            SettingsLayout::V2 => Some(offset::PEER_DATA_V2),
        }
    }

    /// Where `adv_name` starts, if the layout has it.
    pub const fn adv_name_offset(self) -> Option<usize> {
        match self {
            SettingsLayout::Sdk12 => None,
            SettingsLayout::V1 => Some(offset::ADV_NAME_V1),
            SettingsLayout::V2 => Some(offset::ADV_NAME_V2),
        }
    }

    /// Short name used in reports: "sdk12", "v1", "v2".
    pub fn label(self) -> &'static str {
        match self {
            SettingsLayout::Sdk12 => "sdk12",
            SettingsLayout::V1 => "v1",
            SettingsLayout::V2 => "v2",
        }
    }

    /// Guess the layout of a page from its `settings_version` word, for tools that read a page
    /// without knowing which bootloader wrote it: 2 is v2; 1 is v1 when the buffer holds 440 bytes,
    /// else the SDK 12 struct. A bootloader never guesses: it reads its own layout.
    pub fn detect(bytes: &[u8]) -> Result<Self, SettingsError> {
        let version = bytes
            .get(offset::SETTINGS_VERSION..offset::SETTINGS_VERSION + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(SettingsError::TooShort {
                what: "settings page",
                needed: offset::SETTINGS_VERSION + 4,
                found: bytes.len(),
            })?;
        match version {
            2 => Ok(SettingsLayout::V2),
            1 if bytes.len() >= SettingsLayout::V1.size() => Ok(SettingsLayout::V1),
            1 => Ok(SettingsLayout::Sdk12),
            other => Err(SettingsError::UnknownSettingsVersion(other)),
        }
    }
}

impl fmt::Display for SettingsLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsLayout::Sdk12 => f.write_str("SDK 12 layout (348 B)"),
            SettingsLayout::V1 => f.write_str("settings v1 (440 B)"),
            SettingsLayout::V2 => f.write_str("settings v2 (896 B)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_sdk_structs() {
        // SDK 12: 87 words; v1: peer_data + adv_name after the 256-byte init command; v2: computed
        // from the 17.0 header (0x364 + 28).
        assert_eq!(SettingsLayout::Sdk12.size(), 87 * 4);
        assert_eq!(SettingsLayout::V1.size(), 440);
        assert_eq!(SettingsLayout::V2.size(), 896);
        assert_eq!(offset::INIT_COMMAND + 256, offset::PEER_DATA_V1);
        assert_eq!(offset::PEER_DATA_V1 + PEER_DATA_LEN, offset::ADV_NAME_V1);
        assert_eq!(
            offset::ADV_NAME_V1 + ADV_NAME_LEN,
            SettingsLayout::V1.size()
        );
        assert_eq!(offset::INIT_COMMAND + 512, offset::BOOT_VALIDATION_CRC);
        assert_eq!(
            offset::BOOT_VALIDATION_SOFTDEVICE + BOOT_VALIDATION_LEN,
            offset::BOOT_VALIDATION_APP
        );
        assert_eq!(
            offset::BOOT_VALIDATION_APP + BOOT_VALIDATION_LEN,
            offset::BOOT_VALIDATION_BOOTLOADER
        );
        assert_eq!(
            offset::BOOT_VALIDATION_BOOTLOADER + BOOT_VALIDATION_LEN,
            offset::V2_PADDING
        );
        assert_eq!(
            offset::ADV_NAME_V2 + ADV_NAME_LEN,
            SettingsLayout::V2.size()
        );
        assert_eq!(BOOT_VALIDATION_CRC_RANGE.len(), 195);
        assert_eq!(CRC_RANGE.len(), 88);
    }

    #[test]
    fn layout_per_sdk() {
        assert_eq!(
            SettingsLayout::for_sdk(SdkVersion::Sdk12),
            SettingsLayout::Sdk12
        );
        assert_eq!(
            SettingsLayout::for_sdk(SdkVersion::Sdk14),
            SettingsLayout::V1
        );
        assert_eq!(
            SettingsLayout::for_sdk(SdkVersion::Sdk15_2),
            SettingsLayout::V1
        );
        assert_eq!(
            SettingsLayout::for_sdk(SdkVersion::Sdk15_3),
            SettingsLayout::V2
        );
        for sdk in SdkVersion::ALL {
            assert_eq!(
                SettingsLayout::for_sdk(sdk).settings_version(),
                sdk.settings_version()
            );
            assert_eq!(
                SettingsLayout::for_sdk(sdk).init_command_len() as u32,
                sdk.max_init_packet_size()
            );
        }
    }

    #[test]
    fn detect_by_version_word() {
        let mut page = vec![0xFFu8; 4096];
        assert_eq!(
            SettingsLayout::detect(&page),
            Err(SettingsError::UnknownSettingsVersion(0xFFFF_FFFF))
        );
        page[4] = 2;
        page[5..8].fill(0);
        assert_eq!(SettingsLayout::detect(&page), Ok(SettingsLayout::V2));
        page[4] = 1;
        assert_eq!(SettingsLayout::detect(&page), Ok(SettingsLayout::V1));
        assert_eq!(
            SettingsLayout::detect(&page[..348]),
            Ok(SettingsLayout::Sdk12)
        );
        assert!(matches!(
            SettingsLayout::detect(&page[..7]),
            Err(SettingsError::TooShort { .. })
        ));
    }
}
