//! The request handler (17.1 `nrf_dfu_req_handler.c`, SDK 12 `dfu_req_handling.c`) behind both
//! transports: the transport's part (PRN counter, stale bytes of short messages via
//! `Dialect::device_decode_with_stale`) and the handler's (object operations, versions, ping,
//! abort), with each SDK's result and extended error codes (17.1 `nrf_dfu_req_handler.c`,
//! `nrf_dfu_req_handler_req_process`; 12.3 `dfu_req_handling.c`, `nrf_dfu_req_handler_on_req`).

use super::settings_store;
use super::{Current, Dfu, DfuState};
use crate::core::Core;
use crate::descriptor::Transport;
use crate::events::{DropReason, FirmwareReset, PacketOutcome, Reply, SimTime};
use crate::ficr::reg;
use crate::flash_queue::Done;
use nrf_dfu::memory_map::{FICR_BASE, SOFTDEVICE_START};
use nrf_dfu::settings::BankCode;
use nrf_dfu::wire::{
    DeviceDecode, ExtError, FirmwareType, ObjectType, Opcode, Request, Response, ResultCode,
    PROTOCOL_VERSION,
};

/// Why a request failed: a result code, or an extended error (14+: `0B <ext>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    Res(ResultCode),
    Ext(ExtError),
}

pub(crate) type Outcome = Result<Response, Fail>;

/// What a write (BLE packet or serial OBJECT_WRITE) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteResult {
    /// Offset and CRC for the PRN notification, or the failure.
    pub outcome: Result<(u32, u32), Fail>,
    /// The write was not stored (queue full / unaligned): the notification carries zeros.
    pub dropped: Option<DropReason>,
    /// A BLE RX buffer stays held until this write's flash operation completes.
    pub holds_buffer: bool,
}

impl WriteResult {
    pub fn failed(f: Fail) -> WriteResult {
        WriteResult {
            outcome: Err(f),
            dropped: None,
            holds_buffer: false,
        }
    }
}

impl Dfu {
    /// A control-point message (BLE) or a decoded SLIP frame (serial).
    pub fn control(&mut self, core: &mut Core, raw: &[u8]) -> Option<Reply> {
        if !self.is_open() {
            return None;
        }
        let decoded = self
            .profile
            .dialect
            .device_decode_with_stale(raw, &self.last_cp);
        self.last_cp.clear();
        self.last_cp.extend_from_slice(raw);
        match decoded {
            DeviceDecode::Reply { bytes, .. } => Some(Reply {
                bytes,
                ready_at: core.now,
            }),
            // Serial: an empty frame read as OBJECT_WRITE of 65535 bytes; the size check refuses
            // it (17.1 `nrf_dfu_serial.c` `nrf_dfu_serial_on_packet_received` takes length − 1;
            // `on_data_obj_write_request` checks it), reported only at a PRN boundary.
            DeviceDecode::WriteLengthUnderflow => {
                let r = match self.current {
                    Current::Invalid => WriteResult::failed(Fail::Res(ResultCode::InvalidObject)),
                    _ if self.current == Current::Data && self.init.is_none() => {
                        WriteResult::failed(Fail::Res(ResultCode::OperationNotPermitted))
                    }
                    _ => WriteResult::failed(Fail::Res(ResultCode::InvalidParameter)),
                };
                self.prn_notification(core, r)
            }
            DeviceDecode::Request(r) => self.request(core, r.request),
        }
    }

    /// Serial OBJECT_WRITE payload (the frame after its 0x08), without copying it.
    pub fn serial_write(&mut self, core: &mut Core, data: &[u8]) -> Option<Reply> {
        if !self.is_open() {
            return None;
        }
        self.last_cp.clear();
        self.last_cp.push(Opcode::ObjectWrite.as_u8());
        self.last_cp.extend_from_slice(data);
        let r = self.write(core, data);
        self.prn_notification(core, r)
    }

    /// A BLE Packet characteristic write.
    pub fn packet(&mut self, core: &mut Core, data: &[u8]) -> PacketOutcome {
        if !self.is_open() || self.profile.transport != Transport::Ble {
            return PacketOutcome::dropped(DropReason::NotListening);
        }
        if self
            .profile
            .has(crate::defects::Defect::DropPacketsAfterCreate)
            && core.now < self.erase_until
        {
            return PacketOutcome::dropped(DropReason::DuringCreateErase);
        }
        let pooled = self.profile.rx_buffers.is_some();
        if pooled {
            if self.rx_free == 0 {
                return PacketOutcome::dropped(DropReason::RxBuffersFull);
            }
            self.rx_free -= 1;
        }
        let r = self.write(core, data);
        if pooled && !r.holds_buffer {
            self.rx_free += 1;
        }
        let notification = self.prn_notification(core, r);
        PacketOutcome {
            dropped: r.dropped,
            notification,
        }
    }

