use super::*;
use crate::campaign::journal::IterationRecord;
use crate::campaign::testkit::{header, iteration, journal, mixed};

#[test]
fn counts_rates_and_histograms_per_case_and_dut() {
    let j = journal(
        "a/journal.jsonl",
        header("bench-a", 42),
        mixed("env[prn=1]"),
        true,
    );
    let s = Summary::of(&[j]);
    assert_eq!(s.groups.len(), 1);
    let g = &s.groups[0];
    assert_eq!(
        (
            g.counts.iterations,
            g.counts.passed,
            g.counts.failed,
            g.counts.flaky,
            g.counts.errors
        ),
        (10, 6, 2, 1, 1)
    );
    assert_eq!(g.counts.device_iterations(), 9);
    assert_eq!(
        (g.case.as_str(), g.chip.as_deref(), g.bootloader.as_deref()),
        ("env", Some("nRF52832_xxAA"), Some("SDK 17.1 ble"))
    );
    // Infrastructure errors stay out of device rates.
    assert_eq!(g.success.unwrap(), Rate::wilson(6, 9).unwrap());
    assert_eq!(g.eventual_success.unwrap(), Rate::wilson(7, 9).unwrap());
    assert_eq!(g.flake.unwrap(), Rate::wilson(1, 9).unwrap());
    assert_eq!(g.outcomes[&Outcome::Completed], 6);
    assert_eq!(g.outcomes[&Outcome::Bricked], 1);
    assert_eq!(g.failure_classes["dut.protocol.create.operation-failed"], 1);
    assert_eq!(
        g.failure_classes["dut.timeout.create"], 1,
        "a flaky iteration's failed attempt counts"
    );
    assert_eq!(g.failure_classes["infra.adapter"], 1);
    assert_eq!(g.counts.bricked, 1);
    // update_ms = 1000 + 100 i for i in 0..10: p50 1450, p95 1855.
    let u = g.update_ms.unwrap();
    assert_eq!((u.count, u.p50, u.p95), (10, 1450.0, 1855.0));
    let t = g.throughput_bps.unwrap();
    assert!((t.p50 - percentile_of_throughput(0.5)).abs() < 1e-9);
    assert_eq!(
        s.totals,
        Totals {
            iterations: 10,
            passed: 6,
            failed: 2,
            flaky: 1,
            errors: 1,
            bricked: 1
        }
    );
    assert_eq!(g.first_failures.len(), 4);
    let f = &g.first_failures[0];
    assert_eq!((f.iteration, f.seed, f.campaign_seed), (6, 1006, 42));
    assert_eq!(
        f.failure_class.as_deref(),
        Some("dut.protocol.create.operation-failed")
    );
    assert_eq!(
        f.message.as_deref(),
        Some("phase=create object=data#3 offset=12288 result=OPERATION_FAILED: write failed")
    );
    assert_eq!(
        f.replay,
        "rig run suites/soak.yaml --seed 42 --replay 'env[prn=1]:6'"
    );
    assert_eq!(
        g.first_failures[2].failure_class.as_deref(),
        Some("dut.timeout.create")
    );
}

fn percentile_of_throughput(p: f64) -> f64 {
    let v: Vec<f64> = (0..10)
        .map(|i| 6144.0 * 1000.0 / (1000.0 + 100.0 * i as f64))
        .collect();
    crate::campaign::stats::percentile(&v, p).unwrap()
}

#[test]
fn benches_stay_apart_and_nights_add_up() {
    let night1 = journal("n1", header("bench-a", 7), mixed("soak"), true);
    let night2 = journal("n2", header("bench-a", 8), mixed("soak"), true);
    let other = journal("b", header("bench-b", 7), mixed("soak"), false);
    let s = Summary::of(&[night1, night2, other]);
    assert_eq!(s.groups.len(), 2);
    assert_eq!(
        (s.groups[0].bench.as_str(), s.groups[0].counts.iterations),
        ("bench-a", 20)
    );
    assert_eq!(
        (s.groups[1].bench.as_str(), s.groups[1].counts.iterations),
        ("bench-b", 10)
    );
    assert_eq!(s.runs.len(), 3);
    assert!(s.runs[0].complete && !s.runs[2].complete);
    // Replays name the seed of the journal each failure came from.
    let seeds: Vec<u64> = s.groups[0]
        .first_failures
        .iter()
        .map(|f| f.campaign_seed)
        .collect();
    // Five first failures in journal order, then night 2's brick (bricks always keep theirs).
    assert_eq!(seeds, [7, 7, 7, 7, 8, 8]);
    assert_eq!(
        s.groups[0].first_failures[5].failure_class.as_deref(),
        Some("dut.brick")
    );
    assert_eq!(s.totals.iterations, 30);
}

#[test]
fn replay_names_the_bench_file_and_quotes() {
    let mut h = header("lab", 9);
    h.bench.file = Some("benches/lab one.yaml".into());
    let j = journal("j", h, vec![], true);
    assert_eq!(
        replay_command(&j, "cut[flash_op=3]", 0),
        "rig run suites/soak.yaml --seed 9 --bench 'benches/lab one.yaml' --replay 'cut[flash_op=3]:0'"
    );
    assert_eq!(
        replay_command(&j, "plain", 12).rsplit(' ').next(),
        Some("plain:12")
    );
}

