//! Data objects (17.1 `on_data_obj_*` in `nrf_dfu_req_handler.c`, SDK 12
//! `nrf_dfu_data_req`): CREATE erases the object's page (queued; answered at once), writes
//! append with a running CRC and queue flash stores (dropped silently when fstorage is full),
//! EXECUTE waits for the flash queue to drain, and the final EXECUTE post-validates.

use super::handler::{Fail, Outcome, WriteResult};
use super::profile::ResultStyle;
use super::{settings_store, Dfu, DfuState};
use crate::core::Core;
use crate::defects::Defect;
use crate::events::{DropReason, SimTime};
use crate::flash_queue::Done;
use crate::nvmc::{FlashOp, FlashPath};
use nrf_dfu::crc::crc32_continue;
use nrf_dfu::memory_map::PAGE_SIZE;
use nrf_dfu::wire::{Response, ResultCode};

/// Largest data object (SELECT max_size): one flash page.
pub const DATA_OBJECT_MAX_SIZE: u32 = 4096;
/// SDK 12's flash buffer chunk (FLASH_BUFFER_CHUNK_LENGTH).
const SDK12_CHUNK: usize = 256;
/// `stuck-after-create-failure`: chance that a data CREATE finds the flash busy and fails,
/// while the previous object's writes are still queued (SDK 12 answers EXECUTE before they are
/// written) ...
pub const STUCK_CHANCE_FLASH_BUSY: f64 = 0.25;
/// ... and, with the SoftDevice scheduling flash, while the queue is empty.
pub const STUCK_CHANCE_SD_IDLE: f64 = 0.01;

fn res(code: ResultCode) -> Fail {
    Fail::Res(code)
}

impl Dfu {
    /// CRC reported for the data object: `corrupt-resume-crc` flips it for a partial object
    /// found after a reset or link loss.
    fn data_crc_value(&self) -> u32 {
        let p = &self.s.progress;
        let partial = p.firmware_image_offset != p.firmware_image_offset_last;
        if self.resumed && partial && self.profile.has(Defect::CorruptResumeCrc) {
            !p.firmware_image_crc
        } else {
            p.firmware_image_crc
        }
    }

    pub fn data_select(&self) -> Response {
        Response::Select {
            max_size: DATA_OBJECT_MAX_SIZE,
            offset: self.s.progress.firmware_image_offset,
            crc: self.data_crc_value(),
        }
    }

    /// Everything received so far, executed or not.
    pub fn data_crc(&self) -> Response {
        Response::Crc {
            offset: self.s.progress.firmware_image_offset,
            crc: self.data_crc_value(),
        }
    }

    /// CREATE(2, n): the checks in the order of each SDK, then the object restarts at the last
    /// executed offset (an unexecuted partial object is discarded) and its page erase is queued.
    pub fn data_create(&mut self, core: &mut Core, n: u32) -> Outcome {
        let p = &self.s.progress;
        let last = p.firmware_image_offset_last;
        let unaligned_not_last =
            !n.is_multiple_of(PAGE_SIZE) && last.wrapping_add(n) != self.fw_size;
        let overflow = last as u64 + n as u64 > self.fw_size as u64;
        let init = self.init.is_some();
        let check = if self.profile.results == ResultStyle::Sdk12 {
            // SDK 12: size, alignment, max, init, overflow.
            [
                (n == 0, ResultCode::InvalidParameter),
                (unaligned_not_last, ResultCode::InvalidParameter),
                (n > DATA_OBJECT_MAX_SIZE, ResultCode::InsufficientResources),
                (!init, ResultCode::OperationNotPermitted),
                (overflow, ResultCode::OperationNotPermitted),
            ]
        } else {
            // 15+: init, size, alignment, max, overflow (17.1 `on_data_obj_create_request`).
            [
                (!init, ResultCode::OperationNotPermitted),
                (n == 0, ResultCode::InvalidParameter),
                (unaligned_not_last, ResultCode::InvalidParameter),
                (n > DATA_OBJECT_MAX_SIZE, ResultCode::InsufficientResources),
                (overflow, ResultCode::OperationNotPermitted),
            ]
        };
        if let Some((_, code)) = check.iter().find(|(bad, _)| *bad) {
            return Err(res(*code));
        }
        let p = &mut self.s.progress;
        p.data_object_size = n;
        p.firmware_image_crc = p.firmware_image_crc_last;
        p.firmware_image_offset = last;
        self.s.write_offset = last;
        self.buf12.bytes.clear();
        self.resumed = false;
        if self.stuck_on_create(core) {
            self.state = DfuState::Stuck;
            return Err(res(ResultCode::InvalidObject));
        }
        let addr = self.fw_start + last;
        let mut end = core.now;
        for page in 0..n.div_ceil(PAGE_SIZE) {
            match core.flash(
                FlashOp::ErasePage {
                    addr: addr + page * PAGE_SIZE,
                },
                self.ctx,
                Done::Nothing,
            ) {
                Ok(e) => end = e,
                // The erase cannot be queued: INVALID_OBJECT (17.1 `on_data_obj_create_request`;
                // seen on SDK 12, Android-DFU-Library #66 and #86).
                Err(_) => return Err(res(ResultCode::InvalidObject)),
            }
        }
        self.erase_until = end;
        Ok(Response::Create)
    }

