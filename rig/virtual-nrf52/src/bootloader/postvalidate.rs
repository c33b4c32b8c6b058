//! The final data EXECUTE (17.1 `nrf_dfu_validation_post_data_execute`, SDK 12
//! `nrf_dfu_postvalidate`): SHA-256 of the image against the init packet, boot validation,
//! bank codes and versions, progress reset; the response goes out, then the settings are
//! written unconditionally and the bootloader closes the transport and resets.

use super::handler::{Fail, Outcome};
use super::init_validation::InitInfo;
use super::profile::ResultStyle;
use super::{settings_store, Dfu};
use crate::core::Core;
use crate::defects::Defect;
use crate::events::SimTime;
use crate::flash_queue::Done;
use nrf_dfu::init_packet::{FwType, ValidationType};
use nrf_dfu::memory_map::{align_to_page, SoftDeviceInfo, SOFTDEVICE_START};
use nrf_dfu::settings::{Bank, BankCode, BootValidation, BootValidationType};
use nrf_dfu::signing::PublicKey;
use nrf_dfu::wire::{ExtError, Response, ResultCode};
use nrf_dfu::SdkVersion;
use sha2::{Digest, Sha256};
use std::time::Duration;

impl Dfu {
    /// Post-validate, answer, and queue the settings write that ends the DFU. The image is read
    /// as flash will hold it once the queue has drained; the reply is ready then plus the
    /// hashing time (with `execute-before-flash-drain`: at once, settings ahead of the data).
    ///
    /// A repeated final EXECUTE (Android-DFU-Library retries one refused with INVALID_OBJECT)
    /// meets what SDK 17.1 shows it: the settings write queued here completes with
    /// `Done::DfuCompleted`, and the bootloader resets (`on_dfu_complete`, nrf_bootloader.c
    /// `dfu_observer`) before the repeat is handled, because 17.1's
    /// `on_data_obj_execute_request_sched` (nrf_dfu_req_handler.c) reschedules itself while
    /// fstorage is busy. Had it been handled, `postvalidate` has reset the progress, so the
    /// repeat would take the "object executed" branch and answer SUCCESS (the model's
    /// `data_execute` does the same); rig/runner/tests/dfu_final_execute.rs holds both.
    pub(crate) fn finish_transfer(&mut self, core: &mut Core, early: bool) -> (Outcome, SimTime) {
        let now = core.now;
        let mut image = vec![0u8; self.fw_size as usize];
        core.queue
            .project(core.hw.memory(), self.fw_start, &mut image);
        let mut cpu = core.cpu.sha256(self.fw_size);
        let result = self.postvalidate(core, &image, &mut cpu);
        let outcome = result.map(|_| Response::Execute);
        if early {
            let _ = self.write_settings_next(core, Done::DfuCompleted);
            return (outcome, now);
        }
        let ready = core.busy(cpu, Done::Nothing);
        let ctx = self.ctx_unlimited();
        let written = settings_store::write(core, &mut self.s, ctx, Done::DfuCompleted);
        if written.is_err() && self.profile.results == ResultStyle::Sdk12 {
            return (Err(Fail::Res(ResultCode::OperationFailed)), ready);
        }
        (outcome, ready)
    }

    fn postvalidate(&mut self, core: &Core, image: &[u8], cpu: &mut Duration) -> Result<(), Fail> {
        let sdk12 = self.profile.results == ResultStyle::Sdk12;
        // A data EXECUTE with nothing announced (offset 0 == size 0) post-validates too: the
        // handler checks no init there. Nothing can match: 17.1 hashes against a stale init
        // command, SDK 12 finds no SHA-256 hash type.
        let Some(init) = self.init.clone() else {
            self.progress_reset();
            return Err(if sdk12 {
                Fail::Res(ResultCode::OperationFailed)
            } else {
                Fail::Ext(ExtError::VerificationFailed)
            });
        };
        let mut result = self.hash_check(&init, image);
        if result.is_ok() && !sdk12 {
            result = self.validate_type(core, &init, image, cpu);
        }
        let crc = self.s.progress.firmware_image_crc;
        let bank = if sdk12 && self.s.bank_current == 0 {
            &mut self.s.bank_0
        } else {
            &mut self.s.bank_1
        };
        match result {
            Ok(()) => {
                if sdk12 {
                    bank.bank_code = code_of(&init);
                    if init.is(FwType::Softdevice) || init.is(FwType::SoftdeviceBootloader) {
                        self.s.sd_size = init.sd_size;
                    }
                    self.record_version(&init);
                }
                let bank = if sdk12 && self.s.bank_current == 0 {
                    &mut self.s.bank_0
                } else {
                    &mut self.s.bank_1
                };
                bank.image_crc = crc;
                bank.image_size = self.fw_size;
            }
            Err(_) => *bank = Bank::EMPTY,
        }
        self.progress_reset();
        if !sdk12 {
            self.s.progress.set_update_start_address(self.fw_start);
        }
        self.init = None;
        result
    }

