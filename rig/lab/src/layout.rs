//! The lab directory: every file a lab keeps, and the configuration that outlives one lab
//! process (`lab.json`), so `rig lab up --dir DIR` carries on with the same DUTs.
//!
//! | File | What |
//! |---|---|
//! | lab.json | chip, speed, the DUTs, their power switch kind and what runs on each (`cpu`) |
//! | lab.lock | `flock`ed by the running lab |
//! | lab.pid | its process id |
//! | lab.sock | control socket (status, power, down), JSON lines |
//! | lab.log | the background lab's output |
//! | bench.yaml | the bench file describing every DUT |
//! | NAME.swd | the DUT's SWD socket ([`crate::protocol`]) |
//! | NAME.tty, NAME.ppk2 | symlinks to the UART and virtual PPK2 pseudo-terminals |
//! | NAME.state | the device's state bytes (flash, UICR, wear), as a power loss now would leave them |
//! | NAME.power | `on` or `off`: the lab's supply switch |
//!
//! A lab with DUTs on the air (`ble`) also runs a private dbus-daemon, in a temporary directory
//! of its own; its address is in bench.yaml (`ble.dbus`) and `rig lab status`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Longest socket path a `sockaddr_un` holds (Linux: 108 bytes with the NUL).
pub const SUN_PATH_MAX: usize = 107;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwitchKind {
    /// A virtual PPK2 on a pseudo-terminal.
    Ppk2,
    /// `rig lab power` as the bench's `command` switch.
    Command,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DutConfig {
    pub name: String,
    pub switch: SwitchKind,
    /// On the air: the lab's virtual BlueZ (a private dbus-daemon owning `org.bluez`) serves
    /// it to the rig's BLE backend (btleplug), besides its SWD, UART and power.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ble: bool,
    /// What runs on this DUT when it differs from the lab's `cpu` (`model` or `emulated`), so
    /// one lab serves a firmware-model DUT and an emulated one side by side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabConfig {
    pub version: u32,
    /// probe-rs target name: nRF52832_xxAA or nRF52832_xxAB.
    pub chip: String,
    pub speed: f64,
    /// Part revision of every DUT: `rev2` (APPROTECT from UICR only) or `rev3` (hardware
    /// APPROTECT: locked at every reset unless UICR and the firmware open it).
    #[serde(default = "default_revision")]
    pub revision: String,
    /// What runs on every DUT without a `cpu` of its own: `model` (the firmware models) or
    /// `emulated` (the emulated Cortex-M4F executes what is flashed).
    #[serde(default = "default_cpu")]
    pub cpu: String,
    pub duts: Vec<DutConfig>,
}

fn default_revision() -> String {
    "rev2".into()
}

fn default_cpu() -> String {
    "model".into()
}

impl LabConfig {
    /// `n` DUTs named dut-0 … dut-(n-1); even ones on a virtual PPK2, odd ones on the command
    /// switch, so a two-DUT lab exercises both of the rig's switch drivers.
    pub fn new(chip: &str, speed: f64, n: usize) -> LabConfig {
        LabConfig {
            version: 1,
            chip: chip.into(),
            speed,
            revision: default_revision(),
            cpu: default_cpu(),
            duts: (0..n)
                .map(|i| DutConfig {
                    name: format!("dut-{i}"),
                    switch: if i % 2 == 0 {
                        SwitchKind::Ppk2
                    } else {
                        SwitchKind::Command
                    },
                    ble: false,
                    cpu: None,
                })
                .collect(),
        }
    }

    /// What runs on `dut`: its own `cpu`, else the lab's.
    pub fn cpu_of<'a>(&'a self, dut: &'a DutConfig) -> &'a str {
        dut.cpu.as_deref().unwrap_or(&self.cpu)
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path} is {len} bytes long; a Unix socket path holds at most {SUN_PATH_MAX}: use a shorter --dir")]
    SocketPathTooLong { path: PathBuf, len: usize },
}

/// Paths inside a lab directory.
#[derive(Debug, Clone)]
pub struct LabDir {
    pub dir: PathBuf,
}

impl LabDir {
    /// `dir` made absolute (the bench file and the sockets must not depend on the cwd).
    pub fn new(dir: &Path) -> Result<LabDir, LayoutError> {
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|source| LayoutError::Io {
                    path: dir.into(),
                    source,
                })?
                .join(dir)
        };
        Ok(LabDir { dir })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn config(&self) -> PathBuf {
        self.file("lab.json")
    }
    pub fn lock(&self) -> PathBuf {
        self.file("lab.lock")
    }
    pub fn pid(&self) -> PathBuf {
        self.file("lab.pid")
    }
    pub fn control(&self) -> PathBuf {
        self.file("lab.sock")
    }
    pub fn log(&self) -> PathBuf {
        self.file("lab.log")
    }
    pub fn bench(&self) -> PathBuf {
        self.file("bench.yaml")
    }
    pub fn swd(&self, dut: &str) -> PathBuf {
        self.file(&format!("{dut}.swd"))
    }
    pub fn uart(&self, dut: &str) -> PathBuf {
        self.file(&format!("{dut}.tty"))
    }
    pub fn ppk2(&self, dut: &str) -> PathBuf {
        self.file(&format!("{dut}.ppk2"))
    }
    pub fn state(&self, dut: &str) -> PathBuf {
        self.file(&format!("{dut}.state"))
    }
    pub fn power(&self, dut: &str) -> PathBuf {
        self.file(&format!("{dut}.power"))
    }

    /// Every path a running lab creates and a stopped one removes (state files stay).
    pub fn runtime_files(&self, cfg: &LabConfig) -> Vec<PathBuf> {
        let mut v = vec![self.control(), self.pid()];
        for d in &cfg.duts {
            v.extend([self.swd(&d.name), self.uart(&d.name), self.ppk2(&d.name)]);
        }
        v
    }

    /// Refuse socket paths a `sockaddr_un` cannot hold, before anything is started.
    pub fn check_socket_paths(&self, cfg: &LabConfig) -> Result<(), LayoutError> {
        let mut socks = vec![self.control()];
        socks.extend(cfg.duts.iter().map(|d| self.swd(&d.name)));
        for p in socks {
            let len = p.as_os_str().len();
            if len > SUN_PATH_MAX {
                return Err(LayoutError::SocketPathTooLong { path: p, len });
            }
        }
        Ok(())
    }

    pub fn read_config(&self) -> Result<Option<LabConfig>, LayoutError> {
        let p = self.config();
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(LayoutError::Io { path: p, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LayoutError::Invalid {
                path: p,
                message: format!("{e} (remove the directory to start a new lab)"),
            })
    }

    pub fn write_config(&self, cfg: &LabConfig) -> Result<(), LayoutError> {
        let text = serde_json::to_string_pretty(cfg).unwrap_or_default() + "\n";
        write_atomic(&self.config(), text.as_bytes())
    }
}

/// Replace `path` whole: write a temporary file beside it, then rename. A process killed
/// midway leaves the old file or the new one, never half of one (no fsync: the lab guards
/// against its own death, not the machine's).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LayoutError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|source| LayoutError::Io {
            path: path.into(),
            source,
        })
}

/// Remove a file if it is there.
pub fn remove_if_present(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
