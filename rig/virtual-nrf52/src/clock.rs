//! Virtual time for the device: every wait goes through `tokio::time`, so a runtime started with
//! paused time advances instantly while a served device runs on the real clock.

use std::time::Duration;
use tokio::time::Instant;

/// A device clock: elapsed time since it started, and a way to spend a modelled cost.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
}

impl Clock {
    /// Start a clock at the current tokio instant (requires a tokio runtime with time enabled).
    pub fn start() -> Clock {
        Clock {
            origin: Instant::now(),
        }
    }

    /// Device time elapsed since [`Clock::start`].
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    /// Let `cost` of device time pass (e.g. a flash operation's duration).
    pub async fn spend(&self, cost: Duration) {
        if !cost.is_zero() {
            tokio::time::sleep(cost).await;
        }
    }

    /// Wait until the clock reads `at` (returns at once if it already does).
    pub async fn wait_until(&self, at: Duration) {
        tokio::time::sleep_until(self.origin + at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spends_virtual_time_exactly() {
        let c = Clock::start();
        c.spend(Duration::from_millis(85)).await;
        assert_eq!(c.elapsed(), Duration::from_millis(85));
        c.spend(Duration::from_secs(120)).await;
        assert_eq!(c.elapsed(), Duration::from_millis(120_085));
        c.wait_until(Duration::from_secs(200)).await;
        assert_eq!(c.elapsed(), Duration::from_secs(200));
        // Waiting for a point in the past returns at once.
        c.wait_until(Duration::from_secs(1)).await;
        assert_eq!(c.elapsed(), Duration::from_secs(200));
    }
}
