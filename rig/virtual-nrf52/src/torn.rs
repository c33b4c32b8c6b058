//! What a flash word looks like when power is lost in the middle of an NVMC operation.
//!
//! The product spec only says the content is undefined; this is the model's choice, seeded so a
//! given seed always tears the same way:
//! - erase cut at `progress` p: each word is fully erased (0xFFFFFFFF) with probability p, keeps its
//!   old content with probability (1−p)/2, and is otherwise partially erased: the old word with a
//!   random subset of its 0 bits raised to 1 (= 0xFFFFFFFF with some random bits still cleared);
//! - word write cut: a random subset of the bits that were to be cleared is cleared.

use crate::rng::DeviceRng;

/// One word of a page whose erase was cut at `progress` (0..1) of its duration.
pub fn torn_erase_word(old: u32, progress: f64, rng: &mut DeviceRng) -> u32 {
    let p = progress.clamp(0.0, 1.0);
    let roll = rng.unit();
    if roll < p {
        0xFFFF_FFFF
    } else if roll < p + (1.0 - p) / 2.0 {
        old
    } else {
        old | rng.next_u32()
    }
}

/// One word whose programming of `value` over `old` was cut.
pub fn torn_write_word(old: u32, value: u32, rng: &mut DeviceRng) -> u32 {
    let to_clear = old & !value;
    let cleared = to_clear & rng.next_u32();
    old & !cleared
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn torn_write_is_between_old_and_new(old: u32, value: u32, seed: u64) {
            let mut rng = DeviceRng::new(seed);
            let w = torn_write_word(old, value, &mut rng);
            let full = old & value;
            // Never sets a bit, never clears a bit the write would not have cleared.
            prop_assert_eq!(w & !old, 0);
            prop_assert_eq!(w & full, full);
        }

        #[test]
        fn torn_erase_only_raises_bits(old: u32, p in 0.0f64..1.0, seed: u64) {
            let mut rng = DeviceRng::new(seed);
            let w = torn_erase_word(old, p, &mut rng);
            prop_assert_eq!(w & old, old);
        }
    }

    #[test]
    fn erase_progress_shapes_the_mix() {
        let mut rng = DeviceRng::new(3);
        let count = |p: f64, rng: &mut DeviceRng| {
            (0..4096)
                .filter(|_| torn_erase_word(0, p, rng) == u32::MAX)
                .count()
        };
        let early = count(0.05, &mut rng);
        let late = count(0.95, &mut rng);
        assert!(early < 400, "early cut leaves most words unerased: {early}");
        assert!(late > 3600, "late cut leaves most words erased: {late}");
    }
}
