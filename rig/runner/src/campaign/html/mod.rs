//! report.html: one self-contained page per campaign (or merged campaigns), for a person in the
//! morning. Everything is inline (CSS, SVG charts drawn here; no scripts, fonts or images from
//! anywhere), so the file opens offline and can be attached to a CI run as it is.
//!
//! Every number comes from the [`Summary`] that summary.txt and summary.json print; the
//! journals add only what a summary does not keep (the order of iterations, the samples behind
//! the charts, evidence). Text from journals is escaped by maud, which escapes every
//! interpolated value unless it is explicitly marked as markup.

mod distribution;
mod failures;
mod format;
mod outcomes;
mod series;
mod style;
mod tables;
mod timeline;
mod trend;

#[cfg(test)]
mod tests;

use super::journal::Journal;
use super::summary::Summary;
use super::trend::Trend;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// What the page is made of.
pub struct Page<'a> {
    pub summary: &'a Summary,
    pub journals: &'a [Journal],
    /// Earlier nights with this run last, when history was given.
    pub trend: Option<&'a Trend>,
    /// Things a reader should know (dropped partial lines, runs without a footer).
    pub notes: &'a [String],
}

pub fn render(page: &Page) -> String {
    let s = page.summary;
    let series = series::per_dut(s, page.journals);
    let mut suites: Vec<&str> = s.runs.iter().map(|r| r.suite.as_str()).collect();
    suites.dedup();
    let title = if suites.is_empty() {
        "rig campaign report".to_string()
    } else {
        format!("rig: {}", suites.join(", "))
    };
    let t = &s.totals;
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(style::CSS)) }
            }
            body {
                h1 { (title) }
                @if t.bricked > 0 {
                    div.banner.brick role="alert" id="bricked" {
                        "BRICKED: " (t.bricked) " iteration(s) left a device that needed an SWD reflash."
                    }
                }
                @if let Some(tr) = page.trend { (trend::banner(tr)) }
                p.lede #totals {
                    strong { (t.iterations) } " iterations: "
                    strong { (t.passed) } " passed, " strong { (t.failed) } " failed, "
                    strong { (t.flaky) } " flaky, " strong { (t.errors) } " infrastructure errors; "
                    strong { (t.bricked) } " bricked."
                }
                @for n in page.notes { p.note { (n) } }
                (runs(s))
                nav {
                    a href="#duts" { "DUTs" } a href="#cases" { "sub-cases" } a href="#outcomes" { "outcomes" }
                    a href="#timeline" { "timeline" } a href="#update-duration" { "update duration" }
                    a href="#throughput" { "throughput" } a href="#failures" { "failure classes" }
                    @if page.trend.is_some() { a href="#trend" { "trend" } }
                }
                section #duts { h2 { "Devices under test" } (tables::duts(s)) }
                section #cases { h2 { "Sub-cases" } (tables::groups(s)) }
                section #outcomes { h2 { "Outcomes per sub-case" } (outcomes::chart(s)) }
                section #timeline { h2 { "Timeline" } (timeline::chart(&series)) }
                section #update-duration {
                    h2 { "Update duration" }
                    (distribution::update_histograms(&series, &s.duts))
                }
                section #throughput {
                    h2 { "Throughput across iterations" }
                    (distribution::throughput(&series, &s.duts))
                }
                section #failures { h2 { "Failure classes" } (failures::section(s, page.journals)) }
                @if let Some(tr) = page.trend {
                    section #trend { h2 { "Trend across nights" } (trend::section(tr)) }
                }
                @if !s.healing.is_empty() || !s.quarantines.is_empty() {
                    section #healing {
                        h2 { "Healing and quarantine" }
                        @if !s.healing.is_empty() {
                            p { "Healing actions: "
                                @for (i, (k, n)) in s.healing.iter().enumerate() {
                                    @if i > 0 { ", " } (k) " " (n)
                                }
                            }
                        }
                        @for q in &s.quarantines { p.note { "quarantined: " (q) } }
                    }
                }
                footer.muted {
                    hr;
                    "Written by rig " (env!("CARGO_PKG_VERSION")) " from " (s.runs.len()) " journal(s). "
                    "Device times are the runtime clock (simulated time on the virtual bench)."
                }
            }
        }
    };
    markup.into_string()
}

fn runs(s: &Summary) -> Markup {
    html! {
        @for r in &s.runs {
            dl.runs {
                dt { "suite" } dd { (r.suite) " " span.muted.mono { "(" (r.suite_path) ")" } }
                dt { "seed" } dd.mono { (r.seed) " (0x" (format!("{:x}", r.seed)) ")" }
                dt { "bench" } dd {
                    (r.bench) " [" (r.bench_kind) "]"
                    @if let Some(h) = &r.host { " on host " (h) }
                    " — DUTs: " (r.duts.join(", "))
                }
                dt { "started" } dd { (r.wall_start) ", rig " (r.tool_version) }
                dt { "journal" } dd.mono { (r.journal) }
                dt { "state" } dd {
                    (r.iterations) " iterations, "
                    @match (r.complete, r.truncated) {
                        (true, _) => "complete",
                        (false, true) => strong { "interrupted (partial last line dropped)" },
                        (false, false) => strong { "interrupted (no footer)" },
                    }
                }
            }
        }
    }
}
