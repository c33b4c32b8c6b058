//! Journal round trips, truncation and corruption.

use super::*;
use crate::campaign::failure_class::FailureClass;
use crate::campaign::outcome::{Outcome, Verdict};
use crate::campaign::phase::{ObjectRef, Phase};
use crate::campaign::suite::{Fault, FaultAction, FaultAt, FixedPoint};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) fn header(seed: u64) -> Header {
    Header {
        defect_cases: Default::default(),
        format: FORMAT,
        tool: "rig".into(),
        tool_version: "0.1.0".into(),
        suite: SuiteRef {
            name: "smoke".into(),
            path: "suites/smoke.yaml".into(),
            sha256: "ab".repeat(32),
        },
        seed,
        bench: BenchInfo {
            name: "virtual".into(),
            kind: BenchKind::Virtual,
            file: None,
            host: Some("ci".into()),
        },
        duts: vec![DutInfo {
            name: "dut0".into(),
            chip: "nRF52832_xxAA".into(),
            bootloader: "SDK 17.1 ble".into(),
            softdevice: Some("s132_nrf52_7.2.0".into()),
            firmware: BTreeMap::from([("app".into(), "1".into())]),
            details: BTreeMap::new(),
        }],
        wall_start: "2026-09-01T02:00:00Z".into(),
        replay_args: Vec::new(),
    }
}

fn arb_class() -> impl Strategy<Value = FailureClass> {
    prop_oneof![
        Just("dut.protocol.create.operation-failed"),
        Just("dut.timeout.execute"),
        Just("infra.adapter"),
        Just("dut.brick"),
        Just("dut.verify.bank0"),
    ]
    .prop_map(|s| s.parse().unwrap())
}

fn arb_fault() -> impl Strategy<Value = Fault> {
    let action = prop_oneof![
        Just(FaultAction::Reset),
        Just(FaultAction::LinkDrop),
        (0u64..10_000).prop_map(|off_ms| FaultAction::PowerCut { off_ms }),
    ];
    let at = prop_oneof![
        (0.0f64..=100.0).prop_map(FaultAt::Percent),
        any::<u32>().prop_map(FaultAt::FlashOp),
        (any::<u32>(), proptest::option::of(any::<u32>())).prop_map(|(o, b)| FaultAt::Fixed(
            FixedPoint {
                phase: Phase::Write,
                object: Some(ObjectRef::Data(o)),
                byte: b,
                image: None
            }
        )),
    ];
    (action, at).prop_map(|(action, at)| Fault { action, at })
}

fn arb_text() -> impl Strategy<Value = String> {
    // Quotes, backslashes, newlines and non-ASCII must survive one-line JSON.
    "[a-z0-9 \"\\\\\n\t\u{e9}\u{1F4A5}]{0,40}"
}

fn arb_iteration() -> impl Strategy<Value = IterationRecord> {
    (
        (
            "[a-z-]{1,12}",
            any::<u32>(),
            any::<u64>(),
            proptest::option::of(arb_fault()),
        ),
        (
            proptest::option::of(proptest::sample::select(Outcome::ALL.to_vec())),
            proptest::option::of(arb_class()),
        ),
        (
            proptest::option::of(arb_text()),
            any::<u64>(),
            proptest::option::of(any::<u64>()),
            any::<u64>(),
            any::<u64>(),
        ),
        proptest::collection::vec((any::<u64>(), arb_text()), 0..5),
        proptest::collection::vec((arb_class(), arb_text()), 0..3),
    )
        .prop_map(
            |(
                (case, iteration, seed, fault),
                (outcome, class),
                (message, d, u, b, w),
                ev,
                retries,
            )| {
                let mut evidence = Evidence::default();
                for (t, text) in ev {
                    evidence.event(t, text.clone());
                    evidence.rtt_line(t, text);
                }
                IterationRecord {
                    resume: None,
                    sub_case: format!("{case}[prn=1]"),
                    params: BTreeMap::from([("prn".to_string(), "1".to_string())]),
                    case,
                    dut: "dut0".into(),
                    iteration,
                    seed,
                    planned_fault: fault,
                    outcome,
                    verdict: if retries.is_empty() {
                        Verdict::Pass
                    } else {
                        Verdict::Flaky
                    },
                    failure_class: class,
                    message,
                    failed_at: class.map(|_| FailureLocation {
                        phase: Phase::Create,
                        image: None,
                        object: Some(ObjectRef::Data(3)),
                        offset: Some(12288),
                        result: Some("OPERATION_FAILED".into()),
                    }),
                    retries: retries
                        .into_iter()
                        .map(|(failure_class, message)| Attempt {
                            outcome: Some(Outcome::Stuck),
                            failure_class,
                            message,
                            failed_at: None,
                            duration_ms: 5,
                            evidence: Evidence::default(),
                        })
                        .collect(),
                    duration_ms: d,
                    update_ms: u,
                    bytes: b,
                    wall_ms: w,
                    evidence,
                }
            },
        )
}

