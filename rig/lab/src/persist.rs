//! Keeping a DUT's state in the lab directory so that a lab killed at any instant (kill -9
//! included) leaves each device as a power loss at that instant would.
//!
//! Whenever something that survives a power loss may have changed (a flash operation completed
//! or started, the supply switched; see [`Fingerprint`]), the lab writes NAME.state as the device
//! would be had it lost power right then: a clone of the device is powered off at the current
//! lab time, which tears a flash operation in flight at the fraction of its duration that has
//! passed, and its state bytes replace the file atomically. The device itself goes on. Between
//! two writes nothing that survives a power loss changes, so the file always holds the state of
//! a power loss at the latest instant the lab acted on the device. A clean stop (`rig lab down`)
//! first lets queued flash work finish, as a device left powered a moment longer would.

use crate::layout::{write_atomic, LayoutError};
use crate::target::{Fingerprint, Target};
use std::path::PathBuf;
use virtual_nrf52::events::SimTime;

#[derive(Debug)]
pub struct Persister {
    pub state: PathBuf,
    pub power: Option<PathBuf>,
    last: Option<Fingerprint>,
    /// State files written (for the lab's statistics).
    pub writes: u64,
}

impl Persister {
    pub fn new(state: PathBuf, power: Option<PathBuf>) -> Persister {
        Persister {
            state,
            power,
            last: None,
            writes: 0,
        }
    }

    /// Write the power-loss state if anything that survives one may have changed.
    pub fn checkpoint(&mut self, dev: &dyn Target, t: SimTime) -> Result<bool, LayoutError> {
        let fp = dev.fingerprint();
        if self.last == Some(fp) {
            return Ok(false);
        }
        write_atomic(&self.state, &dev.power_loss_state(t))?;
        self.last = Some(fp);
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
