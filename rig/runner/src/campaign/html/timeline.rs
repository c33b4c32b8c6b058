//! The timeline: one row per DUT, one cell per iteration in the order they ran, coloured by
//! verdict and failure class. Past [`MAX_CELLS`] iterations a cell holds several and shows the
//! most severe of them (a single failure among hundreds of passes must stay visible); runs of
//! equal cells are drawn as one rectangle, so the size stays small for any campaign.

use super::format::{c, clip};
use super::series::{Category, DutSeries};
use maud::{html, Markup};
use std::collections::BTreeMap;

pub const MAX_CELLS: usize = 400;
const LABEL_W: f64 = 150.0;
const PLOT_W: f64 = 800.0;
const ROW_H: f64 = 22.0;
const GAP: f64 = 26.0;

/// A run of equal cells: iterations `first..=last`, the category shown and, for merged
/// cells, the count of each category inside.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub first: usize,
    pub last: usize,
    pub shown: Category,
    pub counts: BTreeMap<Category, u64>,
}

/// Iterations per cell for `n` iterations.
pub fn bucket(n: usize) -> usize {
    n.div_ceil(MAX_CELLS).max(1)
}

/// Cells of `bucket` iterations, each showing its most severe category, merged into runs.
pub fn runs(categories: &[Category], bucket: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (ci, cell) in categories.chunks(bucket.max(1)).enumerate() {
        let first = ci * bucket;
        let shown = cell.iter().copied().max().unwrap_or(Category::Pass);
        match out.last_mut() {
            Some(r) if r.shown == shown => {
                r.last = first + cell.len() - 1;
                for k in cell {
                    *r.counts.entry(*k).or_insert(0) += 1;
                }
            }
            _ => {
                let mut counts = BTreeMap::new();
                for k in cell {
                    *counts.entry(*k).or_insert(0) += 1;
                }
                out.push(Run {
                    first,
                    last: first + cell.len() - 1,
                    shown,
                    counts,
                });
            }
        }
    }
    out
}

fn tooltip(r: &Run) -> String {
    let range = if r.first == r.last {
        format!("iteration {}", r.first + 1)
    } else {
        format!("iterations {}–{}", r.first + 1, r.last + 1)
    };
    let counts: Vec<String> = r
        .counts
        .iter()
        .rev()
        .map(|(k, n)| format!("{n} {}", k.label()))
        .collect();
    format!("{range}: {}", counts.join(", "))
}

pub fn chart(series: &[DutSeries]) -> Markup {
    let rows: Vec<&DutSeries> = series.iter().filter(|s| !s.categories.is_empty()).collect();
    if rows.is_empty() {
        return html! { p.muted { "No iterations." } };
    }
    let longest = rows.iter().map(|s| s.categories.len()).max().unwrap_or(1);
    let bucket = bucket(longest);
    let per_iter = PLOT_W / longest as f64;
    let width = LABEL_W + PLOT_W + 10.0;
    let height = (ROW_H + GAP) * rows.len() as f64 + 22.0;
    html! {
        div.legend {
            @for k in Category::ALL {
                span style=(format!("--c:{}", k.colour())) { (k.label()) }
            }
        }
        figure.chart data-chart="timeline" {
            svg xmlns="http://www.w3.org/2000/svg" width=(c(width)) viewBox=(format!("0 0 {} {}", c(width), c(height)))
                role="img" aria-label="Iterations in the order they ran" {
                @for (ri, s) in rows.iter().enumerate() {
                    @let y = 6.0 + (ROW_H + GAP) * ri as f64;
                    g {
                        title { (s.label()) ": " (s.categories.len()) " iterations" }
                        text x=(c(LABEL_W - 8.0)) y=(c(y + ROW_H - 6.0)) text-anchor="end" font-size="12" {
                            (clip(&s.label(), 22))
                        }
                    }
                    @for r in runs(&s.categories, bucket) {
                        rect x=(c(LABEL_W + r.first as f64 * per_iter)) y=(c(y))
                            width=(c(((r.last + 1 - r.first) as f64 * per_iter).max(0.5))) height=(c(ROW_H))
                            fill=(r.shown.colour()) {
                            title { (tooltip(&r)) }
                        }
                    }
                    @for (si, (pos, sub_case)) in s.starts.iter().enumerate() {
                        @let x = LABEL_W + *pos as f64 * per_iter;
                        @let next = s.starts.get(si + 1).map(|(p, _)| *p as usize).unwrap_or(s.categories.len());
                        @let room = (next - *pos as usize) as f64 * per_iter;
                        line.axis x1=(c(x)) x2=(c(x)) y1=(c(y - 2.0)) y2=(c(y + ROW_H + 6.0)) {
                            title { (sub_case) " from iteration " (pos + 1) }
                        }
                        @if room >= 40.0 {
                            text x=(c(x + 3.0)) y=(c(y + ROW_H + 15.0)) font-size="11" {
                                title { (sub_case) }
                                (clip(sub_case, ((room - 6.0) / 6.2) as usize))
                            }
                        }
                    }
                }
                @let axis_y = 6.0 + (ROW_H + GAP) * rows.len() as f64 - 4.0;
                text x=(c(LABEL_W)) y=(c(axis_y + 12.0)) font-size="11" { "1" }
                text x=(c(LABEL_W + PLOT_W)) y=(c(axis_y + 12.0)) font-size="11" text-anchor="end" {
                    (longest) " iterations"
                }
            }
            figcaption {
                "Iterations in the order they ran, one row per DUT; lines mark where a sub-case (or a night) starts. "
                @if bucket > 1 {
                    "Each cell holds " (bucket) " iterations and shows the most severe of them; hover for the counts."
                } @else {
                    "Hover a cell for its iteration."
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::*;

    #[test]
    fn one_failure_among_many_passes_stays_visible() {
        let mut v = vec![Pass; 10_000];
        v[5_003] = Timeout;
        let b = bucket(v.len());
        assert_eq!(b, 25);
        let r = runs(&v, b);
        assert_eq!(r.len(), 3);
        assert_eq!((r[1].first, r[1].last, r[1].shown), (5_000, 5_024, Timeout));
        assert_eq!(r[1].counts[&Pass], 24);
        assert_eq!(
            tooltip(&r[1]),
            "iterations 5001–5025: 1 dut.timeout.*, 24 pass"
        );
        assert_eq!(r[2].last, 9_999);
    }

    #[test]
    fn equal_neighbours_merge() {
        let r = runs(&[Pass, Pass, Brick, Flaky, Flaky], 1);
        let shown: Vec<_> = r.iter().map(|r| (r.first, r.last, r.shown)).collect();
        assert_eq!(shown, [(0, 1, Pass), (2, 2, Brick), (3, 4, Flaky)]);
        assert!(runs(&[], 1).is_empty());
    }
}
