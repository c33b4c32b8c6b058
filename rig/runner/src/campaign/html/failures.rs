//! Failure classes, most frequent first (bricks always first, the bench's own faults last), each
//! with the first iteration that showed it: its message, evidence timeline and replay command.

use crate::campaign::journal::{Evidence, Journal};
use crate::campaign::summary::{replay_command, Summary};
use crate::campaign::{FailureClass, Verdict};
use maud::{html, Markup};
use std::collections::{BTreeMap, HashMap};

/// The first iteration that showed a class.
#[derive(Debug)]
pub struct Example {
    pub bench: String,
    pub dut: String,
    pub sub_case: String,
    pub iteration: u32,
    pub verdict: Verdict,
    pub seed: u64,
    /// The class came from a failed attempt that a retry then passed.
    pub retried: bool,
    pub message: Option<String>,
    pub evidence: String,
    pub replay: String,
}

/// One pass over the journals: the first example of each class.
pub fn first_examples(journals: &[Journal]) -> HashMap<String, Example> {
    let mut out: HashMap<String, Example> = HashMap::new();
    for j in journals {
        for it in j.iterations() {
            let attempts = it
                .failure_class
                .map(|c| (c, it.failure_text(), &it.evidence, false))
                .into_iter()
                .chain(it.retries.iter().map(|a| {
                    let text = match &a.failed_at {
                        Some(at) => format!("{at}: {}", a.message),
                        None => a.message.clone(),
                    };
                    (a.failure_class, Some(text), &a.evidence, true)
                }));
            for (class, message, evidence, retried) in attempts {
                let key = class.to_string();
                if out.contains_key(&key) {
                    continue;
                }
                out.insert(
                    key,
                    Example {
                        bench: j.header.bench.name.clone(),
                        dut: it.dut.clone(),
                        sub_case: it.sub_case.clone(),
                        iteration: it.iteration,
                        verdict: it.verdict,
                        seed: it.seed,
                        retried,
                        message,
                        evidence: timeline(evidence),
                        replay: replay_command(j, &it.sub_case, it.iteration),
                    },
                );
            }
        }
    }
    out
}

fn timeline(e: &Evidence) -> String {
    if e.is_empty() {
        "(no evidence recorded)".into()
    } else {
        e.timeline()
    }
}

/// Class -> (count, where: "sub-case on bench/dut" -> count), from the summary.
fn classes(s: &Summary) -> Vec<(String, u64, BTreeMap<String, u64>)> {
    let mut by: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    for g in &s.groups {
        for (class, n) in &g.failure_classes {
            let e = by.entry(class.clone()).or_default();
            e.0 += n;
            *e.1.entry(format!("{} on {}/{}", g.sub_case, g.bench, g.dut))
                .or_insert(0) += n;
        }
    }
    let mut v: Vec<_> = by.into_iter().map(|(k, (n, w))| (k, n, w)).collect();
    let rank = |class: &str| match class.parse::<FailureClass>() {
        Ok(FailureClass::Brick) => 0,
        Ok(c) if c.is_infra() => 2,
        _ => 1,
    };
    v.sort_by(|a, b| {
        rank(&a.0)
            .cmp(&rank(&b.0))
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(&b.0))
    });
    v
}

pub fn section(s: &Summary, journals: &[Journal]) -> Markup {
    let classes = classes(s);
    if classes.is_empty() {
        return html! { p { span.badge.ok { "none" } " No iteration failed." } };
    }
    let examples = first_examples(journals);
    html! {
        table #class-table {
            thead { tr { th { "failure class" } th.num { "count" } th { "where" } } }
            tbody {
                @for (class, n, places) in &classes {
                    tr data-class=(class) {
                        td.mono.nowrap { a href=(format!("#class-{}", anchor(class))) { (class) } }
                        td.num data-k="count" { (n) }
                        td {
                            @for (place, k) in places {
                                span.sub.mono { (place) " ×" (k) }
                            }
                        }
                    }
                }
            }
        }
        p.muted { "infra.* classes are the bench's own faults: JUnit errors, kept out of the device rates. "
            "A flaky iteration counts the classes of its failed attempts." }
        @for (i, (class, n, _)) in classes.iter().enumerate() {
            @if let Some(e) = examples.get(class) {
                // The first two open (bricks come first): a long night stays a readable page.
                details id=(format!("class-{}", anchor(class))) open[i < 2] {
                    summary {
                        span.mono { (class) } " ×" (n) " — first seen in "
                        span.mono { (e.sub_case) } " on " (e.bench) "/" (e.dut) ", iteration " (e.iteration)
                    }
                    p {
                        "verdict " strong { (e.verdict.label()) }
                        @if e.retried { " (this class was a failed attempt before a retry)" }
                        ", iteration seed " code { (format!("0x{:016x}", e.seed)) }
                        @if let Some(m) = &e.message { br; "message: " code { (m) } }
                    }
                    p { "replay:" }
                    pre.replay { (e.replay) }
                    p { "evidence (protocol events and RTT lines, device time since the iteration started):" }
                    pre.evidence { (e.evidence) }
                }
            }
        }
    }
}

/// An id fragment from a class name: class names are dotted kebab-case tokens, but nothing
/// from a journal goes into an attribute unchecked.
fn anchor(class: &str) -> String {
    class
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
