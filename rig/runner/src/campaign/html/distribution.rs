//! Per DUT: a histogram of update durations and the throughput across iterations, with the
//! summary's p50 / p95 drawn on both.

use super::format::{c, clip, nice_step, secs, tick_label, ticks};
use super::series::DutSeries;
use crate::campaign::summary::DutStats;
use maud::{html, Markup};

const W: f64 = 560.0;
const H: f64 = 230.0;
const LEFT: f64 = 58.0;
/// Room right of the plot for the p50 label of the throughput chart.
const RIGHT: f64 = 34.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;
/// About this many histogram bins.
const BINS: f64 = 24.0;
/// Above this many points the throughput line shows bucket means and a min–max band.
const MAX_POINTS: usize = 300;

/// Bins of width `step` from `lo`: (lo, step, counts).
pub fn histogram(values: &[f64]) -> Option<(f64, f64, Vec<u64>)> {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !min.is_finite() || !max.is_finite() {
        return None;
    }
    let step = nice_step(((max - min) / BINS).max(1.0));
    let lo = (min / step).floor() * step;
    let n = (((max - lo) / step).floor() as usize + 1).min(10_000);
    let mut counts = vec![0u64; n];
    for v in values {
        let i = (((v - lo) / step).floor() as usize).min(n - 1);
        counts[i] += 1;
    }
    Some((lo, step, counts))
}

fn frame(
    x_ticks: &[(f64, String)],
    y_ticks: &[(f64, String)],
    x_title: &str,
    y_title: &str,
) -> Markup {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    html! {
        @for (y, label) in y_ticks {
            line.gridline x1=(c(x0)) x2=(c(x1)) y1=(c(*y)) y2=(c(*y)) {}
            text x=(c(x0 - 6.0)) y=(c(y + 4.0)) text-anchor="end" font-size="11" { (label) }
        }
        @for (x, label) in x_ticks {
            line.axis x1=(c(*x)) x2=(c(*x)) y1=(c(y0)) y2=(c(y0 + 4.0)) {}
            text x=(c(*x)) y=(c(y0 + 16.0)) text-anchor="middle" font-size="11" { (label) }
        }
        line.axis x1=(c(x0)) x2=(c(x1)) y1=(c(y0)) y2=(c(y0)) {}
        line.axis x1=(c(x0)) x2=(c(x0)) y1=(c(y0)) y2=(c(y1)) {}
        text x=(c((x0 + x1) / 2.0)) y=(c(H - 6.0)) text-anchor="middle" font-size="12" { (x_title) }
        text x="14" y=(c((y0 + y1) / 2.0)) text-anchor="middle" font-size="12"
            transform=(format!("rotate(-90 14 {})", c((y0 + y1) / 2.0))) { (y_title) }
    }
}

/// A dashed vertical (or horizontal) marker with its label.
fn marker(
    (x1, y1): (f64, f64),
    (x2, y2): (f64, f64),
    colour: &str,
    label: &str,
    (lx, ly): (f64, f64),
    anchor: &str,
) -> Markup {
    html! {
        line x1=(c(x1)) x2=(c(x2)) y1=(c(y1)) y2=(c(y2)) stroke=(colour) stroke-width="1.5" stroke-dasharray="5 3" {}
        text x=(c(lx)) y=(c(ly)) text-anchor=(anchor) font-size="11" style=(format!("fill:{colour}")) { (label) }
    }
}

pub fn update_histograms(series: &[DutSeries], duts: &[DutStats]) -> Markup {
    html! {
        div.grid {
            @for (s, d) in series.iter().zip(duts) {
                @let values: Vec<f64> = s.update_ms.iter().map(|(_, v)| *v).collect();
                @if let (Some((lo, step, counts)), Some(spread)) = (histogram(&values), d.update_ms) {
                    figure.chart data-chart="update-duration" data-dut=(s.label()) {
                        h3 { (s.label()) }
                        (histogram_svg(lo, step, &counts, spread.p50, spread.p95))
                        figcaption {
                            (spread.count) " updates; p50 " (secs(spread.p50)) ", p95 " (secs(spread.p95))
                            " (dashed). Bins of " (secs(step)) "."
                        }
                    }
                } @else {
                    p.muted { (s.label()) ": no update timed." }
                }
            }
        }
    }
}

