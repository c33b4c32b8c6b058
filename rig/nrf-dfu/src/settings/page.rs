//! `nrf_dfu_settings_t`: decode and encode each layout byte for byte.
//!
//! Decoding never judges CRCs (a bootloader must be able to look at a corrupt page); `check` does.

use super::bank::Bank;
use super::boot_validation::BootValidation;
use super::hex_serde;
use super::layout::{offset, SettingsLayout, BOOT_VALIDATION_LEN};
use super::peer::{AdvName, PeerData};
use super::SettingsError;
use serde::Serialize;

/// `dfu_progress_t` (32 bytes at 0x38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Progress {
    pub command_size: u32,
    pub command_offset: u32,
    pub command_crc: u32,
    pub data_object_size: u32,
    /// SDK 15+: a union with `update_start_address` (see [`Progress::update_start_address`]).
    pub firmware_image_crc: u32,
    pub firmware_image_crc_last: u32,
    pub firmware_image_offset: u32,
    pub firmware_image_offset_last: u32,
}

impl Progress {
    pub const LEN: usize = 32;

    /// SDK 15+ reuse the first union word after postvalidation: where the new image waits in bank 1.
    pub fn update_start_address(&self) -> u32 {
        self.firmware_image_crc
    }

    pub fn set_update_start_address(&mut self, address: u32) {
        self.firmware_image_crc = address;
    }
}

/// What follows `enter_buttonless_dfu`: this is where the layouts differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum LayoutTail {
    /// SDK 12: a 256-byte init command and nothing else.
    Sdk12 {
        #[serde(with = "hex_serde")]
        init_command: [u8; 256],
    },
    /// v1 (SDK 13/14 to 15.2).
    V1 {
        #[serde(with = "hex_serde")]
        init_command: [u8; 256],
        peer_data: PeerData,
        adv_name: AdvName,
    },
    /// v2 (SDK 15.3+).
    V2(Box<TailV2>),
}

/// The v2 tail: 512-byte init command, boot validation, peer data, advertising name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TailV2 {
    #[serde(with = "hex_serde")]
    pub init_command: [u8; 512],
    pub boot_validation_crc: u32,
    pub boot_validation_softdevice: BootValidation,
    pub boot_validation_app: BootValidation,
    pub boot_validation_bootloader: BootValidation,
    /// The alignment byte at 0x323 (outside every CRC; nrfutil writes 0xFF there).
    #[serde(skip)]
    pub padding: u8,
    pub peer_data: PeerData,
    pub adv_name: AdvName,
}

/// One bootloader settings page (`nrf_dfu_settings_t`), in any of the three layouts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SettingsPage {
    pub crc: u32,
    pub settings_version: u32,
    pub app_version: u32,
    pub bootloader_version: u32,
    pub bank_layout: u32,
    pub bank_current: u32,
    pub bank_0: Bank,
    pub bank_1: Bank,
    pub write_offset: u32,
    pub sd_size: u32,
    pub progress: Progress,
    pub enter_buttonless_dfu: u32,
    #[serde(flatten)]
    pub tail: LayoutTail,
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        w.copy_from_slice(s);
    }
    u32::from_le_bytes(w)
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    if let Some(d) = b.get_mut(at..at + 4) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

fn bank(b: &[u8], at: usize) -> Bank {
    Bank::from_words(le32(b, at), le32(b, at + 4), le32(b, at + 8))
}

fn put_bank(b: &mut [u8], at: usize, bank: &Bank) {
    put32(b, at, bank.image_size);
    put32(b, at + 4, bank.image_crc);
    put32(b, at + 8, bank.bank_code.code());
}

impl SettingsPage {
    /// What a bootloader of `layout` puts in RAM when both copies are unusable: all zero except
    /// `settings_version` (`memset(0)` + `NRF_DFU_SETTINGS_VERSION`). `crc` is filled in on write.
    pub fn defaults(layout: SettingsLayout) -> Self {
        let mut bytes = vec![0u8; layout.size()];
        put32(
            &mut bytes,
            offset::SETTINGS_VERSION,
            layout.settings_version(),
        );
        Self::decode_exact(&bytes, layout)
    }

    /// Decode the first `layout.size()` bytes of `bytes` (a struct or a whole 4 KB page).
    pub fn decode(bytes: &[u8], layout: SettingsLayout) -> Result<Self, SettingsError> {
        if bytes.len() < layout.size() {
            return Err(SettingsError::TooShort {
                what: "settings page",
                needed: layout.size(),
                found: bytes.len(),
            });
        }
        Ok(Self::decode_exact(bytes, layout))
    }

    /// Decode with the layout its `settings_version` word suggests ([`SettingsLayout::detect`]).
    pub fn decode_detect(bytes: &[u8]) -> Result<Self, SettingsError> {
        Self::decode(bytes, SettingsLayout::detect(bytes)?)
    }

