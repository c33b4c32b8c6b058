//! Opening a DUT's backends from its bench-file entry.

use super::schema::{Dut, PowerConfig};
use super::virtual_bench::VirtualDut;
use crate::drivers::power::command::CommandSwitch;
use crate::drivers::power::ppk2::{Ppk2Mode, Ppk2Switch};
use crate::drivers::power::probe_reset::{ProbeReset, SharedProbe};
use crate::drivers::power::usb_port::{UsbPortSwitch, SYSFS_USB_DEVICES};
use crate::drivers::power::virtual_switch::VirtualSwitch;
use crate::drivers::power::{PowerError, PowerSwitch};
use crate::drivers::probe::{Probe, ProbeError};
use crate::drivers::probe_rs::lab_probe::LabProbe;
use crate::drivers::probe_rs::{ProbeRsConfig, ProbeRsProbe};
use crate::drivers::virtual_probe::VirtualProbe;
use std::path::Path;
use std::time::Duration;

/// Any of the rig's power switches (the trait's async methods are not object safe).
pub enum AnySwitch {
    Virtual(VirtualSwitch),
    ProbeReset(ProbeReset),
    Command(CommandSwitch),
    UsbPort(UsbPortSwitch),
    Ppk2(Ppk2Switch),
}

macro_rules! each {
    ($s:expr, $v:ident => $e:expr) => {
        match $s {
            AnySwitch::Virtual($v) => $e,
            AnySwitch::ProbeReset($v) => $e,
            AnySwitch::Command($v) => $e,
            AnySwitch::UsbPort($v) => $e,
            AnySwitch::Ppk2($v) => $e,
        }
    };
}

impl PowerSwitch for AnySwitch {
    fn describe(&self) -> String {
        each!(self, s => s.describe())
    }
    fn cuts_power(&self) -> bool {
        each!(self, s => s.cuts_power())
    }
    async fn on(&mut self) -> Result<(), PowerError> {
        each!(self, s => s.on().await)
    }
    async fn off(&mut self) -> Result<(), PowerError> {
        each!(self, s => s.off().await)
    }
    async fn cycle(&mut self, off_time: Duration) -> Result<(), PowerError> {
        each!(self, s => s.cycle(off_time).await)
    }
}

/// The DUT's probe.
pub fn probe(
    dut: &Dut,
    virt: Option<&VirtualDut>,
    allow_erase_all: bool,
) -> Result<Box<dyn Probe>, ProbeError> {
    if let Some(v) = virt {
        return Ok(Box::new(VirtualProbe::new(
            v.name.clone(),
            v.device.clone(),
            allow_erase_all,
        )));
    }
    probe_rs(dut, allow_erase_all, allow_erase_all)
}

/// A campaign's probe: explicit erase steps may erase; an attach never recovers (erases) a
/// locked chip, it reports it (issue 12, finding 7).
pub fn campaign_probe(dut: &Dut, virt: Option<&VirtualDut>) -> Result<Box<dyn Probe>, ProbeError> {
    if let Some(v) = virt {
        return Ok(Box::new(VirtualProbe::for_campaign(
            v.name.clone(),
            v.device.clone(),
        )));
    }
    probe_rs(dut, true, false)
}

/// probe-rs on a USB probe (`selector`) or on a lab DUT (`lab`: its SWD socket).
fn probe_rs(
    dut: &Dut,
    allow_erase_all: bool,
    recover_locked: bool,
) -> Result<Box<dyn Probe>, ProbeError> {
    let p = dut.probe.as_ref();
    let lab = p.and_then(|p| p.lab.clone());
    if lab.is_some() && p.is_some_and(|p| p.selector.is_some()) {
        return Err(ProbeError::infra(
            crate::drivers::probe::ProbeErrorKind::Config,
            "probe: give either `selector` (a USB probe) or `lab` (a virtual lab DUT), not both",
        ));
    }
    let mut cfg = ProbeRsConfig::new(
        match &lab {
            Some(path) => Some(format!("lab {}", path.display())),
            None => p.and_then(|p| p.selector.as_ref()).map(|s| s.to_string()),
        },
        dut.chip,
    );
    cfg.allow_erase_all = allow_erase_all;
    cfg.recover_locked = recover_locked;
    cfg.speed_khz = p.and_then(|p| p.speed_khz);
    if let Some(ms) = p.and_then(|p| p.timeout_ms) {
        cfg.call_timeout = Duration::from_millis(ms);
    }
    Ok(Box::new(match lab {
        Some(path) => ProbeRsProbe::with_opener(
            cfg,
            Box::new(move || LabProbe::open(&path).map(LabProbe::into_probe_rs)),
        ),
        None => ProbeRsProbe::open(cfg)?,
    }))
}

/// The DUT's power switch. `probe` is used by `probe-reset` (and opened lazily by the caller).
pub fn power(
    dut: &Dut,
    virt: Option<&VirtualDut>,
    probe: impl FnOnce() -> Result<SharedProbe, ProbeError>,
) -> Result<AnySwitch, ProbeError> {
    let cfg = dut.power.clone().unwrap_or(if virt.is_some() {
        PowerConfig::Virtual
    } else {
        PowerConfig::ProbeReset
    });
    Ok(match cfg {
        PowerConfig::Virtual => match virt {
            Some(v) => AnySwitch::Virtual(VirtualSwitch::new(v.name.clone(), v.device.clone())),
            None => {
                return Err(ProbeError::infra(
                    crate::drivers::probe::ProbeErrorKind::Config,
                    "power kind `virtual` needs a virtual DUT (`virtual: true`)",
                ))
            }
        },
        PowerConfig::ProbeReset => AnySwitch::ProbeReset(ProbeReset::new(probe()?)),
        PowerConfig::Command {
            on,
            off,
            timeout_ms,
            cuts_power,
        } => {
            let mut s = CommandSwitch::new(on, off, Duration::from_millis(timeout_ms));
            s.cuts_power = cuts_power;
            AnySwitch::Command(s)
        }
        PowerConfig::UsbPort {
            hub,
            port,
            cuts_power,
        } => {
            let mut s = UsbPortSwitch::new(Path::new(SYSFS_USB_DEVICES), &hub, port);
            s.cuts_power = cuts_power;
            AnySwitch::UsbPort(s)
        }
        PowerConfig::Ppk2 {
            port,
            millivolts,
            ampere_mode,
        } => AnySwitch::Ppk2(Ppk2Switch::new(
            port,
            if ampere_mode {
                Ppk2Mode::Ampere
            } else {
                Ppk2Mode::Source { millivolts }
            },
            Duration::from_secs(3),
        )),
    })
}
