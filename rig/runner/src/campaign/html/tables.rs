//! The per-DUT and per-sub-case tables: the same rows as summary.txt, from the same summary.
//! Cells carry `data-k` names (the summary.json field they show) for the page test.

use super::format::{interval, pct, spread_bps, spread_secs};
use crate::campaign::stats::Rate;
use crate::campaign::summary::{Summary, Totals};
use maud::{html, Markup};

fn rate(r: &Option<Rate>, key: &str) -> Markup {
    html! {
        td.num data-k=(key) {
            @if let Some(r) = r {
                span.rate { (pct(r.rate)) }
                span.ci title=(format!("Wilson 95 % interval, {}/{}", r.successes, r.trials)) {
                    "(" (interval(r)) ")"
                }
            } @else {
                "–"
            }
        }
    }
}

fn bricked(n: u64) -> Markup {
    html! {
        @if n > 0 {
            td.num.brick data-k="bricked" title="needed an SWD reflash" { (n) " BRICKED" }
        } @else {
            td.num data-k="bricked" { "0" }
        }
    }
}

pub fn duts(s: &Summary) -> Markup {
    html! {
        div.wide {
            table #dut-table {
                thead { tr {
                    th { "bench" } th { "DUT" }
                    th.num { "iterations" } th.num { "passed" } th.num { "failed" }
                    th.num { "flaky" } th.num { "errors" }
                    th.num { "success (Wilson 95 %)" }
                    th.num { "update p50 / p95" } th.num { "B/s p50 / p95" } th.num { "bricked" }
                } }
                tbody {
                    @for d in &s.duts {
                        tr data-bench=(d.bench) data-dut=(d.dut) {
                            td { (d.bench) }
                            td {
                                (d.dut)
                                span.sub {
                                    (d.chip.as_deref().unwrap_or("?")) ", "
                                    (d.bootloader.as_deref().unwrap_or("?"))
                                }
                            }
                            (counts(&d.counts))
                            (rate(&d.success, "success"))
                            td.num data-k="update_ms" { (spread_secs(&d.update_ms)) }
                            td.num data-k="throughput_bps" { (spread_bps(&d.throughput_bps)) }
                            (bricked(d.counts.bricked))
                        }
                    }
                }
            }
        }
    }
}

/// The iteration counts of a row, each cell keyed for the page test.
fn counts(c: &Totals) -> Markup {
    html! {
        td.num data-k="iterations" { (c.iterations) }
        td.num data-k="passed" { (c.passed) }
        td.num data-k="failed" { (c.failed) }
        td.num data-k="flaky" { (c.flaky) }
        td.num data-k="errors" { (c.errors) }
    }
}

pub fn groups(s: &Summary) -> Markup {
    html! {
        div.wide {
            table #case-table {
                thead { tr {
                    th { "sub-case" br; span.sub { "on bench/DUT" } }
                    th.num { "iter" } th.num { "pass" } th.num { "fail" } th.num { "flaky" }
                    th.num { "error" }
                    th.num { "success (Wilson 95 %)" } th.num { "flake (Wilson 95 %)" }
                    th.num { "update p50 / p95" } th.num { "B/s p50 / p95" } th.num { "bricked" }
                } }
                tbody {
                    @for g in &s.groups {
                        tr data-bench=(g.bench) data-dut=(g.dut) data-sub-case=(g.sub_case) {
                            td {
                                span.mono { (g.sub_case) }
                                span.sub { "on " (g.bench) "/" (g.dut) }
                                @if let Some(b) = &g.bootloader_options {
                                    span.sub.build title="bootloader build: SDK and sdk_config.h options" { (b) }
                                }
                                @if let Some(r) = &g.resume {
                                    span.sub.resume title="resume steps after a fault" {
                                        (r.resumes) " resumes: " (r.resumed) " resumed, "
                                        (r.bytes_resent) " bytes resent, mean offset "
                                        (r.offset_sum / r.resumes.max(1))
                                    }
                                }
                            }
                            (counts(&g.counts))
                            (rate(&g.success, "success"))
                            (rate(&g.flake, "flake"))
                            td.num data-k="update_ms" { (spread_secs(&g.update_ms)) }
                            td.num data-k="throughput_bps" { (spread_bps(&g.throughput_bps)) }
                            (bricked(g.counts.bricked))
                        }
                    }
                }
            }
        }
    }
}