    /// Decode without the length check (short input reads as zeros); callers own the length.
    pub(super) fn decode_exact(b: &[u8], layout: SettingsLayout) -> Self {
        let p = offset::PROGRESS;
        let tail = match layout {
            SettingsLayout::Sdk12 => LayoutTail::Sdk12 {
                init_command: array(b, offset::INIT_COMMAND),
            },
            SettingsLayout::V1 => LayoutTail::V1 {
                init_command: array(b, offset::INIT_COMMAND),
                peer_data: PeerData::decode(b.get(offset::PEER_DATA_V1..).unwrap_or_default()),
                adv_name: AdvName::decode(b.get(offset::ADV_NAME_V1..).unwrap_or_default()),
            },
            SettingsLayout::V2 => {
                let bv = |at: usize| {
                    BootValidation::decode(b.get(at..at + BOOT_VALIDATION_LEN).unwrap_or_default())
                };
                LayoutTail::V2(Box::new(TailV2 {
                    init_command: array(b, offset::INIT_COMMAND),
                    boot_validation_crc: le32(b, offset::BOOT_VALIDATION_CRC),
                    boot_validation_softdevice: bv(offset::BOOT_VALIDATION_SOFTDEVICE),
                    boot_validation_app: bv(offset::BOOT_VALIDATION_APP),
                    boot_validation_bootloader: bv(offset::BOOT_VALIDATION_BOOTLOADER),
                    padding: b.get(offset::V2_PADDING).copied().unwrap_or(0xFF),
                    peer_data: PeerData::decode(b.get(offset::PEER_DATA_V2..).unwrap_or_default()),
                    adv_name: AdvName::decode(b.get(offset::ADV_NAME_V2..).unwrap_or_default()),
                }))
            }
        };
        SettingsPage {
            crc: le32(b, offset::CRC),
            settings_version: le32(b, offset::SETTINGS_VERSION),
            app_version: le32(b, offset::APP_VERSION),
            bootloader_version: le32(b, offset::BOOTLOADER_VERSION),
            bank_layout: le32(b, offset::BANK_LAYOUT),
            bank_current: le32(b, offset::BANK_CURRENT),
            bank_0: bank(b, offset::BANK_0),
            bank_1: bank(b, offset::BANK_1),
            write_offset: le32(b, offset::WRITE_OFFSET),
            sd_size: le32(b, offset::SD_SIZE),
            progress: Progress {
                command_size: le32(b, p),
                command_offset: le32(b, p + 4),
                command_crc: le32(b, p + 8),
                data_object_size: le32(b, p + 12),
                firmware_image_crc: le32(b, p + 16),
                firmware_image_crc_last: le32(b, p + 20),
                firmware_image_offset: le32(b, p + 24),
                firmware_image_offset_last: le32(b, p + 28),
            },
            enter_buttonless_dfu: le32(b, offset::ENTER_BUTTONLESS_DFU),
            tail,
        }
    }

