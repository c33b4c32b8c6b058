//! JUnit XML from journals, shaped for the Surefire/Jenkins schema (junit-10.xsd):
//!
//! - one `testsuite` per journal, sub-case and DUT, with properties every CI shows (seed, bench,
//!   DUT, chip, bootloader profile, firmware versions, rates with Wilson intervals, bricked);
//! - one `testcase` per iteration, named `sub-case/dut/iter-NNNN`, with the failure class as the
//!   failure `type`, phase/offset/result in the message and the evidence in `system-out`;
//! - a DUT failure is `failure`, an infrastructure fault `error`; an iteration that passed only
//!   after retries carries its failed attempts as `flakyFailure`/`flakyError` (old consumers
//!   count it passed, Surefire-aware ones show the flake); a failure after retries carries the
//!   earlier attempts as `rerunFailure`/`rerunError`.
//!
//! Only attributes the schema allows are set, except those quick-junit always writes on
//! `testsuites` (`skipped`).

use super::journal::{Attempt, IterationRecord, Journal};
use super::outcome::Verdict;
use super::summary::{GroupStats, Summary};
use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The report for one or more journals.
pub fn report(journals: &[Journal]) -> Report {
    let mut report = Report::new(report_name(journals));
    let mut used: HashMap<String, u32> = HashMap::new();
    let mut total = Duration::ZERO;
    for j in journals {
        let stats = Summary::of(std::slice::from_ref(j));
        // Iterations of each (sub-case, DUT) in journal order.
        let mut order: Vec<(String, String)> = Vec::new();
        let mut groups: BTreeMap<(String, String), Vec<&IterationRecord>> = BTreeMap::new();
        for it in j.iterations() {
            let key = (it.sub_case.clone(), it.dut.clone());
            if !groups.contains_key(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(it);
        }
        for key in order {
            let its = &groups[&key];
            let base = format!(
                "{}.{}.{}.{}",
                j.header.suite.name, key.0, j.header.bench.name, key.1
            );
            // The same sub-case from another journal of the same bench (another night) gets a
            // suffix so testcase names stay unique in the merged file.
            let n = used.entry(base.clone()).or_insert(0);
            *n += 1;
            let name = if *n == 1 { base } else { format!("{base}#{n}") };
            let g = stats
                .groups
                .iter()
                .find(|g| g.sub_case == key.0 && g.dut == key.1);
            let suite = test_suite(j, &name, its, g);
            total += suite.time.unwrap_or_default();
            report.add_test_suite(suite);
        }
    }
    report.set_time(total);
    report
}

/// The report as XML text.
pub fn to_xml(journals: &[Journal]) -> Result<String, quick_junit::SerializeError> {
    report(journals).to_string()
}

fn report_name(journals: &[Journal]) -> String {
    let mut names: Vec<&str> = journals
        .iter()
        .map(|j| j.header.suite.name.as_str())
        .collect();
    names.dedup();
    if names.is_empty() {
        "rig".into()
    } else {
        format!("rig {}", names.join(" + "))
    }
}

fn test_suite(
    j: &Journal,
    name: &str,
    its: &[&IterationRecord],
    g: Option<&GroupStats>,
) -> TestSuite {
    let mut suite = TestSuite::new(name);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&j.header.wall_start) {
        suite.set_timestamp(t);
    }
    if let Some(host) = &j.header.bench.host {
        suite.extra.insert("hostname".into(), host.as_str().into());
    }
    suite.add_properties(properties(j, its, g));
    let mut time = Duration::ZERO;
    for it in its {
        let case = test_case(name, it);
        time += case.time.unwrap_or_default();
        suite.add_test_case(case);
    }
    suite.set_time(time);
    suite
}

fn properties(j: &Journal, its: &[&IterationRecord], g: Option<&GroupStats>) -> Vec<Property> {
    let h = &j.header;
    let mut p: Vec<(String, String)> = vec![
        ("suite".into(), h.suite.name.clone()),
        ("suite_file".into(), h.suite.path.clone()),
        ("suite_sha256".into(), h.suite.sha256.clone()),
        ("seed".into(), h.seed.to_string()),
        ("seed_hex".into(), format!("0x{:x}", h.seed)),
        ("bench".into(), h.bench.name.clone()),
        ("tool_version".into(), h.tool_version.clone()),
    ];
    if let Some(first) = its.first() {
        p.push(("case".into(), first.case.clone()));
        for (k, v) in &first.params {
            p.push((format!("param.{k}"), v.clone()));
        }
        p.push(("dut".into(), first.dut.clone()));
        if let Some(d) = h.duts.iter().find(|d| d.name == first.dut) {
            p.push(("chip".into(), d.chip.clone()));
            p.push(("bootloader".into(), d.bootloader.clone()));
            if let Some(sd) = &d.softdevice {
                p.push(("softdevice".into(), sd.clone()));
            }
            for (k, v) in &d.firmware {
                p.push((format!("firmware.{k}"), v.clone()));
            }
            for (k, v) in &d.details {
                p.push((format!("dut.{k}"), v.clone()));
            }
        }
    }
    let resumes: Vec<_> = its.iter().filter_map(|i| i.resume.as_ref()).collect();
    if let Some(first) = resumes.first() {
        p.push(("bootloader.build".into(), first.bootloader.clone()));
        p.push(("resume.count".into(), resumes.len().to_string()));
        p.push((
            "resume.resumed".into(),
            resumes.iter().filter(|r| r.offset > 0).count().to_string(),
        ));
        p.push((
            "resume.bytes_resent_total".into(),
            resumes
                .iter()
                .map(|r| u64::from(r.bytes_resent))
                .sum::<u64>()
                .to_string(),
        ));
    }
    if let Some(g) = g {
        let rate =
            |r: &Option<super::stats::Rate>| r.map(|r| r.to_string()).unwrap_or_else(|| "-".into());
        p.push(("iterations".into(), g.counts.iterations.to_string()));
        p.push(("success_rate".into(), rate(&g.success)));
        p.push(("eventual_success_rate".into(), rate(&g.eventual_success)));
        p.push(("flake_rate".into(), rate(&g.flake)));
        p.push(("infra_errors".into(), g.counts.errors.to_string()));
        p.push(("bricked".into(), g.counts.bricked.to_string()));
        if let Some(u) = g.update_ms {
            p.push((
                "update_s_p50_p95".into(),
                format!("{:.3} {:.3}", u.p50 / 1000.0, u.p95 / 1000.0),
            ));
        }
        if let Some(t) = g.throughput_bps {
            p.push((
                "throughput_bps_p50_p95".into(),
                format!("{:.0} {:.0}", t.p50, t.p95),
            ));
        }
    }
    p.push(("journal".into(), j.path.display().to_string()));
    p.push(("journal_complete".into(), j.footer.is_some().to_string()));
    p.into_iter().map(|(k, v)| Property::new(k, v)).collect()
}

