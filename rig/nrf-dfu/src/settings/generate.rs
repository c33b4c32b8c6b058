//! Settings page generation equivalent to `nrfutil settings generate` (pc-nrfutil 6.1.7
//! `nordicsemi/dfu/bl_dfu_sett.py` and `__main__.py`), byte for byte.
//!
//! nrfutil fills the first 92 bytes (v1) or 803 bytes (v2) of the struct with zeros, sets its fields,
//! pads to a word with 0xFF, and puts the same bytes one page lower as the backup. Everything after
//! those bytes is left to the erased flash (0xFF), which is how [`GeneratedSettings::page`] shows it.

use super::boot_validation::{BootValidation, BootValidationType};
use super::layout::{offset, SettingsLayout};
use super::{Bank, BankCode, SettingsPage};
use crate::crc::crc32;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// nrfutil's `--family` values that are nRF52832 variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Family {
    /// `NRF52`: nRF52832-QFAA, settings at 0x7F000.
    #[serde(rename = "NRF52")]
    Nrf52,
    /// `NRF52QFAB`: nRF52832-QFAB, settings at 0x3F000.
    #[serde(rename = "NRF52QFAB")]
    Nrf52Qfab,
}

impl Family {
    /// Default settings page address (`bl_sett_52_addr`, `bl_sett_52_qfab_addr`).
    pub fn settings_address(self) -> u32 {
        match self {
            Family::Nrf52 => 0x0007_F000,
            Family::Nrf52Qfab => 0x0003_F000,
        }
    }

    /// The spelling nrfutil prints as "Family" (`arch_str`).
    pub fn arch_str(self) -> &'static str {
        match self {
            Family::Nrf52 => "nRF52",
            Family::Nrf52Qfab => "nRF52QFAB",
        }
    }

    pub fn chip(self) -> crate::Chip {
        match self {
            Family::Nrf52 => crate::Chip::Nrf52832Qfaa,
            Family::Nrf52Qfab => crate::Chip::Nrf52832Qfab,
        }
    }
}

/// A `--family` that is not an nRF52832.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("family `{0}` is not supported: the rig targets the nRF52832, use NRF52 (QFAA, 512 KB, settings at 0x7F000) or NRF52QFAB (QFAB, 256 KB, settings at 0x3F000){hint}", hint = family_hint(.0))]
pub struct UnsupportedFamily(pub String);

fn family_hint(name: &str) -> &'static str {
    match name.to_ascii_uppercase().as_str() {
        "NRF51" | "NRF52810" | "NRF52840" => {
            "; nrfutil knows this family, the rig does not model it"
        }
        _ => "",
    }
}

impl FromStr for Family {
    type Err = UnsupportedFamily;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NRF52" => Ok(Family::Nrf52),
            "NRF52QFAB" => Ok(Family::Nrf52Qfab),
            _ => Err(UnsupportedFamily(s.trim().to_string())),
        }
    }
}

/// Where the backup copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum BackupPlacement {
    /// `--no-backup`.
    None,
    /// One page below the settings page (nrfutil's default, the MBR parameter page).
    BelowSettings,
    /// `--backup-address` (nrfutil 6.1.7 rejects this option in every case because of a flag
    /// check bug; the rig honours it).
    At(u32),
}

/// Inputs of one generation. Images are the binaries nrfutil derives from the files it is given
/// (`.hex` → `.bin` without MBR and UICR, padded to a word), see `image::firmware`.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions<'a> {
    pub family: Family,
    pub application: Option<&'a [u8]>,
    pub application_version: Option<u32>,
    pub bootloader_version: u32,
    pub bl_settings_version: u32,
    pub start_address: Option<u32>,
    pub backup: BackupPlacement,
    pub app_boot_validation: Option<BootValidationType>,
    pub sd_boot_validation: Option<BootValidationType>,
    pub softdevice: Option<&'a [u8]>,
}