    /// `stuck-after-create-failure` (DevZone 42186): the erase cannot be queued because the
    /// flash is busy, and the transport wedges. Intermittent, drawn from the device's seed.
    fn stuck_on_create(&self, core: &mut Core) -> bool {
        if !self.profile.has(Defect::StuckAfterCreateFailure) {
            return false;
        }
        let chance = if !core.queue.is_empty() {
            STUCK_CHANCE_FLASH_BUSY
        } else if self.ctx.path == FlashPath::SoftDevice {
            STUCK_CHANCE_SD_IDLE
        } else {
            0.0
        };
        core.rng.chance(chance)
    }

    /// A data write (BLE packet or serial OBJECT_WRITE).
    pub fn data_write(&mut self, core: &mut Core, data: &[u8]) -> WriteResult {
        if self.init.is_none() {
            return WriteResult::failed(res(ResultCode::OperationNotPermitted));
        }
        if self.profile.sdk12_data_path {
            return self.data_write_sdk12(core, data);
        }
        let p = &self.s.progress;
        let in_object = p.firmware_image_offset - p.firmware_image_offset_last;
        if data.len() as u64 + in_object as u64 > p.data_object_size as u64 {
            return WriteResult::failed(res(ResultCode::InvalidParameter));
        }
        // A refused store leaves offset and CRC; the response stays zero-initialised.
        let dropped = |reason| WriteResult {
            outcome: Ok((0, 0)),
            dropped: Some(reason),
            holds_buffer: false,
        };
        let addr = self.fw_start + self.s.write_offset;
        let Ok(op) = FlashOp::write_bytes(addr, data) else {
            return dropped(DropReason::UnalignedLength);
        };
        let pooled = self.profile.rx_buffers.is_some();
        let done = if pooled {
            Done::RxBufferFree
        } else {
            Done::Nothing
        };
        if core.flash(op, self.ctx, done).is_err() {
            return dropped(DropReason::FlashQueueFull);
        }
        let p = &mut self.s.progress;
        self.s.write_offset += data.len() as u32;
        p.firmware_image_offset += data.len() as u32;
        p.firmware_image_crc = crc32_continue(p.firmware_image_crc, data);
        WriteResult {
            outcome: Ok((p.firmware_image_offset, p.firmware_image_crc)),
            dropped: None,
            holds_buffer: pooled,
        }
    }

    /// SDK 12: data goes into 256-byte buffers, stored when one fills or the object is complete;
    /// a store that cannot be queued rewinds offset and CRC to the last executed object.
    fn data_write_sdk12(&mut self, core: &mut Core, data: &[u8]) -> WriteResult {
        if data.len() > SDK12_CHUNK {
            return WriteResult::failed(res(ResultCode::InsufficientResources));
        }
        let p = &mut self.s.progress;
        if data.len() as u64 + (p.firmware_image_offset - p.firmware_image_offset_last) as u64
            > p.data_object_size as u64
        {
            return WriteResult::failed(res(ResultCode::InvalidParameter));
        }
        p.firmware_image_crc = crc32_continue(p.firmware_image_crc, data);
        p.firmware_image_offset += data.len() as u32;
        let mut dropped = None;
        if self.buf12.bytes.len() + data.len() < SDK12_CHUNK {
            self.buf12.bytes.extend_from_slice(data);
        } else {
            let first = SDK12_CHUNK - self.buf12.bytes.len();
            self.buf12.bytes.extend_from_slice(&data[..first]);
            dropped = self.store_chunk_sdk12(core);
            self.buf12.bytes.extend_from_slice(&data[first..]);
        }
        let p = &self.s.progress;
        let object_end = self.s.write_offset - p.firmware_image_offset_last
            + self.buf12.bytes.len() as u32
            >= p.data_object_size;
        if !self.buf12.bytes.is_empty() && object_end {
            dropped = dropped.or(self.store_chunk_sdk12(core));
        }
        let p = &self.s.progress;
        WriteResult {
            outcome: Ok((p.firmware_image_offset, p.firmware_image_crc)),
            dropped,
            holds_buffer: false,
        }
    }

