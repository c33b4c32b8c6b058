//! What the device does on its next boot, decided read-only from flash and UICR: MBR hand-over,
//! the bootloader's settings init (main page + backup, per SDK via `nrf_dfu::settings`),
//! activation of a pending update, and the DFU-enter checks (17.1 `nrf_bootloader.c`,
//! `nrf_bootloader_init` and `dfu_enter_check`). Used by `rig sim
//! inspect`; the bootloader model can run the same decision before it acts.
//!
//! Default build options of each SDK's example are assumed: no button pressed
//! (`NRF_BL_DFU_ENTER_METHOD_BUTTON` pin high), pin-reset entry off, GPREGRET entry on,
//! `NRF_BL_DFU_ENTER_METHOD_BUTTONLESS` = 0 in 15+, `NRF_BL_APP_SIGNATURE_CHECK_REQUIRED` = 0.

use crate::descriptor::{AppDescriptor, BootloaderDescriptor};
use crate::installed::{inventory, Code};
use crate::mbr::{self, BootTarget, CopyBlRecord, SilentReason};
use crate::nvmc::FlashMemory;
use crate::power::ResetKind;
use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::{SoftDeviceInfo, PAGE_SIZE, SOFTDEVICE_START};
use nrf_dfu::settings::{
    settings_init, BankCode, BootValidation, BootValidationType, InitOutcome, SettingsError,
    SettingsPage,
};
use nrf_dfu::signing::PublicKey;
use nrf_dfu::{Chip, SdkVersion};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The volatile inputs of a boot (they are not in the state file: a power-on clears them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootInputs {
    pub reset: ResetKind,
    pub gpregret: u8,
    pub gpregret2: u8,
}

impl BootInputs {
    /// A power-on: GPREGRET and GPREGRET2 are 0.
    pub const POWER_ON: BootInputs = BootInputs {
        reset: ResetKind::PowerOn,
        gpregret: 0,
        gpregret2: 0,
    };
}

/// Why the bootloader stays in DFU mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DfuReason {
    /// bank_0.bank_code is not VALID_APP (nothing installed, invalidated by a single-bank update,
    /// or the settings were reset to defaults).
    AppNotValid { bank_0_code: String },
    /// The application's CRC-32 over bank_0.image_size bytes differs from bank_0.image_crc
    /// (SDK 12 to 15.2) or from the app boot validation (15.3+).
    AppCrcMismatch { expected: u32, computed: u32 },
    /// 15.3+: the app's SHA-256 or ECDSA boot validation failed.
    AppValidationFailed { validation: String },
    /// 15.3+: the SoftDevice's boot validation failed.
    SoftDeviceValidationFailed { validation: String },
    /// The application does not fit in flash (bank_0.image_size runs past the end).
    AppOutsideFlash { start: u32, size: u32 },
    /// GPREGRET asks for DFU (0xB1 by the SDK's rule for this version).
    Gpregret { value: u8 },
    /// settings.enter_buttonless_dfu == 1 (honoured by SDK 12 and 14).
    ButtonlessFlag,
}

/// What the device does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextBoot {
    /// Nothing runs (no MBR, or the MBR jumps into erased flash).
    Silent { reason: String },
    /// The MBR starts a bootloader without a stand-in descriptor: a real bootloader, whose
    /// decision the model cannot make from flash alone.
    UnknownBootloader { address: u32 },
    /// The bootloader region holds a damaged descriptor: the model treats it as not running.
    DamagedBootloader { address: u32, error: String },
    /// No bootloader address is configured: the MBR (through the SoftDevice) starts the application.
    AppWithoutBootloader {
        address: u32,
        app: Option<AppDescriptor>,
    },
    /// The bootloader first activates the update waiting in bank 1, then resets.
    ActivateUpdate {
        bank_1_code: String,
        image_size: u32,
        image_crc: u32,
        source: u32,
    },
    /// The bootloader stays in DFU mode and advertises / listens on UART.
    EnterDfu { reasons: Vec<DfuReason> },
    /// The bootloader starts the application in bank 0.
    RunApp {
        address: u32,
        app_version: u32,
        app: Option<AppDescriptor>,
    },
}

