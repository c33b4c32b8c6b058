//! What the device does on its next boot, decided read-only from flash and UICR: MBR hand-over,
//! the bootloader's settings init (main page + backup, per SDK via `nrf_dfu::settings`),
//! activation of a pending update, and the DFU-enter checks, which are the bootloader model's own
//! (`bootloader/enter_dfu.rs`). Used by `rig sim inspect`.
//!
//! Default build options of each SDK's example are assumed: no button pressed
//! (`NRF_BL_DFU_ENTER_METHOD_BUTTON` pin high), pin-reset entry off, GPREGRET entry on,
//! `NRF_BL_DFU_ENTER_METHOD_BUTTONLESS` = 0 in 15+, `NRF_BL_APP_SIGNATURE_CHECK_REQUIRED` = 0.

use crate::bootloader::enter_dfu::{self, bank_code_name, bank_code_text};
use crate::bootloader::profile::Profile;
use crate::descriptor::{AppDescriptor, BootloaderDescriptor};
use crate::installed::{inventory, Code};
use crate::mbr::{self, BootTarget, CopyBlRecord, NoHandover};
use crate::nvmc::FlashMemory;
use crate::power::ResetKind;
use nrf_dfu::memory_map::{bank0_start, PAGE_SIZE};
use nrf_dfu::settings::{
    settings_init, BankCode, BootValidationType, InitOutcome, SettingsError, SettingsPage,
};
use nrf_dfu::{Chip, SdkVersion};
use serde::{Serialize, Serializer};

pub use crate::bootloader::enter_dfu::DfuReason;

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

/// What the device does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextBoot {
    /// Nothing runs (no MBR, or the MBR jumps into erased flash).
    Silent {
        #[serde(serialize_with = "silent_text")]
        reason: NoHandover,
    },
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
        #[serde(serialize_with = "bank_code_text")]
        bank_1_code: BankCode,
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

/// GPREGRET asks for DFU under `sdk`'s rule: 17 `(g & 0xF9) == 0xB1`; 15.0 to 16 any bit of
/// 0xB1; 14 exactly 0xB1; 12 has no GPREGRET entry. The rule the running bootloader model uses
/// ([`crate::bootloader::profile::GpregretRule`]).
pub fn gpregret_enters_dfu(sdk: SdkVersion, g: u8) -> bool {
    crate::bootloader::profile::GpregretRule::for_sdk(sdk).enters(g)
}

fn read(mem: &FlashMemory, addr: u32, len: u32) -> Option<&[u8]> {
    mem.code.read(addr, len).ok()
}

fn silent_text<S: Serializer>(r: &NoHandover, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&SilentText(r))
}

struct SilentText<'a>(&'a NoHandover);

impl std::fmt::Display for SilentText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            NoHandover::NoMbr => f.write_str("no MBR in page 0"),
            NoHandover::ErasedVectorTable { address } => {
                write!(f, "the MBR jumps to erased flash at {address:#x} (lock-up)")
            }
        }
    }
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
            reason: NoHandover::NoMbr,
        },
    };
    let address = match mbr::boot_target(mem) {
        BootTarget::Silent(reason) => {
            d.next = NextBoot::Silent { reason };
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
            bank_1_code: s.bank_1.bank_code,
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
    // The bootloader's own profile, so a defect in its descriptor (`gpregret-loop`) counts too.
    let profile = Profile::new(&bl, bl.defects);
    let wake = matches!(inputs.reset, ResetKind::WakeFromOff(_));
    let skip_crc = enter_dfu::crc_skip_requested(&profile, wake, inputs.gpregret2);
    let (reasons, _) = enter_dfu::enter_reasons(mem, &profile, &s, inputs.gpregret, skip_crc);
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
            NextBoot::Silent { reason } => write!(f, "silent: {}", SilentText(reason)),
            NextBoot::UnknownBootloader { address } => write!(f, "starts the bootloader at {address:#x} (no stand-in descriptor: its decision is unknown)"),
            NextBoot::DamagedBootloader { address, error } => write!(f, "bootloader at {address:#x} is damaged ({error}): nothing runs"),
            NextBoot::AppWithoutBootloader { address, app } => write!(f, "no bootloader configured: runs the code at {address:#x}{}", app_text(app)),
            NextBoot::ActivateUpdate { bank_1_code, image_size, image_crc, source } => {
                let bank_1_code = bank_code_name(bank_1_code);
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

fn validation_text(v: BootValidationType) -> &'static str {
    v.name().unwrap_or("unknown")
}

fn reason_text(r: &DfuReason) -> String {
    match r {
        DfuReason::AppNotValid { bank_0_code } => {
            format!("bank_0 is {}, not VALID_APP", bank_code_name(bank_0_code))
        }
        DfuReason::AppCrcMismatch { expected, computed } => {
            format!("application CRC {computed:#010x} does not match {expected:#010x}")
        }
        DfuReason::AppValidationFailed { validation } => {
            format!(
                "application boot validation {} failed",
                validation_text(*validation)
            )
        }
        DfuReason::SoftDeviceValidationFailed { validation } => {
            format!(
                "SoftDevice boot validation {} failed",
                validation_text(*validation)
            )
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
