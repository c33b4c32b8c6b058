//! The bootloader from reset to "DFU mode" or "start the app" (17.1 `nrf_bootloader.c`,
//! `nrf_bootloader_init`): MBR slots, settings init (main + backup per SDK), activation of a
//! pending update (`nrf_bootloader_fw_activate`), the DFU-enter check, then either clearing the
//! enter flags and opening DFU mode or erasing peer/advertising data, backing up settings and
//! jumping to the application. Every flash operation is queued on the device timeline; the boot
//! continues when the queue has drained ([`Boot::step`] is called again).

use super::activation::{self, BlStep, Pending};
use super::enter_dfu::{self, EnterReason};
use super::profile::Profile;
use super::settings_store;
use crate::core::{Core, FlashCtx};
use crate::events::FirmwareReset;
use crate::flash_queue::Done;
use crate::nvmc::FlashOp;
use crate::power::ResetKind;
use nrf_dfu::memory_map::{MBR_BOOTLOADER_ADDR_SLOT, MBR_PARAMS_PAGE_ADDR_SLOT};
use nrf_dfu::settings::{AdvName, AreaStatus, Bank, BankCode, PeerData, SettingsPage};
use std::time::Duration;

/// Where the boot sequence is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    MbrSlots,
    Settings,
    Activate,
    /// Activation is over with this result: invalidate bank 1, write settings.
    Activated {
        softdevice: bool,
        ok: bool,
    },
    /// `bootloader_reset(true)`: the backup is queued; reset when it is done.
    ResetPending,
    EnterCheck,
    Decided(Option<EnterReason>),
    /// Enter flags cleared; DFU mode opens when the queue has drained.
    Open {
        reason: EnterReason,
        timeout: Option<Duration>,
    },
    AppStart,
    /// Settings work before the jump is queued; jump when it is done.
    Jump,
}

/// What the device does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BootStep {
    /// Work is queued; call [`Boot::step`] again when the queue drains.
    Wait,
    EnterDfu {
        reason: EnterReason,
        timeout: Option<Duration>,
    },
    StartApp,
    Reset(FirmwareReset),
}

#[derive(Debug, Clone)]
pub(crate) struct Boot {
    pub profile: Profile,
    pub settings: SettingsPage,
    reset: ResetKind,
    stage: Stage,
}

impl Boot {
    pub fn new(profile: Profile, reset: ResetKind) -> Boot {
        let settings = SettingsPage::defaults(profile.layout);
        Boot {
            profile,
            settings,
            reset,
            stage: Stage::MbrSlots,
        }
    }

    /// Run until work is queued or the boot is decided. When work was queued, a zero-length
    /// barrier item calls back with [`Done::Boot`] once everything before it is done. Every
    /// stage either queues work, moves to another stage, or (queue empty) decides.
    pub fn step(&mut self, core: &mut Core) -> BootStep {
        loop {
            let step = self.advance(core);
            if step != BootStep::Wait {
                return step;
            }
            if !core.queue.is_empty() {
                core.busy(Duration::ZERO, Done::Boot);
                return BootStep::Wait;
            }
        }
    }

    fn advance(&mut self, core: &mut Core) -> BootStep {
        let p = &self.profile;
        match self.stage.clone() {
            Stage::MbrSlots => {
                if p.populate_mbr_slots {
                    let chip = core.hw.chip();
                    for (slot, value) in [
                        (MBR_BOOTLOADER_ADDR_SLOT, chip.bootloader_address()),
                        (MBR_PARAMS_PAGE_ADDR_SLOT, chip.mbr_params_address()),
                    ] {
                        if core.read_word(slot) == u32::MAX {
                            if let Ok(op) = FlashOp::write_bytes(slot, &value.to_le_bytes()) {
                                let _ = core.flash(op, FlashCtx::BOOT, Done::Nothing);
                            }
                        }
                    }
                }
                self.stage = Stage::Settings;
            }
            Stage::Settings => {
                let loaded = settings_store::load(core, p);
                let (main, backup) = settings_store::pages(core.hw.chip());
                for (page, bytes) in [(main, loaded.main_write), (backup, loaded.backup_write)] {
                    if let Some(bytes) = bytes {
                        let _ = core.flash(
                            FlashOp::ErasePage { addr: page },
                            FlashCtx::BOOT,
                            Done::Nothing,
                        );
                        if let Ok(op) = FlashOp::write_bytes(page, &bytes) {
                            let _ = core.flash(op, FlashCtx::BOOT, Done::Nothing);
                        }
                    }
                }
                self.settings = loaded.settings;
                self.stage = Stage::Activate;
            }
            Stage::Activate => self.activate(core),
            Stage::Activated { softdevice, ok } => {
                // 17.1 `nrf_bootloader_fw_activate`: invalidate bank 1, write settings + backup.
                self.settings.bank_1 = Bank::EMPTY;
                // 15.2-17.1 `nrf_dfu_bank_invalidate` also resets the copy progress (found by
                // `rig diff`: after a bank 1 -> bank 0 copy the genuine code leaves 0).
                if p.sdk >= nrf_dfu::SdkVersion::Sdk15_2 {
                    self.settings.write_offset = 0;
                }
                let _ = settings_store::write_and_backup(
                    core,
                    p,
                    &mut self.settings,
                    FlashCtx::BOOT,
                    Done::Nothing,
                );
                if ok && softdevice && self.settings.bank_0.bank_code == BankCode::ValidApp {
                    // A new SoftDevice with a valid app: stay in DFU for the app (10 s).
                    self.stage = Stage::Open {
                        reason: EnterReason::AfterSoftDevice,
                        timeout: Some(p.continuation_timeout),
                    };
                } else {
                    // ACTIVATION_SUCCESS (or ERROR, whose app_error also resets):
                    // bootloader_reset(true) backs up the settings, then resets.
                    settings_store::backup(core, p, FlashCtx::BOOT, Done::Nothing);
                    self.stage = Stage::ResetPending;
                }
            }
            Stage::ResetPending => {
                if core.queue.is_empty() {
                    return BootStep::Reset(FirmwareReset::Activation);
                }
            }
            Stage::EnterCheck => {
                let skip = enter_dfu::take_crc_skip(core, p, self.reset);
                let (reason, hashed) = enter_dfu::check(core, p, &self.settings, skip);
                if hashed > 0 {
                    core.busy(core.cpu.crc32(hashed), Done::Nothing);
                }
                self.stage = Stage::Decided(reason);
            }
            Stage::Decided(Some(reason)) => self.enter_dfu(core, reason),
            Stage::Decided(None) => self.stage = Stage::AppStart,
            Stage::Open { reason, timeout } => {
                if core.queue.is_empty() {
                    return BootStep::EnterDfu { reason, timeout };
                }
            }
            Stage::AppStart => self.start_app(core),
            Stage::Jump => {
                if core.queue.is_empty() {
                    return BootStep::StartApp;
                }
            }
        }
        BootStep::Wait
    }

