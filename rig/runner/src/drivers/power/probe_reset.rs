//! A "switch" that can only reset the DUT through its debug probe: for benches without power
//! control. It does not cut power ([`PowerSwitch::cuts_power`] is false): `off` is refused,
//! `cycle` is a pin reset (or a soft reset when the pin is not routed).

use super::{PowerError, PowerSwitch};
use crate::drivers::probe::{Probe, ProbeErrorKind};
use nrf_dfu::memory_map::POWER_RESETREAS;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// RESETREAS.RESETPIN (bit 0) and every cause bit (write 1 to clear): RESETPIN, DOG, SREQ,
/// LOCKUP, OFF, LPCOMP, DIF, NFC (nRF52832 PS v1.4, POWER RESETREAS).
const RESETREAS_RESETPIN: u32 = 1;
const RESETREAS_ALL: u32 = 0x000F_000F;

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
        // RESETREAS accumulates until written with ones (nRF52832 PS v1.4, POWER RESETREAS):
        // clear it, so RESETPIN afterwards is this pin reset's. A probe drives nRESET whether
        // or not the chip routes it (UICR.PSELRESET unset: the pin is a GPIO and nothing
        // happens), so the probe's success says nothing about the reset.
        let cleared = p
            .write_memory(POWER_RESETREAS, &RESETREAS_ALL.to_le_bytes())
            .is_ok();
        match p.pin_reset() {
            Ok(()) if !cleared => Ok(()),
            Ok(()) => match p.read_word(POWER_RESETREAS) {
                Ok(r) if r & RESETREAS_RESETPIN != 0 => Ok(()),
                Ok(r) => {
                    tracing::warn!(
                        "{}: nRESET did not reset the chip (RESETREAS {r:#010x} without RESETPIN: UICR.PSELRESET does not route it); a soft reset (AIRCR.SYSRESETREQ) instead",
                        p.describe()
                    );
                    p.soft_reset().map_err(|e| e.message)
                }
                Err(e) => Err(e.message),
            },
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
    use nrf_dfu::memory_map::POWER_GPREGRET;
    use virtual_nrf52::{Chip, Device};

    #[tokio::test(start_paused = true)]
    async fn cycle_resets_without_cutting_power() {
        let dev = super::super::powered_with_gpregret(2, 0xB1);
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

    /// A probe whose nRESET line reaches no reset: what any probe does on a chip whose
    /// UICR.PSELRESET does not route the pin (the drive succeeds, nothing resets).
    struct UnroutedPin(VirtualProbe);

    impl Probe for UnroutedPin {
        fn describe(&self) -> String {
            self.0.describe()
        }
        fn attach(&mut self) -> Result<(), crate::drivers::ProbeError> {
            self.0.attach()
        }
        fn read_memory(&mut self, a: u32, n: u32) -> Result<Vec<u8>, crate::drivers::ProbeError> {
            self.0.read_memory(a, n)
        }
        fn write_memory(&mut self, a: u32, d: &[u8]) -> Result<(), crate::drivers::ProbeError> {
            self.0.write_memory(a, d)
        }
        fn flash(
            &mut self,
            s: &[virtual_nrf52::Segment],
            o: crate::drivers::probe::FlashOptions,
            p: &mut dyn FnMut(crate::drivers::probe::FlashEvent),
        ) -> Result<crate::drivers::probe::FlashReport, crate::drivers::ProbeError> {
            self.0.flash(s, o, p)
        }
        fn erase_all(&mut self) -> Result<(), crate::drivers::ProbeError> {
            self.0.erase_all()
        }
        fn soft_reset(&mut self) -> Result<(), crate::drivers::ProbeError> {
            self.0.soft_reset()
        }
        fn pin_reset(&mut self) -> Result<(), crate::drivers::ProbeError> {
            Ok(())
        }
        fn halt(&mut self) -> Result<(), crate::drivers::ProbeError> {
            self.0.halt()
        }
        fn resume(&mut self) -> Result<(), crate::drivers::ProbeError> {
            self.0.resume()
        }
        fn read_rtt_lines(
            &mut self,
            w: Duration,
        ) -> Result<Vec<String>, crate::drivers::ProbeError> {
            self.0.read_rtt_lines(w)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pin_reset_that_reset_nothing_is_seen_in_resetreas_and_replaced() {
        let mut d = Device::new(Chip::Nrf52832Qfaa, 2);
        virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
        let dev = share(d);
        let probe: SharedProbe = Rc::new(RefCell::new(Box::new(UnroutedPin(VirtualProbe::new(
            "v",
            dev.clone(),
            false,
        )))));
        let mut s = ProbeReset::new(probe);
        s.cycle(Duration::from_secs(1)).await.unwrap();
        // The pin did nothing; RESETREAS showed no RESETPIN, so the cycle reset the chip
        // another way: SREQ, the soft reset's cause (before the fix: 0, no reset at all).
        let r = dev.borrow().read_u32(POWER_RESETREAS).unwrap();
        assert_eq!(r, 4, "RESETREAS {r:#x}");
    }
}
