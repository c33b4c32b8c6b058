//! The runner's side of `rig lab up`: the devices a new lab starts with (blank chips, or the
//! stand-in MBR and UART bootloader `rig sim serve` uses) and the bench file that describes the
//! lab to the hardware backends.

use super::device_setup;
use nrf_dfu::{Chip, SdkVersion};
use rig_lab::layout::{LabConfig, LabDir, SwitchKind};
use std::path::Path;
use virtual_nrf52::{Device, PartRevision};

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
    /// The emulated Cortex-M4F runs what is flashed (`--cpu emulated`), on every device.
    pub emulated: bool,
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
    fn fresh(&self, _dut: &str, index: usize) -> Result<Device, String> {
        // Each DUT its own identity (FICR address and id), the same on every run.
        let seed = index as u64 + 1;
        if !self.uart_bootloader {
            return Ok(Device::new(self.chip, seed));
        }
        let pk = device_setup::public_key(None).map_err(|e| e.to_string())?;
        let bl = device_setup::uart_bootloader(SdkVersion::Sdk17, pk).map_err(|e| e.to_string())?;
        let (dev, _) =
            device_setup::prepare(None, &bl, 115_200, seed).map_err(|e| e.to_string())?;
        Ok(dev)
    }

    fn configure(&self, dev: &mut Device) {
        dev.set_part_revision(self.revision);
        dev.set_emulated_cpu(self.emulated);
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

/// DIR/bench.yaml: every DUT with its lab probe, serial port and power switch.
pub fn bench_yaml(dir: &LabDir, cfg: &LabConfig, rig: &Path) -> String {
    let mut y = format!(
        "# Written by `rig lab up` for the virtual lab in {d}; valid while it runs.\n\
         # probe: the DUT's SWD socket (probe-rs through the rig's lab probe driver)\n\
         # serial: its UART pseudo-terminal; power: a virtual PPK2 or `rig lab power`\n\
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
        y += &format!(
            "    serial: {{ port: {}, baud: 115200, flow_control: false }}\n",
            q(&dir.uart(n).display().to_string())
        );
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
        let cfg = LabConfig::new("nRF52832_xxAB", 1.0, 2);
        let text = bench_yaml(&dir, &cfg, Path::new("/usr/bin/rig"));
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
    }
}