    fn activate(&mut self, core: &mut Core) {
        let p = &self.profile;
        let Some(what) = Pending::of(&self.settings) else {
            self.stage = Stage::EnterCheck;
            return;
        };
        if let Some(job) = activation::copy_job(core, &self.settings, what) {
            activation::copy_step(core, p, &mut self.settings, job);
            return;
        }
        let ok = match what {
            Pending::App => {
                let hashed = activation::finish_app(core, &mut self.settings);
                core.busy(core.cpu.crc32(hashed), Done::Nothing);
                true
            }
            Pending::SoftDevice => activation::finish_softdevice(core, p, &self.settings),
            Pending::Bootloader | Pending::SoftDeviceBootloader => {
                match activation::bootloader_step(core, &self.settings, what) {
                    BlStep::InPlace => true,
                    BlStep::Failed => false,
                    BlStep::CopyRequest { page, record } => {
                        // The MBR resets the chip once the request is stored (Done::MbrCopyBl).
                        activation::request_copy_bl(core, page, &record);
                        self.stage = Stage::ResetPending;
                        return;
                    }
                }
            }
        };
        self.stage = Stage::Activated {
            softdevice: what.updates_softdevice(),
            ok,
        };
    }

    /// DFU mode: clear the enter flags (GPREGRET now; the settings flag through a settings write),
    /// then the request handler starts (17.1 `nrf_bootloader_init`: `dfu_enter_flags_clear`,
    /// inactivity timer, `nrf_dfu_init`).
    fn enter_dfu(&mut self, core: &mut Core, reason: EnterReason) {
        let p = &self.profile;
        let g = core.hw.power().gpregret();
        core.hw
            .power_mut()
            .set_gpregret(p.gpregret.cleared(g) as u32);
        if self.settings.enter_buttonless_dfu == 1 && p.settings_flag_enters_dfu {
            self.settings.enter_buttonless_dfu = 0;
            let _ = settings_store::write(core, &mut self.settings, FlashCtx::BOOT, Done::Nothing);
        }
        self.stage = Stage::Open {
            reason,
            timeout: p.inactivity_timeout,
        };
    }

    /// Not DFU: erase peer data / advertising name if present (17.1
    /// `nrf_dfu_settings_additional_erase`), back up the settings (15.2+), jump.
    ///
    /// Only BLE builds erase: the strong `nrf_dfu_settings_additional_erase` is in
    /// `nrf_dfu_settings_svci.c`, which SDK 17.0.2's UART Makefiles (pca10040_uart,
    /// pca10040_uart_debug) do not compile, so a UART bootloader links the `__WEAK` one in
    /// `nrf_dfu_settings.c` that erases nothing (found by `rig diff`: the genuine UART
    /// bootloader keeps the zeroed peer data of its first settings write).
    fn start_app(&mut self, core: &mut Core) {
        let p = &self.profile;
        let mut erased = false;
        let ble = p.transport == crate::descriptor::Transport::Ble;
        if let Some(peer) = self.settings.peer_data_mut().filter(|_| ble) {
            if peer.status() != AreaStatus::Erased {
                *peer = PeerData::ERASED;
                erased = true;
            }
        }
        if let Some(adv) = self.settings.adv_name_mut().filter(|_| ble) {
            if adv.status() != AreaStatus::Erased {
                *adv = AdvName::ERASED;
                erased = true;
            }
        }
        if erased {
            let _ = settings_store::write(core, &mut self.settings, FlashCtx::BOOT, Done::Nothing);
        }
        if p.backup_before_app_start {
            settings_store::backup(core, p, FlashCtx::BOOT, Done::Nothing);
        }
        self.stage = Stage::Jump;
    }
}
