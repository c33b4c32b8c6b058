//! The command object (init packet): SELECT, CREATE, writes, CRC and EXECUTE with the
//! prevalidation of 17.1 `nrf_dfu_validation.c` (`nrf_dfu_validation_init_cmd_execute`,
//! `nrf_dfu_validation_prevalidate`) and `nrf_dfu_ver_validation.c`;
//! SDK 12 `dfu_handle_prevalidate` in `dfu_req_handling.c`).

use super::enter_dfu::installed_softdevice;
use super::handler::{Fail, Outcome};
use super::profile::{Profile, ResultStyle};
use super::{settings_store, Dfu};
use crate::core::Core;
use crate::defects::Defect;
use crate::descriptor::Transport;
use crate::events::SimTime;
use crate::flash_queue::Done;
use nrf_dfu::crc::crc32_continue;
use nrf_dfu::init_packet::{FwType, HashType, InitCommand, InitPacket};
use nrf_dfu::memory_map::{align_to_page, APP_DATA_AREA_SIZE, BOOTLOADER_SIZE};
use nrf_dfu::settings::{Bank, BankCode};
use nrf_dfu::signing::PublicKey;
use nrf_dfu::wire::{ExtError, Response, ResultCode};

/// What the bootloader keeps from a valid init command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InitInfo {
    pub fw_type: i32,
    pub fw_version: Option<u32>,
    /// `Hash.hash` as carried (byte-reversed SHA-256: pc-nrfutil 6.1.7 `package.py`
    /// `calculate_sha256_hash`; 17.1 `nrf_dfu_validation_hash_ok` swaps it back).
    pub hash: Vec<u8>,
    pub sd_size: u32,
    /// (ValidationType, bytes) in packet order (15.3+).
    pub boot_validation: Vec<(i32, Vec<u8>)>,
    /// `is_debug` set in the init command.
    pub is_debug: bool,
}