fn test_case(suite_name: &str, it: &IterationRecord) -> TestCase {
    let name = format!("{}/{}/iter-{:04}", it.sub_case, it.dut, it.iteration);
    let status = match it.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Flaky => TestCaseStatus::Success {
            flaky_runs: it
                .retries
                .iter()
                .enumerate()
                .map(|(k, a)| rerun(k, a))
                .collect(),
        },
        Verdict::Fail | Verdict::Error => {
            let kind = if it.verdict == Verdict::Error {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            };
            let mut s = TestCaseStatus::non_success(kind);
            if let Some(m) = it.failure_text() {
                s.set_message(m);
            }
            if let Some(c) = it.failure_class {
                s.set_type(c.to_string());
            }
            if !it.retries.is_empty() {
                s.add_reruns(it.retries.iter().enumerate().map(|(k, a)| rerun(k, a)));
                s.set_rerun_kind(FlakyOrRerun::Rerun);
            }
            s
        }
    };
    let mut case = TestCase::new(name, status);
    if let Some(r) = &it.resume {
        case.add_property(Property::new("resume.offset", r.offset.to_string()));
        case.add_property(Property::new(
            "resume.bytes_resent",
            r.bytes_resent.to_string(),
        ));
        case.add_property(Property::new(
            "resume.fault_offset",
            r.fault_offset.to_string(),
        ));
        case.add_property(Property::new("resume.kept", r.kept.clone()));
        if let Some(o) = r.due_from {
            case.add_property(Property::new("resume.due_from", o.to_string()));
        }
        case.add_property(Property::new("bootloader.build", r.bootloader.clone()));
    }
    case.set_classname(suite_name);
    case.set_time(Duration::from_millis(it.duration_ms));
    case.set_system_out(system_out(it));
    case
}

/// A failed attempt: `flakyFailure`/`flakyError` or `rerunFailure`/`rerunError`.
fn rerun(k: usize, a: &Attempt) -> TestRerun {
    let kind = if a.failure_class.is_infra() {
        NonSuccessKind::Error
    } else {
        NonSuccessKind::Failure
    };
    let mut r = TestRerun::new(kind);
    // `type` is required on Surefire's rerun elements.
    r.set_type(a.failure_class.to_string());
    r.set_message(match &a.failed_at {
        Some(at) => format!("{at}: {}", a.message),
        None => a.message.clone(),
    });
    let mut trace = format!("attempt {}: {}", k + 1, a.failure_class);
    if let Some(o) = a.outcome {
        trace.push_str(&format!(", outcome {o}"));
    }
    trace.push_str(&format!(", {} ms", a.duration_ms));
    r.set_stack_trace(trace);
    if !a.evidence.is_empty() {
        r.set_system_out(a.evidence.timeline());
    }
    r
}

fn system_out(it: &IterationRecord) -> String {
    let mut head = vec![format!("verdict={}", it.verdict)];
    if let Some(o) = it.outcome {
        head.push(format!("outcome={o}"));
    }
    head.push(format!("seed=0x{:016x}", it.seed));
    if let Some(f) = &it.planned_fault {
        head.push(format!("fault=\"{f}\""));
    }
    head.push(format!("bytes={}", it.bytes));
    if let Some(r) = &it.resume {
        head.push(format!(
            "resume_offset={} bytes_resent={}",
            r.offset, r.bytes_resent
        ));
    }
    if let Some(u) = it.update_ms {
        head.push(format!("update_ms={u}"));
    }
    if let Some(t) = it.throughput_bps() {
        head.push(format!("throughput_bps={t:.0}"));
    }
    if !it.retries.is_empty() {
        head.push(format!("attempts={}", it.retries.len() + 1));
    }
    let mut out = head.join(" ");
    out.push('\n');
    out.push_str(&it.evidence.timeline());
    out
}

#[cfg(test)]
#[path = "junit_tests.rs"]
mod tests;
