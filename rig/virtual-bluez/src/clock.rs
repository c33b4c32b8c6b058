//! Lab time: the virtual devices and the virtual bluetoothd run on a scaled wall clock. At scale
//! 1 a lab second is a wall second; at 10 it passes ten times as fast (a 30 s update takes 3 s),
//! so btleplug's own wall-clock timeouts see a fast radio rather than a different protocol.
//! bluetoothd's timers (temporary-device timeout, disconnect timer) run on lab time too, as the
//! whole host would in a faster world.

use std::time::{Duration, Instant};
use virtual_nrf52::SimTime;

/// Lab time kept by someone else: the lab, whose per-DUT time also moves with the SWD
/// transfers its probe serves. The virtual BlueZ then runs on that one clock instead of its own.
pub trait TimeSource: Send + Sync {
    /// Lab time now (never goes back).
    fn now(&self) -> SimTime;
    /// Wall time until the clock reads `t` (zero if it already has).
    fn wall_until(&self, t: SimTime) -> Duration;
}

#[derive(Debug, Clone, Copy)]
pub struct LabClock {
    wall_origin: Instant,
    lab_origin: SimTime,
    scale: f64,
}

impl LabClock {
    /// A clock reading `lab_origin` now, running `scale` lab seconds per wall second (> 0).
    pub fn new(lab_origin: SimTime, scale: f64) -> LabClock {
        LabClock {
            wall_origin: Instant::now(),
            lab_origin,
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn now(&self) -> SimTime {
        self.lab_origin + self.wall_origin.elapsed().mul_f64(self.scale)
    }

    /// Wall time until the lab clock reads `t` (zero if it already has).
    pub fn wall_until(&self, t: SimTime) -> Duration {
        t.saturating_sub(self.now()).div_f64(self.scale)
    }

    /// Lab time elapsed during a wall duration.
    pub fn lab_of(&self, wall: Duration) -> Duration {
        wall.mul_f64(self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled() {
        let c = LabClock::new(Duration::from_secs(5), 10.0);
        let a = c.now();
        assert!(a >= Duration::from_secs(5));
        assert_eq!(c.lab_of(Duration::from_millis(100)), Duration::from_secs(1));
        let w = c.wall_until(a + Duration::from_secs(10));
        assert!(
            w <= Duration::from_secs(1) && w > Duration::from_millis(900),
            "{w:?}"
        );
        assert_eq!(LabClock::new(SimTime::ZERO, -1.0).scale(), 1.0);
    }
}
