//! The virtual nRF52832: flash and UICR behind the NVMC, FICR, POWER, RAM, the run state, and the
//! power-cut plumbing every flash operation goes through.
//!
//! A new device is an unpowered, fully erased chip; [`Hardware::power_on`] boots it through the MBR
//! (see `lifecycle.rs`). Firmware models (MBR, bootloader) change flash only with
//! [`Hardware::flash_op`], which accounts its virtual time and lets a planned power cut tear it.

use crate::defects::DefectSet;
use crate::error::{DeviceError, PowerLoss};
use crate::ficr::Ficr;
use crate::flash::FlashHealth;
use crate::lifecycle::BootRecord;
use crate::nvmc::{self, FlashMemory, FlashOp, FlashPath, NvmcConfig, OpReport};
use crate::power::Power;
use crate::rng::DeviceRng;
use crate::timing::TimingProfile;
use nrf_dfu::Chip;
use std::time::Duration;

/// Whether the CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// No power.
    Off,
    /// Powered and executing (whatever the last boot started, possibly nothing).
    Running,
    /// Powered, CPU halted by the debugger.
    Halted,
}

/// When a planned power cut strikes. The cut tears the flash operation in flight and turns the
/// device off; the call that ran the operation returns [`DeviceError::PowerLost`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CutPlan {
    /// During the flash operation that comes after `skip` more operations, at `fraction` (0..=1)
    /// of its duration.
    AtOp { skip: u64, fraction: f64 },
    /// When `busy` more device time has been spent in flash operations.
    AfterFlashTime(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct ArmedCut {
    plan: CutPlan,
    ops_at_arm: u64,
    busy_at_arm: Duration,
}

/// One virtual nRF52832.
#[derive(Debug, Clone)]
pub struct Hardware {
    pub(crate) chip: Chip,
    pub(crate) mem: FlashMemory,
    pub(crate) ficr: Ficr,
    pub(crate) power: Power,
    pub(crate) ram: Vec<u8>,
    pub(crate) nvmc_config: NvmcConfig,
    pub(crate) rng: DeviceRng,
    pub(crate) identity_seed: u64,
    pub(crate) timing: TimingProfile,
    pub(crate) run: RunState,
    /// APPROTECT as latched at the last reset (UICR changes take effect at the next reset).
    pub(crate) approtect: bool,
    pub(crate) last_boot: Option<BootRecord>,
    pub(crate) boot_count: u64,
    pub(crate) defects_override: Option<DefectSet>,
    cut: Option<ArmedCut>,
    flash_ops: u64,
    flash_busy: Duration,
}

impl Hardware {
    /// An unpowered chip with erased flash and UICR. `seed` fixes its identity (FICR DEVICEID /
    /// DEVICEADDR) and every random choice the model makes.
    pub fn new(chip: Chip, seed: u64) -> Hardware {
        Hardware {
            chip,
            mem: FlashMemory::new(chip.page_count()),
            ficr: Ficr::new(chip, seed),
            power: Power::default(),
            ram: vec![0; chip.ram_size() as usize],
            nvmc_config: NvmcConfig::default(),
            rng: DeviceRng::new(seed),
            identity_seed: seed,
            timing: TimingProfile::default(),
            run: RunState::Off,
            approtect: false,
            last_boot: None,
            boot_count: 0,
            defects_override: None,
            cut: None,
            flash_ops: 0,
            flash_busy: Duration::ZERO,
        }
    }

    pub fn with_timing(mut self, timing: TimingProfile) -> Hardware {
        self.timing = timing;
        self
    }

    pub fn chip(&self) -> Chip {
        self.chip
    }

    pub fn timing(&self) -> &TimingProfile {
        &self.timing
    }

    pub fn set_timing(&mut self, timing: TimingProfile) {
        self.timing = timing;
    }

    /// Code flash and UICR content (reading it is always allowed to the model itself; the debug
    /// port applies APPROTECT).
    pub fn memory(&self) -> &FlashMemory {
        &self.mem
    }

    pub fn ficr(&self) -> &Ficr {
        &self.ficr
    }

    pub fn power(&self) -> &Power {
        &self.power
    }

    /// POWER registers as firmware writes them (GPREGRET, RESETREAS clear).
    pub fn power_mut(&mut self) -> &mut Power {
        &mut self.power
    }

    pub fn ram(&self) -> &[u8] {
        &self.ram
    }

    pub fn run_state(&self) -> RunState {
        self.run
    }

    pub fn is_powered(&self) -> bool {
        self.run != RunState::Off
    }

    /// The seed behind the FICR identity (kept in the state file).
    pub fn identity_seed(&self) -> u64 {
        self.identity_seed
    }

    /// Restart the random stream (torn flash content, RAM at power-up) from `seed`.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = DeviceRng::new(seed);
    }

    /// Wear of code flash and UICR.
    pub fn flash_health(&self) -> (FlashHealth, FlashHealth) {
        (self.mem.code.health(), self.mem.uicr.health())
    }

    /// Flash operations run so far, and the device time they took.
    pub fn flash_activity(&self) -> (u64, Duration) {
        (self.flash_ops, self.flash_busy)
    }

    /// Defects switched on for this device regardless of its bootloader's descriptor (`None`:
    /// use the descriptor's set).
    pub fn defects_override(&self) -> Option<DefectSet> {
        self.defects_override
    }

    pub fn set_defects_override(&mut self, defects: Option<DefectSet>) {
        self.defects_override = defects;
    }

    /// Arm a power cut; it replaces any cut already armed.
    pub fn arm_power_cut(&mut self, plan: CutPlan) {
        self.cut = Some(ArmedCut {
            plan,
            ops_at_arm: self.flash_ops,
            busy_at_arm: self.flash_busy,
        });
    }

    pub fn disarm_power_cut(&mut self) {
        self.cut = None;
    }

    pub fn armed_power_cut(&self) -> Option<CutPlan> {
        self.cut.map(|c| c.plan)
    }

    /// Where an armed cut falls inside an operation of `duration` that is about to start.
    fn armed_fraction(&self, duration: Duration) -> Option<f64> {
        let c = self.cut?;
        match c.plan {
            CutPlan::AtOp { skip, fraction } => {
                (self.flash_ops - c.ops_at_arm == skip).then_some(fraction)
            }
            CutPlan::AfterFlashTime(after) => {
                let spent = self.flash_busy - c.busy_at_arm;
                let left = after.saturating_sub(spent);
                if left < duration || (left == duration && !duration.is_zero()) {
                    Some(if duration.is_zero() {
                        0.0
                    } else {
                        left.as_secs_f64() / duration.as_secs_f64()
                    })
                } else {
                    None
                }
            }
        }
    }

    /// Run one flash operation (from firmware) and account its time. An armed [`CutPlan`] may
    /// tear it, after which the device is off and the result is [`DeviceError::PowerLost`].
    pub fn flash_op(&mut self, op: &FlashOp, path: FlashPath) -> Result<OpReport, DeviceError> {
        let duration = nvmc::cost(op, path, &self.timing);
        let cut = self.armed_fraction(duration);
        self.run_op(op, path, cut)
    }

    /// Run one flash operation and lose power at `fraction` (0..=1) of its duration.
    pub fn flash_op_cut(
        &mut self,
        op: &FlashOp,
        path: FlashPath,
        fraction: f64,
    ) -> Result<OpReport, DeviceError> {
        self.run_op(op, path, Some(fraction))
    }

    fn run_op(
        &mut self,
        op: &FlashOp,
        path: FlashPath,
        cut: Option<f64>,
    ) -> Result<OpReport, DeviceError> {
        if !self.is_powered() {
            return Err(DeviceError::Off);
        }
        let report = nvmc::execute(op, path, &self.timing, cut, &mut self.mem, &mut self.rng)?;
        self.flash_ops += 1;
        self.flash_busy += report.elapsed;
        if cut.is_some() {
            self.cut = None;
            self.lose_power();
            return Err(PowerLoss {
                during: op.describe(),
                elapsed: report.elapsed,
                duration: report.duration,
            }
            .into());
        }
        Ok(report)
    }

    /// Power goes away: the CPU stops, RAM and the retained registers are gone (they are rebuilt
    /// at the next power-on).
    pub(crate) fn lose_power(&mut self) {
        self.run = RunState::Off;
        self.nvmc_config = NvmcConfig::default();
    }
}

#[cfg(test)]
#[path = "hardware_tests.rs"]
mod tests;
