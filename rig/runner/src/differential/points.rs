//! Seeded interruption points: the same seed and count give the same points, so a run that
//! found a difference can be replayed exactly.

use super::client::{CutAt, Phase};
use super::session::Interruption;

/// The campaign's random source (SplitMix64), so a point is drawn as a campaign's fault point is.
use crate::campaign::run::rng::SplitMix64;

/// Uniform in `0..=max`.
fn up_to(rng: &mut SplitMix64, max: usize) -> usize {
    rng.below(max as u64 + 1) as usize
}

/// `count` points for `kind`: one in four in the init packet (0..=its length bytes written),
/// the rest in the firmware (0..=its length). Each kind draws from its own stream of `seed`.
pub fn points(
    seed: u64,
    count: usize,
    kind: Interruption,
    init_len: usize,
    fw_len: usize,
) -> Vec<CutAt> {
    let salt = match kind {
        Interruption::Reset => 1,
        Interruption::PowerCut => 2,
        Interruption::LinkDrop => 3,
    };
    let mut rng = SplitMix64::new(seed ^ (salt << 56));
    (0..count)
        .map(|_| {
            if rng.next_u64().is_multiple_of(4) {
                CutAt {
                    phase: Phase::InitPacket,
                    offset: up_to(&mut rng, init_len),
                }
            } else {
                // Whole words: nrfutil's WRITEs are (MTU-1)/2-1 = 64 bytes and objects are
                // word-sized, so a client never sends a data WRITE of another length. (The
                // genuine debug build asserts on one: nrf_fstorage_write's length check is an
                // ASSERT with NRF_FSTORAGE_PARAM_CHECK_DISABLED; found by `rig diff`.)
                CutAt {
                    phase: Phase::Data,
                    offset: up_to(&mut rng, fw_len) & !3,
                }
            }
        })
        .collect()
}

/// How a report names a point.
pub fn describe(kind: Interruption, cut: CutAt, init_len: usize, fw_len: usize) -> String {
    match cut.phase {
        Phase::InitPacket => format!(
            "{} in the init packet after byte {} of {init_len}",
            kind.name(),
            cut.offset
        ),
        Phase::Data => format!(
            "{} in the data after byte {} of {fw_len}",
            kind.name(),
            cut.offset
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_points_and_another_seed_others() {
        let a = points(7, 8, Interruption::Reset, 141, 5000);
        assert_eq!(a, points(7, 8, Interruption::Reset, 141, 5000));
        assert_ne!(a, points(8, 8, Interruption::Reset, 141, 5000));
        assert_ne!(a, points(7, 8, Interruption::PowerCut, 141, 5000));
        assert!(a.iter().all(|c| match c.phase {
            Phase::InitPacket => c.offset <= 141,
            Phase::Data => c.offset <= 5000 && c.offset % 4 == 0,
        }));
    }
}
