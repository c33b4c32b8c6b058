//! The DFU-enter check (SDK 17.1 `nrf_bootloader.c`, `dfu_enter_check`) and the application
//! validity rules behind it (`app_is_valid`, `boot_validate`). One implementation: the booting
//! bootloader model acts on the first reason, [`crate::boot_decision::decide`] (what
//! `rig sim inspect` shows) lists them all. Both read flash only through [`FlashMemory`].

use super::profile::Profile;
use crate::core::Core;
use crate::nvmc::FlashMemory;
use crate::power::{resetreas, ResetKind};
use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::{bank0_start, SoftDeviceInfo, SOFTDEVICE_START};
use nrf_dfu::settings::{
    BankCode, BootValidation, BootValidationType, SettingsLayout, SettingsPage,
};
use nrf_dfu::signing::PublicKey;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Why the bootloader stays in DFU mode, as the running model records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnterReason {
    /// bank 0 does not hold a valid application (code, CRC or boot validation).
    AppInvalid,
    /// GPREGRET asks for it (rule per SDK).
    Gpregret,
    /// settings.enter_buttonless_dfu == 1 (12/14).
    SettingsFlag,
    /// An activated SoftDevice expects an application next (10 s continuation).
    AfterSoftDevice,
}

/// Why the bootloader stays in DFU mode, with what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DfuReason {
    /// bank_0.bank_code is not VALID_APP (nothing installed, invalidated by a single-bank update,
    /// or the settings were reset to defaults).
    AppNotValid {
        #[serde(serialize_with = "bank_code_text")]
        bank_0_code: BankCode,
    },
    /// The application's CRC-32 over bank_0.image_size bytes differs from bank_0.image_crc
    /// (SDK 12 to 15.2) or from the app boot validation (15.3+).
    AppCrcMismatch { expected: u32, computed: u32 },
    /// 15.3+: the app's SHA-256 or ECDSA boot validation failed.
    AppValidationFailed {
        #[serde(serialize_with = "validation_name")]
        validation: BootValidationType,
    },
    /// 15.3+: the SoftDevice's boot validation failed.
    SoftDeviceValidationFailed {
        #[serde(serialize_with = "validation_name")]
        validation: BootValidationType,
    },
    /// The application does not fit in flash (bank_0.image_size runs past the end).
    AppOutsideFlash { start: u32, size: u32 },
    /// GPREGRET asks for DFU (0xB1 by the SDK's rule for this version).
    Gpregret { value: u8 },
    /// settings.enter_buttonless_dfu == 1 (honoured by SDK 12 and 14).
    ButtonlessFlag,
}

impl DfuReason {
    /// The class the running bootloader records.
    pub fn enter_reason(&self) -> EnterReason {
        match self {
            DfuReason::Gpregret { .. } => EnterReason::Gpregret,
            DfuReason::ButtonlessFlag => EnterReason::SettingsFlag,
            _ => EnterReason::AppInvalid,
        }
    }
}

/// A bank code as its SDK name, or `0x…` when no SDK defines it.
pub fn bank_code_name(c: &BankCode) -> String {
    c.name()
        .map_or_else(|| format!("{:#x}", c.code()), str::to_string)
}

/// Serialised as [`bank_code_name`].
pub(crate) fn bank_code_text<S: Serializer>(c: &BankCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&bank_code_name(c))
}

fn validation_name<S: Serializer>(v: &BootValidationType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.name().unwrap_or("unknown"))
}

/// The installed SoftDevice, from its info struct.
pub(crate) fn installed_softdevice(mem: &FlashMemory) -> Option<SoftDeviceInfo> {
    crate::softdevice::installed(&mem.code)
}

impl Core {
    /// `nrf_dfu_bank0_start_addr` on this device's flash.
    pub(crate) fn bank0_start(&self) -> u32 {
        bank0_start(installed_softdevice(self.hw.memory()).as_ref())
    }
}

/// Why `data` fails a boot validation entry.
enum Invalid {
    Crc { expected: u32, computed: u32 },
    Other,
}

/// 17.1 `boot_validate`: check `data` against one boot validation entry.
fn validate(bv: &BootValidation, data: &[u8], public_key: &[u8; 64]) -> Result<(), Invalid> {
    let ok = match bv.kind {
        BootValidationType::NoValidation => true,
        BootValidationType::ValidateCrc => {
            let expected = u32::from_le_bytes([bv.bytes[0], bv.bytes[1], bv.bytes[2], bv.bytes[3]]);
            let computed = crc32(data);
            if expected != computed {
                return Err(Invalid::Crc { expected, computed });
            }
            true
        }
        BootValidationType::ValidateSha256 => Sha256::digest(data)[..] == bv.bytes[..32],
        BootValidationType::ValidateEcdsaP256Sha256 => {
            PublicKey::from_pk64(public_key).is_ok_and(|k| k.verify_nordic(data, &bv.bytes).is_ok())
        }
        BootValidationType::Unknown(_) => false,
    };
    ok.then_some(()).ok_or(Invalid::Other)
}

/// `boot_validate` (15.3+) over `len` bytes of flash at `addr`.
pub(crate) fn boot_validate(
    core: &Core,
    p: &Profile,
    bv: &BootValidation,
    addr: u32,
    len: u32,
) -> bool {
    core.hw
        .memory()
        .code
        .read(addr, len)
        .is_ok_and(|data| validate(bv, data, &p.public_key).is_ok())
}

