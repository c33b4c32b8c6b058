//! The lab clock: the wall clock scaled by K simulated seconds per wall second. A device's own
//! time may run ahead of it (each SWD transfer costs time at the probe's clock), so a DUT's lab
//! time never makes a client wait in wall time for lab time. A hosted DUT keeps what its device
//! gained over the clock and runs on from there (`Dut::lab_now`).

use std::time::{Duration, Instant};
use virtual_nrf52::events::SimTime;

#[derive(Debug, Clone, Copy)]
pub struct LabClock {
    start: Instant,
    speed: f64,
}

impl LabClock {
    /// `speed`: simulated seconds per wall second (> 0).
    pub fn new(speed: f64) -> LabClock {
        LabClock {
            start: Instant::now(),
            speed,
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Scaled wall time since the lab started.
    pub fn scaled(&self) -> SimTime {
        self.start.elapsed().mul_f64(self.speed)
    }

    /// A DUT's lab time: the later of scaled wall time and the device's own time.
    pub fn lab_now(&self, device_now: SimTime) -> SimTime {
        self.scaled().max(device_now)
    }

    /// Wall time until lab time `t`, given the DUT's lab time now.
    pub fn wall_until(&self, t: SimTime, lab_now: SimTime) -> Duration {
        t.saturating_sub(lab_now).div_f64(self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_time_is_the_later_of_scaled_wall_and_device_time() {
        let c = LabClock::new(10.0);
        std::thread::sleep(Duration::from_millis(20));
        let s = c.scaled();
        assert!(s >= Duration::from_millis(200), "{s:?}");
        let ahead = s + Duration::from_secs(5);
        assert_eq!(c.lab_now(ahead), ahead);
        assert!(c.lab_now(Duration::ZERO) >= s);
        // 1 s of lab time at 10x is 100 ms of wall time.
        assert_eq!(
            c.wall_until(Duration::from_secs(3), Duration::from_secs(2)),
            Duration::from_millis(100)
        );
        assert_eq!(
            c.wall_until(Duration::from_secs(1), Duration::from_secs(2)),
            Duration::ZERO
        );
    }
}
