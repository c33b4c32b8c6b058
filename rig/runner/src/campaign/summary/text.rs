//! summary.txt: the summary as aligned text for a person (and a CI log); on a terminal, the
//! same fitted to its width.

use super::{fit, GroupStats, Summary, Totals};
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

/// One column of a summary table.
struct Column {
    header: &'static str,
    cells: Vec<String>,
    right: bool,
    /// Left out to fit a terminal, lowest first; `None` always stays.
    drop_order: Option<u8>,
    /// Left out without a note: every cell is 0 and the total line says so.
    all_zero: bool,
}

impl Column {
    fn new(header: &'static str, right: bool, drop_order: Option<u8>) -> Column {
        Column {
            header,
            cells: Vec::new(),
            right,
            drop_order,
            all_zero: false,
        }
    }

    /// A count column whose every cell is 0 goes first, and silently.
    fn first_out_when_all_zero(mut self) -> Column {
        if self.cells.iter().all(|c| c == "0") {
            self.drop_order = Some(0);
            self.all_zero = true;
        }
        self
    }
}

/// The table, no borders, a dashed line under the header: reads well in a log and in a file.
fn render_table(columns: &[&Column], width: Option<usize>) -> String {
    let mut table = Table::new();
    table
        .load_preset(PRESET)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.iter().map(|c| c.header));
    let rows = columns.first().map_or(0, |c| c.cells.len());
    for r in 0..rows {
        table.add_row(columns.iter().map(|c| c.cells[r].as_str()));
    }
    for (i, c) in columns.iter().enumerate() {
        if let (true, Some(col)) = (c.right, table.column_mut(i)) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    if let Some(w) = width {
        // Cells wrap onto more lines only when dropping columns was not enough.
        if widest(&table.trim_fmt()) > w {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(u16::try_from(w).unwrap_or(u16::MAX));
        }
    }
    table.trim_fmt()
}

fn widest(text: &str) -> usize {
    text.lines().map(fit::columns).max().unwrap_or(0)
}

/// The table with every column (no width), or fitted to `width` columns by leaving out the
/// least needed ones first; also the headers left out.
fn fit_table(columns: Vec<Column>, width: Option<usize>) -> (String, Vec<&'static str>) {
    let mut shown: Vec<&Column> = columns.iter().collect();
    let mut dropped = Vec::new();
    let Some(w) = width else {
        return (render_table(&shown, None), dropped);
    };
    while widest(&render_table(&shown, None)) > w {
        let Some((i, _)) = shown
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.drop_order.map(|o| (i, o)))
            .min_by_key(|(_, o)| *o)
        else {
            break;
        };
        let c = shown.remove(i);
        if !c.all_zero {
            dropped.push(c.header);
        }
    }
    (render_table(&shown, Some(w)), dropped)
}