/// A request nrfutil would refuse (its messages, reworded to name the option).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    #[error("--bl-settings-version {0} is unknown: 1 is SDK 12.0.0 to 15.2.0, 2 is SDK 15.3.0 and later")]
    UnknownSettingsVersion(u32),
    #[error("--application-version or --application-version-string is required with an application image")]
    ApplicationVersionRequired,
    #[error("bootloader settings version 1 does not support boot validation (--app-boot-validation / --sd-boot-validation need --bl-settings-version 2)")]
    BootValidationNeedsV2,
    #[error("a key file (--key-file) must be given when VALIDATE_ECDSA_P256_SHA256 boot validation is used")]
    SigningKeyRequired,
    #[error("--application must be given when using --app-boot-validation")]
    AppBootValidationWithoutApplication,
    #[error("--softdevice must be given when using --sd-boot-validation")]
    SdBootValidationWithoutSoftDevice,
    #[error("boot validation type {0} cannot be generated")]
    UnsupportedBootValidation(u8),
}

/// A generated settings page and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedSettings {
    pub family: Family,
    pub address: u32,
    pub backup_address: Option<u32>,
    /// The page as it reads from flash once the output is programmed onto an erased page.
    pub page: SettingsPage,
}

impl GeneratedSettings {
    /// The bytes nrfutil writes at the settings address: 0x5C (v1) or 0x324 (v2; 0x323 bytes of
    /// struct and one 0xFF to reach a word boundary).
    pub fn image(&self) -> Vec<u8> {
        let mut b = self.page.encode();
        b.truncate(written_len(self.page.layout()));
        b
    }

    /// (address, bytes) to program, lowest address first: main page and, unless disabled, backup.
    pub fn segments(&self) -> Vec<(u32, Vec<u8>)> {
        let image = self.image();
        let mut segs = vec![(self.address, image.clone())];
        if let Some(backup) = self.backup_address {
            segs.push((backup, image));
        }
        segs.sort_by_key(|(a, _)| *a);
        segs
    }
}

/// Bytes nrfutil writes (`bytes_count` rounded up to a word).
fn written_len(layout: SettingsLayout) -> usize {
    match layout {
        SettingsLayout::V2 => 0x324,
        SettingsLayout::V1 | SettingsLayout::Sdk12 => offset::INIT_COMMAND,
    }
}

/// Signs a firmware image for `VALIDATE_ECDSA_P256_SHA256`: ECDSA P-256 over SHA-256 of the bytes,
/// returned as r (32 bytes LE) ‖ s (32 bytes LE).
pub type FirmwareSigner<'a> = &'a dyn Fn(&[u8]) -> [u8; 64];

fn boot_validation(
    kind: BootValidationType,
    image: &[u8],
    sign: Option<FirmwareSigner<'_>>,
) -> Result<BootValidation, GenerateError> {
    Ok(match kind {
        BootValidationType::NoValidation => BootValidation::NONE,
        BootValidationType::ValidateCrc => BootValidation::crc(image),
        BootValidationType::ValidateSha256 => BootValidation::sha256(image),
        BootValidationType::ValidateEcdsaP256Sha256 => {
            BootValidation::ecdsa(&sign.ok_or(GenerateError::SigningKeyRequired)?(image))
        }
        BootValidationType::Unknown(c) => return Err(GenerateError::UnsupportedBootValidation(c)),
    })
}

