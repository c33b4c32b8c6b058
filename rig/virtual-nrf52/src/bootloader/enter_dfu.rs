//! The DFU-enter check (17.1 `nrf_bootloader.c`, `dfu_enter_check`) and the application validity
//! rules behind it (`app_is_valid`; SDK 12.3 `nrf_dfu_utils.c`, `nrf_dfu_app_is_valid`).

use super::profile::Profile;
use crate::core::Core;
use crate::power::{resetreas, ResetKind};
use nrf_dfu::memory_map::{align_to_page, SoftDeviceInfo, SOFTDEVICE_START};
use nrf_dfu::settings::{
    BankCode, BootValidation, BootValidationType, SettingsLayout, SettingsPage,
};
use nrf_dfu::signing::PublicKey;
use sha2::{Digest, Sha256};

/// Why the bootloader stays in DFU mode.
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

/// `nrf_dfu_bank0_start_addr`: the page-aligned SoftDevice end, or 0x1000 without one.
pub(crate) fn bank0_start(core: &Core) -> u32 {
    installed_softdevice(core).map_or(SOFTDEVICE_START, |sd| align_to_page(sd.end_address))
}

pub(crate) fn installed_softdevice(core: &Core) -> Option<SoftDeviceInfo> {
    crate::softdevice::installed(&core.hw.memory().code)
}

/// `boot_validate` (15.3+): check `len` bytes at `addr` against a boot validation entry.
pub(crate) fn boot_validate(
    core: &Core,
    p: &Profile,
    bv: &BootValidation,
    addr: u32,
    len: u32,
) -> bool {
    let Ok(data) = core.hw.memory().code.read(addr, len) else {
        return false;
    };
    match bv.kind {
        BootValidationType::NoValidation => true,
        BootValidationType::ValidateCrc => nrf_dfu::crc::crc32(data).to_le_bytes() == bv.bytes[..4],
        BootValidationType::ValidateSha256 => Sha256::digest(data)[..] == bv.bytes[..32],
        BootValidationType::ValidateEcdsaP256Sha256 => PublicKey::from_pk64(&p.public_key)
            .is_ok_and(|k| k.verify_nordic(data, &bv.bytes).is_ok()),
        _ => false,
    }
}

/// Whether bank 0 holds a valid application for this build, and the CPU bytes it hashed.
pub(crate) fn app_valid(core: &Core, p: &Profile, s: &SettingsPage, skip_crc: bool) -> (bool, u32) {
    if s.bank_0.bank_code != BankCode::ValidApp {
        return (false, 0);
    }
    let start = bank0_start(core);
    let size = s.bank_0.image_size;
    let Ok(data) = core.hw.memory().code.read(start, size) else {
        return (false, 0);
    };
    match p.layout {
        // SDK 12: image_crc 0 means "do not check" (12.3 `nrf_dfu_app_is_valid`).
        SettingsLayout::Sdk12 => (
            s.bank_0.image_crc == 0 || nrf_dfu::crc::crc32(data) == s.bank_0.image_crc,
            size,
        ),
        SettingsLayout::V1 => (nrf_dfu::crc::crc32(data) == s.bank_0.image_crc, size),
        SettingsLayout::V2 => {
            let Some(v2) = s.v2() else { return (false, 0) };
            let skip = |bv: &BootValidation| skip_crc && bv.kind == BootValidationType::ValidateCrc;
            // 17.1 `app_is_valid`: the SoftDevice over settings.sd_size from the MBR's end.
            if installed_softdevice(core).is_some() {
                let bv = &v2.boot_validation_softdevice;
                if !skip(bv) && !boot_validate(core, p, bv, SOFTDEVICE_START, s.sd_size) {
                    return (false, 0);
                }
            }
            let bv = &v2.boot_validation_app;
            (skip(bv) || boot_validate(core, p, bv, start, size), size)
        }
    }
}

/// 17.1: CRC validations are skipped after a System OFF wake or when GPREGRET2 holds the
/// 0xA8 pattern with bit 0 set (which is then cleared).
pub(crate) fn take_crc_skip(core: &mut Core, p: &Profile, reset: ResetKind) -> bool {
    if !p.crc_skip_on_wake {
        return false;
    }
    let wake = core.hw.power().resetreas() & resetreas::OFF != 0 && reset != ResetKind::PowerOn;
    let g2 = core.hw.power().gpregret2();
    let flagged = g2 & 0xF8 == 0xA8 && g2 & 0x01 != 0;
    if flagged {
        core.hw.power_mut().set_gpregret2((g2 & !0x01) as u32);
    }
    wake || flagged
}

/// First true wins (`dfu_enter_check`): invalid app, GPREGRET, settings flag. The button and
/// pin-reset methods are off in the SDK examples' default configuration.
pub(crate) fn check(
    core: &Core,
    p: &Profile,
    s: &SettingsPage,
    skip_crc: bool,
) -> (Option<EnterReason>, u32) {
    let (valid, hashed) = app_valid(core, p, s, skip_crc);
    let reason = if !valid {
        Some(EnterReason::AppInvalid)
    } else if p.gpregret.enters(core.hw.power().gpregret()) {
        Some(EnterReason::Gpregret)
    } else if p.settings_flag_enters_dfu && s.enter_buttonless_dfu == 1 {
        Some(EnterReason::SettingsFlag)
    } else {
        None
    };
    (reason, hashed)
}
