//! Virtual DUTs on disk: each keeps its device in `<dir>/<dut>.state` (virtual_nrf52's state
//! file: flash, UICR, wear, identity), so separate `rig` commands see one device. The state of
//! the bench's power switch is kept beside it (`<dut>.power-off` exists while it is off). A DUT
//! without a state file is a blank chip. RAM and GPREGRET do not survive between commands (the
//! state file holds what survives power loss), so each command starts from a fresh boot.
//!
//! Time: the device is a timed model. Each command restarts its clock at 0 (the state file holds
//! no time: `Device::now()` after load), powers it on and lets it [`settle`]: the boot's own
//! flash work (MBR address slots, settings, activation) completes, as it does on a real board in
//! the milliseconds before anyone touches it. The device settles again before it is saved, so
//! work a command started is not lost with the RAM, and is never torn by the next command's
//! power cut at the same instant.

use crate::drivers::shared::{share, SharedDevice};
use crate::sim::state_file::{self, StateFileError};
use nrf_dfu::crc::crc32;
use nrf_dfu::Chip;
use std::path::{Path, PathBuf};
use std::time::Duration;
use virtual_nrf52::{Device, SimTime};

/// How long a virtual device may run by itself to finish boot, activation and queued flash
/// work ([`settle`]). Far above any boot (an SD + bootloader activation takes seconds).
pub const SETTLE_LIMIT: Duration = Duration::from_secs(120);

/// Let the device run until only its inactivity timer (if any) is pending: the state a real
/// board is in by the time the next command touches it. Returns the time reached.
pub fn settle(device: &mut Device) -> SimTime {
    let limit = device.now() + SETTLE_LIMIT;
    device.settle(limit)
}

/// Default directory, relative to the current directory.
pub const DEFAULT_VIRTUAL_DIR: &str = ".rig/virtual";

/// Something went wrong with a virtual DUT's files.
#[derive(Debug, thiserror::Error)]
pub enum VirtualError {
    #[error(transparent)]
    State(#[from] StateFileError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds a {found}, but the bench says {dut} is a {want}; remove the file to start over")]
    ChipMismatch {
        path: PathBuf,
        dut: String,
        found: Chip,
        want: Chip,
    },
    #[error("DUT name {0:?} cannot be a file name")]
    BadName(String),
}

/// A virtual DUT loaded from its directory.
pub struct VirtualDut {
    pub name: String,
    pub device: SharedDevice,
    state_path: PathBuf,
    off_marker: PathBuf,
}

/// The identity seed of a DUT: fixed by its name, so `virtual-0` has the same FICR (and BLE
/// address) on every machine.
pub fn identity_seed(name: &str) -> u64 {
    0x5249_4700_0000_0000 | crc32(name.as_bytes()) as u64
}

impl VirtualDut {
    pub fn load(dir: &Path, name: &str, chip: Chip) -> Result<VirtualDut, VirtualError> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(VirtualError::BadName(name.to_string()));
        }
        let state_path = dir.join(format!("{name}.state"));
        let off_marker = dir.join(format!("{name}.power-off"));
        let mut device = if state_path.exists() {
            let d = state_file::load_device(&state_path)?;
            if d.chip() != chip {
                return Err(VirtualError::ChipMismatch {
                    path: state_path,
                    dut: name.to_string(),
                    found: d.chip(),
                    want: chip,
                });
            }
            d
        } else {
            Device::new(chip, identity_seed(name))
        };
        if !off_marker.exists() {
            // Booting a blank chip cannot fail; a broken image only leaves it silent.
            let t = device.now();
            device.power_on(t);
            settle(&mut device);
        }
        Ok(VirtualDut {
            name: name.to_string(),
            device: share(device),
            state_path,
            off_marker,
        })
    }

    /// Write the device and the switch state back.
    pub fn save(&self) -> Result<(), VirtualError> {
        let dir = self.state_path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| VirtualError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut dev = self.device.borrow_mut();
        settle(&mut dev);
        state_file::save(&self.state_path, dev.hardware())?;
        let io = |source| VirtualError::Io {
            path: self.off_marker.clone(),
            source,
        };
        if dev.is_powered() {
            match std::fs::remove_file(&self.off_marker) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
        } else {
            std::fs::write(&self.off_marker, b"off\n").map_err(io)?;
        }
        Ok(())
    }

    pub fn state_path(&self) -> &Path {
        &self.state_path
    }
}