/// The note under a fitted table that left columns out.
fn dropped_note(dropped: &[&str], width: Option<usize>) -> String {
    if dropped.is_empty() {
        return String::new();
    }
    let text = format!(
        "(left out to fit the terminal: {}; --wide and summary.txt show every column)",
        dropped.join(", ")
    );
    let mut out = String::new();
    for l in fit::wrap(&text, width) {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

const COUNT_COLUMNS: [&str; 5] = ["iter", "pass", "fail", "flaky", "error"];

fn count_cells(c: &Totals) -> [String; 5] {
    [c.iterations, c.passed, c.failed, c.flaky, c.errors].map(|n| n.to_string())
}

fn label(g: &GroupStats) -> String {
    format!("{} on {}/{}", g.sub_case, g.bench, g.dut)
}

/// Append `text` as lines of at most `width` columns (indents as [`fit::wrap_with`]).
fn put(out: &mut String, width: Option<usize>, first: &str, rest: &str, text: &str) {
    for l in fit::wrap_with(text, width, first, rest) {
        out.push_str(&l);
        out.push('\n');
    }
}

/// The columns every table has after its key columns, up to and including success.
fn count_columns(right_from: bool) -> Vec<Column> {
    COUNT_COLUMNS
        .iter()
        .map(|&h| Column::new(h, right_from, None))
        .collect()
}

/// Flaky and error counts that are all 0 go first (iterations, passes and failures stay).
fn zero_counts_first(counts: Vec<Column>) -> Vec<Column> {
    counts
        .into_iter()
        .map(|c| match c.header {
            "flaky" | "error" => c.first_out_when_all_zero(),
            _ => c,
        })
        .collect()
}

impl Summary {
    /// One row per DUT, all its sub-cases together.
    fn dut_table(&self, width: Option<usize>) -> (String, Vec<&'static str>) {
        let one_bench = self.duts.iter().all(|d| d.bench == self.duts[0].bench);
        let mut bench = Column::new("bench", false, one_bench.then_some(1));
        let mut dut = Column::new("dut", false, None);
        let mut counts = count_columns(true);
        let mut success = Column::new("success (wilson95)", true, None);
        let mut update = Column::new("update p50/p95 s", true, Some(3));
        let mut bps = Column::new("B/s p50/p95", true, Some(2));
        let mut brick = Column::new("bricked", true, None);
        for d in &self.duts {
            bench.cells.push(d.bench.clone());
            dut.cells.push(d.dut.clone());
            for (c, v) in counts.iter_mut().zip(count_cells(&d.counts)) {
                c.cells.push(v);
            }
            success.cells.push(rate(&d.success));
            update.cells.push(spread(&d.update_ms, 1000.0, 2));
            bps.cells.push(spread(&d.throughput_bps, 1.0, 0));
            brick.cells.push(bricked(d.counts.bricked));
        }
        let mut columns = vec![bench, dut];
        columns.extend(zero_counts_first(counts));
        columns.extend([success, update, bps, brick.first_out_when_all_zero()]);
        fit_table(columns, width)
    }

    /// One row per sub-case on each DUT.
    fn group_table(&self, width: Option<usize>) -> (String, Vec<&'static str>) {
        let one_bench = self.groups.iter().all(|g| g.bench == self.groups[0].bench);
        let one_dut = self.groups.iter().all(|g| g.dut == self.groups[0].dut);
        let mut sub_case = Column::new("sub-case", false, None);
        let mut bench = Column::new("bench", false, one_bench.then_some(1));
        let mut dut = Column::new("dut", false, (one_bench && one_dut).then_some(5));
        let mut counts = count_columns(true);
        let mut success = Column::new("success (wilson95)", true, None);
        let mut flake = Column::new("flake (wilson95)", true, Some(4));
        let mut update = Column::new("update p50/p95 s", true, Some(3));
        let mut bps = Column::new("B/s p50/p95", true, Some(2));
        let mut brick = Column::new("bricked", true, None);
        for g in &self.groups {
            sub_case.cells.push(g.sub_case.clone());
            bench.cells.push(g.bench.clone());
            dut.cells.push(g.dut.clone());
            for (c, v) in counts.iter_mut().zip(count_cells(&g.counts)) {
                c.cells.push(v);
            }
            success.cells.push(rate(&g.success));
            flake.cells.push(rate(&g.flake));
            update.cells.push(spread(&g.update_ms, 1000.0, 2));
            bps.cells.push(spread(&g.throughput_bps, 1.0, 0));
            brick.cells.push(bricked(g.counts.bricked));
        }
        let mut columns = vec![sub_case, bench, dut];
        columns.extend(zero_counts_first(counts));
        columns.extend([success, flake, update, bps, brick.first_out_when_all_zero()]);
        fit_table(columns, width)
    }

    /// The whole summary, every column (summary.txt, and a pipe or file).
    pub fn to_text(&self) -> String {
        self.render(None)
    }

    /// The summary in lines of at most `width` terminal columns: tables leave out their least
    /// needed columns (and say which), long lines wrap, replay commands continue with ` \`.
    pub fn to_text_fitted(&self, width: usize) -> String {
        self.render(Some(width))
    }

    fn render(&self, width: Option<usize>) -> String {
        let mut out = String::new();
        let t = &self.totals;
        if t.bricked > 0 {
            let text = format!(
                "!!! BRICKED: {} iteration(s) left a device that needed an SWD reflash !!!",
                t.bricked
            );
            put(&mut out, width, "", "", &text);
            out.push('\n');
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
            let run = format!(
                "{} seed {} (0x{:x}) on bench {} [{}]{}: {} iterations, {}",
                r.suite,
                r.seed,
                r.seed,
                r.bench,
                r.bench_kind,
                r.host
                    .as_deref()
                    .map(|h| format!(" (host {h})"))
                    .unwrap_or_default(),
                r.iterations,
                state
            );
            put(&mut out, width, "run   ", "      ", &run);
            let started = format!(
                "started {}, rig {}, journal {}",
                r.wall_start, r.tool_version, r.journal
            );
            put(&mut out, width, "      ", "      ", &started);
        }
        out.push('\n');
        let total = format!(
            "total {} iterations: {} passed, {} failed, {} flaky, {} infrastructure errors; {} bricked",
            t.iterations, t.passed, t.failed, t.flaky, t.errors, t.bricked
        );
        put(&mut out, width, "", "", &total);
        out.push('\n');

        if !self.duts.is_empty() {
            let (table, dropped) = self.dut_table(width);
            out.push_str(&table);
            out.push('\n');
            out.push_str(&dropped_note(&dropped, width));
            out.push('\n');
        }

        let (table, dropped) = self.group_table(width);
        out.push_str(&table);
        out.push('\n');
        out.push_str(&dropped_note(&dropped, width));

        let outcomes: Vec<_> = self
            .groups
            .iter()
            .filter(|g| !g.outcomes.is_empty())
            .collect();
        if !outcomes.is_empty() {
            out.push_str("\noutcomes\n");
            for g in outcomes {
                let text = format!(
                    "{}: {}",
                    label(g),
                    histogram(g.outcomes.iter().map(|(k, v)| (k, *v)))
                );
                put(&mut out, width, "  ", "      ", &text);
            }
        }
        // Each build once (a sweep runs many sub-cases on one), then one line per sub-case
        // that resumed.
        let mut builds: Vec<(&str, usize)> = Vec::new();
        for g in &self.groups {
            if let Some(b) = g.bootloader_options.as_deref() {
                match builds.iter_mut().find(|(x, _)| *x == b) {
                    Some((_, n)) => *n += 1,
                    None => builds.push((b, 1)),
                }
            }
        }
        let resumed: Vec<_> = self.groups.iter().filter(|g| g.resume.is_some()).collect();
        if !builds.is_empty() || !resumed.is_empty() {
            out.push_str("\nbootloader build and resumes\n");
            for (b, n) in builds {
                put(
                    &mut out,
                    width,
                    "  ",
                    "      ",
                    &format!("{b} ({n} sub-case(s))"),
                );
            }
            for g in resumed {
                if let Some(r) = g.resume {
                    let text = format!(
                        "{}: {} resume(s): {} resumed, {} due, {} bytes resent, mean offset {}",
                        label(g),
                        r.resumes,
                        r.resumed,
                        r.due,
                        r.bytes_resent,
                        r.offset_sum / r.resumes.max(1)
                    );
                    put(&mut out, width, "  ", "      ", &text);
                }
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
                let text = format!(
                    "{} (case {}, {} iterations): {}",
                    d.defect,
                    d.case,
                    d.iterations,
                    if d.caught {
                        format!("caught (a run this size misses it with probability {odds})")
                    } else {
                        format!("MISSED (a miss this size has probability {odds})")
                    }
                );
                put(&mut out, width, "  ", "      ", &text);
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
                let text = format!(
                    "{}: {}",
                    label(g),
                    histogram(g.failure_classes.iter().map(|(k, v)| (k, *v)))
                );
                put(&mut out, width, "  ", "      ", &text);
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
                    let text = format!(
                        "{} iteration {} ({}, seed 0x{:016x}): {}{}",
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
                    put(&mut out, width, "  ", "      ", &text);
                    for l in fit::wrap_command(&f.replay, width, "    replay: ", "      ") {
                        out.push_str(&l);
                        out.push('\n');
                    }
                }
            }
        }
        if !self.healing.is_empty() {
            out.push('\n');
            let text = format!(
                "healing: {}",
                histogram(self.healing.iter().map(|(k, v)| (k, *v)))
            );
            put(&mut out, width, "", "  ", &text);
        }
        if !self.quarantines.is_empty() {
            out.push_str("\nquarantined\n");
            for q in &self.quarantines {
                put(&mut out, width, "  ", "    ", q);
            }
        }
        out
    }
}
