//! Nights compared: the failure rate of each sub-case on each DUT, night by night, with a
//! regression flagged where a night's 95 % Wilson interval lies entirely above the previous
//! night's (so a rate that merely wobbles inside the noise is not flagged).
//!
//! The failure rate is everything but a clean first-attempt pass over device iterations
//! (failed + flaky; infrastructure errors excluded), the complement of the summary's success.

use super::stats::Rate;
use super::summary::{GroupStats, Summary};
use std::collections::BTreeMap;

/// One night: the summary of one earlier campaign (or of this run).
#[derive(Debug, Clone, PartialEq)]
pub struct Night {
    /// What the report calls it: the start date, or `this run`.
    pub label: String,
    /// RFC 3339 start time, to order nights.
    pub wall_start: String,
    pub summary: Summary,
}

/// One sub-case on one DUT of one bench across nights.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub bench: String,
    pub dut: String,
    pub sub_case: String,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Index into [`Trend::nights`].
    pub night: usize,
    pub failure: Rate,
    /// The interval lies entirely above the previous point's.
    pub regressed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// Oldest first; the last one is this run.
    pub nights: Vec<(String, String)>,
    pub series: Vec<Series>,
}

/// Failed + flaky over device iterations; `None` without device iterations.
pub fn failure_rate(g: &GroupStats) -> Option<Rate> {
    Rate::wilson(
        g.counts.failed + g.counts.flaky,
        g.counts.device_iterations(),
    )
}

/// `now` lies entirely above `before`: a regression that is not noise at 95 %.
pub fn is_regression(before: &Rate, now: &Rate) -> bool {
    now.low > before.high
}

impl Trend {
    /// Earlier nights (any order; sorted by start time) followed by this run.
    pub fn new(mut history: Vec<Night>, current: Night) -> Trend {
        history.sort_by_key(|n| start_key(&n.wall_start));
        history.push(current);
        let mut series: Vec<Series> = Vec::new();
        let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        // Keys in this run's order first, so the report lists what ran tonight at the top.
        for night in history.iter().rev() {
            for g in &night.summary.groups {
                let key = (g.bench.clone(), g.dut.clone(), g.sub_case.clone());
                index.entry(key).or_insert_with(|| {
                    series.push(Series {
                        bench: g.bench.clone(),
                        dut: g.dut.clone(),
                        sub_case: g.sub_case.clone(),
                        points: Vec::new(),
                    });
                    series.len() - 1
                });
            }
        }
        for (ni, night) in history.iter().enumerate() {
            for g in &night.summary.groups {
                let key = (g.bench.clone(), g.dut.clone(), g.sub_case.clone());
                let (Some(&si), Some(failure)) = (index.get(&key), failure_rate(g)) else {
                    continue;
                };
                let points = &mut series[si].points;
                let regressed = points
                    .last()
                    .is_some_and(|p: &Point| is_regression(&p.failure, &failure));
                points.push(Point {
                    night: ni,
                    failure,
                    regressed,
                });
            }
        }
        Trend {
            nights: history
                .into_iter()
                .map(|n| (n.label, n.wall_start))
                .collect(),
            series,
        }
    }

    /// Series whose latest point is this run's and regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &Series> {
        let last = self.nights.len().saturating_sub(1);
        self.series.iter().filter(move |s| {
            s.points
                .last()
                .is_some_and(|p| p.night == last && p.regressed)
        })
    }
}

/// Start times as instants where they parse (offsets may differ between benches), else as text.
fn start_key(wall_start: &str) -> (i64, String) {
    let t = chrono::DateTime::parse_from_rfc3339(wall_start)
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MIN);
    (t, wall_start.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::testkit::{header, journal, night_iterations};
    use crate::campaign::Outcome;

    /// A night with `fails` failures in `n` iterations of sub-case `s`.
    fn night(label: &str, start: &str, fails: u32, n: u32) -> Night {
        let its = night_iterations(fails, n, Outcome::DfuMode);
        Night {
            label: label.into(),
            wall_start: start.into(),
            summary: Summary::of(&[journal("j", header("bench-a", 1), its, true)]),
        }
    }

    #[test]
    fn a_rate_above_the_previous_interval_is_a_regression() {
        let t = Trend::new(
            vec![night("n1", "2026-09-01T02:00:00Z", 2, 200)],
            night("now", "2026-09-02T02:00:00Z", 40, 200),
        );
        assert_eq!(t.series.len(), 1);
        let p = &t.series[0].points;
        assert_eq!(p.len(), 2);
        assert!(p[1].failure.low > p[0].failure.high);
        assert!(p[1].regressed && !p[0].regressed);
        assert_eq!(t.regressions().count(), 1);
    }

    #[test]
    fn an_equal_or_overlapping_rate_is_not() {
        let equal = Trend::new(
            vec![night("n1", "2026-09-01T02:00:00Z", 5, 100)],
            night("now", "2026-09-02T02:00:00Z", 5, 100),
        );
        assert_eq!(equal.regressions().count(), 0);
        // Higher, but inside the noise: 3/100 then 6/100 overlap at 95 %.
        let noisy = Trend::new(
            vec![night("n1", "2026-09-01T02:00:00Z", 3, 100)],
            night("now", "2026-09-02T02:00:00Z", 6, 100),
        );
        assert_eq!(noisy.regressions().count(), 0);
        // An improvement is never a regression.
        let better = Trend::new(
            vec![night("n1", "2026-09-01T02:00:00Z", 40, 200)],
            night("now", "2026-09-02T02:00:00Z", 0, 200),
        );
        assert_eq!(better.regressions().count(), 0);
    }

    #[test]
    fn nights_are_ordered_by_start_and_this_run_is_last() {
        let t = Trend::new(
            vec![
                // 00:30 UTC on 09-02, although its text sorts first.
                night("b", "2026-09-01T23:30:00-01:00", 0, 10),
                // 00:00 UTC on 09-02.
                night("a", "2026-09-02T02:00:00+02:00", 0, 10),
            ],
            night("now", "2026-09-01T00:00:00Z", 0, 10),
        );
        let labels: Vec<&str> = t.nights.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["a", "b", "now"],
            "by instant, and this run last whatever its date"
        );
    }
}