    /// SHA-256 of the image, byte-reversed, against `Hash.hash` (17.1 `fw_hash_ok`). 15+: ext 0x0C;
    /// SDK 12: INVALID_OBJECT.
    fn hash_check(&self, init: &InitInfo, image: &[u8]) -> Result<(), Fail> {
        if self.profile.has(Defect::SkipHashCheck) {
            return Ok(());
        }
        let mut digest: [u8; 32] = Sha256::digest(image).into();
        digest.reverse();
        if init.hash[..] == digest[..] {
            Ok(())
        } else if self.profile.results == ResultStyle::Sdk12 {
            Err(Fail::Res(ResultCode::InvalidObject))
        } else {
            Err(Fail::Ext(ExtError::VerificationFailed))
        }
    }

    fn record_version(&mut self, init: &InitInfo) {
        // 15.2-17.1 `postvalidate_app` / `postvalidate_sd_bl`: a debug build keeps the stored
        // version for an is_debug image (found by `rig diff` against the genuine debug build).
        if self.profile.debug_version && init.is_debug {
            return;
        }
        let v = init.fw_version.unwrap_or(0);
        if init.is(FwType::Application) {
            self.s.app_version = v;
        } else if init.is(FwType::Bootloader) || init.is(FwType::SoftdeviceBootloader) {
            self.s.bootloader_version = v;
        }
    }

    /// 15+ per-type postvalidation: boot validations (v2), SoftDevice sanity, bank codes.
    fn validate_type(
        &mut self,
        core: &Core,
        init: &InitInfo,
        image: &[u8],
        cpu: &mut Duration,
    ) -> Result<(), Fail> {
        let invalid = Fail::Res(ResultCode::InvalidObject);
        let sd_part = &image[..(init.sd_size as usize).min(image.len())];
        let bl_index = if self.profile.sdk == SdkVersion::Sdk15_3 {
            0
        } else {
            1
        };
        let (bv_sd, bv_app, bv_bl) = if init.is(FwType::Application) {
            (
                None,
                Some(
                    self.extract(core, init, 0, image, BootValidationType::ValidateCrc, cpu)
                        .ok_or(invalid)?,
                ),
                None,
            )
        } else if init.is(FwType::Softdevice) {
            self.softdevice_ok(core, sd_part, false)
                .then_some(())
                .ok_or(invalid)?;
            (
                Some(
                    self.extract(core, init, 0, sd_part, BootValidationType::ValidateCrc, cpu)
                        .ok_or(invalid)?,
                ),
                None,
                None,
            )
        } else if init.is(FwType::Bootloader) {
            (
                None,
                None,
                Some(
                    self.extract(core, init, 0, image, BootValidationType::NoValidation, cpu)
                        .ok_or(invalid)?,
                ),
            )
        } else {
            self.softdevice_ok(core, sd_part, true)
                .then_some(())
                .ok_or(invalid)?;
            let bl_part = &image[sd_part.len()..];
            let sd = self
                .extract(core, init, 0, sd_part, BootValidationType::ValidateCrc, cpu)
                .ok_or(invalid)?;
            // 15.3 read the bootloader entry from index 0 (fixed in 17).
            let bl = self
                .extract(
                    core,
                    init,
                    bl_index,
                    bl_part,
                    BootValidationType::NoValidation,
                    cpu,
                )
                .ok_or(invalid)?;
            (Some(sd), None, Some(bl))
        };
        if let Some(v2) = self.s.v2_mut() {
            if let Some(b) = bv_sd {
                v2.boot_validation_softdevice = b;
            }
            if let Some(b) = bv_app {
                v2.boot_validation_app = b;
            }
            if let Some(b) = bv_bl {
                v2.boot_validation_bootloader = b;
            }
        }
        self.s.bank_1.bank_code = code_of(init);
        if init.is(FwType::Application) {
            // Dual bank: the old app is invalid from now on (activation copies the new one).
            self.s.bank_0.bank_code = BankCode::Invalid;
        } else {
            self.s.sd_size = if init.is(FwType::Bootloader) {
                self.s.sd_size
            } else {
                init.sd_size
            };
        }
        self.record_version(init);
        Ok(())
    }