/// The decision and what it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootDecision {
    /// A COPY_BL the MBR completes before anything else.
    pub pending_bootloader_copy: bool,
    pub bootloader: Option<BootloaderDescriptor>,
    /// The settings init of the bootloader's SDK (None when no stand-in bootloader runs).
    pub settings_outcome: Option<InitOutcome>,
    /// The settings as the bootloader holds them after init.
    #[serde(skip)]
    pub settings: Option<SettingsPage>,
    pub next: NextBoot,
}

/// Bank 0: the page-aligned SoftDevice end, or 0x1000 without a SoftDevice.
pub fn bank0_start(sd: Option<&SoftDeviceInfo>) -> u32 {
    sd.map_or(SOFTDEVICE_START, |s| {
        s.end_address.div_ceil(PAGE_SIZE) * PAGE_SIZE
    })
}

/// GPREGRET asks for DFU under `sdk`'s rule (`dfu_enter_check` per version): 17
/// `(g & 0xF9) == 0xB1`; 15.0 to 16 any bit of 0xB1; 14 exactly 0xB1; 12 has no GPREGRET entry.
/// The same rule the running bootloader model uses ([`crate::bootloader::profile::GpregretRule`]).
pub fn gpregret_enters_dfu(sdk: SdkVersion, g: u8) -> bool {
    crate::bootloader::profile::GpregretRule::for_sdk(sdk).enters(g)
}

/// CRC-type validations are skipped after a wake from System OFF, or when GPREGRET2 holds 0xA9
/// (15.0+; 17.1 `nrf_bootloader.c`, `crc_on_valid_app_required`).
fn crc_skipped(sdk: SdkVersion, inputs: &BootInputs) -> bool {
    sdk >= SdkVersion::Sdk15_0
        && (matches!(inputs.reset, ResetKind::WakeFromOff(_)) || inputs.gpregret2 == 0xA9)
}

fn check_validation(
    v: &BootValidation,
    image: &[u8],
    pk: &[u8; 64],
    skip_crc: bool,
) -> Result<(), DfuReason> {
    let name = || v.kind.name().unwrap_or("unknown").to_string();
    match v.kind {
        BootValidationType::NoValidation => Ok(()),
        BootValidationType::ValidateCrc if skip_crc => Ok(()),
        BootValidationType::ValidateCrc => {
            let expected = u32::from_le_bytes([v.bytes[0], v.bytes[1], v.bytes[2], v.bytes[3]]);
            let computed = crc32(image);
            (expected == computed)
                .then_some(())
                .ok_or(DfuReason::AppCrcMismatch { expected, computed })
        }
        BootValidationType::ValidateSha256 => (Sha256::digest(image).as_slice() == v.value())
            .then_some(())
            .ok_or(DfuReason::AppValidationFailed { validation: name() }),
        BootValidationType::ValidateEcdsaP256Sha256 => {
            let ok =
                PublicKey::from_pk64(pk).is_ok_and(|k| k.verify_nordic(image, v.value()).is_ok());
            ok.then_some(())
                .ok_or(DfuReason::AppValidationFailed { validation: name() })
        }
        BootValidationType::Unknown(_) => {
            Err(DfuReason::AppValidationFailed { validation: name() })
        }
    }
}

fn read(mem: &FlashMemory, addr: u32, len: u32) -> Option<&[u8]> {
    mem.code.read(addr, len).ok()
}