#[test]
fn text_is_aligned_and_loud_about_bricks() {
    let j = journal(
        "runs/a/journal.jsonl",
        header("bench-a", 42),
        mixed("env[prn=1]"),
        true,
    );
    let mut clean = mixed("long-sub-case-name[mtu=247]");
    clean.retain(|i| i.verdict == Verdict::Pass);
    let j2 = journal("runs/b/journal.jsonl", header("bench-a", 43), clean, true);
    let mut j2 = j2;
    j2.header.bench.kind = crate::campaign::journal::BenchKind::Lab;
    let text = Summary::of(&[j, j2]).to_text();
    assert!(text.starts_with("!!! BRICKED: 1 iteration(s)"), "{text}");
    // Which path ran: the bench kind of each journal.
    assert!(
        text.contains("seed 42 (0x2a) on bench bench-a [virtual] (host ci-host)"),
        "{text}"
    );
    assert!(
        text.contains("seed 43 (0x2b) on bench bench-a [lab] (host ci-host)"),
        "{text}"
    );
    assert!(
        text.contains(
            "total 16 iterations: 12 passed, 2 failed, 1 flaky, 1 infrastructure errors; 1 bricked"
        ),
        "{text}"
    );
    assert!(
        text.contains("replay: rig run suites/soak.yaml --seed 42 --replay 'env[prn=1]:6'"),
        "{text}"
    );
    assert!(text.contains("  env[prn=1] on bench-a/dut0: completed 6, resumed 1, old-app-running 1, dfu-mode 1, bricked 1"), "{text}");
    assert!(text.contains("0.6667 (0.3542..0.8794)"), "{text}");
    // Table rows: the `iter` column ends at the same place on every line.
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains("sub-case") && l.contains("iter"))
        .unwrap();
    let end = lines[head].find("iter").unwrap() + 4;
    for row in &lines[head + 2..head + 4] {
        let digits: String = row[..end]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        assert!(
            !digits.is_empty(),
            "iter column not right-aligned in `{row}`"
        );
    }
    let quiet = Summary::of(&[journal(
        "j",
        header("b", 1),
        vec![iteration("a", 0, Verdict::Pass, Outcome::Completed, None)],
        true,
    )])
    .to_text();
    assert!(!quiet.contains("BRICKED"), "{quiet}");
}

#[test]
fn json_form_round_trips() {
    let s = Summary::of(&[journal("j", header("bench-a", 42), mixed("env"), true)]);
    let json = s.to_json();
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["groups"][0]["outcomes"]["bricked"], 1);
    assert_eq!(v["groups"][0]["success"]["trials"], 9);
}

#[test]
fn bricks_keep_their_replay_after_the_first_failures() {
    let mut its: Vec<IterationRecord> = (0..8)
        .map(|i| {
            iteration(
                "s",
                i,
                Verdict::Fail,
                Outcome::DfuMode,
                Some("dut.timeout.create"),
            )
        })
        .collect();
    its.push(iteration(
        "s",
        8,
        Verdict::Fail,
        Outcome::Bricked,
        Some("dut.brick"),
    ));
    let s = Summary::of(&[journal("j", header("b", 1), its, true)]);
    let iters: Vec<u32> = s.groups[0]
        .first_failures
        .iter()
        .map(|f| f.iteration)
        .collect();
    assert_eq!(iters, [0, 1, 2, 3, 4, 8]);
    assert_eq!(
        s.groups[0].first_failures[5].failure_class.as_deref(),
        Some("dut.brick")
    );
}

#[test]
fn per_dut_rows_pool_their_sub_cases() {
    let mut its = mixed("a");
    its.extend(mixed("b"));
    let mut other = mixed("a");
    for it in &mut other {
        it.dut = "dut1".into();
    }
    its.extend(other);
    let s = Summary::of(&[journal("j", header("bench-a", 1), its, true)]);
    assert_eq!(s.groups.len(), 3);
    assert_eq!(s.duts.len(), 2);
    let d = &s.duts[0];
    assert_eq!(
        (
            d.dut.as_str(),
            d.counts.iterations,
            d.counts.passed,
            d.counts.failed,
            d.counts.flaky,
            d.counts.errors,
            d.counts.bricked
        ),
        ("dut0", 20, 12, 4, 2, 2, 2)
    );
    assert_eq!(d.success.unwrap(), Rate::wilson(12, 18).unwrap());
    // Percentiles of the pooled samples (each sub-case has 1000 + 100 i, i in 0..10).
    let pooled: Vec<f64> = (0..10)
        .chain(0..10)
        .map(|i| 1000.0 + 100.0 * i as f64)
        .collect();
    let u = d.update_ms.unwrap();
    assert_eq!(u.count, 20);
    assert_eq!(
        u.p95,
        crate::campaign::stats::percentile(&pooled, 0.95).unwrap()
    );
    assert_eq!(
        (s.duts[1].dut.as_str(), s.duts[1].counts.iterations),
        ("dut1", 10)
    );
    let text = s.to_text();
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("bench-a") && l.contains("dut1"))
        .unwrap_or_else(|| panic!("no per-DUT row for dut1 in\n{text}"));
    assert!(row.contains("0.6667 (0.3542..0.8794)"), "{row}");
}
