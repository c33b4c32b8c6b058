//! The nRF5 SDK Secure DFU bootloader model: boot sequence ([`boot`]), activation
//! ([`activation`]), and DFU mode ([`Dfu`]: the request handler of [`handler`], the init packet
//! of [`init_validation`], data objects of [`data`], postvalidation of [`postvalidate`], the
//! inactivity timer of [`inactivity`]). One [`profile::Profile`] holds every per-SDK switch.

pub mod activation;
pub mod boot;
pub mod data;
pub mod enter_dfu;
pub mod handler;
pub mod inactivity;
pub mod init_validation;
pub mod postvalidate;
pub mod profile;
pub mod settings_store;

use crate::core::{Core, FlashCtx};
use crate::descriptor::Transport;
use crate::events::SimTime;
use init_validation::InitInfo;
use nrf_dfu::settings::SettingsPage;
use nrf_dfu::wire::ExtError;
use profile::Profile;

pub use enter_dfu::EnterReason;

/// The object type the next WRITE/EXECUTE/CRC_GET applies to (the static "current object" of
/// `nrf_dfu_obj_op`, initially command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Current {
    Command,
    Data,
    /// 15+: a bad type in SELECT/CREATE sticks until a good one (17.1 `nrf_dfu_obj_op`).
    Invalid,
}

/// Whether the transport is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DfuState {
    Open,
    /// Transport closed; a reset is queued.
    Closing,
    /// `stuck-after-create-failure`: nothing answers until the power is cycled.
    Stuck,
}

/// SDK 12's 256-byte flash buffers (`dfu_req_handling.c`, FLASH_BUFFER_CHUNK_LENGTH).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sdk12Buffer {
    pub bytes: Vec<u8>,
}

/// The bootloader in DFU mode.
#[derive(Debug, Clone)]
pub(crate) struct Dfu {
    pub profile: Profile,
    /// `s_dfu_settings`: the RAM copy of the settings page.
    pub s: SettingsPage,
    /// `m_valid_init_cmd_present` with what the init command says.
    pub init: Option<InitInfo>,
    /// `m_firmware_start_addr` / `m_firmware_size_req`.
    pub fw_start: u32,
    pub fw_size: u32,
    pub current: Current,
    pub prn_target: u16,
    pub prn_left: u16,
    pub ext_error: ExtError,
    /// Free BLE RX buffers (15+).
    pub rx_free: usize,
    pub deadline: Option<SimTime>,
    /// The previous control-point message: what 15+ reads past the end of a short one.
    pub last_cp: Vec<u8>,
    /// When the last data CREATE's erase completes.
    pub erase_until: SimTime,
    /// Set by a reset or link loss until the next CREATE (`corrupt-resume-crc`).
    pub resumed: bool,
    pub state: DfuState,
    pub buf12: Sdk12Buffer,
    pub ctx: FlashCtx,
    pub reason: EnterReason,
}

impl Dfu {
    /// DFU mode opens (17.1 `nrf_bootloader_init`): inactivity timer, request handler init (a
    /// stored init command is re-executed silently, `nrf_dfu_validation_init`), transports.
    pub fn open(
        core: &mut Core,
        profile: Profile,
        s: SettingsPage,
        reason: EnterReason,
        timeout: Option<std::time::Duration>,
    ) -> Dfu {
        let path = profile.dfu_flash_path();
        // UART builds (MBR only) use fstorage's NVMC backend, which erases and writes
        // synchronously (SDK 15.x/17.1 `nrf_fstorage_nvmc.c`: `nrf_nvmc_page_erase` and
        // `nrf_nvmc_write_words` spin on NVMC->READY before `event_send`): there is no queue
        // to fill. The SoftDevice backend queues up to `flash_queue_depth` operations.
        let limit = match path {
            crate::nvmc::FlashPath::Nvmc => None,
            crate::nvmc::FlashPath::SoftDevice => Some(profile.flash_queue_depth),
        };
        let ctx = FlashCtx { path, limit };
        let mut dfu = Dfu {
            rx_free: profile.rx_buffers.unwrap_or(0),
            profile,
            s,
            init: None,
            fw_start: 0,
            fw_size: 0,
            current: Current::Command,
            prn_target: 0,
            prn_left: 0,
            ext_error: ExtError::NoError,
            deadline: timeout.map(|d| core.now + d),
            last_cp: Vec::with_capacity(32),
            erase_until: core.now,
            resumed: true,
            state: DfuState::Open,
            buf12: Sdk12Buffer::default(),
            ctx,
            reason,
        };
        dfu.reexecute_stored_init(core);
        dfu
    }

    pub fn is_open(&self) -> bool {
        self.state == DfuState::Open
    }

    pub fn transport(&self) -> Transport {
        self.profile.transport
    }

    /// `nrf_dfu_settings_progress_reset`: forget the init command and all progress.
    pub fn progress_reset(&mut self) {
        self.s.init_command_mut().fill(0xFF);
        self.s.progress = Default::default();
        self.s.write_offset = 0;
    }

    /// The BLE link dropped (NRF_DFU_EVT_TRANSPORT_DEACTIVATED, table 8.8): 16/17 reload the
    /// settings from flash (`nrf_dfu_settings_reinit`), so data progress falls back to what was
    /// saved; the valid-init flag stays. 12 and 15.x keep RAM. UART has no link to lose.
    pub fn link_lost(&mut self, core: &Core) {
        if self.profile.transport != Transport::Ble || !self.is_open() {
            return;
        }
        if self.profile.revert_on_link_loss {
            self.s = settings_store::load(core, &self.profile).settings;
        }
        self.resumed = true;
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod pool_tests;