fn histogram_svg(lo: f64, step: f64, counts: &[u64], p50: f64, p95: f64) -> Markup {
    let hi = lo + step * counts.len() as f64;
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (yt, y_end) = ticks(0.0, top, 4);
    let (xt, _) = ticks(lo / 1000.0, hi / 1000.0, 6);
    let sx = |ms: f64| LEFT + (ms - lo) / (hi - lo) * (W - LEFT - RIGHT);
    let sy = |n: f64| H - BOTTOM - n / y_end * (H - BOTTOM - TOP);
    let x_ticks: Vec<(f64, String)> = xt
        .iter()
        .filter(|t| **t * 1000.0 >= lo - 1e-9 && **t * 1000.0 <= hi + 1e-9)
        .map(|t| (sx(t * 1000.0), tick_label(*t)))
        .collect();
    let y_ticks: Vec<(f64, String)> = yt
        .iter()
        .filter(|t| t.fract() == 0.0)
        .map(|t| (sy(*t), tick_label(*t)))
        .collect();
    let bar_w = (W - LEFT - RIGHT) / counts.len() as f64;
    // Labels of close markers would overlap: p95 goes to the right of its line then.
    let close = sx(p95) - sx(p50) < 60.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(c(W)) viewBox=(format!("0 0 {} {}", c(W), c(H))) role="img" aria-label="Update duration histogram" {
            (frame(&x_ticks, &y_ticks, "update duration (s)", "iterations"))
            @for (i, n) in counts.iter().enumerate() {
                @if *n > 0 {
                    rect x=(c(sx(lo + step * i as f64) + 0.5)) y=(c(sy(*n as f64))) width=(c((bar_w - 1.0).max(0.5)))
                        height=(c(sy(0.0) - sy(*n as f64))) fill="#56B4E9" {
                        title {
                            (n) " updates of " (secs(lo + step * i as f64)) " to " (secs(lo + step * (i + 1) as f64))
                        }
                    }
                }
            }
            (marker((sx(p50), TOP), (sx(p50), H - BOTTOM), "#1b1f24", "p50", (sx(p50) - 3.0, TOP + 10.0), "end"))
            (marker((sx(p95), TOP), (sx(p95), H - BOTTOM), "#b3261e", "p95",
                (sx(p95) + 3.0, if close { TOP + 22.0 } else { TOP + 10.0 }), "start"))
        }
    }
}

/// (x, mean, min, max) per bucket of consecutive points.
pub fn buckets(points: &[(u32, f64)], max_points: usize) -> Vec<(f64, f64, f64, f64)> {
    let size = points.len().div_ceil(max_points.max(1)).max(1);
    points
        .chunks(size)
        .map(|ch| {
            let n = ch.len() as f64;
            let x = ch.iter().map(|(p, _)| *p as f64).sum::<f64>() / n;
            let mean = ch.iter().map(|(_, v)| v).sum::<f64>() / n;
            let min = ch.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
            let max = ch.iter().map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max);
            (x, mean, min, max)
        })
        .collect()
}

pub fn throughput(series: &[DutSeries], duts: &[DutStats]) -> Markup {
    html! {
        div.grid {
            @for (s, d) in series.iter().zip(duts) {
                @if let (false, Some(spread)) = (s.throughput.is_empty(), d.throughput_bps) {
                    figure.chart data-chart="throughput" data-dut=(s.label()) {
                        h3 { (s.label()) }
                        (throughput_svg(s, spread.p50))
                        figcaption {
                            "Firmware bytes per second of update time, by iteration; p50 "
                            (format!("{:.0}", spread.p50)) " B/s (dashed), p95 " (format!("{:.0}", spread.p95)) " B/s."
                            @if s.throughput.len() > MAX_POINTS {
                                " Line: mean of each group of "
                                (s.throughput.len().div_ceil(MAX_POINTS)) " iterations; band: their min–max."
                            }
                        }
                    }
                } @else {
                    p.muted { (s.label()) ": no throughput measured." }
                }
            }
        }
    }
}

