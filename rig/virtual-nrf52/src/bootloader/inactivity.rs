//! The DFU inactivity timer (17.1 `nrf_bootloader_dfu_timers.c`; restarted in `nrf_bootloader.c`
//! `dfu_observer`): 120 s by default (`NRF_BL_DFU_INACTIVITY_TIMEOUT_MS`),
//! restarted only by a command-object CREATE (NRF_DFU_EVT_DFU_STARTED) and a data EXECUTE
//! (NRF_DFU_EVT_OBJECT_RECEIVED); on expiry the bootloader backs up its settings and resets.
//! SDK 12 has none.

use super::Dfu;
use crate::core::Core;
use crate::events::{FirmwareReset, SimTime};

impl Dfu {
    /// Restart the timer with the full timeout (not the continuation timeout).
    pub(crate) fn restart_inactivity(&mut self, core: &Core) {
        self.deadline = self.profile.inactivity_timeout.map(|d| core.now + d);
    }

    /// When the timer fires, if it runs.
    pub fn inactivity_deadline(&self) -> Option<SimTime> {
        self.deadline.filter(|_| self.is_open())
    }

    /// The timer fired: `inactivity_timeout` -> `bootloader_reset(true)` (no transport close).
    pub fn on_inactivity(&mut self, core: &mut Core) {
        self.backup_and_reset(core, FirmwareReset::Inactivity);
    }
}