/// Why the application in bank 0 does not count as valid, if it does not.
fn app_invalid(
    sdk: SdkVersion,
    s: &SettingsPage,
    mem: &FlashMemory,
    bl: &BootloaderDescriptor,
    inputs: &BootInputs,
) -> Option<DfuReason> {
    if s.bank_0.bank_code != BankCode::ValidApp {
        return Some(DfuReason::AppNotValid {
            bank_0_code: bank_name(s.bank_0.bank_code),
        });
    }
    let sd = crate::softdevice::installed(&mem.code);
    let start = bank0_start(sd.as_ref());
    let Some(image) = read(mem, start, s.bank_0.image_size) else {
        return Some(DfuReason::AppOutsideFlash {
            start,
            size: s.bank_0.image_size,
        });
    };
    let skip = crc_skipped(sdk, inputs);
    match s.v2() {
        // 15.3+: SoftDevice then application boot validation.
        Some(v2) => {
            if let Some(sd) = sd {
                let sd_image = read(mem, SOFTDEVICE_START, sd.end_address - SOFTDEVICE_START)
                    .unwrap_or_default();
                if let Err(e) = check_validation(
                    &v2.boot_validation_softdevice,
                    sd_image,
                    &bl.public_key,
                    skip,
                ) {
                    let validation = match e {
                        DfuReason::AppCrcMismatch { .. } => "VALIDATE_CRC".to_string(),
                        DfuReason::AppValidationFailed { validation } => validation,
                        other => format!("{other:?}"),
                    };
                    return Some(DfuReason::SoftDeviceValidationFailed { validation });
                }
            }
            check_validation(&v2.boot_validation_app, image, &bl.public_key, skip).err()
        }
        // SDK 12: image_crc 0 means "do not check"; 14 to 15.2 always compare (unless skipped).
        None => {
            if (sdk == SdkVersion::Sdk12 && s.bank_0.image_crc == 0) || skip {
                return None;
            }
            let computed = crc32(image);
            (computed != s.bank_0.image_crc).then_some(DfuReason::AppCrcMismatch {
                expected: s.bank_0.image_crc,
                computed,
            })
        }
    }
}

fn bank_name(c: BankCode) -> String {
    c.name()
        .map_or_else(|| format!("{:#x}", c.code()), str::to_string)
}

/// Decide the next boot of a device whose flash and UICR are `mem`.
pub fn decide(
    mem: &FlashMemory,
    chip: Chip,
    inputs: &BootInputs,
) -> Result<BootDecision, SettingsError> {
    let pending_bootloader_copy =
        mbr::recognise(mem).is_some() && CopyBlRecord::pending(mem).is_some();
    let inv = inventory(mem, chip);
    let mut d = BootDecision {
        pending_bootloader_copy,
        bootloader: None,
        settings_outcome: None,
        settings: None,
        next: NextBoot::Silent {
            reason: String::new(),
        },
    };
    let address = match mbr::boot_target(mem) {
        BootTarget::Silent(SilentReason::NoMbr) => {
            d.next = NextBoot::Silent {
                reason: "no MBR in page 0".into(),
            };
            return Ok(d);
        }
        BootTarget::Silent(SilentReason::ErasedVectorTable { address }) => {
            d.next = NextBoot::Silent {
                reason: format!("the MBR jumps to erased flash at {address:#x} (lock-up)"),
            };
            return Ok(d);
        }
        BootTarget::Application { address, .. } => {
            d.next = NextBoot::AppWithoutBootloader {
                address,
                app: inv.app_descriptor().cloned(),
            };
            return Ok(d);
        }
        BootTarget::Bootloader { address } => address,
    };
    let bl = match inv.bootloader.as_ref().map(|s| &s.code) {
        Some(Code::StandIn(b)) => b.clone(),
        Some(Code::Damaged(e)) => {
            d.next = NextBoot::DamagedBootloader {
                address,
                error: e.to_string(),
            };
            return Ok(d);
        }
        _ => {
            d.next = NextBoot::UnknownBootloader { address };
            return Ok(d);
        }
    };
    let sdk = bl.profile;
    let main = read(mem, chip.settings_address(), PAGE_SIZE).unwrap_or_default();
    let backup = read(mem, chip.mbr_params_address(), PAGE_SIZE).unwrap_or_default();
    let init = settings_init(sdk, main, backup)?;
    let s = init.settings.clone();
    d.settings_outcome = Some(init.outcome);
    d.settings = Some(s.clone());
    d.bootloader = Some(bl.clone());
    if matches!(
        s.bank_1.bank_code,
        BankCode::ValidApp | BankCode::ValidSd | BankCode::ValidBl | BankCode::ValidSdBl
    ) {
        d.next = NextBoot::ActivateUpdate {
            bank_1_code: bank_name(s.bank_1.bank_code),
            image_size: s.bank_1.image_size,
            image_crc: s.bank_1.image_crc,
            source: if sdk == SdkVersion::Sdk12 {
                0
            } else {
                s.progress.update_start_address()
            },
        };
        return Ok(d);
    }
    let mut reasons = Vec::new();
    reasons.extend(app_invalid(sdk, &s, mem, &bl, inputs));
    // The bootloader's own profile, so a `gpregret-loop` defect in its descriptor counts too.
    if crate::bootloader::profile::Profile::new(&bl, bl.defects)
        .gpregret
        .enters(inputs.gpregret)
    {
        reasons.push(DfuReason::Gpregret {
            value: inputs.gpregret,
        });
    }
    if sdk <= SdkVersion::Sdk14 && s.enter_buttonless_dfu == 1 {
        reasons.push(DfuReason::ButtonlessFlag);
    }
    d.next = if reasons.is_empty() {
        let sd = crate::softdevice::installed(&mem.code);
        NextBoot::RunApp {
            address: bank0_start(sd.as_ref()),
            app_version: s.app_version,
            app: inv.app_descriptor().cloned(),
        }
    } else {
        NextBoot::EnterDfu { reasons }
    };
    Ok(d)
}

