//! What the per-iteration charts need from the journals, per DUT in the summary's order: one
//! small category per iteration and the two samples. About 17 bytes per iteration, so 10 000
//! iterations cost a few hundred kilobytes however much evidence the journal holds.

use crate::campaign::failure_class::FailureClass;
use crate::campaign::journal::{IterationRecord, Journal};
use crate::campaign::summary::{bricked, Summary};
use crate::campaign::Verdict;
use std::collections::{HashMap, HashSet};

/// What an iteration's timeline cell shows, most severe last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Pass,
    Flaky,
    /// The bench failed (`infra.*`): a JUnit error, not a device failure.
    Infra,
    Protocol,
    Timeout,
    Verify,
    Brick,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Pass,
        Category::Flaky,
        Category::Infra,
        Category::Protocol,
        Category::Timeout,
        Category::Verify,
        Category::Brick,
    ];

    pub fn of(it: &IterationRecord) -> Category {
        if bricked(it) {
            return Category::Brick;
        }
        match it.verdict {
            Verdict::Pass => Category::Pass,
            Verdict::Flaky => Category::Flaky,
            Verdict::Error => Category::Infra,
            Verdict::Fail => match it.failure_class {
                Some(FailureClass::Timeout(_)) => Category::Timeout,
                Some(FailureClass::Verify(_)) => Category::Verify,
                Some(FailureClass::Brick) => Category::Brick,
                Some(FailureClass::Infra(_)) => Category::Infra,
                // A failure the oracle could not place is shown with the protocol failures.
                Some(FailureClass::Protocol { .. }) | None => Category::Protocol,
            },
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Pass => "pass",
            Category::Flaky => "flaky (passed on retry)",
            Category::Infra => "infra.* (bench error)",
            Category::Protocol => "dut.protocol.*",
            Category::Timeout => "dut.timeout.*",
            Category::Verify => "dut.verify.*",
            Category::Brick => "bricked",
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            Category::Pass => "#A6DBC9",
            Category::Flaky => "#E69F00",
            Category::Infra => "#999999",
            Category::Protocol => "#D55E00",
            Category::Timeout => "#CC79A7",
            Category::Verify => "#0072B2",
            Category::Brick => "#000000",
        }
    }
}

/// One DUT's iterations in journal order (journals in the order given).
#[derive(Debug, Default)]
pub struct DutSeries {
    pub bench: String,
    pub dut: String,
    pub categories: Vec<Category>,
    /// (position in `categories`, update time ms)
    pub update_ms: Vec<(u32, f64)>,
    /// (position in `categories`, bytes per second)
    pub throughput: Vec<(u32, f64)>,
    /// Where a sub-case (or a journal) starts: (position, sub-case).
    pub starts: Vec<(u32, String)>,
}

impl DutSeries {
    pub fn label(&self) -> String {
        format!("{}/{}", self.bench, self.dut)
    }
}

pub fn per_dut(summary: &Summary, journals: &[Journal]) -> Vec<DutSeries> {
    let mut out: Vec<DutSeries> = summary
        .duts
        .iter()
        .map(|d| DutSeries {
            bench: d.bench.clone(),
            dut: d.dut.clone(),
            ..DutSeries::default()
        })
        .collect();
    let index: HashMap<(String, String), usize> = out
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.bench.clone(), s.dut.clone()), i))
        .collect();
    for j in journals {
        // DUTs seen in this journal: their first iteration here starts a segment (a new night).
        let mut seen: HashSet<usize> = HashSet::new();
        for it in j.iterations() {
            let Some(&di) = index.get(&(j.header.bench.name.clone(), it.dut.clone())) else {
                continue;
            };
            let s = &mut out[di];
            let pos = s.categories.len() as u32;
            let new_journal = seen.insert(di);
            if new_journal || s.starts.last().is_none_or(|(_, sc)| *sc != it.sub_case) {
                s.starts.push((pos, it.sub_case.clone()));
            }
            s.categories.push(Category::of(it));
            if let Some(ms) = it.update_ms {
                s.update_ms.push((pos, ms as f64));
            }
            if let Some(t) = it.throughput_bps() {
                s.throughput.push((pos, t));
            }
        }
    }
    out
}
