//! The probe of a virtual DUT: the [`Probe`] trait over the virtual device's debug port, with
//! the same permission rules and error classes as the probe-rs implementation.

use super::probe::{
    FlashEvent, FlashOptions, FlashPhase, FlashReport, Probe, ProbeError, ProbeErrorKind,
};
use super::rtt_scan::{find_control_block, LineAssembler, RttMemory, UpChannel};
use super::shared::SharedDevice;
use nrf_dfu::memory_map::{PAGE_SIZE, RAM_START};
use std::time::Duration;
use virtual_nrf52::{DebugError, DebugPort, DeviceError, ProgramOptions, Segment};

/// A probe wired to a virtual device.
pub struct VirtualProbe {
    name: String,
    device: SharedDevice,
    allow_erase_all: bool,
    /// Recover a locked chip by ERASEALL at attach (see [`VirtualProbe::for_campaign`]).
    recover_locked: bool,
    rtt: Option<UpChannel>,
    lines: LineAssembler,
}

/// Translate the debug port's error into the rig's classes.
pub fn classify(e: DebugError) -> ProbeError {
    match e {
        DebugError::Protected { .. } => ProbeError::locked(),
        DebugError::Device(DeviceError::Off) => ProbeError::infra(
            ProbeErrorKind::NoPower,
            "the target has no power: its power switch is off (run `rig power on`)",
        ),
        DebugError::Device(d) => ProbeError::device(ProbeErrorKind::Memory, d.to_string()),
        e @ (DebugError::SegmentOutside { .. } | DebugError::Overlap { .. }) => ProbeError::infra(
            ProbeErrorKind::Flash,
            format!("image does not fit the chip: {e}"),
        ),
        e @ DebugError::Verify { .. } => ProbeError::device(ProbeErrorKind::Verify, e.to_string()),
        e @ DebugError::PinResetDisabled => {
            ProbeError::device(ProbeErrorKind::Reset, e.to_string())
        }
        e @ DebugError::ShortRead { .. } => {
            ProbeError::device(ProbeErrorKind::Memory, e.to_string())
        }
    }
}

impl VirtualProbe {
    pub fn new(
        name: impl Into<String>,
        device: SharedDevice,
        allow_erase_all: bool,
    ) -> VirtualProbe {
        VirtualProbe {
            name: name.into(),
            device,
            allow_erase_all,
            recover_locked: allow_erase_all,
            rtt: None,
            lines: LineAssembler::default(),
        }
    }

    /// A campaign's probe: explicit erase steps may erase, but an attach that finds the chip
    /// locked reports it instead of silently wiping it (which would read as "bricked").
    pub fn for_campaign(name: impl Into<String>, device: SharedDevice) -> VirtualProbe {
        VirtualProbe {
            recover_locked: false,
            ..VirtualProbe::new(name, device, true)
        }
    }

    /// Run `f` on the device's debug port at the device's current simulated time (the probe
    /// keeps no clock of its own: whoever drives the device advances it).
    fn with_port<T>(
        &mut self,
        f: impl FnOnce(&mut dyn DebugPort) -> Result<T, DebugError>,
    ) -> Result<T, ProbeError> {
        let mut dev = self.device.borrow_mut();
        let t = dev.now();
        let mut port = dev.debug(t);
        f(&mut port).map_err(classify)
    }
}

struct PortMemory<'a>(&'a mut dyn DebugPort);

impl RttMemory for PortMemory<'_> {
    fn read(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ProbeError> {
        self.0.read_memory(addr, len).map_err(classify)
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), ProbeError> {
        self.0
            .write_memory_raw(addr, data)
            .map(|_| ())
            .map_err(classify)
    }
}

impl Probe for VirtualProbe {
    fn describe(&self) -> String {
        format!("virtual probe on {}", self.name)
    }

    /// As probe-rs does: a locked chip is recovered by ERASEALL only with permission.
    fn attach(&mut self) -> Result<(), ProbeError> {
        let allow = self.recover_locked;
        let mut dev = self.device.borrow_mut();
        if !dev.is_powered() {
            return Err(classify(DebugError::Device(DeviceError::Off)));
        }
        let t = dev.now();
        let mut port = dev.debug(t);
        if port.is_protected() {
            if !allow {
                return Err(ProbeError::locked());
            }
            port.erase_all().map_err(classify)?;
            port.soft_reset().map_err(classify)?;
        }
        Ok(())
    }

    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ProbeError> {
        self.with_port(|p| p.read_memory(addr, len))
    }

