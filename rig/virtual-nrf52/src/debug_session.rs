//! The debug port of a running [`Device`] at a point in simulated time: the
//! [`DebugPort`] operations of the hardware, with resets, halts and power going through the
//! device so that the firmware models restart, stop and lose power with it.

use crate::debug_port::{DebugError, DebugPort, ProgramOptions, ProgramReport};
use crate::error::DeviceError;
use crate::events::SimTime;
use crate::lifecycle::BootRecord;
use crate::power::ResetKind;
use crate::virtual_device::Run;
use crate::{Device, Segment};
use std::time::Duration;

/// A probe attached at time `t`. Flash work done through it happens at `t` (the probe's own
/// time is the caller's to spend, e.g. from [`ProgramReport::duration`]).
pub struct DebugSession<'a> {
    device: &'a mut Device,
    t: SimTime,
}

impl Device {
    /// The debug port at `t` (events due by then are processed first).
    pub fn debug(&mut self, t: SimTime) -> DebugSession<'_> {
        self.advance_to(t);
        DebugSession { device: self, t }
    }
}

impl DebugSession<'_> {
    fn last_boot(&self) -> Result<BootRecord, DebugError> {
        self.device
            .core
            .hw
            .boot_record()
            .cloned()
            .ok_or(DebugError::Device(DeviceError::Off))
    }
}

impl DebugPort for DebugSession<'_> {
    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, DebugError> {
        self.device.core.hw.read_memory(addr, len)
    }

    fn write_memory_raw(&mut self, addr: u32, data: &[u8]) -> Result<Duration, DebugError> {
        self.device.core.hw.write_memory_raw(addr, data)
    }

    /// Programming halts the core; the firmware stays stopped until a reset or resume.
    fn program(
        &mut self,
        segments: &[Segment],
        options: ProgramOptions,
    ) -> Result<ProgramReport, DebugError> {
        self.device.halt(self.t);
        self.device.core.hw.program(segments, options)
    }

    /// ERASEALL: whatever ran is gone; the CPU has nothing left to execute.
    fn erase_all(&mut self) -> Result<Duration, DebugError> {
        let r = self.device.core.hw.erase_all()?;
        self.device.core.queue.clear();
        self.device.run = Run::Silent(crate::status::SilentReason::NothingToRun);
        Ok(r)
    }

    fn soft_reset(&mut self) -> Result<BootRecord, DebugError> {
        if !self.device.reset(self.t, ResetKind::SoftReset) {
            return Err(DeviceError::Off.into());
        }
        self.last_boot()
    }

    fn pin_reset(&mut self) -> Result<BootRecord, DebugError> {
        if !self.device.core.hw.is_powered() {
            return Err(DeviceError::Off.into());
        }
        if !self.device.reset(self.t, ResetKind::PinReset) {
            return Err(DebugError::PinResetDisabled);
        }
        self.last_boot()
    }

    fn halt(&mut self) -> Result<(), DebugError> {
        if self.device.core.hw.is_protected() {
            return Err(DebugError::Protected { op: "halt" });
        }
        self.device.halt(self.t);
        Ok(())
    }

    fn resume(&mut self) -> Result<(), DebugError> {
        if self.device.core.hw.is_protected() {
            return Err(DebugError::Protected { op: "resume" });
        }
        self.device.resume(self.t);
        Ok(())
    }

    fn power_off(&mut self) {
        self.device.power_off(self.t);
    }

    fn power_on(&mut self) -> Result<BootRecord, DebugError> {
        self.device.power_on(self.t);
        self.last_boot()
    }

    fn is_protected(&self) -> bool {
        self.device.core.hw.is_protected()
    }
}

/// The device as a probe sees it "now" (at [`Device::now`]): the same operations as
/// [`Device::debug`], for callers that hold the device and keep time elsewhere (the runner's
/// virtual probe). `power_off`/`power_on` shadow the device's timed inherent methods: call them
/// as `DebugPort::power_on(&mut dev)`.
impl DebugPort for Device {
    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, DebugError> {
        let t = self.now();
        self.debug(t).read_memory(addr, len)
    }

    fn write_memory_raw(&mut self, addr: u32, data: &[u8]) -> Result<Duration, DebugError> {
        let t = self.now();
        self.debug(t).write_memory_raw(addr, data)
    }

    fn program(
        &mut self,
        segments: &[Segment],
        options: ProgramOptions,
    ) -> Result<ProgramReport, DebugError> {
        let t = self.now();
        self.debug(t).program(segments, options)
    }

    fn erase_all(&mut self) -> Result<Duration, DebugError> {
        let t = self.now();
        self.debug(t).erase_all()
    }

    fn soft_reset(&mut self) -> Result<BootRecord, DebugError> {
        let t = self.now();
        self.debug(t).soft_reset()
    }

    fn pin_reset(&mut self) -> Result<BootRecord, DebugError> {
        let t = self.now();
        self.debug(t).pin_reset()
    }

    fn halt(&mut self) -> Result<(), DebugError> {
        let t = self.now();
        DebugPort::halt(&mut self.debug(t))
    }

    fn resume(&mut self) -> Result<(), DebugError> {
        let t = self.now();
        DebugPort::resume(&mut self.debug(t))
    }

    fn power_off(&mut self) {
        let t = self.now();
        Device::power_off(self, t);
    }

    fn power_on(&mut self) -> Result<BootRecord, DebugError> {
        let t = self.now();
        self.debug(t).power_on()
    }

    fn is_protected(&self) -> bool {
        self.core.hw.is_protected()
    }
}
