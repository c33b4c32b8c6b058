use super::*;
use crate::campaign::journal::Journal;
use crate::campaign::testkit::{header, iteration, journal, mixed, night_iterations};
use crate::campaign::trend::{Night, Trend};
use crate::campaign::{Outcome, Verdict};

fn page(journals: &[Journal], trend: Option<&Trend>) -> String {
    let summary = Summary::of(journals);
    render(&Page {
        summary: &summary,
        journals,
        trend,
        notes: &[],
    })
}

/// The text of the first element after `marker` (e.g. `data-k="passed">`), up to the next tag.
fn cell<'a>(html: &'a str, row: &str, key: &str) -> &'a str {
    let at = html.find(row).unwrap_or_else(|| panic!("no {row}"));
    let rest = &html[at..];
    let k = format!("data-k=\"{key}\">");
    let start = rest
        .find(&k)
        .unwrap_or_else(|| panic!("no {key} after {row}"))
        + k.len();
    let rest = &rest[start..];
    let rest = rest.strip_prefix("<span class=\"rate\">").unwrap_or(rest);
    &rest[..rest.find('<').unwrap()]
}

#[test]
fn the_summary_numbers_appear_in_the_dut_and_case_tables() {
    let js = [journal(
        "a/journal.jsonl",
        header("bench-a", 42),
        mixed("env[prn=1]"),
        true,
    )];
    let html = page(&js, None);
    let row = "<tr data-bench=\"bench-a\" data-dut=\"dut0\">";
    assert_eq!(cell(&html, row, "iterations"), "10");
    assert_eq!(cell(&html, row, "passed"), "6");
    assert_eq!(cell(&html, row, "failed"), "2");
    assert_eq!(cell(&html, row, "flaky"), "1");
    assert_eq!(cell(&html, row, "errors"), "1");
    // 6 of 9 device iterations, Wilson 0.3542..0.8794 (as summary.txt prints it).
    assert_eq!(cell(&html, row, "success"), "66.7%");
    assert!(html.contains("(35.4–87.9%)"), "interval");
    assert!(html.contains("1 BRICKED"), "the DUT's brick cell");
    assert!(html.contains("BRICKED: 1 iteration(s)"), "the banner");
    // p50 / p95 of update_ms = 1000 + 100 i: 1450 and 1855 ms.
    assert_eq!(cell(&html, row, "update_ms"), "1.45 s / 1.85 s");
    let case_row = "data-sub-case=\"env[prn=1]\">";
    assert_eq!(cell(&html, case_row, "flake"), "11.1%");
    // The first example of the protocol failure, with its replay command and evidence.
    assert!(
        html.contains("rig run suites/soak.yaml --seed 42 --replay &#39;env[prn=1]:6&#39;")
            || html.contains("rig run suites/soak.yaml --seed 42 --replay 'env[prn=1]:6'")
    );
    assert!(
        html.contains("&lt;info&gt; app: Inside main"),
        "evidence, escaped"
    );
    for chart in ["outcomes", "timeline", "update-duration", "throughput"] {
        let at = html
            .find(&format!("data-chart=\"{chart}\""))
            .unwrap_or_else(|| panic!("no {chart} chart"));
        assert!(
            html[at..].find("<svg").is_some_and(|i| i < 200),
            "{chart} has no svg"
        );
    }
    assert!(
        !html.contains("data-chart=\"trend\""),
        "no trend without history"
    );
}

