//! Journals written through the public API, for the CLI and schema tests.
#![allow(dead_code)]

use rig::campaign::journal::*;
use rig::campaign::suite::{Fault, FaultAction, FaultAt};
use rig::campaign::{FailureClass, ObjectRef, Outcome, Phase, Verdict};
use std::collections::BTreeMap;
use std::path::Path;

pub fn header(bench: &str, seed: u64) -> Header {
    Header {
        defect_cases: Default::default(),
        format: FORMAT,
        tool: "rig".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        suite: SuiteRef {
            name: "interrupt-recovery".into(),
            path: "suites/interrupt-recovery.yaml".into(),
            sha256: "0".repeat(64),
        },
        seed,
        bench: BenchInfo {
            name: bench.into(),
            kind: BenchKind::Virtual,
            file: None,
            host: Some("host-1".into()),
        },
        duts: vec![DutInfo {
            name: "dut0".into(),
            chip: "nRF52832_xxAA".into(),
            bootloader: "SDK 17.1 ble".into(),
            softdevice: Some("s132_nrf52_7.2.0 (FWID 0x101)".into()),
            firmware: BTreeMap::from([("app".into(), "1".into())]),
            details: BTreeMap::from([("address".into(), "F0:0D:00:00:00:01".into())]),
        }],
        wall_start: "2026-09-01T02:00:00+00:00".into(),
        replay_args: Vec::new(),
    }
}

/// Iteration `i`: every 7th fails in CREATE, every 11th passes after a retry, every 13th is an
/// adapter error, the rest pass; some evidence has characters XML must escape.
pub fn iteration(sub_case: &str, i: u32) -> IterationRecord {
    let mut evidence = Evidence::default();
    evidence.event(0, "enter DFU mode (buttonless)");
    evidence.event(
        1200,
        format!("CREATE data object {} <size=4096> & \"go\"", i % 3),
    );
    evidence.rtt_line(
        1300,
        "<info> nrf_dfu_flash: Flash erase success: addr=0x00026000, pending 0\u{1b}[0m",
    );
    let fault = Fault {
        action: FaultAction::Reset,
        at: FaultAt::Percent(21.0),
    };
    let (verdict, outcome, class) = if i % 7 == 3 {
        (
            Verdict::Fail,
            Outcome::Stuck,
            Some("dut.protocol.create.operation-failed"),
        )
    } else if i % 13 == 5 {
        (
            Verdict::Error,
            Outcome::OldAppRunning,
            Some("infra.adapter"),
        )
    } else if i % 11 == 4 {
        (Verdict::Flaky, Outcome::Resumed, None)
    } else {
        (
            Verdict::Pass,
            if i.is_multiple_of(2) {
                Outcome::Resumed
            } else {
                Outcome::Restarted
            },
            None,
        )
    };
    let failure_class: Option<FailureClass> = class.map(|c| c.parse().unwrap());
    IterationRecord {
        resume: None,
        case: sub_case.split('[').next().unwrap().into(),
        sub_case: sub_case.into(),
        params: BTreeMap::from([("fault_action".into(), "reset".into())]),
        dut: "dut0".into(),
        iteration: i,
        seed: 0x5eed_0000 + u64::from(i),
        planned_fault: Some(fault),
        outcome: Some(outcome),
        verdict,
        failure_class,
        message: class.map(|_| "CREATE answered OPERATION_FAILED".to_string()),
        failed_at: class.map(|_| FailureLocation {
            phase: Phase::Create,
            image: None,
            object: Some(ObjectRef::Data(1)),
            offset: Some(4096),
            result: Some("OPERATION_FAILED".into()),
        }),
        retries: if verdict == Verdict::Flaky {
            vec![Attempt {
                outcome: Some(Outcome::Stuck),
                failure_class: "dut.timeout.execute".parse().unwrap(),
                message: "no response to EXECUTE".into(),
                failed_at: None,
                duration_ms: 30_000,
                evidence: evidence.clone(),
            }]
        } else {
            vec![]
        },
        duration_ms: 20_000 + u64::from(i) * 10,
        update_ms: Some(15_000 + u64::from(i) * 10),
        bytes: 9216,
        wall_ms: 40,
        evidence,
    }
}

/// Write a campaign directory's journal: header, `n` iterations of each sub-case, footer.
pub fn write_journal(dir: &Path, bench: &str, seed: u64, sub_cases: &[&str], n: u32, footer: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut w = JournalWriter::create(&dir.join(JOURNAL_FILE)).unwrap();
    w.write(&Record::Header(header(bench, seed))).unwrap();
    for s in sub_cases {
        for i in 0..n {
            w.write(&Record::Iteration(iteration(s, i))).unwrap();
        }
    }
    w.write(&Record::Healing(HealingRecord {
        dut: "dut0".into(),
        sub_case: Some(sub_cases[0].into()),
        iteration: Some(3),
        action: HealingAction::PowerCycle,
        reason: "stuck after CREATE".into(),
        ok: true,
        duration_ms: 500,
        wall_ms: 1,
    }))
    .unwrap();
    if footer {
        w.write(&Record::Footer(Footer {
            iterations: u64::from(n) * sub_cases.len() as u64,
            stopped: StopReason::Completed,
            duration_ms: 1,
            wall_ms: 1,
            wall_end: "2026-09-01T03:00:00+00:00".into(),
        }))
        .unwrap();
    }
}
