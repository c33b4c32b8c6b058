//! summary.txt: the summary as aligned text for a person (and a CI log).

use super::{GroupStats, Summary};
use crate::campaign::stats::{Rate, Spread};
use comfy_table::{CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

/// No borders, a dashed line under the header: reads well in a log and in a text file.
const PRESET: &str = "     --            ";

fn rate(r: &Option<Rate>) -> String {
    match r {
        Some(r) => format!("{:.4} ({:.4}..{:.4})", r.rate, r.low, r.high),
        None => "-".into(),
    }
}

fn spread(s: &Option<Spread>, scale: f64, decimals: usize) -> String {
    match s {
        Some(s) => format!(
            "{:.*} / {:.*}",
            decimals,
            s.p50 / scale,
            decimals,
            s.p95 / scale
        ),
        None => "-".into(),
    }
}

fn histogram<K: std::fmt::Display>(items: impl Iterator<Item = (K, u64)>) -> String {
    items
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label(g: &GroupStats) -> String {
    format!("{} on {}/{}", g.sub_case, g.bench, g.dut)
}

impl Summary {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let t = &self.totals;
        if t.bricked > 0 {
            let _ = writeln!(
                out,
                "!!! BRICKED: {} iteration(s) left a device that needed an SWD reflash !!!\n",
                t.bricked
            );
        }
        out.push_str("rig campaign summary\n\n");
        for r in &self.runs {
            let state = match (r.complete, r.truncated) {
                (true, _) => "complete",
                (false, true) => "interrupted (partial last line dropped)",
                (false, false) => "interrupted (no footer)",
            };
            let _ = writeln!(
                out,
                "run   {} seed {} (0x{:x}) on bench {}{}: {} iterations, {}",
                r.suite,
                r.seed,
                r.seed,
                r.bench,
                r.host
                    .as_deref()
                    .map(|h| format!(" (host {h})"))
                    .unwrap_or_default(),
                r.iterations,
                state
            );
            let _ = writeln!(
                out,
                "      started {}, rig {}, journal {}",
                r.wall_start, r.tool_version, r.journal
            );
        }
        let _ = writeln!(
            out,
            "\ntotal {} iterations: {} passed, {} failed, {} flaky, {} infrastructure errors; {} bricked\n",
            t.iterations, t.passed, t.failed, t.flaky, t.errors, t.bricked
        );

        let mut table = Table::new();
        table
            .load_preset(PRESET)
            .set_content_arrangement(ContentArrangement::Disabled);
        table.set_header(vec![
            "sub-case",
            "bench",
            "dut",
            "iter",
            "pass",
            "fail",
            "flaky",
            "error",
            "success (wilson95)",
            "flake (wilson95)",
            "update p50/p95 s",
            "B/s p50/p95",
            "bricked",
        ]);
        for g in &self.groups {
            table.add_row(vec![
                g.sub_case.clone(),
                g.bench.clone(),
                g.dut.clone(),
                g.iterations.to_string(),
                g.passed.to_string(),
                g.failed.to_string(),
                g.flaky.to_string(),
                g.errors.to_string(),
                rate(&g.success),
                rate(&g.flake),
                spread(&g.update_ms, 1000.0, 2),
                spread(&g.throughput_bps, 1.0, 0),
                if g.bricked > 0 {
                    format!("{} !!!", g.bricked)
                } else {
                    "0".into()
                },
            ]);
        }
        for i in 3..13 {
            if let Some(c) = table.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&table.trim_fmt());
        out.push('\n');

        let outcomes: Vec<_> = self
            .groups
            .iter()
            .filter(|g| !g.outcomes.is_empty())
            .collect();
        if !outcomes.is_empty() {
            out.push_str("\noutcomes\n");
            for g in outcomes {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    label(g),
                    histogram(g.outcomes.iter().map(|(k, v)| (k, *v)))
                );
            }
        }
        let classes: Vec<_> = self
            .groups
            .iter()
            .filter(|g| !g.failure_classes.is_empty())
            .collect();
        if !classes.is_empty() {
            out.push_str("\nfailure classes\n");
            for g in classes {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    label(g),
                    histogram(g.failure_classes.iter().map(|(k, v)| (k, *v)))
                );
            }
        }
        let failing: Vec<_> = self
            .groups
            .iter()
            .filter(|g| !g.first_failures.is_empty())
            .collect();
        if !failing.is_empty() {
            out.push_str("\nfirst failures\n");
            for g in failing {
                for f in &g.first_failures {
                    let _ = writeln!(
                        out,
                        "  {} iteration {} ({}, seed 0x{:016x}): {}{}",
                        label(g),
                        f.iteration,
                        f.verdict,
                        f.seed,
                        f.failure_class.as_deref().unwrap_or("-"),
                        f.message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    );
                    let _ = writeln!(out, "    replay: {}", f.replay);
                }
            }
        }
        if !self.healing.is_empty() {
            let _ = writeln!(
                out,
                "\nhealing: {}",
                histogram(self.healing.iter().map(|(k, v)| (k, *v)))
            );
        }
        if !self.quarantines.is_empty() {
            out.push_str("\nquarantined\n");
            for q in &self.quarantines {
                let _ = writeln!(out, "  {q}");
            }
        }
        out
    }
}
