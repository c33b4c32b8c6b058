//! Journals built in code for the tests of everything derived from journals.

use super::journal::*;
use super::outcome::{Outcome, Verdict};
use super::phase::{ObjectRef, Phase};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn header(bench: &str, seed: u64) -> Header {
    Header {
        defect_cases: Default::default(),
        format: FORMAT,
        tool: "rig".into(),
        tool_version: "0.1.0".into(),
        suite: SuiteRef {
            name: "soak".into(),
            path: "suites/soak.yaml".into(),
            sha256: "ab".repeat(32),
        },
        seed,
        bench: BenchInfo {
            name: bench.into(),
            kind: BenchKind::Virtual,
            file: None,
            host: Some("ci-host".into()),
        },
        duts: vec![DutInfo {
            name: "dut0".into(),
            chip: "nRF52832_xxAA".into(),
            bootloader: "SDK 17.1 ble".into(),
            softdevice: Some("s132_nrf52_7.2.0".into()),
            firmware: BTreeMap::from([
                ("app".into(), "1".into()),
                ("bootloader".into(), "1".into()),
            ]),
            details: BTreeMap::new(),
        }],
        wall_start: "2026-09-01T02:00:00+00:00".into(),
        replay_args: Vec::new(),
    }
}

/// `n` iterations of sub-case `s` on dut0, the first `fails` failing as `dut.timeout.create`
/// with `outcome`, the others passing.
pub fn night_iterations(fails: u32, n: u32, outcome: Outcome) -> Vec<IterationRecord> {
    let one = |i| {
        if i < fails {
            iteration("s", i, Verdict::Fail, outcome, Some("dut.timeout.create"))
        } else {
            iteration("s", i, Verdict::Pass, Outcome::Completed, None)
        }
    };
    (0..n).map(one).collect()
}

/// An iteration of `sub_case` on dut0; a failure gets a class, location and evidence.
pub fn iteration(
    sub_case: &str,
    i: u32,
    verdict: Verdict,
    outcome: Outcome,
    class: Option<&str>,
) -> IterationRecord {
    let mut evidence = Evidence::default();
    evidence.event(10, format!("iteration {i} start"));
    evidence.rtt_line(20, "<info> app: Inside main");
    let failed = class.is_some() && verdict != Verdict::Flaky;
    IterationRecord {
        resume: None,
        case: sub_case.split('[').next().unwrap_or(sub_case).to_string(),
        sub_case: sub_case.to_string(),
        params: BTreeMap::new(),
        dut: "dut0".into(),
        iteration: i,
        seed: 1000 + i as u64,
        planned_fault: None,
        outcome: Some(outcome),
        verdict,
        failure_class: if failed {
            class.map(|c| c.parse().unwrap())
        } else {
            None
        },
        message: failed.then(|| "write failed".to_string()),
        failed_at: failed.then(|| FailureLocation {
            phase: Phase::Create,
            image: None,
            object: Some(ObjectRef::Data(3)),
            offset: Some(12288),
            result: Some("OPERATION_FAILED".into()),
        }),
        retries: if verdict == Verdict::Flaky {
            vec![Attempt {
                outcome: Some(Outcome::Stuck),
                failure_class: class.unwrap_or("dut.timeout.create").parse().unwrap(),
                message: "no response to CREATE".into(),
                failed_at: None,
                duration_ms: 30_000,
                evidence: evidence.clone(),
            }]
        } else {
            vec![]
        },
        duration_ms: 2000 + i as u64,
        update_ms: Some(1000 + 100 * i as u64),
        bytes: 6144,
        wall_ms: 3,
        evidence,
    }
}

pub fn journal(
    path: &str,
    header: Header,
    iterations: Vec<IterationRecord>,
    complete: bool,
) -> Journal {
    let n = iterations.len() as u64;
    Journal {
        path: PathBuf::from(path),
        header,
        records: iterations.into_iter().map(Record::Iteration).collect(),
        footer: complete.then(|| Footer {
            iterations: n,
            stopped: StopReason::Completed,
            duration_ms: 1,
            wall_ms: 1,
            wall_end: "2026-09-01T03:00:00+00:00".into(),
        }),
        truncated: None,
    }
}

/// Ten iterations: 6 pass, 2 fail, 1 flaky, 1 infrastructure error.
pub fn mixed(sub_case: &str) -> Vec<IterationRecord> {
    use Verdict::*;
    let mut v = Vec::new();
    for i in 0..6 {
        v.push(iteration(sub_case, i, Pass, Outcome::Completed, None));
    }
    v.push(iteration(
        sub_case,
        6,
        Fail,
        Outcome::DfuMode,
        Some("dut.protocol.create.operation-failed"),
    ));
    v.push(iteration(
        sub_case,
        7,
        Fail,
        Outcome::Bricked,
        Some("dut.brick"),
    ));
    v.push(iteration(
        sub_case,
        8,
        Flaky,
        Outcome::Resumed,
        Some("dut.timeout.create"),
    ));
    v.push(iteration(
        sub_case,
        9,
        Error,
        Outcome::OldAppRunning,
        Some("infra.adapter"),
    ));
    v
}