    fn write(&mut self, core: &mut Core, data: &[u8]) -> WriteResult {
        match self.current {
            Current::Command => WriteResult {
                outcome: self.cmd_write(data),
                dropped: None,
                holds_buffer: false,
            },
            Current::Data => self.data_write(core, data),
            Current::Invalid => WriteResult::failed(Fail::Res(ResultCode::InvalidObject)),
        }
    }

    /// The transport's response callback for a write: count down, and at the boundary send the
    /// result formatted as a CRC_GET response (17.1 `ble_dfu_req_handler_callback`,
    /// `nrf_dfu_serial.c`). A dropped write's response is the zero-initialised one.
    fn prn_notification(&mut self, core: &mut Core, r: WriteResult) -> Option<Reply> {
        self.prn_left = self.prn_left.wrapping_sub(1);
        if self.prn_target == 0 || self.prn_left != 0 {
            return None;
        }
        self.prn_left = self.prn_target;
        let op = Opcode::CrcGet.as_u8();
        let response = match r.outcome {
            Ok((offset, crc)) => Response::Crc { offset, crc },
            Err(f) => self.failure(op, f),
        };
        Some(Reply {
            bytes: self.profile.dialect.encode_response(&response),
            ready_at: core.now,
        })
    }

    fn request(&mut self, core: &mut Core, req: Request) -> Option<Reply> {
        // The transport's part (17.1 nrf_dfu_ble.c / nrf_dfu_serial.c): CREATE resets the PRN
        // counter, SET_PRN sets target and counter.
        match req {
            Request::Create { .. } => self.prn_left = self.prn_target,
            Request::SetPrn { count } => {
                self.prn_target = count;
                self.prn_left = count;
            }
            Request::Write { ref data } => {
                let r = self.write(core, data);
                return self.prn_notification(core, r);
            }
            _ => {}
        }
        let op = req.opcode().as_u8();
        let (outcome, ready_at) = self.dispatch(core, req);
        let response = match outcome {
            Ok(r) => r,
            Err(f) => self.failure(op, f),
        };
        Some(Reply {
            bytes: self.profile.dialect.encode_response(&response),
            ready_at,
        })
    }

    /// The error response; an extended error is stored and then read-and-cleared into it.
    fn failure(&mut self, op: u8, f: Fail) -> Response {
        match f {
            Fail::Res(result) => Response::Error { op, result },
            Fail::Ext(ext) => {
                self.ext_error = ext;
                let ext = std::mem::replace(&mut self.ext_error, ExtError::NoError);
                Response::ExtendedError { op, ext }
            }
        }
    }

    fn dispatch(&mut self, core: &mut Core, req: Request) -> (Outcome, SimTime) {
        let now = core.now;
        let done = |o: Outcome| (o, now);
        match req {
            Request::ProtocolVersion => done(Ok(Response::ProtocolVersion {
                version: PROTOCOL_VERSION,
            })),
            Request::HardwareVersion => done(Ok(self.hardware_version(core))),
            Request::FirmwareVersion { image } => done(Ok(self.firmware_version(core, image))),
            Request::Ping { id } => done(Ok(Response::Ping { id })),
            Request::SetPrn { .. } => done(Ok(Response::SetPrn)),
            Request::MtuGet => done(Ok(Response::Mtu {
                mtu: self
                    .profile
                    .dialect
                    .serial_mtu()
                    .unwrap_or(self.profile.max_att_mtu()),
            })),
            Request::Abort => {
                self.close_and_reset(core, FirmwareReset::Aborted);
                done(Ok(Response::Abort))
            }
            Request::Select { object_type } | Request::Create { object_type, .. }
                if !self.select_type(object_type) =>
            {
                done(Err(Fail::Res(
                    self.profile.dialect.invalid_object_type_result(),
                )))
            }
            Request::Select { .. } => done(Ok(match self.current {
                Current::Command => self.cmd_select(),
                _ => self.data_select(),
            })),
            Request::Create { size, .. } => match self.current {
                Current::Command => done(self.cmd_create(core, size)),
                _ => done(self.data_create(core, size)),
            },
            Request::CrcGet => done(match self.current {
                Current::Command => Ok(self.cmd_crc()),
                Current::Data => Ok(self.data_crc()),
                Current::Invalid => Err(Fail::Res(ResultCode::InvalidObject)),
            }),
            Request::Execute => match self.current {
                Current::Command => self.cmd_execute(core),
                Current::Data => self.data_execute(core),
                Current::Invalid => done(Err(Fail::Res(ResultCode::InvalidObject))),
            },
            // Handled in `request`.
            Request::Write { .. } => done(Err(Fail::Res(ResultCode::InvalidObject))),
        }
    }

