//! The virtual DUT's power switch: the device's own timed power_off/power_on, at the device's
//! current simulated time. A cycle keeps the power off for `off_time` of device time (so a
//! flash operation the boot started is torn only if it really was in flight).

use super::{PowerError, PowerSwitch};
use crate::drivers::shared::SharedDevice;
use std::time::Duration;

pub struct VirtualSwitch {
    name: String,
    device: SharedDevice,
}

impl VirtualSwitch {
    pub fn new(name: impl Into<String>, device: SharedDevice) -> VirtualSwitch {
        VirtualSwitch {
            name: name.into(),
            device,
        }
    }
}

impl PowerSwitch for VirtualSwitch {
    fn describe(&self) -> String {
        format!("virtual power switch of {}", self.name)
    }

    fn cuts_power(&self) -> bool {
        true
    }

    async fn on(&mut self) -> Result<(), PowerError> {
        let mut d = self.device.borrow_mut();
        let t = d.now();
        d.power_on(t);
        Ok(())
    }

    async fn off(&mut self) -> Result<(), PowerError> {
        let mut d = self.device.borrow_mut();
        let t = d.now();
        d.power_off(t);
        Ok(())
    }

    async fn cycle(&mut self, off_time: Duration) -> Result<(), PowerError> {
        self.off().await?;
        // Device time, not the host's: the model is discrete-event.
        let mut d = self.device.borrow_mut();
        let t = d.now() + off_time;
        d.power_on(t);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::memory_map::POWER_GPREGRET;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn cycle_cuts_power_and_clears_retained_registers() {
        let dev = super::super::powered_with_gpregret(1, 0xB1);
        let mut s = VirtualSwitch::new("virtual-0", dev.clone());
        assert!(s.cuts_power());
        s.off().await.unwrap();
        assert!(!dev.borrow().is_powered());
        s.cycle(Duration::from_millis(500)).await.unwrap();
        assert!(dev.borrow().is_powered());
        assert_eq!(
            dev.borrow().read_u32(POWER_GPREGRET).unwrap() & 0xFF,
            0,
            "GPREGRET lost with power"
        );
    }
}
