//! Statistics per DUT (all its sub-cases together): the rows of the per-DUT tables in
//! summary.txt and report.html. Percentiles need the samples, so they are built alongside the
//! per-case groups in [`super::Summary::of`], not added up from them.

use super::{GroupStats, Totals};
use crate::campaign::stats::{Rate, Spread};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DutStats {
    pub bench: String,
    pub dut: String,
    pub chip: Option<String>,
    pub bootloader: Option<String>,
    #[serde(flatten)]
    pub counts: Totals,
    /// Clean first-attempt passes over device iterations (errors excluded).
    pub success: Option<Rate>,
    pub update_ms: Option<Spread>,
    pub throughput_bps: Option<Spread>,
}

impl DutStats {
    pub(super) fn new(g: &GroupStats) -> DutStats {
        DutStats {
            bench: g.bench.clone(),
            dut: g.dut.clone(),
            chip: g.chip.clone(),
            bootloader: g.bootloader.clone(),
            counts: Totals::default(),
            success: None,
            update_ms: None,
            throughput_bps: None,
        }
    }

    pub(super) fn finish(&mut self, update: &[f64], throughput: &[f64]) {
        self.success = Rate::wilson(self.counts.passed, self.counts.device_iterations());
        self.update_ms = Spread::of(update);
        self.throughput_bps = Spread::of(throughput);
    }
}