    fn store_chunk_sdk12(&mut self, core: &mut Core) -> Option<DropReason> {
        let mut chunk = std::mem::take(&mut self.buf12.bytes);
        let len = chunk.len() as u32;
        chunk.resize(chunk.len().div_ceil(4) * 4, 0xFF);
        let addr = self.fw_start + self.s.write_offset;
        let queued = FlashOp::write_bytes(addr, &chunk)
            .ok()
            .and_then(|op| core.flash(op, self.ctx, Done::Nothing).ok());
        chunk.clear();
        self.buf12.bytes = chunk;
        if queued.is_some() {
            self.s.write_offset += len;
            None
        } else {
            let p = &mut self.s.progress;
            p.firmware_image_crc = p.firmware_image_crc_last;
            p.firmware_image_offset = p.firmware_image_offset_last;
            Some(DropReason::FlashQueueFull)
        }
    }

    /// EXECUTE(2). The reply waits for the flash queue to drain (15+; SDK 12 only for the final
    /// object), restarts the inactivity timer, and the final object post-validates.
    pub fn data_execute(&mut self, core: &mut Core) -> (Outcome, SimTime) {
        let now = core.now;
        let p = &mut self.s.progress;
        if p.data_object_size != p.firmware_image_offset - p.firmware_image_offset_last {
            return (Err(res(ResultCode::OperationNotPermitted)), now);
        }
        p.data_object_size = 0;
        p.firmware_image_crc_last = p.firmware_image_crc;
        p.firmware_image_offset_last = p.firmware_image_offset;
        self.restart_inactivity(core);
        let early = self.profile.has(Defect::ExecuteBeforeFlashDrain);
        let sdk12 = self.profile.results == ResultStyle::Sdk12;
        if self.s.progress.firmware_image_offset == self.fw_size {
            return self.finish_transfer(core, early);
        }
        let ready = if early || sdk12 {
            now
        } else {
            core.queue.drained_at(now)
        };
        if self.profile.save_progress_every_execute && !sdk12 && early {
            // The defect on a save-progress build: the settings (and backup, where 17.1 reads
            // the progress from) claim the object before its writes are in flash.
            if !self.write_settings_and_backup_next(core) {
                return (Err(res(ResultCode::OperationFailed)), now);
            }
            return (Ok(nrf_dfu::wire::Response::Execute), ready);
        }
        if self.profile.save_progress_every_execute && !sdk12 {
            // NRF_DFU_SAVE_PROGRESS_IN_FLASH=1 (17.1 `on_data_obj_execute_request_sched`): the
            // response goes out once the queue is idle, then the settings are queued; the
            // write's result is ignored. Queued now, the write would find the queue still full
            // of this object's writes and be lost: it is made when the queue has drained (a
            // zero-length item behind them), as the SDK's rescheduling does.
            core.busy(std::time::Duration::ZERO, Done::SaveProgress);
            return (Ok(nrf_dfu::wire::Response::Execute), ready);
        }
        if self.profile.save_progress_every_execute {
            let r = if early {
                self.write_settings_next(core, Done::Nothing)
            } else {
                settings_store::write(core, &mut self.s, self.ctx, Done::Nothing).is_ok()
            };
            if !r {
                return (Err(res(ResultCode::OperationFailed)), now);
            }
        }
        (Ok(nrf_dfu::wire::Response::Execute), ready)
    }

    /// The defect's settings write on a build with a backup page: main page and backup, both
    /// ahead of queued data.
    fn write_settings_and_backup_next(&mut self, core: &mut Core) -> bool {
        self.s.fix_settings_crcs();
        let bytes = self.s.encode();
        let (main, backup) = settings_store::pages(core.hw.chip());
        let mut ops = Vec::new();
        for page in [main, backup] {
            let Ok(write) = FlashOp::write_bytes(page, &bytes) else {
                return false;
            };
            ops.push((FlashOp::ErasePage { addr: page }, Done::Nothing));
            ops.push((write, Done::Nothing));
        }
        if !self.profile.settings_backup {
            ops.truncate(2);
        }
        let timing = core.hw.timing().clone();
        core.queue
            .push_flash_next(core.now, ops, self.ctx.path, &timing);
        true
    }

    /// The defect's settings write: erase + write of the main page ahead of queued data.
    pub(crate) fn write_settings_next(&mut self, core: &mut Core, done: Done) -> bool {
        self.s.fix_settings_crcs();
        let bytes = self.s.encode();
        let (main, _) = settings_store::pages(core.hw.chip());
        let Ok(write) = FlashOp::write_bytes(main, &bytes) else {
            return false;
        };
        let ops = vec![
            (FlashOp::ErasePage { addr: main }, Done::Nothing),
            (write, done),
        ];
        let timing = core.hw.timing().clone();
        core.queue
            .push_flash_next(core.now, ops, self.ctx.path, &timing);
        true
    }
}
