//! The timeline: one row per DUT, one cell per iteration in the order they ran, coloured by
//! verdict and failure class. Past [`MAX_CELLS`] iterations a cell holds several: it is drawn
//! as a little stacked column, the share of each category from the bottom (most severe lowest),
//! with at least a sliver for any that occurred, so a single failure among hundreds of passes
//! stays visible without making a mostly clean stretch look red. Runs of equal single-category
//! cells are drawn as one rectangle, so the size stays small for any campaign.

use super::format::{c, clip};
use super::series::{Category, DutSeries};
use maud::{html, Markup};
use std::collections::BTreeMap;

pub const MAX_CELLS: usize = 400;
const LABEL_W: f64 = 150.0;
const PLOT_W: f64 = 800.0;
const ROW_H: f64 = 22.0;
const GAP: f64 = 26.0;
/// Height of the thinnest slice of a merged cell.
const MIN_SLICE_H: f64 = 3.0;
/// A brick is never a sliver: at least half the row.
const MIN_BRICK_H: f64 = ROW_H / 2.0;

/// Iterations `first..=last` and the count of each category among them: one cell, or a run
/// of cells that all hold a single, equal category.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub first: usize,
    pub last: usize,
    pub counts: BTreeMap<Category, u64>,
}

impl Run {
    /// The one category of a run that holds only one.
    pub fn pure(&self) -> Option<Category> {
        match self.counts.keys().collect::<Vec<_>>().as_slice() {
            [k] => Some(**k),
            _ => None,
        }
    }

    /// (category, y offset from the top, height) of the slices of a mixed cell: the most
    /// common category as the background, the others stacked from the bottom, most severe
    /// lowest.
    pub fn slices(&self) -> Vec<(Category, f64, f64)> {
        let total = self.counts.values().sum::<u64>().max(1) as f64;
        let background = self
            .counts
            .iter()
            .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))
            .map(|(k, _)| *k)
            .unwrap_or(Category::Pass);
        let mut out = vec![(background, 0.0, ROW_H)];
        let mut bottom = ROW_H;
        for (k, n) in self.counts.iter().rev().filter(|(k, _)| **k != background) {
            let least = if *k == Category::Brick {
                MIN_BRICK_H
            } else {
                MIN_SLICE_H
            };
            let h = (ROW_H * *n as f64 / total).max(least).min(bottom);
            bottom -= h;
            out.push((*k, bottom, h));
        }
        out
    }
}

/// Iterations per cell for `n` iterations.
pub fn bucket(n: usize) -> usize {
    n.div_ceil(MAX_CELLS).max(1)
}

/// Cells of `bucket` iterations, consecutive single-category cells of one category merged.
pub fn runs(categories: &[Category], bucket: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (ci, cell) in categories.chunks(bucket.max(1)).enumerate() {
        let first = ci * bucket;
        let mut counts = BTreeMap::new();
        for k in cell {
            *counts.entry(*k).or_insert(0u64) += 1;
        }
        let run = Run {
            first,
            last: first + cell.len() - 1,
            counts,
        };
        match out.last_mut() {
            Some(prev) if prev.pure().is_some() && prev.pure() == run.pure() => {
                prev.last = run.last;
                for (k, n) in run.counts {
                    *prev.counts.entry(k).or_insert(0) += n;
                }
            }
            _ => out.push(run),
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
                role="img" aria-label="Iterations in the order they ran" shape-rendering="crispEdges" {
                @for (ri, s) in rows.iter().enumerate() {
                    @let y = 6.0 + (ROW_H + GAP) * ri as f64;
                    g {
                        title { (s.label()) ": " (s.categories.len()) " iterations" }
                        text x=(c(LABEL_W - 8.0)) y=(c(y + ROW_H - 6.0)) text-anchor="end" font-size="12" {
                            (clip(&s.label(), 22))
                        }
                    }
                    // The row in the pass colour first: rounding between cells leaves no white seams.
                    rect x=(c(LABEL_W)) y=(c(y)) width=(c(s.categories.len() as f64 * per_iter)) height=(c(ROW_H))
                        fill=(Category::Pass.colour()) {}
                    @for r in runs(&s.categories, bucket) {
                        @let x = c(LABEL_W + r.first as f64 * per_iter);
                        @let w = c(((r.last + 1 - r.first) as f64 * per_iter).max(0.5));
                        @if let Some(k) = r.pure() {
                            rect x=(x) y=(c(y)) width=(w) height=(c(ROW_H)) fill=(k.colour()) {
                                title { (tooltip(&r)) }
                            }
                        } @else {
                            g {
                                title { (tooltip(&r)) }
                                @for (k, dy, h) in r.slices() {
                                    rect x=(x) y=(c(y + dy)) width=(w) height=(c(h)) fill=(k.colour()) {}
                                }
                            }
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
                    "Each cell holds " (bucket) " iterations, stacked by share (any failure keeps at least a sliver); hover for the counts."
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
        assert_eq!((r[1].first, r[1].last, r[1].pure()), (5_000, 5_024, None));
        assert_eq!(r[1].counts[&Pass], 24);
        assert_eq!(
            tooltip(&r[1]),
            "iterations 5001–5025: 1 dut.timeout.*, 24 pass"
        );
        // Pass behind, the timeout a sliver at the bottom.
        assert_eq!(
            r[1].slices(),
            [
                (Pass, 0.0, ROW_H),
                (Timeout, ROW_H - MIN_SLICE_H, MIN_SLICE_H)
            ]
        );
        assert_eq!((r[0].pure(), r[2].last), (Some(Pass), 9_999));
    }

    #[test]
    fn slices_follow_the_shares_and_fit_the_row() {
        let mut v = vec![Pass; 10];
        v.extend([Timeout; 10]);
        v.extend([Brick; 5]);
        v.extend([Flaky; 1]);
        let r = runs(&v, 26);
        let s = r[0].slices();
        // Pass and Timeout tie at 10: the milder one is the background.
        assert_eq!(s[0], (Pass, 0.0, ROW_H));
        let kinds: Vec<_> = s.iter().map(|x| x.0).collect();
        assert_eq!(kinds, [Pass, Brick, Timeout, Flaky]);
        assert_eq!(s[1].2, MIN_BRICK_H, "a brick is at least half the row");
        assert!((s[2].2 - ROW_H * 10.0 / 26.0).abs() < 1e-9);
        assert!(s.iter().all(|x| x.1 >= 0.0 && x.1 + x.2 <= ROW_H + 1e-9));
    }

    #[test]
    fn equal_neighbours_merge() {
        let r = runs(&[Pass, Pass, Brick, Flaky, Flaky], 1);
        let shown: Vec<_> = r.iter().map(|r| (r.first, r.last, r.pure())).collect();
        assert_eq!(
            shown,
            [(0, 1, Some(Pass)), (2, 2, Some(Brick)), (3, 4, Some(Flaky))]
        );
        assert!(runs(&[], 1).is_empty());
    }
}