    /// SELECT/CREATE name the current object. 15+ remembers a bad type (and answers
    /// INVALID_OBJECT for it); 12/14 refuse it without changing the current object.
    fn select_type(&mut self, object_type: u8) -> bool {
        match ObjectType::try_from(object_type) {
            Ok(ObjectType::Command) => self.current = Current::Command,
            Ok(ObjectType::Data) => self.current = Current::Data,
            Err(_) => {
                if self.profile.dialect.invalid_type_sticks() {
                    self.current = Current::Invalid;
                }
                return false;
            }
        }
        true
    }

    /// HARDWARE_VERSION: FICR part, variant, flash and RAM in bytes, page size.
    fn hardware_version(&self, core: &Core) -> Response {
        let f = core.hw.ficr();
        let w = |r: u32| f.read_word(FICR_BASE + r);
        Response::HardwareVersion {
            part: w(reg::INFO_PART),
            variant: w(reg::INFO_VARIANT),
            rom_size: w(reg::INFO_FLASH) * 1024,
            ram_size: w(reg::INFO_RAM) * 1024,
            rom_page_size: w(reg::CODEPAGESIZE),
        }
    }

    /// FIRMWARE_VERSION (17.1 `on_fw_version_request`): 0 = bootloader, 1 = SoftDevice if present,
    /// next = app when bank 0 is valid; anything else is type 0xFF with zeros and SUCCESS.
    fn firmware_version(&self, core: &Core, image: u8) -> Response {
        let chip = core.hw.chip();
        let sd = super::enter_dfu::installed_softdevice(core.hw.memory());
        let app = self.s.bank_0.bank_code == BankCode::ValidApp;
        let count = 1 + u8::from(sd.is_some()) + u8::from(app);
        let (image_type, version, addr, len) = match (image, sd) {
            (0, _) => (
                FirmwareType::Bootloader,
                self.s.bootloader_version,
                chip.bootloader_address(),
                chip.mbr_params_address() - chip.bootloader_address(),
            ),
            (1, Some(sd)) => (
                FirmwareType::Softdevice,
                sd.version,
                SOFTDEVICE_START,
                sd.end_address,
            ),
            (i, _) if i < count => (
                FirmwareType::Application,
                self.s.app_version,
                core.bank0_start(),
                self.s.bank_0.image_size,
            ),
            _ => (FirmwareType::Unknown, 0, 0, 0),
        };
        Response::FirmwareVersion {
            image_type,
            version,
            addr,
            len,
        }
    }

    /// ABORT / completion: close the transport (BLE: disconnect and wait 200 ms), then back up
    /// the settings and reset (17.1 `nrf_dfu_observer` closes the transports on COMPLETED and
    /// ABORTED, then `bootloader_reset(true)`; SDK 12 resets without a backup).
    pub(crate) fn close_and_reset(&mut self, core: &mut Core, why: FirmwareReset) {
        if self.state == DfuState::Open {
            self.state = DfuState::Closing;
        }
        if self.profile.transport == Transport::Ble {
            core.busy(core.cpu.ble_close, Done::Nothing);
        }
        self.backup_and_reset(core, why);
    }

    /// `bootloader_reset(true)`: back up the settings, reset when that is written.
    pub(crate) fn backup_and_reset(&mut self, core: &mut Core, why: FirmwareReset) {
        self.deadline = None;
        settings_store::backup(core, &self.profile, self.ctx_unlimited(), Done::Reset(why));
    }

    /// The fstorage context without a depth check (settings work the bootloader must do).
    pub(crate) fn ctx_unlimited(&self) -> crate::core::FlashCtx {
        crate::core::FlashCtx {
            path: self.ctx.path,
            limit: None,
        }
    }

    /// The final settings write finished (17.1 `nrf_dfu_req_handler.c`, `on_dfu_complete`): close
    /// and reset.
    pub fn on_dfu_completed(&mut self, core: &mut Core) {
        self.close_and_reset(core, FirmwareReset::DfuCompleted);
    }

    /// The deferred settings write of a save-progress build (see [`Done::SaveProgress`]): the
    /// queue is idle now; the write's result is ignored, as in the SDK.
    pub fn save_progress(&mut self, core: &mut Core) {
        let _ = settings_store::write_and_backup(
            core,
            &self.profile,
            &mut self.s,
            self.ctx,
            Done::Nothing,
        );
    }
}