    fn write_memory(&mut self, addr: u32, data: &[u8]) -> Result<(), ProbeError> {
        self.with_port(|p| p.write_memory_raw(addr, data).map(|_| ()))
    }

    fn flash(
        &mut self,
        segments: &[Segment],
        options: FlashOptions,
        progress: &mut dyn FnMut(FlashEvent),
    ) -> Result<FlashReport, ProbeError> {
        let total: u64 = segments.iter().map(|s| s.1.len() as u64).sum();
        let mut report = FlashReport {
            bytes: total,
            verified: options.verify,
            ..FlashReport::default()
        };
        if options.erase_all {
            if !self.allow_erase_all {
                return Err(ProbeError::erase_not_allowed("--erase-all"));
            }
            progress(FlashEvent::Started {
                phase: FlashPhase::EraseAll,
                total: 0,
            });
            self.with_port(|p| p.erase_all().map(|_| ()))?;
            progress(FlashEvent::Finished {
                phase: FlashPhase::EraseAll,
            });
            report.erased_all = true;
        }
        progress(FlashEvent::Started {
            phase: FlashPhase::Program,
            total,
        });
        let r = self.with_port(|p| {
            p.program(
                segments,
                ProgramOptions {
                    keep_unwritten_bytes: false,
                    verify: options.verify,
                },
            )
        })?;
        // The NVMC work took device time: the device (halted while programmed) is that much later.
        {
            let mut dev = self.device.borrow_mut();
            let t = dev.now() + r.duration;
            dev.advance_to(t);
        }
        progress(FlashEvent::Progress {
            phase: FlashPhase::Program,
            done: total,
        });
        progress(FlashEvent::Finished {
            phase: FlashPhase::Program,
        });
        report.pages_erased = r.pages_erased.len() as u64;
        debug_assert!(r.bytes_written >= report.pages_erased * PAGE_SIZE as u64);
        Ok(report)
    }

    fn erase_all(&mut self) -> Result<(), ProbeError> {
        if !self.allow_erase_all {
            return Err(ProbeError::erase_not_allowed("erase-all"));
        }
        self.rtt = None;
        self.with_port(|p| p.erase_all().map(|_| ()))
    }

    fn soft_reset(&mut self) -> Result<(), ProbeError> {
        self.rtt = None;
        self.with_port(|p| p.soft_reset().map(|_| ()))
    }

    fn pin_reset(&mut self) -> Result<(), ProbeError> {
        self.rtt = None;
        self.with_port(|p| p.pin_reset().map(|_| ()))
    }

    fn halt(&mut self) -> Result<(), ProbeError> {
        self.with_port(|p| p.halt())
    }

    fn resume(&mut self) -> Result<(), ProbeError> {
        self.with_port(|p| p.resume())
    }

    /// The virtual device runs no code, so nothing writes RTT while we wait: one look at the
    /// channel is all there is to read.
    fn read_rtt_lines(&mut self, _wait: Duration) -> Result<Vec<String>, ProbeError> {
        let ram_len = self.device.borrow().chip().ram_size();
        let mut dev = self.device.borrow_mut();
        let t = dev.now();
        let mut port = dev.debug(t);
        let mut mem = PortMemory(&mut port);
        let ch = match self.rtt {
            Some(ch) => ch,
            None => {
                let cb = find_control_block(&mut mem, RAM_START, ram_len)?.ok_or_else(|| {
                    ProbeError::device(
                        ProbeErrorKind::Rtt,
                        "no RTT control block (\"SEGGER RTT\") in RAM: the firmware does not use RTT or has not started it",
                    )
                })?;
                let ch = UpChannel::open(&mut mem, cb)?;
                self.rtt = Some(ch);
                ch
            }
        };
        let bytes = ch.read(&mut mem)?;
        Ok(self.lines.push(&bytes))
    }
}

#[cfg(test)]
#[path = "virtual_probe_tests.rs"]
mod tests;
