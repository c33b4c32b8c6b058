//! The two statistics the summary needs: a Wilson score interval for rates (honest at 0/n and
//! n/n, where the normal approximation collapses to a zero-width interval) and percentiles.
//! Both are a few lines of arithmetic; a statistics crate would add far more than it saves.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval (the 0.975 quantile of the standard normal).
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its 95 % Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub successes: u64,
    pub trials: u64,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    /// `None` without trials: no rate to state.
    pub fn wilson(successes: u64, trials: u64) -> Option<Rate> {
        if trials == 0 || successes > trials {
            return None;
        }
        let n = trials as f64;
        let p = successes as f64 / n;
        let z2 = Z95 * Z95;
        let denom = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denom;
        let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        Some(Rate {
            successes,
            trials,
            rate: p,
            // Exactly 0 and 1 at the ends (rounding leaves a few ULPs there, which would put
            // the bound on the wrong side of the rate).
            low: if successes == 0 {
                0.0
            } else {
                (centre - half).clamp(0.0, p)
            },
            high: if successes == trials {
                1.0
            } else {
                (centre + half).clamp(p, 1.0)
            },
        })
    }
}

impl std::fmt::Display for Rate {
    /// `0.9900 (wilson95 0.9710..0.9966, 297/300)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.4} (wilson95 {:.4}..{:.4}, {}/{})",
            self.rate, self.low, self.high, self.successes, self.trials
        )
    }
}

/// The `p`-quantile (0..=1) of `values` by linear interpolation between closest ranks (type 7,
/// the default of R and NumPy); `None` for no values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Median and 95th percentile of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        Some(Spread {
            count: values.len(),
            p50: percentile(values, 0.5)?,
            p95: percentile(values, 0.95)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    // Reference values from the closed form evaluated independently (Python, double precision);
    // 1/20 is flakerate's "anywhere from 1% to 24%".
    #[rstest]
    #[case(0, 10, 0.000000, 0.277533)]
    #[case(5, 10, 0.236593, 0.763407)]
    #[case(10, 10, 0.722467, 1.000000)]
    #[case(95, 100, 0.888250, 0.978456)]
    #[case(1, 20, 0.008881, 0.236131)]
    #[case(0, 1, 0.000000, 0.793451)]
    #[case(299, 300, 0.981363, 0.999411)]
    fn wilson_known_values(#[case] k: u64, #[case] n: u64, #[case] low: f64, #[case] high: f64) {
        let r = Rate::wilson(k, n).unwrap();
        assert!((r.low - low).abs() < 5e-7, "low {} vs {low}", r.low);
        assert!((r.high - high).abs() < 5e-7, "high {} vs {high}", r.high);
        assert_eq!(r.rate, k as f64 / n as f64);
    }

    #[test]
    fn wilson_without_trials_or_with_too_many_successes() {
        assert_eq!(Rate::wilson(0, 0), None);
        assert_eq!(Rate::wilson(3, 2), None);
        assert_eq!(
            Rate::wilson(297, 300).unwrap().to_string(),
            "0.9900 (wilson95 0.9710..0.9966, 297/300)"
        );
    }

    #[rstest]
    #[case(&[1.0, 2.0, 3.0, 4.0], 2.5, 3.85)]
    #[case(&[15.0, 20.0, 35.0, 40.0, 50.0], 35.0, 48.0)]
    #[case(&[5.0], 5.0, 5.0)]
    #[case(&[10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 5.5, 9.55)]
    fn percentiles(#[case] v: &[f64], #[case] p50: f64, #[case] p95: f64) {
        let s = Spread::of(v).unwrap();
        assert!(
            (s.p50 - p50).abs() < 1e-9 && (s.p95 - p95).abs() < 1e-9,
            "{s:?}"
        );
        assert_eq!(s.count, v.len());
        assert_eq!(percentile(v, 0.0), v.iter().copied().reduce(f64::min));
        assert_eq!(percentile(v, 1.0), v.iter().copied().reduce(f64::max));
    }

    #[test]
    fn percentile_edges() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0], 1.5), None);
        assert_eq!(percentile(&[f64::NAN, 2.0], 0.5), Some(2.0));
    }

    proptest! {
        #[test]
        fn wilson_contains_the_rate(n in 1u64..5000, k_frac in 0.0f64..=1.0) {
            let k = ((n as f64) * k_frac).floor() as u64;
            let r = Rate::wilson(k, n).unwrap();
            prop_assert!(0.0 <= r.low && r.low <= r.rate && r.rate <= r.high && r.high <= 1.0);
            // Symmetric: k successes and n-k failures mirror each other.
            let m = Rate::wilson(n - k, n).unwrap();
            prop_assert!((r.low - (1.0 - m.high)).abs() < 1e-9);
        }

        #[test]
        fn percentiles_are_ordered_and_bounded(v in proptest::collection::vec(-1e6f64..1e6, 1..200)) {
            let s = Spread::of(&v).unwrap();
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(min <= s.p50 && s.p50 <= s.p95 && s.p95 <= max);
        }
    }
}