#[test]
fn text_from_journals_cannot_inject_markup() {
    let evil = "<script>alert(1)</script>";
    let mut its = mixed(&format!("x[{evil}]"));
    for it in &mut its {
        it.message = it.message.as_ref().map(|_| format!("</pre>{evil}"));
        it.evidence
            .event(30, format!("\"><img src=x onerror=alert(2)>{evil}"));
        it.dut = format!("d\"{evil}");
    }
    let mut h = header("b'<iframe>", 1);
    h.suite.name = format!("soak{evil}");
    h.duts[0].name = its[0].dut.clone();
    let js = [journal("j", h, its, true)];
    let html = page(&js, None);
    let lower = html.to_lowercase();
    for tag in ["<script", "<img", "<iframe"] {
        assert!(!lower.contains(tag), "{tag} got through");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The message's `</pre>` cannot end the evidence block early.
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;"));
    assert_eq!(html.matches("<pre").count(), html.matches("</pre>").count());
    // Attribute values too: a quote cannot close data-dut.
    assert!(
        html.contains("data-dut=\"d&quot;&lt;script&gt;"),
        "escaped in attributes"
    );
}

/// A night of `n` iterations of `s` on dut0, the first `fails` failing.
fn night_journal(start: &str, fails: u32, n: u32) -> Journal {
    let its = night_iterations(fails, n, Outcome::Stuck);
    let mut h = header("bench-a", 1);
    h.wall_start = start.into();
    journal("j", h, its, true)
}

fn trend_of(before: &Journal, now: &Journal) -> Trend {
    Trend::new(
        vec![Night {
            label: "2026-09-01".into(),
            wall_start: before.header.wall_start.clone(),
            summary: Summary::of(std::slice::from_ref(before)),
        }],
        Night {
            label: "this run".into(),
            wall_start: now.header.wall_start.clone(),
            summary: Summary::of(std::slice::from_ref(now)),
        },
    )
}

#[test]
fn the_trend_flags_a_regression_and_not_an_equal_rate() {
    let before = night_journal("2026-09-01T02:00:00Z", 2, 200);
    let worse = night_journal("2026-09-02T02:00:00Z", 40, 200);
    let t = trend_of(&before, &worse);
    let html = page(std::slice::from_ref(&worse), Some(&t));
    assert!(html.contains("data-regressed=\"true\""), "row flagged");
    assert!(html.contains(">REGRESSION<"));
    assert!(html.contains("1 regression(s) against the previous night"));
    assert!(html.contains("data-chart=\"trend\""));
    // 2/200 = 1.0 %, 40/200 = 20.0 %.
    assert!(html.contains(">1.0%<") && html.contains(">20.0%<"));

    let same = night_journal("2026-09-02T02:00:00Z", 2, 200);
    let t = trend_of(&before, &same);
    let html = page(std::slice::from_ref(&same), Some(&t));
    assert!(html.contains("data-regressed=\"false\""));
    assert!(!html.contains("REGRESSION") && !html.contains("regression(s)"));
}

#[test]
fn empty_journals_render_without_panicking() {
    let html = page(&[], None);
    assert!(html.contains("0</strong> iterations"));
    let js = [journal("j", header("bench-a", 1), vec![], false)];
    let html = page(&js, None);
    assert!(html.contains("No iterations."));
    assert!(html.contains("interrupted (no footer)"));
    assert!(html.contains("No iteration failed."));
    // Iterations without an update time (all bench errors): no histogram, no panic.
    let mut its = mixed("s");
    for it in &mut its {
        it.update_ms = None;
        it.verdict = Verdict::Error;
        it.outcome = None;
    }
    let html = page(&[journal("j", header("bench-a", 1), its, true)], None);
    assert!(html.contains("no update timed"));
}

#[test]
fn ten_thousand_iterations_stay_small_and_a_lone_failure_shows() {
    let its: Vec<_> = (0..10_000u32)
        .map(|i| {
            if i == 7_777 {
                iteration(
                    "soak",
                    i,
                    Verdict::Fail,
                    Outcome::Stuck,
                    Some("dut.timeout.execute"),
                )
            } else {
                iteration("soak", i, Verdict::Pass, Outcome::Completed, None)
            }
        })
        .collect();
    let js = [journal("j", header("bench-a", 1), its, true)];
    let html = page(&js, None);
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    assert!(html.contains("Each cell holds 25 iterations, stacked by share"));
    assert!(html.contains("iterations 7776–7800: 1 dut.timeout.*, 24 pass"));
    assert!(html.contains("9999 passed") || html.contains("<strong>9999</strong> passed"));
}
