//! Connection retry schedule: BlueZ often aborts the first connection attempt
//! ("le-connection-abort-by-local", btleplug#412, bleak#666); waiting a little longer each time
//! works. Deterministic (no jitter): one rig drives one DUT per adapter.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub factor: u32,
    pub max: Duration,
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(250),
            factor: 2,
            max: Duration::from_secs(4),
            attempts: 5,
        }
    }
}

impl Backoff {
    /// The wait before each retry (attempts − 1 of them).
    pub fn delays(&self) -> Vec<Duration> {
        let mut out = Vec::new();
        let mut d = self.first;
        for _ in 1..self.attempts {
            out.push(d.min(self.max));
            d = d.saturating_mul(self.factor);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let ms: Vec<u128> = Backoff {
            attempts: 7,
            ..Backoff::default()
        }
        .delays()
        .iter()
        .map(|d| d.as_millis())
        .collect();
        assert_eq!(ms, vec![250, 500, 1000, 2000, 4000, 4000]);
        assert!(Backoff {
            attempts: 1,
            ..Backoff::default()
        }
        .delays()
        .is_empty());
    }
}
