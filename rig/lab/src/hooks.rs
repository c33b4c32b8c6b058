//! What a lab can be asked that only a virtual device can do (`rig run` of bug-zoo and
//! power-loss-sweep through the hardware path): switch the device model's defects, count its
//! flash operations, and cut its power (or reset it) at its Nth flash operation. The device
//! model sees these flash operations, not the rig's backends: a real bench has no such hooks,
//! and the runner refuses these suites there.

use crate::dut::Dut;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use virtual_nrf52::events::SimTime;
use virtual_nrf52::ResetKind;

/// What the lab does at the armed flash operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum CutAction {
    /// The supply goes for `off_ms` of lab time, then comes back.
    PowerCut { off_ms: u64 },
    /// A soft reset (as NVIC_SystemReset would).
    Reset,
}

/// Where an armed cut landed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlashOpCut {
    /// The operation, as the device model journals it ("page erase at 0x7f000", ...).
    pub what: String,
    /// Lab time from the start of the operation to the cut.
    pub into_ms: f64,
    /// The cut came after the operation had ended (the device journals an operation once done).
    pub late: bool,
}

/// A DUT's hooks: the armed cut and what it hit.
#[derive(Debug, Default)]
pub struct Hooks {
    /// Cut at the operation with this index (counted from arming).
    pub armed: Option<(u32, CutAction)>,
    pub cut: Option<FlashOpCut>,
}

impl Dut {
    /// Switch the device model's defects (`None`: the bootloader's own). The bootloader takes
    /// its build's defects when it boots, so one already in DFU mode is restarted (a soft
    /// reset, as after flashing that build): otherwise a case that starts with the DUT still in
    /// DFU mode from the case before runs the previous build (bug-zoo's skip-hash-check after
    /// no-settings-backup left it there, and the defect was never in force).
    pub fn set_defects(&mut self, defects: Option<Vec<virtual_nrf52::defects::Defect>>) -> bool {
        let t = self.sync();
        let Some(d) = self.dev.device_mut() else {
            return false;
        };
        let set = defects.map(|v| v.into_iter().collect());
        d.set_defects(set);
        let restart = matches!(d.status(), virtual_nrf52::Status::Bootloader(_));
        if restart {
            d.reset(t, virtual_nrf52::ResetKind::SoftReset);
        }
        self.log(format!(
            "device defects {set:?}{}",
            if restart {
                "; the bootloader in DFU mode restarted with them"
            } else {
                ""
            }
        ));
        true
    }

    /// Start counting flash operations (`true`) or stop and say how many there were.
    pub fn count_flash_ops(&mut self, on: bool) -> Option<u32> {
        self.sync();
        let d = self.dev.device_mut()?;
        let n = d.flash_op_journal().len() as u32;
        d.record_flash_ops(on);
        Some(if on { 0 } else { n })
    }

    /// Arm a cut at the `n`th flash operation from now (`None`: disarm).
    pub fn arm_flash_op(&mut self, arm: Option<(u32, CutAction)>) -> bool {
        self.sync();
        let Some(d) = self.dev.device_mut() else {
            return false;
        };
        // Disarming leaves a count in progress alone (the runner disarms after every update).
        if arm.is_some() || self.hooks.armed.is_some() {
            d.record_flash_ops(arm.is_some());
        }
        self.hooks.armed = arm;
        if arm.is_some() {
            self.hooks.cut = None;
        }
        true
    }

    /// Bring the device to `t` event by event while a cut is armed, so the cut lands at the
    /// instant the device journals the operation (as the in-process watcher does).
    pub(crate) fn advance_watched(&mut self, t: SimTime) {
        loop {
            let now = self.dev.now();
            self.dev.advance_to(now);
            let step = self
                .dev
                .next_event_time()
                .filter(|&e| e > now && e < t)
                .unwrap_or(t);
            self.dev.advance_to(step);
            let Some((n, action)) = self.hooks.armed else {
                self.dev.advance_to(t);
                return;
            };
            let op = self
                .dev
                .device_mut()
                .and_then(|d| d.flash_op_journal().get(n as usize).cloned());
            if let Some(op) = op {
                self.hooks.armed = None;
                if let Some(d) = self.dev.device_mut() {
                    d.record_flash_ops(false);
                }
                let now = self.dev.now();
                let middle = op.start + op.duration() / 2;
                let (at, late) = if middle >= now {
                    (middle, false)
                } else {
                    (now, now >= op.end)
                };
                self.dev.advance_to(at);
                self.apply_cut(action, at);
                self.hooks.cut = Some(FlashOpCut {
                    what: op.what.clone(),
                    into_ms: at.saturating_sub(op.start).as_secs_f64() * 1000.0,
                    late,
                });
                self.log(format!("{action:?} at flash operation {n} ({})", op.what));
                self.dev.advance_to(t.max(self.dev.now()));
                return;
            }
            if step >= t {
                return;
            }
        }
    }

    fn apply_cut(&mut self, action: CutAction, at: SimTime) {
        match action {
            CutAction::Reset => {
                if let Some((ble, d)) = self.dev.on_air() {
                    ble.sync(d, at);
                }
                if let Some(d) = self.dev.device_mut() {
                    d.reset(at, ResetKind::SoftReset);
                }
            }
            CutAction::PowerCut { off_ms } => {
                self.dev.power_off(at);
                let on = at + Duration::from_millis(off_ms);
                self.dev.advance_to(on);
                self.dev.power_on(on);
            }
        }
        self.checkpoint();
    }
}