impl std::fmt::Display for NextBoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextBoot::Silent { reason } => write!(f, "silent: {reason}"),
            NextBoot::UnknownBootloader { address } => write!(f, "starts the bootloader at {address:#x} (no stand-in descriptor: its decision is unknown)"),
            NextBoot::DamagedBootloader { address, error } => write!(f, "bootloader at {address:#x} is damaged ({error}): nothing runs"),
            NextBoot::AppWithoutBootloader { address, app } => write!(f, "no bootloader configured: runs the code at {address:#x}{}", app_text(app)),
            NextBoot::ActivateUpdate { bank_1_code, image_size, image_crc, source } => {
                write!(f, "activates the update in bank 1 ({bank_1_code}, {image_size} bytes, CRC {image_crc:#010x}, from {source:#x}), then resets")
            }
            NextBoot::EnterDfu { reasons } => {
                let r: Vec<String> = reasons.iter().map(reason_text).collect();
                write!(f, "enters DFU mode: {}", r.join("; "))
            }
            NextBoot::RunApp { address, app_version, app } => write!(f, "runs the application at {address:#x}, settings app_version {app_version}{}", app_text(app)),
        }
    }
}

fn app_text(app: &Option<AppDescriptor>) -> String {
    match app {
        Some(a) => format!(" (stand-in \"{}\" version {})", a.name, a.version),
        None => String::new(),
    }
}

fn reason_text(r: &DfuReason) -> String {
    match r {
        DfuReason::AppNotValid { bank_0_code } => format!("bank_0 is {bank_0_code}, not VALID_APP"),
        DfuReason::AppCrcMismatch { expected, computed } => {
            format!("application CRC {computed:#010x} does not match {expected:#010x}")
        }
        DfuReason::AppValidationFailed { validation } => {
            format!("application boot validation {validation} failed")
        }
        DfuReason::SoftDeviceValidationFailed { validation } => {
            format!("SoftDevice boot validation {validation} failed")
        }
        DfuReason::AppOutsideFlash { start, size } => {
            format!("bank_0 ({size} bytes at {start:#x}) runs past the end of flash")
        }
        DfuReason::Gpregret { value } => format!("GPREGRET is {value:#04x}"),
        DfuReason::ButtonlessFlag => "settings enter_buttonless_dfu is 1".into(),
    }
}

#[cfg(test)]
#[path = "boot_decision_tests.rs"]
mod tests;
