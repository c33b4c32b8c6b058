//! summary.txt: the summary as aligned text for a person (and a CI log).

use super::{GroupStats, Summary, Totals};
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

fn bricked(n: u64) -> String {
    if n > 0 {
        format!("{n} !!!")
    } else {
        "0".into()
    }
}

fn right_align(table: &mut Table, columns: std::ops::Range<usize>) {
    for i in columns {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// A table with the summary's look and `header`'s columns.
fn new_table(header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(PRESET)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    table
}

const COUNT_COLUMNS: [&str; 5] = ["iter", "pass", "fail", "flaky", "error"];

fn count_cells(c: &Totals) -> [String; 5] {
    [c.iterations, c.passed, c.failed, c.flaky, c.errors].map(|n| n.to_string())
}

fn label(g: &GroupStats) -> String {
    format!("{} on {}/{}", g.sub_case, g.bench, g.dut)
}

impl Summary {
    /// One row per DUT, all its sub-cases together.
    fn dut_table(&self) -> String {
        let mut table = new_table(
            [
                &["bench", "dut"][..],
                &COUNT_COLUMNS,
                &[
                    "success (wilson95)",
                    "update p50/p95 s",
                    "B/s p50/p95",
                    "bricked",
                ],
            ]
            .concat(),
        );
        for d in &self.duts {
            let mut row = vec![d.bench.clone(), d.dut.clone()];
            row.extend(count_cells(&d.counts));
            row.extend([
                rate(&d.success),
                spread(&d.update_ms, 1000.0, 2),
                spread(&d.throughput_bps, 1.0, 0),
                bricked(d.counts.bricked),
            ]);
            table.add_row(row);
        }
        right_align(&mut table, 2..11);
        table.trim_fmt()
    }

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
                (true, _) if r.stopped.as_deref() == Some("interrupted") => {
                    "stopped by a signal (the iterations it finished are all here)"
                }
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

        if !self.duts.is_empty() {
            out.push_str(&self.dut_table());
            out.push_str("\n\n");
        }

        let mut table = new_table(
            [
                &["sub-case", "bench", "dut"][..],
                &COUNT_COLUMNS,
                &[
                    "success (wilson95)",
                    "flake (wilson95)",
                    "update p50/p95 s",
                    "B/s p50/p95",
                    "bricked",
                ],
            ]
            .concat(),
        );
        for g in &self.groups {
            let mut row = vec![g.sub_case.clone(), g.bench.clone(), g.dut.clone()];
            row.extend(count_cells(&g.counts));
            row.extend([
                rate(&g.success),
                rate(&g.flake),
                spread(&g.update_ms, 1000.0, 2),
                spread(&g.throughput_bps, 1.0, 0),
                bricked(g.counts.bricked),
            ]);
            table.add_row(row);
        }
        right_align(&mut table, 3..13);
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
        let builds: Vec<_> = self
            .groups
            .iter()
            .filter(|g| g.bootloader_options.is_some() || g.resume.is_some())
            .collect();
        if !builds.is_empty() {
            out.push_str("
bootloader build and resumes
");
            for g in builds {
                let mut line = format!(
                    "  {}: {}",
                    label(g),
                    g.bootloader_options.as_deref().unwrap_or("build unknown")
                );
                if let Some(r) = g.resume {
                    let _ = write!(
                        line,
                        "; {} resume(s): {} resumed, {} due, {} bytes resent, mean offset {}",
                        r.resumes,
                        r.resumed,
                        r.due,
                        r.bytes_resent,
                        r.offset_sum / r.resumes.max(1)
                    );
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
        if !self.defects.is_empty() {
            let caught = self.defects.iter().filter(|d| d.caught).count();
            let _ = writeln!(
                out,
                "\ninjected defects: {caught} of {} caught",
                self.defects.len()
            );
            for d in &self.defects {
                let odds = d
                    .miss_probability
                    .map(|p| format!("{p:.1e}"))
                    .unwrap_or_else(|| "unknown (no fires_per_iteration)".into());
                let _ = writeln!(
                    out,
                    "  {} (case {}, {} iterations): {}",
                    d.defect,
                    d.case,
                    d.iterations,
                    if d.caught {
                        format!("caught (a run this size misses it with probability {odds})")
                    } else {
                        format!("MISSED (a miss this size has probability {odds})")
                    }
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