impl InitInfo {
    fn of(init: &InitCommand) -> InitInfo {
        InitInfo {
            fw_type: init.r#type.unwrap_or(-1),
            fw_version: init.fw_version,
            hash: init
                .hash
                .as_ref()
                .and_then(|h| h.hash.clone())
                .unwrap_or_default(),
            sd_size: init.sd_size.unwrap_or(0),
            boot_validation: init
                .boot_validation
                .iter()
                .map(|b| (b.r#type.unwrap_or(-1), b.bytes.clone().unwrap_or_default()))
                .collect(),
            is_debug: init.is_debug == Some(true),
        }
    }

    pub fn is(&self, t: FwType) -> bool {
        self.fw_type == t as i32
    }
}

fn res(code: ResultCode) -> Fail {
    Fail::Res(code)
}

/// 12 reports every version/hw/sd_req/signature-type failure as OPERATION_FAILED (12.3
/// `dfu_req_handling.c`, `dfu_handle_prevalidate`).
fn ext(p: &Profile, e: ExtError) -> Fail {
    match p.results {
        ResultStyle::Extended => Fail::Ext(e),
        ResultStyle::Sdk12 => Fail::Res(ResultCode::OperationFailed),
    }
}

/// Image size the init command announces (`update_data_size_get`).
fn data_size(p: &Profile, init: &InitCommand) -> Result<u32, Fail> {
    let missing = || ext(p, ExtError::InitCommandInvalid);
    let too_big = |bl: u32| bl > BOOTLOADER_SIZE;
    let size = match FwType::try_from(init.r#type.unwrap_or(-1)) {
        Ok(FwType::Application) => init.app_size.ok_or_else(missing)?,
        Ok(FwType::Softdevice) => init.sd_size.ok_or_else(missing)?,
        Ok(FwType::Bootloader) => {
            let bl = init.bl_size.ok_or_else(missing)?;
            if too_big(bl) {
                return Err(res(ResultCode::InsufficientResources));
            }
            bl
        }
        Ok(FwType::SoftdeviceBootloader) => {
            let (sd, bl) = (
                init.sd_size.ok_or_else(missing)?,
                init.bl_size.ok_or_else(missing)?,
            );
            if p.results == ResultStyle::Sdk12 && (sd == 0 || bl == 0) {
                return Err(res(ResultCode::InvalidParameter));
            }
            if too_big(bl) {
                return Err(res(ResultCode::InsufficientResources));
            }
            sd.saturating_add(bl)
        }
        _ => return Err(missing()),
    };
    if p.results == ResultStyle::Sdk12 && size == 0 {
        return Err(res(ResultCode::InvalidParameter));
    }
    Ok(size)
}

impl Dfu {
    fn cmd_crc_value(&self) -> u32 {
        let p = &self.s.progress;
        let partial = p.command_offset != 0 && self.init.is_none();
        if self.resumed && partial && self.profile.has(Defect::CorruptResumeCrc) {
            !p.command_crc
        } else {
            p.command_crc
        }
    }

    pub fn cmd_select(&self) -> Response {
        Response::Select {
            max_size: self.profile.max_init_size,
            offset: self.s.progress.command_offset,
            crc: self.cmd_crc_value(),
        }
    }

    pub fn cmd_crc(&self) -> Response {
        Response::Crc {
            offset: self.s.progress.command_offset,
            crc: self.cmd_crc_value(),
        }
    }

    /// CREATE(1, n): restarts the inactivity timer (DFU_STARTED) whatever the outcome, then
    /// 0 -> 0x03, too big -> 0x04, else forget any init and all progress (17.1
    /// `on_cmd_obj_create_request`, `nrf_dfu_validation_init_cmd_create`).
    pub fn cmd_create(&mut self, core: &mut Core, size: u32) -> Outcome {
        self.restart_inactivity(core);
        if size == 0 {
            return Err(res(ResultCode::InvalidParameter));
        }
        if size > self.profile.max_init_size {
            return Err(res(ResultCode::InsufficientResources));
        }
        self.init = None;
        if self.profile.results == ResultStyle::Sdk12 {
            // SDK 12 resets progress and write_offset but leaves the init command bytes.
            self.s.progress = Default::default();
            self.s.write_offset = 0;
        } else {
            self.progress_reset();
        }
        self.s.progress.command_size = size;
        self.resumed = false;
        Ok(Response::Create)
    }

    /// Init packet bytes: appended to the RAM settings copy, CRC accumulated.
    pub fn cmd_write(&mut self, data: &[u8]) -> Result<(u32, u32), Fail> {
        let p = &mut self.s.progress;
        let end = p.command_offset as usize + data.len();
        if end > p.command_size as usize {
            return Err(res(ResultCode::InvalidParameter));
        }
        let at = p.command_offset as usize;
        p.command_offset = end as u32;
        p.command_crc = crc32_continue(p.command_crc, data);
        let (offset, crc) = (p.command_offset, p.command_crc);
        if let Some(dst) = self.s.init_command_mut().get_mut(at..end) {
            dst.copy_from_slice(data);
        }
        Ok((offset, crc))
    }

    fn stored_init(&self) -> Option<InitPacket> {
        let size = self.s.progress.command_size as usize;
        let bytes = self.s.init_command().get(..size)?;
        let pkt = InitPacket::decode(bytes).ok()?;
        pkt.check_limits(self.profile.sdk).ok()?;
        Some(pkt)
    }

    /// EXECUTE(1). The reply waits for the signature verification (CPU time).
    pub fn cmd_execute(&mut self, core: &mut Core) -> (Outcome, SimTime) {
        let now = core.now;
        let pr = &self.s.progress;
        if pr.command_offset != pr.command_size {
            return (Err(res(ResultCode::OperationNotPermitted)), now);
        }
        if self.init.is_some() {
            if self.profile.results == ResultStyle::Sdk12 {
                return (Ok(Response::Execute), now);
            }
            return (self.store_settings(core), now);
        }
        let Some(pkt) = self.stored_init() else {
            return (Err(res(ResultCode::InvalidObject)), now);
        };
        let mut cpu = std::time::Duration::ZERO;
        let checked = if self.profile.results == ResultStyle::Sdk12 {
            self.prevalidate_sdk12(core, &pkt, &mut cpu)
        } else {
            self.prevalidate(core, &pkt, &mut cpu)
        };
        let ready = core.busy(cpu, Done::Nothing);
        let outcome = match checked.and_then(|size| self.prepare_cache(core, &pkt, size)) {
            Ok(()) => {
                self.init = Some(InitInfo::of(pkt.init_command()));
                self.store_settings(core)
            }
            Err(f) => {
                if self.profile.results == ResultStyle::Extended {
                    self.progress_reset();
                }
                Err(f)
            }
        };
        (outcome, ready)
    }

    /// The settings write after a successful init EXECUTE (write_and_backup; SDK 12: write).
    fn store_settings(&mut self, core: &mut Core) -> Outcome {
        let ctx = self.ctx;
        let r = if self.profile.results == ResultStyle::Sdk12 {
            settings_store::write(core, &mut self.s, ctx, Done::Nothing)
        } else {
            settings_store::write_and_backup(core, &self.profile, &mut self.s, ctx, Done::Nothing)
        };
        r.map(|_| Response::Execute)
            .map_err(|_| res(ResultCode::OperationFailed))
    }

    /// 15+: signature, then `nrf_dfu_ver_validation_check`, then the size (17.1
    /// `nrf_dfu_validation_prevalidate`, `update_data_size_get`).
    fn prevalidate(
        &self,
        core: &Core,
        pkt: &InitPacket,
        cpu: &mut std::time::Duration,
    ) -> Result<u32, Fail> {
        let p = &self.profile;
        // 17.1 nrf_dfu_validation.c `signature_required`: an application (and a SoftDevice on
        // an MBR-only bootloader) needs a signature only with NRF_DFU_REQUIRE_SIGNED_APP_UPDATE;
        // when none is required none is checked, even one that is there.
        let ty = pkt.init_command().r#type.unwrap_or(-1);
        let optional = ty == FwType::Application as i32
            || (ty == FwType::Softdevice as i32 && p.transport == Transport::Uart);
        let required = !optional || p.require_signed_app;
        match pkt.signature() {
            _ if !required => {}
            None => return Err(ext(p, ExtError::SignatureMissing)),
            Some((t, _)) if t != 0 => return Err(ext(p, ExtError::WrongSignatureType)),
            Some((_, sig)) if sig.len() != 64 => return Err(res(ResultCode::OperationFailed)),
            Some((_, sig)) => {
                *cpu += core.cpu.ecdsa_verify;
                let ok = PublicKey::from_pk64(&p.public_key)
                    .is_ok_and(|k| k.verify_nordic(pkt.init_command_bytes(), sig).is_ok());
                if !ok {
                    return Err(res(ResultCode::InvalidObject));
                }
            }
        }
        let init = pkt.init_command();
        let t = init.r#type.unwrap_or(-1);
        if !(0..=3).contains(&t) {
            return Err(ext(p, ExtError::InitCommandInvalid));
        }
        if init.hash.as_ref().and_then(|h| h.hash_type) != Some(HashType::Sha256 as i32) {
            return Err(ext(p, ExtError::WrongHashType));
        }
        // 15.2-17.1 `nrf_dfu_ver_validation_check`: a debug build skips the rest for an init
        // command that says is_debug.
        if p.debug_version && init.is_debug == Some(true) {
            return data_size(p, init);
        }
        match init.hw_version {
            None => return Err(ext(p, ExtError::InitCommandInvalid)),
            Some(hw) if hw != p.hw_version => return Err(ext(p, ExtError::HwVersionFailure)),
            Some(_) => {}
        }
        if !self.sd_req_ok(core, init) {
            return Err(ext(p, ExtError::SdVersionFailure));
        }
        match init.fw_version {
            Some(v) if !self.fw_version_ok(t, v) => return Err(ext(p, ExtError::FwVersionFailure)),
            None if self.fw_version_required(t) => {
                return Err(ext(p, ExtError::InitCommandInvalid))
            }
            _ => {}
        }
        data_size(p, init)
    }

    /// sd_req rules (17.1 `nrf_dfu_ver_validation.c`, `sd_req_ok`).
    fn sd_req_ok(&self, core: &Core, init: &InitCommand) -> bool {
        let req = &init.sd_req;
        let ble = self.profile.transport == Transport::Ble;
        let t = init.r#type.unwrap_or(-1);
        match installed_softdevice(core.hw.memory()) {
            Some(sd) => match req.first() {
                None => false,
                Some(&first) if first != 0 => req.contains(&(sd.fwid as u32)),
                // sd_req[0] == 0: "application overwrites the SoftDevice" is refused by BLE
                // bootloaders; SD-only images need downgrade prevention off; BL/SD+BL pass.
                Some(_) if t == FwType::Application as i32 => !ble,
                Some(_) if t == FwType::Softdevice as i32 => {
                    !ble && !self.profile.downgrade_prevention
                }
                Some(_) => true,
            },
            None => req.first().is_none_or(|&f| f == 0),
        }
    }

    fn fw_version_ok(&self, t: i32, v: u32) -> bool {
        let p = &self.profile;
        if p.has(Defect::AcceptDowngrade) {
            return true;
        }
        if t == FwType::Application as i32 || t == FwType::Softdevice as i32 {
            !p.downgrade_prevention
                || v > self.s.app_version
                || (v == self.s.app_version && p.accept_same_version)
        } else {
            v > self.s.bootloader_version
        }
    }

    fn fw_version_required(&self, t: i32) -> bool {
        if t == FwType::Softdevice as i32 {
            false
        } else if t == FwType::Application as i32 {
            self.profile.downgrade_prevention
        } else {
            true
        }
    }

    /// SDK 12 `dfu_handle_prevalidate`: debug flag, hw, sd_req, fw_version, then the signature.
    fn prevalidate_sdk12(
        &self,
        core: &Core,
        pkt: &InitPacket,
        cpu: &mut std::time::Duration,
    ) -> Result<u32, Fail> {
        let p = &self.profile;
        let failed = res(ResultCode::OperationFailed);
        let Some((sig_type, sig)) = pkt.signature() else {
            return Err(failed);
        };
        let init = pkt.init_command();
        if init.is_debug == Some(true) || init.hw_version != Some(p.hw_version) {
            return Err(failed);
        }
        let fwid = installed_softdevice(core.hw.memory()).map(|sd| sd.fwid as u32);
        if !fwid.is_some_and(|f| init.sd_req.contains(&f)) {
            return Err(failed);
        }
        let t = init.r#type.unwrap_or(-1);
        let downgrade_ok = p.has(Defect::AcceptDowngrade);
        match FwType::try_from(t) {
            Ok(FwType::Application) => {
                let v = init.fw_version.ok_or(failed)?;
                if v < self.s.app_version && !downgrade_ok {
                    return Err(failed);
                }
            }
            Ok(FwType::Bootloader | FwType::SoftdeviceBootloader) => {
                let v = init.fw_version.ok_or(failed)?;
                if v <= self.s.bootloader_version && !downgrade_ok {
                    return Err(failed);
                }
            }
            Ok(FwType::Softdevice) => {}
            _ => return Err(failed),
        }
        if sig_type != 0 {
            return Err(failed);
        }
        *cpu += core.cpu.ecdsa_verify;
        let ok = PublicKey::from_pk64(&p.public_key)
            .is_ok_and(|k| k.verify_nordic(pkt.init_command_bytes(), sig).is_ok());
        if !ok {
            return Err(res(ResultCode::InvalidObject));
        }
        data_size(p, init).map_err(|f| {
            if f == Fail::Ext(ExtError::InitCommandInvalid) {
                failed
            } else {
                f
            }
        })
    }

    /// Choose where the image goes (17.1 `nrf_dfu_validation.c` `update_data_addr_get`,
    /// `nrf_dfu_utils.c` `nrf_dfu_cache_prepare`; 12.3 `nrf_dfu_find_cache`) and remember it.
    fn prepare_cache(&mut self, core: &Core, pkt: &InitPacket, size: u32) -> Result<(), Fail> {
        let t = pkt.init_command().r#type.unwrap_or(-1);
        let start = if self.profile.results == ResultStyle::Sdk12 {
            self.find_cache_sdk12(core, size)
        } else {
            self.cache_prepare(core, t, size)
        };
        let start = start.ok_or(res(ResultCode::InsufficientResources))?;
        self.fw_start = start;
        self.fw_size = size;
        Ok(())
    }

    /// 17.1 `nrf_dfu_cache_prepare`: bank 1 after the app if it fits, else (or with
    /// NRF_DFU_SINGLE_BANK_APP_UPDATES for app/SD) invalidate the app and use bank 0. BLE
    /// bootloaders never delete the SoftDevice.
    fn cache_prepare(&mut self, core: &Core, t: i32, size: u32) -> Option<u32> {
        let region_end = core.hw.chip().bootloader_address() - APP_DATA_AREA_SIZE;
        let bank0 = core.bank0_start();
        let bank1 = align_to_page(bank0 + self.s.bank_0.image_size);
        let single = self.profile.single_bank
            && (t == FwType::Application as i32 || t == FwType::Softdevice as i32);
        let too_small_dual = size > region_end.saturating_sub(bank1);
        if !too_small_dual && !single {
            return Some(bank1);
        }
        if size > region_end.saturating_sub(bank0) {
            return None;
        }
        self.s.bank_0 = Bank::EMPTY;
        Some(bank0)
    }

    /// SDK 12 `nrf_dfu_find_cache`: same idea with `bank_current` / `bank_layout` bookkeeping.
    pub(crate) fn find_cache_sdk12(&mut self, core: &Core, size: u32) -> Option<u32> {
        let app_start = core.bank0_start();
        let mut free = core
            .hw
            .chip()
            .bootloader_address()
            .saturating_sub(app_start)
            .saturating_sub(APP_DATA_AREA_SIZE);
        if free < size {
            return None;
        }
        let mut bank1 = false;
        if self.s.bank_0.bank_code == BankCode::ValidApp {
            free -= align_to_page(self.s.bank_0.image_size);
            if free < size {
                self.s.bank_0.bank_code = BankCode::Invalid;
                self.s.bank_0.image_size = 0;
            } else {
                bank1 = true;
            }
        }
        let (bank, addr) = if bank1 {
            (
                &mut self.s.bank_1,
                app_start + align_to_page(self.s.bank_0.image_size),
            )
        } else {
            (&mut self.s.bank_0, app_start)
        };
        bank.bank_code = BankCode::Invalid;
        bank.image_size = size;
        self.s.bank_current = u32::from(bank1);
        self.s.bank_layout = u32::from(!bank1);
        Some(addr)
    }

    /// At DFU start a stored init command is re-executed without its checks (17.1
    /// `nrf_dfu_req_handler_init`; SDK 12 takes the size from the bank it prepared).
    pub(crate) fn reexecute_stored_init(&mut self, core: &Core) {
        if self.profile.has(Defect::LoseInitOnReset) || self.s.progress.command_size == 0 {
            return;
        }
        let Some(pkt) = self.stored_init() else {
            return;
        };
        let init = pkt.init_command();
        if self.profile.results == ResultStyle::Sdk12 {
            let (b0, b1) = (self.s.bank_0, self.s.bank_1);
            let size = if b0.bank_code == BankCode::Invalid && b0.image_size != 0 {
                b0.image_size
            } else if b1.bank_code == BankCode::Invalid && b0.image_size != 0 {
                b1.image_size
            } else {
                return;
            };
            let Some(start) = self.find_cache_sdk12(core, size) else {
                return;
            };
            (self.fw_start, self.fw_size) = (start, size);
        } else {
            let Ok(size) = data_size(&self.profile, init) else {
                return;
            };
            self.fw_start = align_to_page(core.bank0_start() + self.s.bank_0.image_size);
            self.fw_size = size;
        }
        self.init = Some(InitInfo::of(init));
    }
}
