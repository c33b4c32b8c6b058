//! The running application, as far as the device model goes: which stand-in it is (its
//! descriptor), and what it can do to the chip that the bootloader cares about: set GPREGRET,
//! reset, ask for DFU mode the way its buttonless service does (SDK 17.1
//! `components/ble/ble_services/ble_dfu/ble_dfu_unbonded.c` / `ble_dfu_bonded.c`), and set the
//! bootloader's advertising name through the settings page. The application's BLE behaviour
//! (advertising, buttonless characteristic) belongs to the BLE surface.

pub mod info_block;

use crate::core::{Core, FlashCtx};
use crate::descriptor::{AppDescriptor, Kind, DESCRIPTOR_OFFSET};
use crate::events::{FirmwareReset, SimTime};
use crate::flash_queue::Done;
use crate::nvmc::FlashOp;
use crate::status::{AppStatus, SilentReason, Status};
use crate::Device;
use nrf_dfu::settings::{AdvName, PeerData, SettingsLayout, SettingsPage};
use nrf_dfu::SdkVersion;

/// The application the MBR/SoftDevice started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct App {
    pub address: u32,
    pub descriptor: Option<AppDescriptor>,
}

impl App {
    pub fn at(core: &Core, address: u32) -> App {
        let at = address + DESCRIPTOR_OFFSET;
        let bytes = core.read(at, crate::descriptor::framed_len(64) as u32);
        let descriptor = crate::descriptor::has_magic(Kind::App, bytes)
            .then(|| AppDescriptor::decode(bytes).ok())
            .flatten();
        App {
            address,
            descriptor,
        }
    }

    pub fn status(&self, core: &Core) -> Status {
        match &self.descriptor {
            Some(d) => Status::App(AppStatus {
                name: d.name.clone(),
                version: d.version,
                buttonless: d.buttonless,
                ble_address: core.hw.ficr().ble_address(),
            }),
            None => Status::Silent,
        }
    }

    pub fn silent_reason(&self) -> Option<SilentReason> {
        self.descriptor
            .is_none()
            .then_some(SilentReason::UnknownApplication)
    }
}

/// Why an application request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("no application is running")]
    NotRunning,
    #[error("the bootloader settings page holds no valid settings to update")]
    NoSettings,
    #[error("advertising name must be 1..=20 bytes, is {0}")]
    BadName(usize),
    #[error(
        "NRF_ERROR_INVALID_STATE (8): the advertising name area of the settings page is not erased"
    )]
    InvalidState,
    #[error("the installed bootloader takes no advertising name from the application")]
    NotSupported,
}

impl Device {
    fn app_running(&self) -> Result<(), AppError> {
        match (&self.run, self.is_halted()) {
            (crate::virtual_device::Run::App(_), false) => Ok(()),
            _ => Err(AppError::NotRunning),
        }
    }

    /// The application writes GPREGRET (e.g. 0xB1 before resetting into DFU mode, or a stray
    /// value that the 15.3/16 enter rule misreads: `dfu_enter_check` in their `nrf_bootloader.c`).
    pub fn app_write_gpregret(&mut self, t: SimTime, value: u8) -> Result<(), AppError> {
        self.advance_to(t);
        self.app_running()?;
        self.core.hw.power_mut().set_gpregret(value as u32);
        Ok(())
    }

    /// `NVIC_SystemReset()` from the application.
    pub fn app_soft_reset(&mut self, t: SimTime) -> Result<(), AppError> {
        self.advance_to(t);
        self.app_running()?;
        self.firmware_reset(FirmwareReset::Application);
        Ok(())
    }

    /// What the stand-in's buttonless service does on `01` once the indication is confirmed:
    /// GPREGRET = 0xB1 and a reset (14+); SDK 12's experimental service instead sets
    /// `enter_buttonless_dfu` in the settings page and resets when that write is done. Returns
    /// when the reset happens.
    pub fn app_enter_bootloader(&mut self, t: SimTime) -> Result<SimTime, AppError> {
        self.advance_to(t);
        self.app_running()?;
        let sdk = self.installed_bootloader_sdk();
        if sdk == Some(SdkVersion::Sdk12) {
            let mut s = self
                .flash_settings(SettingsLayout::Sdk12)
                .ok_or(AppError::NoSettings)?;
            s.enter_buttonless_dfu = 1;
            return Ok(self.app_write_settings(&mut s, Done::Reset(FirmwareReset::Application)));
        }
        self.core.hw.power_mut().set_gpregret(0xB1);
        self.firmware_reset(FirmwareReset::Application);
        Ok(self.core.now)
    }

