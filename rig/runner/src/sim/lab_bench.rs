//! The runner's side of `rig lab up`: the devices a new lab starts with (blank chips, or the
//! stand-in MBR and UART bootloader `rig sim serve` uses) and the bench file that describes the
//! lab to the hardware backends.

use super::device_setup;
use nrf_dfu::{Chip, SdkVersion};
use rig_lab::layout::{LabConfig, LabDir, SwitchKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use virtual_nrf52::{DebugPort, Device, PartRevision, ProgramOptions, Segment};

/// The chip named as probe-rs names it.
pub fn chip(name: &str) -> anyhow::Result<Chip> {
    match name {
        "nRF52832_xxAA" => Ok(Chip::Nrf52832Qfaa),
        "nRF52832_xxAB" => Ok(Chip::Nrf52832Qfab),
        _ => anyhow::bail!("unknown chip {name:?}: expected nRF52832_xxAA or nRF52832_xxAB"),
    }
}

/// Fresh lab DUTs.
pub struct Factory {
    pub chip: Chip,
    /// Start with MBR + SDK 17.1 UART bootloader instead of an erased chip.
    pub uart_bootloader: bool,
    /// Set on every device, fresh or loaded (the state file does not keep it).
    pub revision: PartRevision,
    /// The DUTs whose emulated Cortex-M4F runs what is flashed (`--cpu emulated`, or
    /// `--cpu NAME=emulated`); the others run the firmware models.
    pub emulated: BTreeSet<String>,
    /// Images preloaded into a fresh DUT's flash and UICR (`--firmware`), by DUT name.
    pub firmware: BTreeMap<String, Vec<Segment>>,
}

/// What runs on a lab DUT (`--cpu`, lab.json `cpu`).
pub const CPU_KINDS: [&str; 2] = ["model", "emulated"];

/// `--cpu KIND|NAME=KIND[,...]`: a bare KIND for every DUT, NAME=KIND for one (it wins). Each
/// DUT's choice, in `duts`' order.
pub fn parse_cpu(
    values: &[String],
    duts: &[String],
    default: impl Fn(&str) -> String,
) -> anyhow::Result<Vec<String>> {
    let kind = |v: &str, k: &str| -> anyhow::Result<String> {
        if CPU_KINDS.contains(&k) {
            Ok(k.to_string())
        } else {
            anyhow::bail!(
                "--cpu {v}: unknown CPU {k:?} (expected model or emulated, for every DUT or as \
                 NAME=KIND for one, e.g. --cpu dut-1=emulated)"
            )
        }
    };
    let mut all = None;
    let mut one: BTreeMap<&str, String> = BTreeMap::new();
    for v in values {
        match v.split_once('=') {
            Some((n, k)) => {
                if !duts.iter().any(|d| d == n) {
                    anyhow::bail!(
                        "--cpu {v}: no DUT named {n:?} in this lab (it has: {})",
                        duts.join(", ")
                    );
                }
                one.insert(n, kind(v, k)?);
            }
            None => all = Some(kind(v, v)?),
        }
    }
    Ok(duts
        .iter()
        .map(|d| {
            one.get(d.as_str())
                .cloned()
                .or_else(|| all.clone())
                .unwrap_or_else(|| default(d))
        })
        .collect())
}

/// `rev2` or `rev3`.
pub fn revision(name: &str) -> anyhow::Result<PartRevision> {
    match name {
        "rev2" => Ok(PartRevision::Rev2),
        "rev3" => Ok(PartRevision::Rev3),
        _ => anyhow::bail!("unknown part revision {name:?}: expected rev2 or rev3"),
    }
}

impl rig_lab::DeviceFactory for Factory {
    fn fresh(&self, dut: &str, index: usize) -> Result<Device, String> {
        // Each DUT its own identity (FICR address and id), the same on every run.
        let seed = index as u64 + 1;
        if let Some(segs) = self.firmware.get(dut) {
            // As `rig flash` of the files and a power-up: the chip first starts with them.
            let mut dev = Device::new(self.chip, seed);
            dev.program(segs, ProgramOptions::default())
                .map_err(|e| format!("{dut}: preloading --firmware: {e}"))?;
            let t = dev.now();
            dev.power_off(t);
            return Ok(dev);
        }
        if !self.uart_bootloader {
            return Ok(Device::new(self.chip, seed));
        }
        let pk = device_setup::public_key(None).map_err(|e| e.to_string())?;
        let bl = device_setup::uart_bootloader(SdkVersion::Sdk17, pk).map_err(|e| e.to_string())?;
        let (dev, _) =
            device_setup::prepare(None, &bl, 115_200, seed).map_err(|e| e.to_string())?;
        Ok(dev)
    }

    fn fresh_on_air(&self, dut: &str, index: usize) -> Result<Device, String> {
        if !self.uart_bootloader {
            return self.fresh(dut, index);
        }
        // A DUT on the air gets the BLE bootloader (and its SoftDevice) instead.
        let pk = device_setup::public_key(None).map_err(|e| e.to_string())?;
        device_setup::ble_bootloader_device(self.chip, pk, index as u64 + 1)
            .map_err(|e| e.to_string())
    }

    fn configure(&self, dut: &str, dev: &mut Device) {
        dev.set_part_revision(self.revision);
        dev.set_emulated_cpu(self.emulated.contains(dut));
    }
}

fn q(s: &str) -> String {
    // A JSON string is a YAML double-quoted scalar.
    serde_json::to_string(s).unwrap_or_default()
}

fn sh(p: &Path) -> String {
    let s = p.display().to_string();
    shlex::try_quote(&s).map(|c| c.into_owned()).unwrap_or(s)
}

/// What the bench file says of the lab's radio: its virtual BlueZ's D-Bus address and each
/// DUT on the air's application address (`rig lab up` reads them from the started lab).
#[derive(Debug, Clone, Default)]
pub struct Air {
    pub dbus: Option<String>,
    /// DUT name → application address (MSB first).
    pub addresses: std::collections::BTreeMap<String, String>,
}

/// DIR/bench.yaml: every DUT with its lab probe, its link (the UART pseudo-terminal, or for a
/// DUT on the air the lab's virtual BlueZ) and power switch.
pub fn bench_yaml(dir: &LabDir, cfg: &LabConfig, rig: &Path, air: &Air) -> String {
    let mut y = format!(
        "# Written by `rig lab up` for the virtual lab in {d}; valid while it runs.\n\
         # probe: the DUT's SWD socket (probe-rs through the rig's lab probe driver)\n\
         # serial: its UART pseudo-terminal; ble: the lab's virtual BlueZ (its own D-Bus)\n\
         # power: a virtual PPK2 or `rig lab power`\n\
         lab: {q}\n\
         duts:\n",
        d = dir.dir.display(),
        q = q(&dir.dir.display().to_string())
    );
    for c in &cfg.duts {
        let n = &c.name;
        y += &format!("  {n}:\n    chip: {}\n", cfg.chip);
        y += &format!(
            "    probe: {{ lab: {}, speed_khz: 1000 }}\n",
            q(&dir.swd(n).display().to_string())
        );
        if c.ble {
            // No `serial`: the rig would take the UART for DFU; this DUT updates over BLE.
            y += &format!(
                "    ble: {{ adapter: hci0, dbus: {}",
                q(air.dbus.as_deref().unwrap_or_default())
            );
            if let Some(a) = air.addresses.get(n) {
                y += &format!(", address: {}", q(a));
            }
            y += " }\n";
        } else {
            y += &format!(
                "    serial: {{ port: {}, baud: 115200, flow_control: false }}\n",
                q(&dir.uart(n).display().to_string())
            );
        }
        y += &match c.switch {
            SwitchKind::Ppk2 => format!(
                "    power: {{ kind: ppk2, port: {}, millivolts: 3000 }}\n",
                q(&dir.ppk2(n).display().to_string())
            ),
            SwitchKind::Command => {
                let cmd = |a: &str| format!("{} lab power --dir {} {n} {a}", sh(rig), sh(&dir.dir));
                format!(
                    "    power: {{ kind: command, on: {}, off: {}, cuts_power: true }}\n",
                    q(&cmd("on")),
                    q(&cmd("off"))
                )
            }
        };
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_file_parses_with_a_lab_probe_and_both_switch_kinds() {
        let dir = LabDir::new(Path::new("/tmp/a lab")).unwrap();
        let mut cfg = LabConfig::new("nRF52832_xxAB", 1.0, 3);
        cfg.duts[2].ble = true;
        let air = Air {
            dbus: Some("unix:path=/tmp/x/bus".into()),
            addresses: [("dut-2".to_string(), "C1:02:03:04:05:06".to_string())].into(),
        };
        let text = bench_yaml(&dir, &cfg, Path::new("/usr/bin/rig"), &air);
        let b = crate::benchfile::parse(Path::new("bench.yaml"), &text).unwrap();
        // Marked as a lab's: campaigns on it record the bench kind `lab`.
        assert_eq!(b.lab.as_deref(), Some(Path::new("/tmp/a lab")));
        let d0 = &b.duts["dut-0"];
        assert_eq!(d0.chip, Chip::Nrf52832Qfab);
        let p = d0.probe.as_ref().unwrap();
        assert_eq!(p.lab.as_deref(), Some(Path::new("/tmp/a lab/dut-0.swd")));
        assert!(p.selector.is_none());
        assert_eq!(d0.serial.as_ref().unwrap().port, "/tmp/a lab/dut-0.tty");
        assert!(matches!(
            &d0.power,
            Some(crate::benchfile::PowerConfig::Ppk2 { port, millivolts: 3000, .. }) if port == "/tmp/a lab/dut-0.ppk2"
        ));
        match &b.duts["dut-1"].power {
            Some(crate::benchfile::PowerConfig::Command { on, off, .. }) => {
                assert_eq!(on, "/usr/bin/rig lab power --dir '/tmp/a lab' dut-1 on");
                assert!(off.ends_with("dut-1 off"));
            }
            other => panic!("{other:?}"),
        }
        // On the air: the lab's virtual BlueZ, no serial port (it would win over BLE).
        let d2 = &b.duts["dut-2"];
        let ble = d2.ble.as_ref().expect("ble");
        assert_eq!(ble.adapter.as_deref(), Some("hci0"));
        assert_eq!(ble.dbus.as_deref(), Some("unix:path=/tmp/x/bus"));
        assert_eq!(ble.address.as_deref(), Some("C1:02:03:04:05:06"));
        assert!(d2.serial.is_none());
        assert!(b.duts["dut-0"].ble.is_none());
    }
}
