//! Device state files on disk: the runner persists virtual devices (`.rig/virtual/<dut>.state`,
//! `rig sim serve --state`, `rig sim inspect`), so the file reading and writing lives here. The
//! format and its checks are the device crate's ([`Hardware::to_state_bytes`] and
//! [`Hardware::from_state_bytes`]); virtual-nrf52 itself does no I/O. The lab keeps its own
//! files the same way (rig/lab/src/persist.rs).

use std::path::{Path, PathBuf};
use virtual_nrf52::{Device, Hardware, StateError};

/// A state file on disk could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Format { path: PathBuf, source: StateError },
}

/// Write a device's state file (the whole file replaced).
pub fn save(path: &Path, hardware: &Hardware) -> Result<(), StateFileError> {
    std::fs::write(path, hardware.to_state_bytes()).map_err(|source| StateFileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The (unpowered) hardware a state file holds.
pub fn load_hardware(path: &Path) -> Result<Hardware, StateFileError> {
    let bytes = std::fs::read(path).map_err(|source| StateFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Hardware::from_state_bytes(&bytes).map_err(|source| StateFileError::Format {
        path: path.to_path_buf(),
        source,
    })
}

/// The (unpowered) device a state file holds, its identity seed the file's.
pub fn load_device(path: &Path) -> Result<Device, StateFileError> {
    let hw = load_hardware(path)?;
    let seed = hw.identity_seed();
    Ok(Device::from_hardware(hw, seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::Chip;
    use virtual_nrf52::{DebugPort, ProgramOptions};

    #[test]
    fn files_round_trip_and_name_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dut0.state");
        let mut d = Hardware::new(Chip::Nrf52832Qfaa, 0xDEAD_BEEF);
        d.power_on().unwrap();
        d.program(
            &[(0x1000_1014, 0x78000u32.to_le_bytes().to_vec())],
            ProgramOptions::default(),
        )
        .unwrap();
        save(&path, &d).unwrap();
        assert_eq!(load_hardware(&path).unwrap().memory(), d.memory());
        assert_eq!(load_device(&path).unwrap().hardware().memory(), d.memory());
        let missing = dir.path().join("nope.state");
        let e = load_hardware(&missing).unwrap_err();
        assert!(matches!(e, StateFileError::Io { .. }));
        assert!(e.to_string().contains("nope.state"), "{e}");
        std::fs::write(&path, b"garbage").unwrap();
        let e = load_hardware(&path).unwrap_err();
        assert!(matches!(
            e,
            StateFileError::Format {
                source: StateError::BadMagic { .. },
                ..
            }
        ));
        assert!(e.to_string().contains("dut0.state"));
    }
}
