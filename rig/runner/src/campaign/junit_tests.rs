//! What the JUnit file says about each iteration. Schema validation is in tests/junit_xsd.rs.

use super::*;
use crate::campaign::outcome::Outcome;
use crate::campaign::testkit::{header, iteration, journal, mixed};

fn parse(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap()
}

fn case<'a>(doc: &'a roxmltree::Document, name: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

fn child<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children().find(|c| c.has_tag_name(tag))
}

#[test]
fn one_testcase_per_iteration_with_class_message_and_evidence() {
    let j = journal(
        "runs/a/journal.jsonl",
        header("bench-a", 42),
        mixed("env[prn=1]"),
        true,
    );
    let xml = to_xml(&[j]).unwrap();
    let doc = parse(&xml);
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let s = suites[0];
    assert_eq!(s.attribute("name"), Some("soak.env[prn=1].bench-a.dut0"));
    assert_eq!(
        (
            s.attribute("tests"),
            s.attribute("failures"),
            s.attribute("errors")
        ),
        (Some("10"), Some("2"), Some("1"))
    );
    assert_eq!(s.attribute("hostname"), Some("ci-host"));
    assert_eq!(
        s.attribute("timestamp"),
        Some("2026-09-01T02:00:00.000+00:00")
    );
    // 10 iterations of 2000 + i ms.
    assert_eq!(s.attribute("time"), Some("20.045"));

    let pass = case(&doc, "env[prn=1]/dut0/iter-0000");
    assert_eq!(
        pass.attribute("classname"),
        Some("soak.env[prn=1].bench-a.dut0")
    );
    assert!(child(pass, "failure").is_none() && child(pass, "error").is_none());
    let out = child(pass, "system-out").unwrap().text().unwrap();
    assert!(out.starts_with("verdict=pass outcome=completed seed=0x00000000000003e8 bytes=6144 update_ms=1000 throughput_bps=6144\n"), "{out}");
    assert!(
        out.contains("0.020 s rtt   <info> app: Inside main"),
        "{out}"
    );

    let fail = child(case(&doc, "env[prn=1]/dut0/iter-0006"), "failure").unwrap();
    assert_eq!(
        fail.attribute("type"),
        Some("dut.protocol.create.operation-failed")
    );
    assert_eq!(
        fail.attribute("message"),
        Some("phase=create object=data#3 offset=12288 result=OPERATION_FAILED: write failed")
    );

    let flaky = case(&doc, "env[prn=1]/dut0/iter-0008");
    assert!(
        child(flaky, "failure").is_none(),
        "a flaky iteration is not a failure"
    );
    let ff = child(flaky, "flakyFailure").unwrap();
    assert_eq!(ff.attribute("type"), Some("dut.timeout.create"));
    assert_eq!(ff.attribute("message"), Some("no response to CREATE"));
    assert_eq!(
        child(ff, "stackTrace").unwrap().text(),
        Some("attempt 1: dut.timeout.create, outcome stuck, 30000 ms")
    );
    assert!(child(ff, "system-out")
        .unwrap()
        .text()
        .unwrap()
        .contains("iteration 8 start"));

    let err = child(case(&doc, "env[prn=1]/dut0/iter-0009"), "error").unwrap();
    assert_eq!(err.attribute("type"), Some("infra.adapter"));

    let props: BTreeMap<&str, &str> = s
        .descendants()
        .filter(|n| n.has_tag_name("property"))
        .map(|n| (n.attribute("name").unwrap(), n.attribute("value").unwrap()))
        .collect();
    for (k, v) in [
        ("seed", "42"),
        ("seed_hex", "0x2a"),
        ("bench", "bench-a"),
        ("dut", "dut0"),
        ("chip", "nRF52832_xxAA"),
        ("bootloader", "SDK 17.1 ble"),
        ("softdevice", "s132_nrf52_7.2.0"),
        ("firmware.app", "1"),
        ("case", "env"),
        ("success_rate", "0.6667 (wilson95 0.3542..0.8794, 6/9)"),
        ("flake_rate", "0.1111 (wilson95 0.0199..0.4350, 1/9)"),
        ("bricked", "1"),
        ("infra_errors", "1"),
        ("update_s_p50_p95", "1.450 1.855"),
        ("journal_complete", "true"),
    ] {
        assert_eq!(props.get(k), Some(&v), "property {k}");
    }
}

#[test]
fn failure_after_retries_keeps_the_attempts_as_reruns() {
    let mut it = iteration(
        "a",
        0,
        Verdict::Fail,
        Outcome::Stuck,
        Some("dut.timeout.create"),
    );
    let mut earlier = iteration("a", 0, Verdict::Flaky, Outcome::Stuck, Some("infra.probe"));
    it.retries = std::mem::take(&mut earlier.retries);
    let xml = to_xml(&[journal("j", header("b", 1), vec![it], true)]).unwrap();
    let doc = parse(&xml);
    let c = case(&doc, "a/dut0/iter-0000");
    assert_eq!(
        child(c, "failure").unwrap().attribute("type"),
        Some("dut.timeout.create")
    );
    assert_eq!(
        child(c, "rerunError").unwrap().attribute("type"),
        Some("infra.probe")
    );
    assert!(child(c, "flakyFailure").is_none());
}

#[test]
fn merged_journals_keep_names_unique() {
    let one = journal("n1", header("bench-a", 7), mixed("soak"), true);
    let two = journal("n2", header("bench-a", 7), mixed("soak"), true);
    let other = journal("b", header("bench-b", 7), mixed("soak"), true);
    let xml = to_xml(&[one, two, other]).unwrap();
    let doc = parse(&xml);
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(
        names,
        [
            "soak.soak.bench-a.dut0",
            "soak.soak.bench-a.dut0#2",
            "soak.soak.bench-b.dut0"
        ]
    );
    let mut pairs: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            (
                n.attribute("classname").unwrap(),
                n.attribute("name").unwrap(),
            )
        })
        .collect();
    let n = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), n);
    assert_eq!(n, 30);
    let root = doc.root_element();
    assert_eq!(root.attribute("name"), Some("rig soak"));
    assert_eq!(
        (
            root.attribute("tests"),
            root.attribute("failures"),
            root.attribute("errors")
        ),
        (Some("30"), Some("6"), Some("3"))
    );
}