fn throughput_svg(s: &DutSeries, p50: f64) -> Markup {
    let b = buckets(&s.throughput, MAX_POINTS);
    let n = s.categories.len().max(2) as f64;
    let top = b.iter().map(|p| p.3).fold(0.0, f64::max).max(1.0);
    let (yt, y_end) = ticks(0.0, top, 4);
    let (xt, _) = ticks(1.0, n, 6);
    let sx = |i: f64| LEFT + i / (n - 1.0) * (W - LEFT - RIGHT);
    let sy = |v: f64| H - BOTTOM - v / y_end * (H - BOTTOM - TOP);
    let x_ticks: Vec<(f64, String)> = xt
        .iter()
        .filter(|t| **t >= 1.0 && **t <= n)
        .map(|t| (sx(t - 1.0), tick_label(*t)))
        .collect();
    let y_ticks: Vec<(f64, String)> = yt.iter().map(|t| (sy(*t), tick_label(*t))).collect();
    let line: Vec<String> = b
        .iter()
        .map(|p| format!("{},{}", c(sx(p.0)), c(sy(p.1))))
        .collect();
    let banded = s.throughput.len() > MAX_POINTS;
    let band: Vec<String> = b
        .iter()
        .map(|p| format!("{},{}", c(sx(p.0)), c(sy(p.3))))
        .chain(
            b.iter()
                .rev()
                .map(|p| format!("{},{}", c(sx(p.0)), c(sy(p.2)))),
        )
        .collect();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(c(W)) viewBox=(format!("0 0 {} {}", c(W), c(H))) role="img" aria-label="Throughput across iterations" {
            (frame(&x_ticks, &y_ticks, "iteration", "B/s"))
            // Where sub-cases start: a step in throughput there is the case, not the device.
            @for (si, (pos, sub_case)) in s.starts.iter().enumerate() {
                @let x = sx(*pos as f64);
                @let next = s.starts.get(si + 1).map(|(p, _)| *p as f64).unwrap_or(n - 1.0);
                @let room = sx(next) - x;
                @if *pos > 0 {
                    line x1=(c(x)) x2=(c(x)) y1=(c(TOP)) y2=(c(H - BOTTOM)) stroke="#8c959f" stroke-dasharray="2 3" {}
                }
                @if room >= 40.0 {
                    text x=(c(x + 3.0)) y=(c(H - BOTTOM - 5.0)) font-size="10" style="fill:#57606a" {
                        title { (sub_case) }
                        (clip(sub_case, ((room - 6.0) / 5.6) as usize))
                    }
                }
            }
            @if banded {
                polygon points=(band.join(" ")) fill="#56B4E9" fill-opacity="0.3" stroke="none" {}
            }
            polyline points=(line.join(" ")) fill="none" stroke="#0072B2" stroke-width="1.5" {}
            @if b.len() <= 60 {
                @for p in &b {
                    circle cx=(c(sx(p.0))) cy=(c(sy(p.1))) r="2.5" fill="#0072B2" {
                        title { "iteration " (p.0 as u64 + 1) ": " (format!("{:.0}", p.1)) " B/s" }
                    }
                }
            }
            (marker((LEFT, sy(p50)), (W - RIGHT, sy(p50)), "#1b1f24", "p50", (W - RIGHT + 4.0, sy(p50) + 4.0), "start"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_value_once() {
        let v: Vec<f64> = (0..1000)
            .map(|i| 15_000.0 + (i % 97) as f64 * 37.0)
            .collect();
        let (lo, step, counts) = histogram(&v).unwrap();
        assert_eq!(counts.iter().sum::<u64>(), 1000);
        assert!(lo <= 15_000.0 && lo + step * counts.len() as f64 > 15_000.0 + 96.0 * 37.0);
        assert!(counts.len() <= 40, "{} bins", counts.len());
        let (_, _, one) = histogram(&[5.0, 5.0]).unwrap();
        assert_eq!(one, [2]);
        assert!(histogram(&[]).is_none());
    }

    #[test]
    fn buckets_bound_the_points() {
        let pts: Vec<(u32, f64)> = (0..10_000).map(|i| (i, (i % 10) as f64)).collect();
        let b = buckets(&pts, 300);
        assert!(b.len() <= 300);
        assert_eq!((b[0].2, b[0].3), (0.0, 9.0));
        assert_eq!(buckets(&pts[..5], 300).len(), 5);
    }
}