fn arb_record() -> impl Strategy<Value = Record> {
    prop_oneof![
        4 => arb_iteration().prop_map(Record::Iteration),
        1 => (any::<bool>(), arb_text()).prop_map(|(ok, reason)| Record::Healing(HealingRecord {
            dut: "dut0".into(),
            sub_case: Some("a".into()),
            iteration: Some(3),
            action: HealingAction::PowerCycle,
            reason,
            ok,
            duration_ms: 500,
            wall_ms: 1,
        })),
        1 => arb_text().prop_map(|reason| Record::Quarantine(QuarantineRecord {
            dut: "dut0".into(),
            failure_class: "infra.probe".parse().unwrap(),
            reason,
            sub_case: None,
            iteration: None,
        })),
        1 => Just(Record::CaseStop(CaseStopRecord { sub_case: "a".into(), dut: "dut0".into(), reason: StopReason::MaxFailures, iterations: 7 })),
    ]
}

fn write_all(records: &[Record]) -> Vec<u8> {
    let mut w = JournalWriter::new(Vec::new(), Path::new("mem"));
    for r in records {
        w.write(r).unwrap();
    }
    assert_eq!(w.lines(), records.len() as u64);
    w.into_inner().unwrap()
}

proptest! {
    #[test]
    fn round_trip(seed in any::<u64>(), body in proptest::collection::vec(arb_record(), 0..12), end in any::<bool>()) {
        let mut all = vec![Record::Header(header(seed))];
        all.extend(body.iter().cloned());
        let footer = Footer { iterations: body.len() as u64, stopped: StopReason::Completed, duration_ms: 9, wall_ms: 3, wall_end: "2026-09-01T03:00:00Z".into() };
        if end {
            all.push(Record::Footer(footer.clone()));
        }
        let bytes = write_all(&all);
        // One line per record, each a JSON object.
        prop_assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), all.len());
        let j = Journal::parse(Path::new("mem"), &bytes).unwrap();
        prop_assert_eq!(&j.header, &header(seed));
        prop_assert_eq!(&j.records, &body);
        prop_assert_eq!(j.footer.clone(), end.then_some(footer));
        prop_assert_eq!(j.truncated, None);
        // Encode again: the same bytes.
        let mut again = vec![Record::Header(j.header.clone())];
        again.extend(j.records.iter().cloned());
        if let Some(f) = j.footer.clone() { again.push(Record::Footer(f)); }
        prop_assert_eq!(write_all(&again), bytes);
    }

    #[test]
    fn any_cut_loses_at_most_the_last_record(body in proptest::collection::vec(arb_record(), 1..6), cut_frac in 0.0f64..1.0) {
        let mut all = vec![Record::Header(header(7))];
        all.extend(body.iter().cloned());
        let bytes = write_all(&all);
        let header_len = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
        let cut = header_len + ((bytes.len() - header_len) as f64 * cut_frac) as usize;
        let j = Journal::parse(Path::new("mem"), &bytes[..cut]).unwrap();
        let complete = bytes[..cut].iter().filter(|b| **b == b'\n').count() - 1;
        prop_assert!(j.records.len() == complete || j.records.len() == complete + 1);
        prop_assert_eq!(&j.records[..complete], &body[..complete]);
        prop_assert_eq!(j.truncated.is_some(), j.records.len() == complete && bytes[cut - 1] != b'\n');
    }
}

proptest! {
    /// The streaming reader for reports sees what `parse` sees, cut or not, except the evidence of
    /// iterations that passed on the first attempt.
    #[test]
    fn reading_for_reports_matches_parse_without_pass_evidence(body in proptest::collection::vec(arb_record(), 1..8), cut_frac in 0.0f64..1.0) {
        let mut all = vec![Record::Header(header(3))];
        all.extend(body.iter().cloned());
        let bytes = write_all(&all);
        let header_len = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
        let cut = header_len + ((bytes.len() - header_len) as f64 * cut_frac) as usize;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let full = Journal::parse(&path, &bytes[..cut]).unwrap();
        let lean = Journal::read_for_reports(&path).unwrap();
        let mut expected = full.records.clone();
        for r in &mut expected {
            if let Record::Iteration(it) = r {
                if it.verdict == Verdict::Pass {
                    it.evidence = Default::default();
                }
            }
        }
        prop_assert_eq!(&lean.records, &expected);
        prop_assert_eq!(lean.truncated, full.truncated);
        prop_assert_eq!(lean.footer, full.footer);
    }
}