    /// The buttonless "set advertising name" (unbonded, 15+): the name goes into the settings
    /// page's adv_name area through the bootloader's SVC, which only writes an erased area.
    /// Returns when the flash write completes (when the success indication goes out).
    pub fn app_set_adv_name(&mut self, t: SimTime, name: &[u8]) -> Result<SimTime, AppError> {
        self.advance_to(t);
        self.app_running()?;
        if name.is_empty() || name.len() > 20 {
            return Err(AppError::BadName(name.len()));
        }
        let layout = match self.installed_bootloader_sdk() {
            Some(sdk) if sdk >= SdkVersion::Sdk15_0 => SettingsLayout::for_sdk(sdk),
            _ => return Err(AppError::NotSupported),
        };
        let off = layout.adv_name_offset().ok_or(AppError::NotSupported)?;
        let (main, _) = crate::bootloader::settings_store::pages(self.core.hw.chip());
        let area = self.core.read(main + off as u32, 28);
        if area.iter().any(|&b| b != 0xFF) {
            return Err(AppError::InvalidState);
        }
        let adv = AdvName::new(name);
        let op = FlashOp::write_bytes(main + off as u32, &adv.to_bytes())
            .map_err(|_| AppError::NotSupported)?;
        Ok(self
            .core
            .flash(op, FlashCtx::BOOT, Done::Nothing)
            .unwrap_or(self.core.now))
    }

    /// The bonded buttonless service hands the bond to the bootloader (SDK 17.1
    /// `ble_dfu_bonded.c` `enter_bootloader` → `nrf_dfu_set_peer_data`): the peer data goes
    /// into the settings page's `peer_data` area with its CRC (`nrf_dfu_settings_svci.c`), which
    /// the SVC only writes while the area is erased (else `NRF_ERROR_INVALID_STATE`). Returns
    /// when the flash write completes (the SoftDevice's system event, on which
    /// `ble_dfu_buttonless_on_sys_evt` sends the success indication).
    pub fn app_set_peer_data(&mut self, t: SimTime, peer: &PeerData) -> Result<SimTime, AppError> {
        self.advance_to(t);
        self.app_running()?;
        let layout = match self.installed_bootloader_sdk() {
            Some(sdk) if sdk >= SdkVersion::Sdk14 => SettingsLayout::for_sdk(sdk),
            _ => return Err(AppError::NotSupported),
        };
        let off = layout.peer_data_offset().ok_or(AppError::NotSupported)?;
        let (main, _) = crate::bootloader::settings_store::pages(self.core.hw.chip());
        let area = self.core.read(main + off as u32, peer.0.len() as u32);
        if area.iter().any(|&b| b != 0xFF) {
            return Err(AppError::InvalidState);
        }
        let mut p = *peer;
        p.set_crc(p.compute_crc());
        let op =
            FlashOp::write_bytes(main + off as u32, &p.0).map_err(|_| AppError::NotSupported)?;
        Ok(self
            .core
            .flash(op, FlashCtx::BOOT, Done::Nothing)
            .unwrap_or(self.core.now))
    }

    fn installed_bootloader_sdk(&self) -> Option<SdkVersion> {
        self.core
            .hw
            .installed()
            .bootloader_descriptor()
            .map(|d| d.profile)
            .or(self.fallback.as_ref().map(|d| d.profile))
    }

    fn flash_settings(&self, layout: SettingsLayout) -> Option<SettingsPage> {
        let (main, _) = crate::bootloader::settings_store::pages(self.core.hw.chip());
        let bytes = self.core.read(main, layout.size() as u32);
        nrf_dfu::settings::crc_ok(bytes)
            .then(|| SettingsPage::decode(bytes, layout).ok())
            .flatten()
    }

    fn app_write_settings(&mut self, s: &mut SettingsPage, done: Done) -> SimTime {
        s.fix_settings_crcs();
        let bytes = s.encode();
        let (main, _) = crate::bootloader::settings_store::pages(self.core.hw.chip());
        let _ = self.core.flash(
            FlashOp::ErasePage { addr: main },
            FlashCtx::BOOT,
            Done::Nothing,
        );
        match FlashOp::write_bytes(main, &bytes) {
            Ok(op) => self
                .core
                .flash(op, FlashCtx::BOOT, done)
                .unwrap_or(self.core.now),
            Err(_) => self.core.now,
        }
    }
}
