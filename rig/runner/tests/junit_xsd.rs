//! Generated JUnit against the Surefire/Jenkins schema (tests/fixtures/junit-10.xsd):
//! with xmllint when it is installed (Debian libxml2-utils), and always with a pure-Rust check of
//! the elements, attributes and children the schema declares, read from the XSD itself.

mod common;
mod junit_schema;

use junit_schema::{check_structure, read_xsd, strip_tolerated, xsd_path};
use rig::campaign::journal::Journal;
use rig::campaign::junit;
use std::collections::BTreeSet;

/// Two benches, one of them with two nights, several sub-cases: every kind of testcase.
fn sample_xml() -> String {
    let dir = tempfile::tempdir().unwrap();
    let a1 = dir.path().join("a1");
    let a2 = dir.path().join("a2");
    let b = dir.path().join("b");
    let subs = [
        "random-interrupt[fault_action=reset]",
        "random-interrupt[fault_action=link-drop]",
    ];
    common::write_journal(&a1, "bench-a", 42, &subs, 30, true);
    common::write_journal(&a2, "bench-a", 43, &subs, 30, true);
    common::write_journal(&b, "bench-b", 42, &subs[..1], 30, false);
    let journals: Vec<Journal> = [a1, a2, b]
        .iter()
        .map(|d| Journal::read(&d.join("journal.jsonl")).unwrap())
        .collect();
    junit::to_xml(&journals).unwrap()
}

#[test]
fn validates_with_xmllint() {
    let Ok(out) = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
    else {
        println!("note: xmllint not installed (Debian: apt-get install libxml2-utils); schema validation by xmllint skipped, the pure-Rust structural check still runs");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, strip_tolerated(&sample_xml())).unwrap();
    let run = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd_path())
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "xmllint rejected the JUnit file:\n{stderr}"
    );
    assert!(stderr.contains("validates"), "{stderr}");
}

#[test]
fn xmllint_catches_what_the_schema_forbids() {
    // The validation above could pass vacuously if xmllint ignored the schema: an undeclared
    // attribute on a testcase must be refused.
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("note: xmllint not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.xml");
    let bad =
        strip_tolerated(&sample_xml()).replacen("<testcase ", "<testcase assertions=\"1\" ", 1);
    std::fs::write(&file, bad).unwrap();
    let run = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(xsd_path())
        .arg(&file)
        .output()
        .unwrap();
    assert!(!run.status.success());
    // And the untouched file without stripping fails only on the tolerated attributes.
    std::fs::write(&file, sample_xml()).unwrap();
    let run = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(xsd_path())
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    for line in stderr.lines().filter(|l| l.contains("error")) {
        assert!(
            line.contains("testsuites") && line.contains("skipped"),
            "unexpected: {line}"
        );
    }
}

#[test]
fn structure_follows_the_schema_in_pure_rust() {
    let (decls, pattern) = read_xsd();
    assert_eq!(
        pattern, "(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\\.[0-9]{0,3})?",
        "the fixture changed"
    );
    assert!(decls["testcase"].children.contains("flakyFailure"));
    assert!(decls["flakyFailure"].required.contains("type"));
    let xml = sample_xml();
    let seen = check_structure(&xml).unwrap();
    for expected in [
        "testsuites",
        "testsuite",
        "properties",
        "property",
        "testcase",
        "failure",
        "error",
        "flakyFailure",
        "stackTrace",
        "system-out",
    ] {
        assert!(seen.contains(expected), "the sample has no <{expected}>");
    }
    // The checker refuses what the schema does not allow.
    for (from, to) in [
        ("<testcase ", "<testcase assertions=\"1\" "),
        (
            "<flakyFailure message",
            "<flakyFailure time=\"1.0\" message",
        ),
        ("<testsuite name=", "<testsuite time=\"1.2345\" name="),
        ("<properties>", "<properties><testcase name=\"x\"/>"),
    ] {
        let bad = xml.replacen(from, to, 1);
        assert!(check_structure(&bad).is_err(), "accepted {to}");
    }
    let doc = roxmltree::Document::parse(&xml).unwrap();
    // Counts agree with the testcases.
    for s in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
        let cases: Vec<_> = s
            .children()
            .filter(|c| c.has_tag_name("testcase"))
            .collect();
        let count = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|x| x.has_tag_name(tag)))
                .count()
                .to_string()
        };
        assert_eq!(s.attribute("tests").unwrap(), cases.len().to_string());
        assert_eq!(s.attribute("failures").unwrap(), count("failure"));
        assert_eq!(s.attribute("errors").unwrap(), count("error"));
    }
    // Unique (classname, name) pairs: GitLab keeps only the first of duplicates.
    let mut pairs = BTreeSet::new();
    for c in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
        assert!(pairs.insert((
            c.attribute("classname").unwrap(),
            c.attribute("name").unwrap()
        )));
    }
    assert_eq!(pairs.len(), 150);
}

#[test]
fn escaping_and_control_characters() {
    let xml = sample_xml();
    // The ANSI escape in an RTT line is removed; markup characters are escaped and read back.
    assert!(!xml.contains('\u{1b}'));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let out = doc
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        out.contains("CREATE data object 0 <size=4096> & \"go\""),
        "{out}"
    );
}