    /// `boot_validation_extract`: the init packet's entry `index` (or `default`), computed over
    /// `data` and checked (15.3+; earlier layouts have no boot validation and pass).
    fn extract(
        &self,
        core: &Core,
        init: &InitInfo,
        index: usize,
        data: &[u8],
        default: BootValidationType,
        cpu: &mut Duration,
    ) -> Option<BootValidation> {
        if self.s.v2().is_none() {
            return Some(BootValidation::NONE);
        }
        let kind = match init.boot_validation.get(index) {
            Some((t, _)) if *t == ValidationType::NoValidation as i32 => {
                BootValidationType::NoValidation
            }
            Some((t, _)) if *t == ValidationType::ValidateGeneratedCrc as i32 => {
                BootValidationType::ValidateCrc
            }
            Some((t, _)) if *t == ValidationType::ValidateSha256 as i32 => {
                BootValidationType::ValidateSha256
            }
            Some((t, _)) if *t == ValidationType::ValidateEcdsaP256Sha256 as i32 => {
                BootValidationType::ValidateEcdsaP256Sha256
            }
            Some(_) => return None,
            None => default,
        };
        let len = data.len() as u32;
        match kind {
            BootValidationType::ValidateCrc => {
                *cpu += core.cpu.crc32(len);
                Some(BootValidation::crc(data))
            }
            BootValidationType::ValidateSha256 => {
                *cpu += core.cpu.sha256(len);
                Some(BootValidation::sha256(data))
            }
            BootValidationType::ValidateEcdsaP256Sha256 => {
                *cpu += core.cpu.sha256(len) + core.cpu.ecdsa_verify;
                let sig: [u8; 64] = init
                    .boot_validation
                    .get(index)?
                    .1
                    .as_slice()
                    .try_into()
                    .ok()?;
                let key = PublicKey::from_pk64(&self.profile.public_key).ok()?;
                key.verify_nordic(data, &sig).ok()?;
                Some(BootValidation::ecdsa(&sig))
            }
            _ => Some(BootValidation::NONE),
        }
    }

    /// A SoftDevice image must carry its info struct with an end address that covers it; 17
    /// also wants the installed SD's family; a major version change needs a new bootloader in
    /// the same image on BLE builds (17.1 `softdevice_info_ok`, `is_major_softdevice_update`,
    /// `postvalidate_sd_bl`).
    fn softdevice_ok(&self, core: &Core, sd: &[u8], with_bl: bool) -> bool {
        let Some(new) = SoftDeviceInfo::parse(sd, SOFTDEVICE_START) else {
            return false;
        };
        if new.end_address < align_to_page(sd.len() as u32 + SOFTDEVICE_START) {
            return false;
        }
        let Some(old) = super::enter_dfu::installed_softdevice(core.hw.memory()) else {
            return true;
        };
        if self.profile.sdk >= SdkVersion::Sdk17 && new.sd_id != old.sd_id {
            return false;
        }
        with_bl || new.version / 1_000_000 == old.version / 1_000_000
    }
}

fn code_of(init: &InitInfo) -> BankCode {
    if init.is(FwType::Application) {
        BankCode::ValidApp
    } else if init.is(FwType::Softdevice) {
        BankCode::ValidSd
    } else if init.is(FwType::Bootloader) {
        BankCode::ValidBl
    } else {
        BankCode::ValidSdBl
    }
}
