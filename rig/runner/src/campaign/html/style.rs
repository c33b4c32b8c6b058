//! The page's stylesheet and colours. Colours are the Okabe–Ito palette (distinguishable with
//! the common colour-vision deficiencies), with black for a bricked device and grey for the
//! bench's own faults.

use crate::campaign::Outcome;

pub const CSS: &str = r#"
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg-alt: #f6f8fa; --bad: #b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1280px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 12px 0 4px; }
p.lede, .muted { color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; }
pre { background: var(--bg-alt); border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto; white-space: pre; max-height: 420px; }
table { border-collapse: collapse; margin: 6px 0; font-size: 14px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; vertical-align: bottom; }
td.nowrap { white-space: nowrap; }
.sub { display: block; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ci { color: var(--muted); font-size: 12px; }
td .ci { display: block; }
.wide { overflow-x: auto; }
.banner { border: 2px solid var(--bad); background: #fdecea; color: var(--bad); padding: 10px 14px; margin: 12px 0; font-weight: 600; }
.banner.brick { font-size: 18px; background: #1b1f24; color: #fff; border-color: #1b1f24; }
td.brick { background: #1b1f24; color: #fff; font-weight: 700; }
.regressed td { background: #fdecea; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; font-weight: 700; }
.badge.bad { background: var(--bad); color: #fff; }
.badge.ok { background: #dafbe1; color: #116329; }
.note { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; margin: 6px 0; }
figure.chart { margin: 8px 0 16px; }
figure.chart figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
.grid > figure.chart { width: 560px; max-width: 100%; }
td > figure.chart { margin: 0; }
.grid { display: flex; flex-wrap: wrap; gap: 8px 24px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; margin: 4px 0; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; margin-right: 5px;
  vertical-align: -1px; background: var(--c); border: 1px solid rgba(0,0,0,.25); }
svg { max-width: 100%; height: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1b1f24; }
svg .axis { stroke: #57606a; stroke-width: 1; }
svg .gridline { stroke: #d0d7de; stroke-width: 1; }
details { margin: 4px 0; }
summary { cursor: pointer; }
nav a { margin-right: 12px; }
dl.runs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dl.runs dt { color: var(--muted); }
dl.runs dd { margin: 0; }
"#;

/// Outcome colours, in the order of [`Outcome::ALL`] (new app running: greens and blues;
/// recoverable: yellow and orange; needs hands: vermillion and black).
pub fn outcome_colour(o: Outcome) -> &'static str {
    match o {
        Outcome::Completed => "#009E73",
        Outcome::Resumed => "#56B4E9",
        Outcome::Restarted => "#0072B2",
        Outcome::OldAppRunning => "#F0E442",
        Outcome::DfuMode => "#E69F00",
        Outcome::Stuck => "#D55E00",
        Outcome::Bricked => "#000000",
    }
}

/// Iterations without an outcome (an infrastructure error before the oracle ran).
pub const NO_OUTCOME: &str = "#BBBBBB";
