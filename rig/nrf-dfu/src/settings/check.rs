//! The four CRCs of a settings page: compute, check, fix.
//!
//! - `crc`: CRC-32 of bytes 0x04..0x5B; 0xFFFFFFFF always means "never written" (every SDK checks
//!   `crc != 0xFFFFFFFF` before comparing).
//! - `boot_validation_crc` (v2): CRC-32 of 0x260..0x322.
//! - `peer_data.crc`, `adv_name.crc`: CRC-32 of the struct after its own CRC word; an all-0xFF area
//!   is "erased", which is normal (nothing handed over by the application).

use super::layout::{BOOT_VALIDATION_CRC_RANGE, CRC_RANGE};
use super::peer::AreaStatus;
use super::{SettingsError, SettingsPage};
use crate::crc::crc32;
use serde::Serialize;
use std::fmt;

/// Which CRC of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrcField {
    /// `crc` over 0x04..0x5B.
    Crc,
    /// `boot_validation_crc` over 0x260..0x322 (v2).
    BootValidationCrc,
    /// `peer_data.crc`.
    PeerData,
    /// `adv_name.crc`.
    AdvName,
}

impl CrcField {
    pub fn describe(self) -> &'static str {
        match self {
            CrcField::Crc => "crc (bytes 0x04..0x5B)",
            CrcField::BootValidationCrc => "boot_validation_crc (bytes 0x260..0x322)",
            CrcField::PeerData => "peer_data.crc",
            CrcField::AdvName => "adv_name.crc",
        }
    }
}

/// One CRC that does not match: `expected` is what the bytes give, `found` what the page stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CrcMismatch {
    pub field: CrcField,
    pub expected: u32,
    pub found: u32,
}

impl fmt::Display for CrcMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field == CrcField::Crc && self.found == 0xFFFF_FFFF {
            write!(
                f,
                "{} is 0xFFFFFFFF (never written; the bytes give {:#010X})",
                self.field.describe(),
                self.expected
            )
        } else {
            write!(
                f,
                "{} expected {:#010X}, found {:#010X}",
                self.field.describe(),
                self.expected,
                self.found
            )
        }
    }
}

/// State of one CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CrcCheck {
    pub stored: u32,
    pub computed: u32,
    pub status: CrcStatus,
}

/// How the bootloader would judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrcStatus {
    Valid,
    Invalid,
    /// Main `crc` = 0xFFFFFFFF, or an all-0xFF peer/adv area: nothing was written.
    Erased,
}

impl CrcCheck {
    pub fn is_valid(&self) -> bool {
        self.status == CrcStatus::Valid
    }
}

/// All CRCs of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CrcReport {
    pub crc: CrcCheck,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_validation_crc: Option<CrcCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_data: Option<CrcCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adv_name: Option<CrcCheck>,
}

/// `crc` of an encoded struct (bytes 0x04..0x5B).
pub fn settings_crc(bytes: &[u8]) -> u32 {
    crc32(bytes.get(CRC_RANGE).unwrap_or_default())
}

/// `boot_validation_crc` of an encoded v2 struct (bytes 0x260..0x322).
pub fn boot_validation_crc(bytes: &[u8]) -> u32 {
    crc32(bytes.get(BOOT_VALIDATION_CRC_RANGE).unwrap_or_default())
}

/// The bootloaders' `crc_ok()`: set (not 0xFFFFFFFF) and matching. Same rule in SDK 12 to 17.
pub fn crc_ok(bytes: &[u8]) -> bool {
    let stored = stored_crc(bytes);
    stored != 0xFFFF_FFFF && stored == settings_crc(bytes)
}

/// SDK 15.3+ `boot_validation_crc_ok()` on an encoded struct.
pub fn boot_validation_crc_ok(bytes: &[u8]) -> bool {
    let mut w = [0u8; 4];
    if let Some(s) = bytes.get(0x25C..0x260) {
        w.copy_from_slice(s);
    }
    u32::from_le_bytes(w) == boot_validation_crc(bytes)
}

fn stored_crc(bytes: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = bytes.get(0..4) {
        w.copy_from_slice(s);
    }
    u32::from_le_bytes(w)
}

