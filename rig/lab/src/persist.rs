//! Keeping a DUT's state in the lab directory so that a lab killed at any instant (kill -9
//! included) leaves each device as a power loss at that instant would.
//!
//! Whenever something that survives a power loss may have changed (a flash operation completed
//! or started, the supply switched; see [`Fingerprint`]), the lab writes NAME.state as the device
//! would be had it lost power right then: a clone of the device is powered off at the current
//! lab time, which tears a flash operation in flight at the fraction of its duration that has
//! passed, and its state bytes replace the file atomically. The device itself goes on. Between
//! two writes nothing that survives a power loss changes, so the file always holds the state of
//! a power loss at an instant the lab acted on the device. A clean stop (`rig lab down`)
//! first lets queued flash work finish, as a device left powered a moment longer would.
//!
//! While a flash algorithm streams word writes (one NVMC operation per word, 41 µs each), the
//! state changes thousands of times per lab second and each write copies the whole device
//! (about 600 KB): the writes are then at most one per [`MIN_INTERVAL`] of wall time, so the file
//! is the power-loss state of an instant at most that long before the latest one (never a mix
//! of two instants). A supply switch is written at once.

use crate::layout::{write_atomic, LayoutError};
use crate::target::{Fingerprint, Target};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use virtual_nrf52::events::SimTime;

/// Wall time between two state writes while the state keeps changing (flash being programmed).
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct Persister {
    pub state: PathBuf,
    pub power: Option<PathBuf>,
    last: Option<Fingerprint>,
    /// When the state file was last written.
    written_at: Option<Instant>,
    /// The state changed since the last write, which waits for [`MIN_INTERVAL`].
    pending: bool,
    /// State files written (for the lab's statistics).
    pub writes: u64,
}

impl Persister {
    pub fn new(state: PathBuf, power: Option<PathBuf>) -> Persister {
        Persister {
            state,
            power,
            last: None,
            written_at: None,
            pending: false,
            writes: 0,
        }
    }

    /// How long until a pending write is due (None: nothing pending).
    pub fn due_in(&self) -> Option<Duration> {
        self.pending.then(|| {
            self.written_at
                .map_or(Duration::ZERO, |w| MIN_INTERVAL.saturating_sub(w.elapsed()))
        })
    }

    /// Write the power-loss state if anything that survives one may have changed.
    pub fn checkpoint(&mut self, dev: &dyn Target, t: SimTime) -> Result<bool, LayoutError> {
        let fp = dev.fingerprint();
        if self.last == Some(fp) {
            self.pending = false;
            return Ok(false);
        }
        let supply_switched = self.last.is_none_or(|l| l.powered != fp.powered);
        let recent = self.written_at.is_some_and(|w| w.elapsed() < MIN_INTERVAL);
        if recent && !supply_switched {
            self.pending = true;
            return Ok(false);
        }
        write_atomic(&self.state, &dev.power_loss_state(t))?;
        self.last = Some(fp);
        self.written_at = Some(Instant::now());
        self.pending = false;
        self.writes += 1;
        Ok(true)
    }

    /// The supply switch's state, read back by the next lab.
    pub fn write_power(&self, on: bool) -> Result<(), LayoutError> {
        match &self.power {
            Some(p) => write_atomic(p, if on { b"on\n" } else { b"off\n" }),
            None => Ok(()),
        }
    }

    /// A clean stop: the state as it is (after the caller let flash work finish).
    pub fn save(&mut self, dev: &dyn Target) -> Result<(), LayoutError> {
        write_atomic(&self.state, &dev.state_bytes())?;
        self.last = Some(dev.fingerprint());
        self.written_at = Some(Instant::now());
        self.pending = false;
        self.writes += 1;
        Ok(())
    }
}

/// The supply state a previous lab left (`on` when there is no file).
pub fn read_power(path: &std::path::Path) -> bool {
    std::fs::read_to_string(path)
        .map(|s| s.trim() != "off")
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use virtual_nrf52::{Chip, DebugPort, Device};

    #[test]
    fn flash_changes_are_written_at_most_once_per_interval_and_power_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = Persister::new(tmp.path().join("d.state"), None);
        let mut dev = Device::new(Chip::Nrf52832Qfaa, 1);
        assert!(
            p.checkpoint(&dev, dev.now()).unwrap(),
            "first state written"
        );
        DebugPort::write_memory_raw(&mut dev, 0x1000, &[0; 4]).unwrap();
        assert!(!p.checkpoint(&dev, dev.now()).unwrap(), "held back");
        assert!(p.due_in().is_some_and(|d| d <= MIN_INTERVAL));
        let t = dev.now();
        dev.power_off(t);
        assert!(
            p.checkpoint(&dev, t).unwrap(),
            "a supply switch is written at once"
        );
        assert_eq!(p.due_in(), None);
        dev.power_on(t + Duration::from_millis(1));
        std::thread::sleep(MIN_INTERVAL);
        assert!(p.checkpoint(&dev, dev.now()).unwrap());
        assert_eq!(p.writes, 3);
    }
}