    /// The struct's bytes (`layout().size()` of them), exactly as the bootloader stores them.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; self.layout().size()];
        put32(&mut b, offset::CRC, self.crc);
        put32(&mut b, offset::SETTINGS_VERSION, self.settings_version);
        put32(&mut b, offset::APP_VERSION, self.app_version);
        put32(&mut b, offset::BOOTLOADER_VERSION, self.bootloader_version);
        put32(&mut b, offset::BANK_LAYOUT, self.bank_layout);
        put32(&mut b, offset::BANK_CURRENT, self.bank_current);
        put_bank(&mut b, offset::BANK_0, &self.bank_0);
        put_bank(&mut b, offset::BANK_1, &self.bank_1);
        put32(&mut b, offset::WRITE_OFFSET, self.write_offset);
        put32(&mut b, offset::SD_SIZE, self.sd_size);
        let p = &self.progress;
        let words = [
            p.command_size,
            p.command_offset,
            p.command_crc,
            p.data_object_size,
            p.firmware_image_crc,
            p.firmware_image_crc_last,
            p.firmware_image_offset,
            p.firmware_image_offset_last,
        ];
        for (i, w) in words.into_iter().enumerate() {
            put32(&mut b, offset::PROGRESS + 4 * i, w);
        }
        put32(
            &mut b,
            offset::ENTER_BUTTONLESS_DFU,
            self.enter_buttonless_dfu,
        );
        let init = self.init_command();
        b[offset::INIT_COMMAND..offset::INIT_COMMAND + init.len()].copy_from_slice(init);
        match &self.tail {
            LayoutTail::Sdk12 { .. } => {}
            LayoutTail::V1 {
                peer_data,
                adv_name,
                ..
            } => {
                b[offset::PEER_DATA_V1..offset::ADV_NAME_V1].copy_from_slice(&peer_data.0);
                b[offset::ADV_NAME_V1..].copy_from_slice(&adv_name.to_bytes());
            }
            LayoutTail::V2(t) => {
                put32(&mut b, offset::BOOT_VALIDATION_CRC, t.boot_validation_crc);
                t.boot_validation_softdevice
                    .encode_into(&mut b[offset::BOOT_VALIDATION_SOFTDEVICE..]);
                t.boot_validation_app
                    .encode_into(&mut b[offset::BOOT_VALIDATION_APP..]);
                t.boot_validation_bootloader
                    .encode_into(&mut b[offset::BOOT_VALIDATION_BOOTLOADER..]);
                b[offset::V2_PADDING] = t.padding;
                b[offset::PEER_DATA_V2..offset::ADV_NAME_V2].copy_from_slice(&t.peer_data.0);
                b[offset::ADV_NAME_V2..].copy_from_slice(&t.adv_name.to_bytes());
            }
        }
        b
    }

    /// The struct as it reads from a 4 KB flash page after the bootloader's write: the struct,
    /// then 0xFF up to the end of the page (a write follows an erase).
    pub fn encode_page(&self) -> Vec<u8> {
        let mut page = self.encode();
        page.resize(crate::memory_map::PAGE_SIZE as usize, 0xFF);
        page
    }

    pub fn layout(&self) -> SettingsLayout {
        match self.tail {
            LayoutTail::Sdk12 { .. } => SettingsLayout::Sdk12,
            LayoutTail::V1 { .. } => SettingsLayout::V1,
            LayoutTail::V2(_) => SettingsLayout::V2,
        }
    }

    /// `init_command`: 256 bytes (SDK 12, v1) or 512 bytes (v2).
    pub fn init_command(&self) -> &[u8] {
        match &self.tail {
            LayoutTail::Sdk12 { init_command } | LayoutTail::V1 { init_command, .. } => {
                &init_command[..]
            }
            LayoutTail::V2(t) => &t.init_command[..],
        }
    }

    pub fn init_command_mut(&mut self) -> &mut [u8] {
        match &mut self.tail {
            LayoutTail::Sdk12 { init_command } | LayoutTail::V1 { init_command, .. } => {
                &mut init_command[..]
            }
            LayoutTail::V2(t) => &mut t.init_command[..],
        }
    }

    /// The v2 tail (boot validation), if this is a v2 page.
    pub fn v2(&self) -> Option<&TailV2> {
        match &self.tail {
            LayoutTail::V2(t) => Some(t),
            _ => None,
        }
    }

    pub fn v2_mut(&mut self) -> Option<&mut TailV2> {
        match &mut self.tail {
            LayoutTail::V2(t) => Some(t),
            _ => None,
        }
    }

    pub fn peer_data(&self) -> Option<&PeerData> {
        match &self.tail {
            LayoutTail::Sdk12 { .. } => None,
            LayoutTail::V1 { peer_data, .. } => Some(peer_data),
            LayoutTail::V2(t) => Some(&t.peer_data),
        }
    }

    pub fn peer_data_mut(&mut self) -> Option<&mut PeerData> {
        match &mut self.tail {
            LayoutTail::Sdk12 { .. } => None,
            LayoutTail::V1 { peer_data, .. } => Some(peer_data),
            LayoutTail::V2(t) => Some(&mut t.peer_data),
        }
    }

    pub fn adv_name(&self) -> Option<&AdvName> {
        match &self.tail {
            LayoutTail::Sdk12 { .. } => None,
            LayoutTail::V1 { adv_name, .. } => Some(adv_name),
            LayoutTail::V2(t) => Some(&t.adv_name),
        }
    }

    pub fn adv_name_mut(&mut self) -> Option<&mut AdvName> {
        match &mut self.tail {
            LayoutTail::Sdk12 { .. } => None,
            LayoutTail::V1 { adv_name, .. } => Some(adv_name),
            LayoutTail::V2(t) => Some(&mut t.adv_name),
        }
    }

    /// SDK names of the fields whose values differ between two pages (CRCs excluded), in struct
    /// order; used to say what a merge restored or how a backup differs from the main page.
    pub fn differing_fields(&self, other: &SettingsPage) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut cmp = |name: &'static str, same: bool| {
            if !same {
                out.push(name);
            }
        };
        cmp(
            "settings_version",
            self.settings_version == other.settings_version,
        );
        cmp("app_version", self.app_version == other.app_version);
        cmp(
            "bootloader_version",
            self.bootloader_version == other.bootloader_version,
        );
        cmp("bank_layout", self.bank_layout == other.bank_layout);
        cmp("bank_current", self.bank_current == other.bank_current);
        cmp("bank_0", self.bank_0 == other.bank_0);
        cmp("bank_1", self.bank_1 == other.bank_1);
        cmp("write_offset", self.write_offset == other.write_offset);
        cmp("sd_size", self.sd_size == other.sd_size);
        cmp("progress", self.progress == other.progress);
        cmp(
            "enter_buttonless_dfu",
            self.enter_buttonless_dfu == other.enter_buttonless_dfu,
        );
        cmp("init_command", self.init_command() == other.init_command());
        let (a, b) = (self.v2(), other.v2());
        cmp(
            "boot_validation_softdevice",
            a.map(|t| t.boot_validation_softdevice) == b.map(|t| t.boot_validation_softdevice),
        );
        cmp(
            "boot_validation_app",
            a.map(|t| t.boot_validation_app) == b.map(|t| t.boot_validation_app),
        );
        cmp(
            "boot_validation_bootloader",
            a.map(|t| t.boot_validation_bootloader) == b.map(|t| t.boot_validation_bootloader),
        );
        cmp("peer_data", self.peer_data() == other.peer_data());
        cmp("adv_name", self.adv_name() == other.adv_name());
        out
    }
}