/// Build the settings page as `nrfutil settings generate` does.
pub fn generate(
    opts: &GenerateOptions<'_>,
    sign: Option<FirmwareSigner<'_>>,
) -> Result<GeneratedSettings, GenerateError> {
    let layout = match opts.bl_settings_version {
        1 => SettingsLayout::V1,
        2 => SettingsLayout::V2,
        other => return Err(GenerateError::UnknownSettingsVersion(other)),
    };
    if opts.application.is_some() && opts.application_version.is_none() {
        return Err(GenerateError::ApplicationVersionRequired);
    }
    let explicit = opts.app_boot_validation.is_some() || opts.sd_boot_validation.is_some();
    if layout == SettingsLayout::V1 && explicit {
        return Err(GenerateError::BootValidationNeedsV2);
    }
    let ecdsa = Some(BootValidationType::ValidateEcdsaP256Sha256);
    if (opts.app_boot_validation == ecdsa || opts.sd_boot_validation == ecdsa) && sign.is_none() {
        return Err(GenerateError::SigningKeyRequired);
    }
    if opts.app_boot_validation.is_some() && opts.application.is_none() {
        return Err(GenerateError::AppBootValidationWithoutApplication);
    }
    if opts.sd_boot_validation.is_some() && opts.softdevice.is_none() {
        return Err(GenerateError::SdBootValidationWithoutSoftDevice);
    }

    // Zeros over the bytes nrfutil writes, 0xFF (erased flash) after them.
    let mut bytes = vec![0xFFu8; layout.size()];
    let count = match layout {
        SettingsLayout::V2 => offset::V2_PADDING,
        _ => offset::INIT_COMMAND,
    };
    bytes[..count].fill(0);
    let mut page = SettingsPage::decode_exact(&bytes, layout);

    page.settings_version = opts.bl_settings_version;
    page.app_version = opts.application_version.unwrap_or(0);
    page.bootloader_version = opts.bootloader_version;
    if let Some(app) = opts.application {
        page.bank_0 = Bank {
            image_size: app.len() as u32,
            image_crc: crc32(app),
            bank_code: BankCode::ValidApp,
        };
    }
    if let Some(sd) = opts.softdevice {
        page.sd_size = sd.len() as u32;
    }
    if let Some(t) = page.v2_mut() {
        // Boot validation defaults to a CRC for each image given (v2 only).
        if let Some(app) = opts.application {
            let kind = opts
                .app_boot_validation
                .unwrap_or(BootValidationType::ValidateCrc);
            t.boot_validation_app = boot_validation(kind, app, sign)?;
        }
        if let Some(sd) = opts.softdevice {
            let kind = opts
                .sd_boot_validation
                .unwrap_or(BootValidationType::ValidateCrc);
            t.boot_validation_softdevice = boot_validation(kind, sd, sign)?;
        }
    }
    page.fix_settings_crcs();

    let address = opts.start_address.unwrap_or(opts.family.settings_address());
    let backup_address = match opts.backup {
        BackupPlacement::None => None,
        BackupPlacement::BelowSettings => Some(address.wrapping_sub(0x1000)),
        BackupPlacement::At(a) => Some(a),
    };
    Ok(GeneratedSettings {
        family: opts.family,
        address,
        backup_address,
        page,
    })
}

/// nrfutil's "Bootloader DFU Settings" block (`BLDFUSettings.__str__`), for a page at `address`.
/// v1 pages show 0 for the boot validation lines, as nrfutil does.
pub struct NrfutilSummary<'a> {
    pub file: &'a str,
    pub family: &'a str,
    pub address: u32,
    pub page: &'a SettingsPage,
}

impl fmt::Display for NrfutilSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.page;
        let (bv_crc, sd_t, app_t) = p
            .v2()
            .map(|t| {
                (
                    t.boot_validation_crc,
                    t.boot_validation_softdevice.kind.code(),
                    t.boot_validation_app.kind.code(),
                )
            })
            .unwrap_or((0, 0, 0));
        writeln!(f)?;
        writeln!(f, "Bootloader DFU Settings:")?;
        writeln!(f, "* File:                     {}", self.file)?;
        writeln!(f, "* Family:                   {}", self.family)?;
        writeln!(f, "* Start Address:            0x{:08X}", self.address)?;
        writeln!(f, "* CRC:                      0x{:08X}", p.crc)?;
        writeln!(
            f,
            "* Settings Version:         0x{0:08X} ({0})",
            p.settings_version
        )?;
        writeln!(
            f,
            "* App Version:              0x{0:08X} ({0})",
            p.app_version
        )?;
        writeln!(
            f,
            "* Bootloader Version:       0x{0:08X} ({0})",
            p.bootloader_version
        )?;
        writeln!(f, "* Bank Layout:              0x{:08X}", p.bank_layout)?;
        writeln!(f, "* Current Bank:             0x{:08X}", p.bank_current)?;
        writeln!(
            f,
            "* Application Size:         0x{0:08X} ({0} bytes)",
            p.bank_0.image_size
        )?;
        writeln!(
            f,
            "* Application CRC:          0x{:08X}",
            p.bank_0.image_crc
        )?;
        writeln!(
            f,
            "* Bank0 Bank Code:          0x{:08X}",
            p.bank_0.bank_code.code()
        )?;
        writeln!(
            f,
            "* Softdevice Size:          0x{0:08X} ({0} bytes)",
            p.sd_size
        )?;
        writeln!(f, "* Boot Validation CRC:      0x{:08X}", bv_crc)?;
        writeln!(f, "* SD Boot Validation Type:  0x{0:08X} ({0})", sd_t)?;
        writeln!(f, "* App Boot Validation Type: 0x{0:08X} ({0})", app_t)
    }
}
