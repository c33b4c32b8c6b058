//! A "switch" that can only reset the DUT through its debug probe: for benches without power
//! control. It does not cut power ([`PowerSwitch::cuts_power`] is false): `off` is refused,
//! `cycle` is a pin reset (or a soft reset when the pin is not routed).

use super::{PowerError, PowerSwitch};
use crate::drivers::probe::{Probe, ProbeErrorKind};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// A probe shared between the DUT's backends.
pub type SharedProbe = Rc<RefCell<Box<dyn Probe>>>;

pub struct ProbeReset {
    probe: SharedProbe,
}

impl ProbeReset {
    pub fn new(probe: SharedProbe) -> ProbeReset {
        ProbeReset { probe }
    }
}

impl PowerSwitch for ProbeReset {
    fn describe(&self) -> String {
        format!("reset through {}", self.probe.borrow().describe())
    }

    fn cuts_power(&self) -> bool {
        false
    }

    /// The target is always powered.
    async fn on(&mut self) -> Result<(), PowerError> {
        Ok(())
    }

    async fn off(&mut self) -> Result<(), PowerError> {
        Err(PowerError {
            switch: self.describe(),
            message:
                "this bench has no power switch for the DUT (power: probe-reset); it can only reset"
                    .into(),
            unsupported: true,
        })
    }

    async fn cycle(&mut self, _off_time: Duration) -> Result<(), PowerError> {
        let mut p = self.probe.borrow_mut();
        match p.pin_reset() {
            Ok(()) => Ok(()),
            Err(e) if e.kind == ProbeErrorKind::Reset => p.soft_reset().map_err(|e| e.message),
            Err(e) => Err(e.message),
        }
        .map_err(|m| PowerError::new(format!("reset through {}", p.describe()), m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::shared::share;
    use crate::drivers::virtual_probe::VirtualProbe;
    use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_RESETREAS};
    use virtual_nrf52::{Chip, Device};

    #[tokio::test(start_paused = true)]
    async fn cycle_resets_without_cutting_power() {
        let mut d = Device::new(Chip::Nrf52832Qfaa, 2);
        virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
        virtual_nrf52::DebugPort::write_memory_raw(
            &mut d,
            nrf_dfu::memory_map::POWER_GPREGRET,
            &[0xB1, 0, 0, 0],
        )
        .unwrap();
        let dev = share(d);
        let probe: SharedProbe = Rc::new(RefCell::new(Box::new(VirtualProbe::new(
            "v",
            dev.clone(),
            false,
        ))));
        let mut s = ProbeReset::new(probe);
        assert!(!s.cuts_power());
        let e = s.off().await.unwrap_err();
        assert!(e.unsupported);
        s.cycle(Duration::from_secs(1)).await.unwrap();
        let d = dev.borrow();
        assert!(d.is_powered());
        // No pin reset routed on a blank chip: the soft reset fallback ran (RESETREAS.SREQ),
        // and GPREGRET survived, as it does on silicon.
        assert_ne!(d.read_u32(POWER_RESETREAS).unwrap() & 4, 0);
        assert_eq!(d.read_u32(POWER_GPREGRET).unwrap() & 0xFF, 0xB1);
    }
}