fn area_check(stored: u32, computed: u32, status: AreaStatus) -> CrcCheck {
    let status = match status {
        AreaStatus::Erased => CrcStatus::Erased,
        AreaStatus::Valid => CrcStatus::Valid,
        AreaStatus::Invalid => CrcStatus::Invalid,
    };
    CrcCheck {
        stored,
        computed,
        status,
    }
}

impl SettingsPage {
    /// The `crc` the bytes call for.
    pub fn compute_crc(&self) -> u32 {
        settings_crc(&self.encode())
    }

    /// The `boot_validation_crc` the bytes call for (v2 pages only).
    pub fn compute_boot_validation_crc(&self) -> Option<u32> {
        self.v2().map(|_| boot_validation_crc(&self.encode()))
    }

    /// Every CRC of the page, stored vs computed.
    pub fn check_crcs(&self) -> CrcReport {
        let bytes = self.encode();
        let computed = settings_crc(&bytes);
        let status = if self.crc == 0xFFFF_FFFF {
            CrcStatus::Erased
        } else if self.crc == computed {
            CrcStatus::Valid
        } else {
            CrcStatus::Invalid
        };
        let bv = self.v2().map(|t| {
            let computed = boot_validation_crc(&bytes);
            let status = if t.boot_validation_crc == computed {
                CrcStatus::Valid
            } else {
                CrcStatus::Invalid
            };
            CrcCheck {
                stored: t.boot_validation_crc,
                computed,
                status,
            }
        });
        CrcReport {
            crc: CrcCheck {
                stored: self.crc,
                computed,
                status,
            },
            boot_validation_crc: bv,
            peer_data: self
                .peer_data()
                .map(|p| area_check(p.crc(), p.compute_crc(), p.status())),
            adv_name: self
                .adv_name()
                .map(|a| area_check(a.crc, a.compute_crc(), a.status())),
        }
    }

    /// Every CRC that is wrong. An unset main `crc` (0xFFFFFFFF) counts as wrong, as for the
    /// bootloader; erased peer data / advertising name do not.
    pub fn crc_mismatches(&self) -> Vec<CrcMismatch> {
        let r = self.check_crcs();
        let fields = [
            (CrcField::Crc, Some(r.crc)),
            (CrcField::BootValidationCrc, r.boot_validation_crc),
            (CrcField::PeerData, r.peer_data),
            (CrcField::AdvName, r.adv_name),
        ];
        fields
            .into_iter()
            .filter_map(|(field, check)| {
                let c = check?;
                let bad = match field {
                    CrcField::Crc => c.status != CrcStatus::Valid,
                    _ => c.status == CrcStatus::Invalid,
                };
                bad.then_some(CrcMismatch {
                    field,
                    expected: c.computed,
                    found: c.stored,
                })
            })
            .collect()
    }

    /// `Ok` when the page is valid for a bootloader: `crc` set and matching and, on v2, a matching
    /// `boot_validation_crc`. Otherwise [`SettingsError::Crc`] names each wrong one. A wrong peer
    /// data or advertising name CRC does not make the page invalid (the bootloader then just has
    /// no peer data / name; a settings reset even writes them as zeros); see [`Self::check_crcs`].
    pub fn validate(&self) -> Result<(), SettingsError> {
        let m: Vec<CrcMismatch> = self
            .crc_mismatches()
            .into_iter()
            .filter(|m| matches!(m.field, CrcField::Crc | CrcField::BootValidationCrc))
            .collect();
        if m.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Crc(m))
        }
    }

    /// Recompute `crc` and `boot_validation_crc` as the bootloader does before every write
    /// (`nrf_dfu_settings_write`).
    pub fn fix_settings_crcs(&mut self) {
        if let Some(bv) = self.compute_boot_validation_crc() {
            if let Some(t) = self.v2_mut() {
                t.boot_validation_crc = bv;
            }
        }
        self.crc = self.compute_crc();
    }

    /// Recompute every CRC, including those of peer data and advertising name when they hold
    /// data (erased areas are left erased).
    pub fn fix_crcs(&mut self) {
        self.fix_settings_crcs();
        if let Some(p) = self.peer_data_mut() {
            if p.status() != AreaStatus::Erased {
                p.set_crc(p.compute_crc());
            }
        }
        if let Some(a) = self.adv_name_mut() {
            if a.status() != AreaStatus::Erased {
                a.crc = a.compute_crc();
            }
        }
    }
}
