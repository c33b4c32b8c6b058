//! The virtual device `rig sim serve` runs: loaded from a state file, or a fresh chip flashed with
//! the stand-in MBR and a UART bootloader (no SoftDevice, as the SDK's `pca10040_uart` example).

use super::images::{self, TEST_KEY_PEM};
use super::state_file::{self, StateFileError};
use nrf_dfu::signing::{KeyError, PublicKey};
use nrf_dfu::{Chip, SdkVersion};
use std::path::{Path, PathBuf};
use virtual_nrf52::descriptor::{BootloaderDescriptor, MbrDescriptor, Transport};
use virtual_nrf52::{
    standin, DebugError, DebugPort, Device, ProgramOptions, SimTime, TimingProfile,
};

/// The device could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Key { what: String, source: KeyError },
    #[error("SDK {0} has no serial Secure DFU bootloader (serial DFU appeared with SDK 13/14)")]
    NoUartBootloader(&'static str),
    #[error("building the bootloader image: {0}")]
    Build(#[from] standin::BuildError),
    #[error("flashing the new device: {0}")]
    Flash(#[from] DebugError),
    #[error(transparent)]
    State(#[from] StateFileError),
}

/// The public key (`pk[64]`) of a PEM key file (private or public), or of the embedded test key.
pub fn public_key(key: Option<&Path>) -> Result<[u8; 64], SetupError> {
    let (what, text) = match key {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).map_err(|source| SetupError::KeyFile {
                path: p.into(),
                source,
            })?,
        ),
        None => (
            "firmware/keys/rig-test-private.pem (built in)".to_string(),
            TEST_KEY_PEM.to_string(),
        ),
    };
    PublicKey::from_pem(&text)
        .map(|k| k.to_pk64())
        .map_err(|source| SetupError::Key { what, source })
}

/// The UART bootloader a served device runs (also the fallback for a real bootloader image).
pub fn uart_bootloader(
    sdk: SdkVersion,
    public_key: [u8; 64],
) -> Result<BootloaderDescriptor, SetupError> {
    if sdk == SdkVersion::Sdk12 {
        return Err(SetupError::NoUartBootloader("12"));
    }
    Ok(images::bootloader_descriptor(
        sdk,
        Transport::Uart,
        public_key,
    ))
}

/// Where the device came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    StateFile,
    Fresh,
}

/// A device ready to serve at time 0: from `state` if that file exists, else a fresh chip with
/// the stand-in MBR and `bootloader` (booted: a fresh device enters DFU mode, having no app).
/// `bootloader` is also the fallback for a bootloader region without a stand-in descriptor.
pub fn prepare(
    state: Option<&Path>,
    bootloader: &BootloaderDescriptor,
    baud: u32,
    seed: u64,
) -> Result<(Device, Origin), SetupError> {
    let t0 = SimTime::ZERO;
    let (mut dev, origin) = match state.filter(|p| p.exists()) {
        Some(p) => (state_file::load_device(p)?, Origin::StateFile),
        None => (Device::new(Chip::Nrf52832Qfaa, seed), Origin::Fresh),
    };
    let mut timing = TimingProfile::typical();
    timing.uart.baud = baud;
    dev.set_timing(timing);
    dev.set_fallback_bootloader(Some(bootloader.clone()));
    match origin {
        Origin::StateFile => dev.power_on(t0),
        Origin::Fresh => {
            let mut segs = vec![(0, standin::mbr_image(&MbrDescriptor::SDK17))];
            segs.extend(images::bootloader_segments(bootloader)?);
            let mut dbg = dev.debug(t0);
            dbg.program(&segs, ProgramOptions::default())?;
            dbg.soft_reset()?;
        }
    }
    Ok((dev, origin))
}

/// A fresh `chip` as a BLE DUT leaves the factory line of a product on the SDK 17.1 BLE
/// bootloader: the stand-in S132 7.2.0 with its MBR and the 17.1 BLE bootloader trusting
/// `public_key`, booted (no application: it waits in DFU mode, advertising "DfuTarg").
pub fn ble_bootloader_device(
    chip: Chip,
    public_key: [u8; 64],
    seed: u64,
) -> Result<Device, SetupError> {
    let t0 = SimTime::ZERO;
    let mut dev = Device::new(chip, seed);
    dev.set_timing(TimingProfile::typical());
    let desc = images::bootloader_descriptor(SdkVersion::Sdk17, Transport::Ble, public_key);
    let mut segs = standin::softdevice_hex_segments(&virtual_nrf52::softdevice::S132_7_2_0);
    segs.extend(standin::bootloader_segments(
        &desc,
        chip,
        standin::DEFAULT_BOOTLOADER_SIZE,
    )?);
    let mut dbg = dev.debug(t0);
    dbg.program(&segs, ProgramOptions::default())?;
    dbg.soft_reset()?;
    Ok(dev)
}
