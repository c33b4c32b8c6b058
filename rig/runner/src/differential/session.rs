//! The two devices in lock step: every request goes to both with the same bytes, the genuine
//! code's answer drives the client (it is the reference), and any difference in the answers
//! or in the persistent state is recorded with the step that showed it.

use super::report::Difference;
use super::snapshot::{compare, Snapshot};
use super::target::{Answer, Target};
use std::time::Duration;

/// The three ways a client loses the bootloader mid-update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interruption {
    /// A reset through the debug port (SREQ): RAM and GPREGRET survive.
    Reset,
    /// Power off for 100 ms and on: RAM is lost.
    PowerCut,
    /// The host goes quiet for a second and comes back; the device runs on.
    LinkDrop,
}

impl Interruption {
    pub const ALL: [Interruption; 3] = [
        Interruption::Reset,
        Interruption::PowerCut,
        Interruption::LinkDrop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Interruption::Reset => "reset",
            Interruption::PowerCut => "power-cut",
            Interruption::LinkDrop => "link-drop",
        }
    }
}

/// One scenario's pair of devices and what it has found so far.
pub struct Session {
    pub genuine: Target,
    pub model: Target,
    scenario: String,
    step: usize,
    area_end: u32,
    pub requests: usize,
    pub states: usize,
    pub differences: Vec<Difference>,
}

impl Session {
    pub fn new(scenario: &str, genuine: Target, model: Target, area_end: u32) -> Session {
        Session {
            genuine,
            model,
            scenario: scenario.to_string(),
            step: 0,
            area_end,
            requests: 0,
            states: 0,
            differences: Vec::new(),
        }
    }

    fn differ(&mut self, step: String, what: String, model: String, genuine: String) {
        self.differences.push(Difference {
            scenario: self.scenario.clone(),
            step,
            what,
            model,
            genuine,
            explained: None,
        });
    }

    /// Resets each device has gone through so far.
    fn epochs(&self) -> (u64, u64) {
        (self.model.device.epoch(), self.genuine.device.epoch())
    }

    /// A device that reset by itself while the other did not (activation, a timeout, a
    /// fault, a watchdog) is a difference too: how many resets, and RESETREAS after.
    fn compare_resets(&mut self, before: (u64, u64), label: &str) {
        let after = self.epochs();
        let (m, g) = (after.0 - before.0, after.1 - before.1);
        if m != g {
            let text = |t: &Target, n: u64| {
                let r = t.device.read_u32(nrf_dfu::memory_map::POWER_RESETREAS);
                format!(
                    "{n} reset(s), RESETREAS {}",
                    r.map_or("?".into(), |v| format!("{v:#010x}"))
                )
            };
            let step = format!("{} {label}", self.step);
            let (mt, gt) = (text(&self.model, m), text(&self.genuine, g));
            self.differ(step, format!("resets during {label}"), mt, gt);
        }
    }

    /// `payload` to both; the genuine answer back, the model's compared with it.
    pub fn request(&mut self, label: &str, payload: &[u8]) -> Answer {
        self.step += 1;
        self.requests += 1;
        let before = self.epochs();
        let g = self.genuine.request(payload);
        let m = self.model.request(payload);
        if g != m {
            let step = format!("{} {label}", self.step);
            self.differ(step, format!("response to {label}"), m.text(), g.text());
        }
        self.compare_resets(before, label);
        g
    }

    /// A request neither answers (WRITE with PRN off), to both.
    pub fn send(&mut self, payload: &[u8]) {
        self.genuine.send(payload);
        self.model.send(payload);
    }

    /// Both run until `bytes` sent have arrived, and `extra` after.
    pub fn drain(&mut self, bytes: usize, extra: Duration) {
        let before = self.epochs();
        self.genuine.drain(bytes, extra);
        self.model.drain(bytes, extra);
        self.compare_resets(before, "the WRITEs");
    }

    /// Both run for `d` (`label`: what they are doing meanwhile).
    pub fn run_for(&mut self, d: Duration, label: &str) {
        let before = self.epochs();
        self.genuine.run_for(d);
        self.model.run_for(d);
        self.compare_resets(before, label);
    }

    /// Interrupt both the same way, then compare what persisted.
    pub fn interrupt(&mut self, kind: Interruption) -> Result<(), String> {
        let before = self.epochs();
        match kind {
            Interruption::Reset => {
                self.genuine.reset()?;
                self.model.reset()?;
            }
            Interruption::PowerCut => {
                self.genuine.power_cut();
                self.model.power_cut();
            }
            Interruption::LinkDrop => {
                self.genuine.link_drop();
                self.model.link_drop();
            }
        }
        self.compare_resets(before, &format!("the {}", kind.name()));
        self.compare_state(&format!("after the {}", kind.name()));
        Ok(())
    }

    /// GPREGRET 0xB1 and a reset on both; the state compared after.
    pub fn reset_into_dfu(&mut self) -> Result<(), String> {
        self.genuine.reset_into_dfu()?;
        self.model.reset_into_dfu()?;
        self.compare_state("after the reset into DFU mode");
        Ok(())
    }

    /// A reset on both (debug port), the state compared after.
    pub fn reset(&mut self, label: &str) -> Result<(), String> {
        self.genuine.reset()?;
        self.model.reset()?;
        self.compare_state(label);
        Ok(())
    }

    /// Compare settings (both copies) and flash now.
    pub fn compare_state(&mut self, label: &str) {
        self.step += 1;
        self.states += 1;
        let g = Snapshot::read(&self.genuine, self.area_end);
        let m = Snapshot::read(&self.model, self.area_end);
        for (what, mv, gv) in compare(&m, &g) {
            let step = format!("{} {label}", self.step);
            self.differ(step, what, mv, gv);
        }
    }
}
