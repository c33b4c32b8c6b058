//! The trend across nights: one row per sub-case on each DUT, its failure rate night by night
//! with 95 % Wilson intervals, regressions (an interval entirely above the previous night's)
//! in red.

use super::format::{c, clip, interval, pct, tick_label, ticks};
use crate::campaign::trend::{Series, Trend};
use maud::{html, Markup};

const W: f64 = 380.0;
const H: f64 = 96.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 22.0;
const BAD: &str = "#b3261e";

pub fn banner(t: &Trend) -> Markup {
    let regressed: Vec<&Series> = t.regressions().collect();
    html! {
        @if !regressed.is_empty() {
            div.banner role="alert" {
                (regressed.len()) " regression(s) against the previous night: "
                @for (i, s) in regressed.iter().enumerate() {
                    @if i > 0 { ", " }
                    span.mono { (s.sub_case) } " on " (s.bench) "/" (s.dut)
                }
                " — " a href="#trend" { "see the trend" }
            }
        }
    }
}

pub fn section(t: &Trend) -> Markup {
    let last = t.nights.len().saturating_sub(1);
    html! {
        p.muted {
            "Failure rate (failed + flaky over device iterations) per night, oldest first; bars are Wilson 95 % intervals. "
            "A night is a regression when its whole interval lies above the previous night's."
        }
        p.muted {
            "Nights: "
            @for (i, (label, start)) in t.nights.iter().enumerate() {
                @if i > 0 { ", " }
                span title=(start) { (i + 1) " = " (label) }
            }
        }
        div.wide {
            table #trend-table {
                thead { tr {
                    th { "sub-case" } th { "bench/DUT" } th { "failure rate by night" }
                    th.num { "previous" } th.num { "this run" } th { "" }
                } }
                tbody {
                    @for s in &t.series {
                        @let now = s.points.last().filter(|p| p.night == last);
                        @let before = match now {
                            Some(_) if s.points.len() >= 2 => s.points.get(s.points.len() - 2),
                            Some(_) => None,
                            None => s.points.last(),
                        };
                        @let regressed = now.is_some_and(|p| p.regressed);
                        tr.regressed[regressed] data-bench=(s.bench) data-dut=(s.dut) data-sub-case=(s.sub_case)
                            data-regressed=(if regressed { "true" } else { "false" }) {
                            td.mono { (s.sub_case) }
                            td { (s.bench) "/" (s.dut) }
                            td { figure.chart data-chart="trend" { (chart(s, t.nights.len())) } }
                            td.num { @if let Some(p) = before { (pct(p.failure.rate)) br; span.ci { (interval(&p.failure)) } } @else { "–" } }
                            td.num { @if let Some(p) = now { (pct(p.failure.rate)) br; span.ci { (interval(&p.failure)) } } @else { "did not run" } }
                            td { @if regressed { span.badge.bad { "REGRESSION" } } }
                        }
                    }
                }
            }
        }
    }
}

fn chart(s: &Series, nights: usize) -> Markup {
    let top = s
        .points
        .iter()
        .map(|p| p.failure.high)
        .fold(0.0, f64::max)
        .max(0.01);
    let (yt, y_end) = ticks(0.0, top, 2);
    let slot = (W - LEFT - RIGHT) / nights.max(1) as f64;
    let sx = |night: usize| LEFT + slot * (night as f64 + 0.5);
    let sy = |v: f64| H - BOTTOM - v / y_end * (H - BOTTOM - TOP);
    let label_every = nights.div_ceil(12).max(1);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(c(W)) viewBox=(format!("0 0 {} {}", c(W), c(H))) role="img"
            aria-label=(clip(&format!("Failure rate of {} by night", s.sub_case), 80)) {
            @for t in &yt {
                line.gridline x1=(c(LEFT)) x2=(c(W - RIGHT)) y1=(c(sy(*t))) y2=(c(sy(*t))) {}
                text x=(c(LEFT - 5.0)) y=(c(sy(*t) + 4.0)) text-anchor="end" font-size="10" {
                    (tick_label(t * 100.0)) "%"
                }
            }
            @for n in (0..nights).step_by(label_every) {
                text x=(c(sx(n))) y=(c(H - 6.0)) text-anchor="middle" font-size="10" { (n + 1) }
            }
            polyline fill="none" stroke="#8c959f" stroke-width="1"
                points=(s.points.iter().map(|p| format!("{},{}", c(sx(p.night)), c(sy(p.failure.rate)))).collect::<Vec<_>>().join(" ")) {}
            @for p in &s.points {
                @let colour = if p.regressed { BAD } else { "#0072B2" };
                g {
                    title {
                        "night " (p.night + 1) ": " (pct(p.failure.rate)) " (" (interval(&p.failure)) "), "
                        (p.failure.successes) "/" (p.failure.trials)
                        @if p.regressed { " — regression" }
                    }
                    line x1=(c(sx(p.night))) x2=(c(sx(p.night))) y1=(c(sy(p.failure.low))) y2=(c(sy(p.failure.high)))
                        stroke=(colour) stroke-width="2" {}
                    circle cx=(c(sx(p.night))) cy=(c(sy(p.failure.rate))) r=(if p.regressed { "4.5" } else { "3" }) fill=(colour) {}
                }
            }
        }
    }
}