#[test]
fn truncated_last_line_is_tolerated_and_reported() {
    let it = Record::Iteration(IterationRecord {
        resume: None,
        case: "a".into(),
        sub_case: "a".into(),
        params: BTreeMap::new(),
        dut: "dut0".into(),
        iteration: 0,
        seed: 1,
        planned_fault: None,
        outcome: Some(Outcome::Completed),
        verdict: Verdict::Pass,
        failure_class: None,
        message: None,
        failed_at: None,
        retries: vec![],
        duration_ms: 10,
        update_ms: Some(8),
        bytes: 6144,
        wall_ms: 1,
        evidence: Evidence::default(),
    });
    let mut bytes = write_all(&[Record::Header(header(1)), it.clone(), it.clone()]);
    bytes.truncate(bytes.len() - 20);
    let j = Journal::parse(Path::new("j.jsonl"), &bytes).unwrap();
    assert_eq!(j.records, std::slice::from_ref(&it));
    assert_eq!(j.truncated.unwrap().line, 3);
    assert!(j.footer.is_none());
    // NUL padding after a crash counts as a truncated tail too.
    let mut padded = write_all(&[Record::Header(header(1)), it.clone()]);
    padded.extend([0u8; 16]);
    let j = Journal::parse(Path::new("j.jsonl"), &padded).unwrap();
    assert_eq!(j.records.len(), 1);
    assert_eq!(j.truncated, Some(Truncated { line: 3, bytes: 16 }));
    // A complete last record that only lacks its newline is kept.
    let mut whole = write_all(&[Record::Header(header(1)), it.clone()]);
    whole.pop();
    let j = Journal::parse(Path::new("j.jsonl"), &whole).unwrap();
    assert_eq!((j.records.len(), j.truncated), (1, None));
}

#[test]
fn corruption_in_the_middle_names_the_line() {
    let h = Record::Header(header(1));
    let q = Record::CaseStop(CaseStopRecord {
        sub_case: "a".into(),
        dut: "d".into(),
        reason: StopReason::TimeBudget,
        iterations: 1,
    });
    let good = write_all(&[h.clone(), q.clone(), q.clone(), q.clone()]);
    let text = String::from_utf8(good).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"record\":\"case-stop\",\"sub_ca";
    let bad = lines.join("\n") + "\n";
    let e = Journal::parse(Path::new("runs/j.jsonl"), bad.as_bytes()).unwrap_err();
    assert!(matches!(e, JournalError::Corrupt { line: 3, .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("runs/j.jsonl:3: corrupt journal line"),
        "{e}"
    );
    // A corrupt last line that has its newline is corruption, not truncation.
    let bad_last = text.clone() + "garbage\n";
    assert!(matches!(
        Journal::parse(Path::new("j"), bad_last.as_bytes()),
        Err(JournalError::Corrupt { line: 5, .. })
    ));
    let blank = text.replacen('\n', "\n\n", 1);
    assert!(matches!(
        Journal::parse(Path::new("j"), blank.as_bytes()),
        Err(JournalError::Corrupt { line: 2, .. })
    ));
}

#[test]
fn structure_errors() {
    let h = Record::Header(header(1));
    let f = Record::Footer(Footer {
        iterations: 0,
        stopped: StopReason::Interrupted,
        duration_ms: 0,
        wall_ms: 0,
        wall_end: "x".into(),
    });
    let q = Record::CaseStop(CaseStopRecord {
        sub_case: "a".into(),
        dut: "d".into(),
        reason: StopReason::Brick,
        iterations: 1,
    });
    assert!(matches!(
        Journal::parse(Path::new("j"), b""),
        Err(JournalError::Empty { .. })
    ));
    for (records, line, phrase) in [
        (vec![q.clone()], 1, "not a header"),
        (vec![h.clone(), h.clone()], 2, "a second header"),
        (vec![h.clone(), f.clone(), q.clone()], 3, "after the footer"),
    ] {
        let e = Journal::parse(Path::new("j"), &write_all(&records)).unwrap_err();
        match e {
            JournalError::Corrupt {
                line: l, message, ..
            } => assert!(l == line && message.contains(phrase), "{l} {message}"),
            other => panic!("{other}"),
        }
    }
    let mut newer = header(1);
    newer.format = FORMAT + 1;
    let e = Journal::parse(Path::new("j"), &write_all(&[Record::Header(newer)])).unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
}

#[test]
fn wall_fields_are_the_only_difference_between_identical_runs() {
    let mut a = header(42);
    let mut b = header(42);
    a.wall_start = "2026-09-01T02:00:00Z".into();
    b.wall_start = "2026-09-02T02:00:00Z".into();
    let la = serde_json::to_string(&Record::Header(a)).unwrap();
    let lb = serde_json::to_string(&Record::Header(b)).unwrap();
    assert_ne!(la, lb);
    assert_eq!(
        without_wall_fields(&la).unwrap(),
        without_wall_fields(&lb).unwrap()
    );
    assert!(!without_wall_fields(&la).unwrap().contains("wall_"));
    // Seeds are not wall fields: different seeds stay different.
    let lc = serde_json::to_string(&Record::Header(header(43))).unwrap();
    assert_ne!(
        without_wall_fields(&la).unwrap(),
        without_wall_fields(&lc).unwrap()
    );
}

#[test]
fn file_writer_and_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let mut w = JournalWriter::create(&path).unwrap();
    w.write(&Record::Header(header(5))).unwrap();
    // Flushed per record: another reader sees it before the writer is dropped.
    let j = Journal::read(&path).unwrap();
    assert_eq!(j.header.seed, 5);
    drop(w);
    let e = Journal::read(&dir.path().join("none.jsonl")).unwrap_err();
    assert!(matches!(e, JournalError::Io { .. }));
}
