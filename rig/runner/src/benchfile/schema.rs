//! The bench file: named DUTs with their chip, probe, BLE and serial links, power switch and
//! bootloader dialect. Values are checked while parsing, so every error has a line and column.
//!
//! ```yaml
//! duts:
//!   board-1:
//!     chip: nRF52832_xxAA
//!     bootloader: { sdk: "17.1", key: keys/bench-private.pem }
//!     probe: { selector: "1366:1015:000683000000", speed_khz: 4000 }
//!     # or a DUT of the virtual lab (`rig lab up` writes such a bench file):
//!     # probe: { lab: .rig/lab/dut-0.swd }
//!     ble: { adapter: hci0, address: "F1:22:33:44:55:66", name: DfuTarg }
//!     # a lab's virtual BlueZ instead of the host's: ble: { adapter: hci0, dbus: "unix:path=..." }
//!     serial: { port: /dev/ttyACM0, baud: 115200, flow_control: true }
//!     power: { kind: usb-port, hub: "1-1", port: 2 }
//! ```

use nrf_dfu::{Chip, SdkVersion};
use probe_rs::probe::DebugProbeSelector;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn chip<'de, D: Deserializer<'de>>(d: D) -> Result<Chip, D::Error> {
    let s = String::deserialize(d)?;
    match s.to_ascii_lowercase().as_str() {
        "nrf52832_xxaa" | "nrf52832-qfaa" | "qfaa" => Ok(Chip::Nrf52832Qfaa),
        "nrf52832_xxab" | "nrf52832-qfab" | "qfab" => Ok(Chip::Nrf52832Qfab),
        _ => Err(serde::de::Error::custom(format!(
            "unknown chip {s:?}: expected nRF52832_xxAA or nRF52832_xxAB"
        ))),
    }
}

fn sdk<'de, D: Deserializer<'de>>(d: D) -> Result<SdkVersion, D::Error> {
    // Accept 17.1 written as a number as well as a string.
    let v = serde_yaml::Value::deserialize(d)?;
    let s = match &v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => {
            return Err(serde::de::Error::custom(
                "bootloader sdk must be a version such as \"17.1\"",
            ))
        }
    };
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown nRF5 SDK version {s:?}: expected 12.x, 13, 14.x, 15.0, 15.2, 15.3, 16 or 17.x"
        ))
    })
}

fn default_chip() -> Chip {
    Chip::Nrf52832Qfaa
}

/// The whole bench.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchFile {
    /// Set by `rig lab up`: the lab directory this file describes. A campaign on it records the
    /// bench kind `lab` (the hardware path, against virtual devices) instead of `hardware`.
    #[serde(default)]
    pub lab: Option<std::path::PathBuf>,
    pub duts: BTreeMap<String, Dut>,
}

/// One device under test and everything wired to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dut {
    #[serde(deserialize_with = "chip", default = "default_chip")]
    pub chip: Chip,
    /// A virtual nRF52832 instead of hardware (its state lives in the virtual directory).
    #[serde(default, rename = "virtual")]
    pub is_virtual: bool,
    #[serde(default)]
    pub bootloader: Option<Bootloader>,
    #[serde(default)]
    pub probe: Option<ProbeConfig>,
    #[serde(default)]
    pub ble: Option<BleConfig>,
    #[serde(default)]
    pub serial: Option<SerialConfig>,
    #[serde(default)]
    pub power: Option<PowerConfig>,
}

/// Which bootloader the DUT runs (its dialect) and the key it trusts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootloader {
    #[serde(deserialize_with = "sdk")]
    pub sdk: SdkVersion,
    /// Private key that signs packages for this DUT (PEM).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The `sdk_config.h` options the bootloader is built with, by their SDK names
    /// (`NRF_DFU_SAVE_PROGRESS_IN_FLASH: 1`); absent ones have the SDK's default. A virtual DUT
    /// builds its stand-in bootloaders with them; for a lab DUT they say how its bootloader was
    /// built, so the oracle expects what that build does.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    /// `VID:PID[:SERIAL]`, parsed by probe-rs' own selector parser.
    #[serde(default)]
    pub selector: Option<DebugProbeSelector>,
    /// A virtual lab DUT's SWD socket instead of a USB probe (`rig lab up`).
    #[serde(default)]
    pub lab: Option<PathBuf>,
    #[serde(default)]
    pub speed_khz: Option<u32>,
    /// Per-call time bound, ms.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BleConfig {
    /// BlueZ adapter (`hci0`); the first one when absent.
    #[serde(default)]
    pub adapter: Option<String>,
    /// The application's address; the unbonded bootloader advertises at address + 1.
    #[serde(default)]
    pub address: Option<String>,
    /// Advertised name (the bootloader's default is "DfuTarg").
    #[serde(default)]
    pub name: Option<String>,
    /// Bytes per Packet write, at most: the rig never writes more than the negotiated ATT MTU
    /// carries (MTU − 3), which btleplug reads from BlueZ (5.62+ exposes it; older BlueZ shows
    /// none, and the rig then writes 20-byte packets whatever this says).
    #[serde(default)]
    pub packet_size: Option<usize>,
    /// The app uses the bonded buttonless service (bootloader keeps the address).
    #[serde(default)]
    pub bonded: bool,
    /// D-Bus address of the system bus BlueZ is on (`unix:path=...`), e.g. a lab's virtual
    /// BlueZ. The rig sets `DBUS_SYSTEM_BUS_ADDRESS` to it before opening any D-Bus
    /// connection; absent, the environment's `DBUS_SYSTEM_BUS_ADDRESS` or the standard system
    /// bus is used.
    #[serde(default)]
    pub dbus: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialConfig {
    pub port: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_true")]
    pub flow_control: bool,
    /// Ping at connect (UART yes, USB CDC no, as nrfutil).
    #[serde(default = "default_true")]
    pub ping: bool,
}

impl SerialConfig {
    /// The port to open for this DUT's bootloader.
    pub fn port_settings(&self) -> crate::drivers::serial::PortSettings {
        crate::drivers::serial::PortSettings {
            path: self.port.clone(),
            baud: self.baud,
            flow_control: self.flow_control,
        }
    }
}

fn default_baud() -> u32 {
    115_200
}

fn default_true() -> bool {
    true
}

fn default_command_timeout() -> u64 {
    10_000
}

fn default_ppk2_mv() -> u32 {
    3000
}

/// How the DUT's supply is switched.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PowerConfig {
    /// The virtual device's own supply.
    Virtual,
    /// No switch: resets through the probe (does not cut power).
    ProbeReset,
    /// Shell commands (uhubctl, ykushcmd, relay tools).
    Command {
        on: String,
        off: String,
        #[serde(default = "default_command_timeout")]
        timeout_ms: u64,
        #[serde(default = "default_true")]
        cuts_power: bool,
    },
    /// Linux sysfs `.../<hub>-port<N>/disable` (and its USB 3 companion port).
    UsbPort {
        hub: String,
        port: u32,
        /// Only hubs with per-port power switching remove VBUS; a ganged hub (most cheap
        /// ones, `lsusb -v`: "Ganged power switching") only disconnects data, and a campaign
        /// would record power cuts that never happened. So false unless the bench file says.
        #[serde(default)]
        cuts_power: bool,
    },
    /// Nordic PPK2 supplying (source mode) or passing through (ampere mode) the DUT's power.
    Ppk2 {
        port: String,
        #[serde(default = "default_ppk2_mv")]
        millivolts: u32,
        #[serde(default)]
        ampere_mode: bool,
    },
}