/// Why bank 0 does not hold a valid application for this build (None: it does), and the bytes
/// the CPU hashed deciding it. SDK 12: image_crc 0 means "do not check" (12.3
/// `nrf_dfu_app_is_valid`); 14 to 15.2 compare bank_0.image_crc; 15.3+ (17.1 `app_is_valid`)
/// the SoftDevice over settings.sd_size from the MBR's end, then the application, against their
/// boot validations, CRC ones skipped when `skip_crc`.
pub(crate) fn app_invalid(
    mem: &FlashMemory,
    p: &Profile,
    s: &SettingsPage,
    skip_crc: bool,
) -> (Option<DfuReason>, u32) {
    if s.bank_0.bank_code != BankCode::ValidApp {
        let reason = DfuReason::AppNotValid {
            bank_0_code: s.bank_0.bank_code,
        };
        return (Some(reason), 0);
    }
    let sd = installed_softdevice(mem);
    let start = bank0_start(sd.as_ref());
    let size = s.bank_0.image_size;
    let Ok(data) = mem.code.read(start, size) else {
        return (Some(DfuReason::AppOutsideFlash { start, size }), 0);
    };
    let crc_differs = |expected: u32| {
        let computed = crc32(data);
        (computed != expected).then_some(DfuReason::AppCrcMismatch { expected, computed })
    };
    match (p.layout, s.v2()) {
        (SettingsLayout::Sdk12, _) if s.bank_0.image_crc == 0 => (None, size),
        (SettingsLayout::Sdk12 | SettingsLayout::V1, _) => (crc_differs(s.bank_0.image_crc), size),
        (SettingsLayout::V2, None) => {
            let validation = BootValidationType::Unknown(0);
            (Some(DfuReason::AppValidationFailed { validation }), 0)
        }
        (SettingsLayout::V2, Some(v2)) => {
            let skip = |bv: &BootValidation| skip_crc && bv.kind == BootValidationType::ValidateCrc;
            let sd_bv = &v2.boot_validation_softdevice;
            if sd.is_some() && !skip(sd_bv) {
                let sd_ok = mem
                    .code
                    .read(SOFTDEVICE_START, s.sd_size)
                    .is_ok_and(|sd_image| validate(sd_bv, sd_image, &p.public_key).is_ok());
                if !sd_ok {
                    let validation = sd_bv.kind;
                    return (
                        Some(DfuReason::SoftDeviceValidationFailed { validation }),
                        0,
                    );
                }
            }
            let bv = &v2.boot_validation_app;
            let reason = match skip(bv) {
                true => None,
                false => match validate(bv, data, &p.public_key) {
                    Ok(()) => None,
                    Err(Invalid::Crc { expected, computed }) => {
                        Some(DfuReason::AppCrcMismatch { expected, computed })
                    }
                    Err(Invalid::Other) => Some(DfuReason::AppValidationFailed {
                        validation: bv.kind,
                    }),
                },
            };
            (reason, size)
        }
    }
}

/// 17.1: CRC validations are skipped after a System OFF wake or when GPREGRET2 holds the
/// 0xA8 pattern with bit 0 set (`crc_on_valid_app_required`).
pub(crate) fn crc_skip_requested(p: &Profile, wake: bool, gpregret2: u8) -> bool {
    p.crc_skip_on_wake && (wake || gpregret2_skips_crc(gpregret2))
}

fn gpregret2_skips_crc(g2: u8) -> bool {
    g2 & 0xF8 == 0xA8 && g2 & 0x01 != 0
}

/// [`crc_skip_requested`] on the running device, clearing the GPREGRET2 flag it consumed.
pub(crate) fn take_crc_skip(core: &mut Core, p: &Profile, reset: ResetKind) -> bool {
    let wake = core.hw.power().resetreas() & resetreas::OFF != 0 && reset != ResetKind::PowerOn;
    let g2 = core.hw.power().gpregret2();
    let skip = crc_skip_requested(p, wake, g2);
    if p.crc_skip_on_wake && gpregret2_skips_crc(g2) {
        core.hw.power_mut().set_gpregret2((g2 & !0x01) as u32);
    }
    skip
}

/// Every reason to stay in DFU mode, in the order `dfu_enter_check` tests them: invalid app,
/// GPREGRET, settings flag (the button and pin-reset methods are off in the SDK examples'
/// default configuration). Also returns the bytes hashed.
pub(crate) fn enter_reasons(
    mem: &FlashMemory,
    p: &Profile,
    s: &SettingsPage,
    gpregret: u8,
    skip_crc: bool,
) -> (Vec<DfuReason>, u32) {
    let (invalid, hashed) = app_invalid(mem, p, s, skip_crc);
    let mut reasons: Vec<DfuReason> = invalid.into_iter().collect();
    if p.gpregret.enters(gpregret) {
        reasons.push(DfuReason::Gpregret { value: gpregret });
    }
    if p.settings_flag_enters_dfu && s.enter_buttonless_dfu == 1 {
        reasons.push(DfuReason::ButtonlessFlag);
    }
    (reasons, hashed)
}

/// First true wins: what the booting bootloader acts on, and the bytes hashed.
pub(crate) fn check(
    core: &Core,
    p: &Profile,
    s: &SettingsPage,
    skip_crc: bool,
) -> (Option<EnterReason>, u32) {
    let gpregret = core.hw.power().gpregret();
    let (reasons, hashed) = enter_reasons(core.hw.memory(), p, s, gpregret, skip_crc);
    (reasons.first().map(DfuReason::enter_reason), hashed)
}
