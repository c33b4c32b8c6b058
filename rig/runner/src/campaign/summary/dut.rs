//! Statistics per DUT (all its sub-cases together): the rows of the per-DUT tables in
//! summary.txt and report.html. Percentiles need the samples, so they are built alongside the
//! per-case groups in [`super::Summary::of`], not added up from them.

use super::GroupStats;
use crate::campaign::stats::{Rate, Spread};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DutStats {
    pub bench: String,
    pub dut: String,
    pub chip: Option<String>,
    pub bootloader: Option<String>,
    pub iterations: u64,
    pub passed: u64,
    pub failed: u64,
    pub flaky: u64,
    pub errors: u64,
    pub bricked: u64,
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
            iterations: 0,
            passed: 0,
            failed: 0,
            flaky: 0,
            errors: 0,
            bricked: 0,
            success: None,
            update_ms: None,
            throughput_bps: None,
        }
    }

    /// Add a finished group's counts (rates and spreads are set afterwards from samples).
    pub(super) fn add_counts(&mut self, g: &GroupStats) {
        self.iterations += g.iterations;
        self.passed += g.passed;
        self.failed += g.failed;
        self.flaky += g.flaky;
        self.errors += g.errors;
        self.bricked += g.bricked;
    }

    pub(super) fn finish(&mut self, update: &[f64], throughput: &[f64]) {
        self.success = Rate::wilson(self.passed, self.device_iterations());
        self.update_ms = Spread::of(update);
        self.throughput_bps = Spread::of(throughput);
    }

    /// Iterations that say something about the device (infrastructure errors excluded).
    pub fn device_iterations(&self) -> u64 {
        self.passed + self.failed + self.flaky
    }
}
