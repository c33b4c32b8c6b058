//! Outcomes per sub-case as 100 % stacked bars (one per sub-case on each DUT), counts in the
//! segments that have room for them and in every segment's tooltip.

use super::format::{c, clip};
use super::style::{outcome_colour, NO_OUTCOME};
use crate::campaign::summary::{GroupStats, Summary};
use crate::campaign::Outcome;
use maud::{html, Markup};

const LABEL_W: f64 = 300.0;
const BAR_W: f64 = 520.0;
const COUNT_W: f64 = 90.0;
const ROW_H: f64 = 24.0;
const BAR_H: f64 = 17.0;
/// Characters of a label at 12 px that fit in LABEL_W.
const LABEL_CHARS: usize = 44;

pub fn chart(s: &Summary) -> Markup {
    if s.groups.is_empty() {
        return html! { p.muted { "No iterations." } };
    }
    let width = LABEL_W + BAR_W + COUNT_W;
    let height = ROW_H * s.groups.len() as f64 + 26.0;
    html! {
        div.legend {
            @for o in Outcome::ALL {
                span style=(format!("--c:{}", outcome_colour(o))) { (o.label()) }
            }
            span style=(format!("--c:{NO_OUTCOME}")) { "no outcome (bench error)" }
        }
        figure.chart data-chart="outcomes" {
            svg xmlns="http://www.w3.org/2000/svg" width=(c(width)) viewBox=(format!("0 0 {} {}", c(width), c(height)))
                role="img" aria-label="Outcomes per sub-case" {
                @for (i, g) in s.groups.iter().enumerate() {
                    @let y = 4.0 + ROW_H * i as f64;
                    @let place = format!(" on {}/{}", g.bench, g.dut);
                    g {
                        title { (g.sub_case) (place) }
                        // The sub-case is cut, never the DUT: rows must stay told apart.
                        text x=(c(LABEL_W - 8.0)) y=(c(y + BAR_H - 4.0)) text-anchor="end" font-size="12" {
                            (clip(&g.sub_case, LABEL_CHARS.saturating_sub(place.chars().count()).max(8))) (place)
                        }
                    }
                    @for seg in segments(g) {
                        rect x=(c(seg.x)) y=(c(y)) width=(c(seg.w)) height=(c(BAR_H)) fill=(seg.colour) {
                            title { (seg.name) ": " (seg.n) " of " (g.counts.iterations) }
                        }
                        @if seg.w >= 8.0 * seg.n.to_string().len() as f64 + 6.0 {
                            text x=(c(seg.x + seg.w / 2.0)) y=(c(y + BAR_H - 4.5)) text-anchor="middle"
                                font-size="11" style=(format!("fill:{}", text_on(seg.colour))) { (seg.n) }
                        }
                    }
                    text x=(c(LABEL_W + BAR_W + 8.0)) y=(c(y + BAR_H - 4.0)) font-size="12" { (g.counts.iterations) " it." }
                }
                @let axis_y = 4.0 + ROW_H * s.groups.len() as f64;
                @for k in 0..=4 {
                    @let x = LABEL_W + BAR_W * k as f64 / 4.0;
                    line.gridline x1=(c(x)) x2=(c(x)) y1=(c(axis_y - 2.0)) y2=(c(axis_y + 2.0)) {}
                    text x=(c(x)) y=(c(axis_y + 14.0)) text-anchor="middle" font-size="11" { (k * 25) "%" }
                }
            }
            figcaption { "Share of each outcome per sub-case and DUT (the oracle's reading of the device after the update)." }
        }
    }
}

struct Segment {
    name: &'static str,
    colour: &'static str,
    n: u64,
    x: f64,
    w: f64,
}

/// Narrowest segment drawn: one brick in 10 000 iterations must still show.
const MIN_SEGMENT_W: f64 = 2.0;

/// The bar of one group: its outcomes in [`Outcome::ALL`] order, then iterations without one.
/// Segments narrower than [`MIN_SEGMENT_W`] are widened, taken from the widest one.
fn segments(g: &GroupStats) -> Vec<Segment> {
    let with_outcome: u64 = g.outcomes.values().sum();
    let no_outcome = g.counts.iterations.saturating_sub(with_outcome);
    let total = g.counts.iterations.max(with_outcome).max(1) as f64;
    let mut segs: Vec<Segment> = Outcome::ALL
        .iter()
        .filter_map(|o| {
            let n = g.outcomes.get(o).copied().unwrap_or(0);
            (n > 0).then_some((o.label(), outcome_colour(*o), n))
        })
        .chain((no_outcome > 0).then_some(("no outcome", NO_OUTCOME, no_outcome)))
        .map(|(name, colour, n)| Segment {
            name,
            colour,
            n,
            x: 0.0,
            w: BAR_W * n as f64 / total,
        })
        .collect();
    let added: f64 = segs
        .iter_mut()
        .map(|s| {
            let extra = (MIN_SEGMENT_W - s.w).max(0.0);
            s.w += extra;
            extra
        })
        .sum();
    if let Some(widest) = segs.iter_mut().max_by(|a, b| a.w.total_cmp(&b.w)) {
        widest.w -= added;
    }
    let mut x = LABEL_W;
    for s in &mut segs {
        s.x = x;
        x += s.w;
    }
    segs
}

/// Black or white text, whichever reads on the fill.
fn text_on(fill: &str) -> &'static str {
    match fill {
        "#000000" | "#0072B2" | "#D55E00" | "#009E73" => "#ffffff",
        _ => "#000000",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::testkit::{header, iteration, journal};
    use crate::campaign::Verdict;

    #[test]
    fn a_lone_brick_keeps_a_visible_segment_and_the_bar_its_length() {
        let mut its: Vec<_> = (0..10_000)
            .map(|i| iteration("s", i, Verdict::Pass, Outcome::Completed, None))
            .collect();
        its[9].outcome = Some(Outcome::Bricked);
        let s = Summary::of(&[journal("j", header("b", 1), its, true)]);
        let segs = segments(&s.groups[0]);
        let brick = segs.iter().find(|s| s.name == "bricked").unwrap();
        assert_eq!(brick.n, 1);
        assert!(brick.w >= MIN_SEGMENT_W);
        let total: f64 = segs.iter().map(|s| s.w).sum();
        assert!((total - BAR_W).abs() < 1e-9, "{total}");
    }
}
