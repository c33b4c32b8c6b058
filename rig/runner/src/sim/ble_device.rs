//! The device `rig sim serve --ble` publishes: a fresh nRF52832 as a factory flashes a BLE DUT
//! (stand-in MBR and S132, a BLE Secure DFU bootloader trusting the given key, and the stand-in
//! sample application A with the unbonded buttonless service, its settings page marking it
//! valid), or with `no_app` the bootloader alone, which then waits in DFU mode.

use super::device_setup::SetupError;
use super::images;
use nrf_dfu::crc::crc32;
use nrf_dfu::settings::{Bank, BankCode, BootValidation, SettingsLayout, SettingsPage};
use nrf_dfu::{Chip, SdkVersion};
use std::time::Duration;
use virtual_nrf52::descriptor::Transport;
use virtual_nrf52::softdevice::{StandInSoftDevice, S132_3_0_0, S132_6_1_1, S132_7_2_0};
use virtual_nrf52::{standin, DebugPort, Device, ProgramOptions, SimTime};

const CHIP: Chip = Chip::Nrf52832Qfaa;
/// The stand-in sample application's size.
const APP_SIZE: u32 = 0x4000;
/// Boot time allowed before serving (the bootloader's boot checks and the app's start).
const SETTLE: Duration = Duration::from_secs(5);

/// The S132 the SDK's BLE examples use.
pub fn softdevice(sdk: SdkVersion) -> StandInSoftDevice {
    match sdk {
        SdkVersion::Sdk12 => S132_3_0_0,
        SdkVersion::Sdk16 | SdkVersion::Sdk17 => S132_7_2_0,
        _ => S132_6_1_1,
    }
}

/// A fresh BLE DUT, booted and settled.
pub fn fresh(
    sdk: SdkVersion,
    public_key: [u8; 64],
    seed: u64,
    no_app: bool,
) -> Result<Device, SetupError> {
    let sd = softdevice(sdk);
    let bank0 = sd.info.end_address;
    let bootloader = images::bootloader_descriptor(sdk, Transport::Ble, public_key);
    let mut segs = standin::softdevice_hex_segments(&sd);
    segs.extend(images::bootloader_segments(&bootloader)?);
    let mut settings = SettingsPage::defaults(SettingsLayout::for_sdk(sdk));
    if !no_app {
        let app = standin::app_image(&images::sample_app(1), CHIP, bank0, APP_SIZE)?;
        settings.app_version = 1;
        settings.bank_0 = Bank {
            image_size: app.len() as u32,
            image_crc: crc32(&app),
            bank_code: BankCode::ValidApp,
        };
        if let Some(v2) = settings.v2_mut() {
            v2.boot_validation_app = BootValidation::crc(&app);
        }
        segs.push((bank0, app));
    }
    settings.fix_crcs();
    let page = settings.encode();
    segs.push((CHIP.settings_address(), page.clone()));
    if sdk.has_settings_backup() {
        segs.push((CHIP.mbr_params_address(), page));
    }
    let mut dev = Device::new(CHIP, seed);
    {
        let mut port = dev.debug(SimTime::ZERO);
        port.program(&segs, ProgramOptions::default())?;
        port.soft_reset()?;
    }
    dev.settle(SETTLE);
    Ok(dev)
}
