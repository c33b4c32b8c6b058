//! Generated JUnit against the Surefire/Jenkins schema (tests/fixtures/junit-10.xsd):
//! with xmllint when it is installed (Debian libxml2-utils), and always with a pure-Rust check of
//! the elements, attributes and children the schema declares, read from the XSD itself.

mod common;

use rig::campaign::journal::Journal;
use rig::campaign::junit;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn xsd_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd")
}

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

/// The one deviation tolerated: attributes quick-junit always writes on `<testsuites>` that
/// the schema does not declare.
const TOLERATED_ON_TESTSUITES: [&str; 4] = ["skipped", "disabled", "uuid", "timestamp"];

fn strip_tolerated(xml: &str) -> String {
    let start = xml.find("<testsuites").unwrap();
    let end = start + xml[start..].find('>').unwrap();
    let mut tag = xml[start..end].to_string();
    for a in TOLERATED_ON_TESTSUITES {
        if let Some(p) = tag.find(&format!(" {a}=\"")) {
            let q = p + a.len() + 3 + tag[p + a.len() + 3..].find('"').unwrap() + 1;
            tag.replace_range(p..q, "");
        }
    }
    format!("{}{}{}", &xml[..start], tag, &xml[end..])
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

/// What the XSD declares for each element: attributes (and which are required) and child
/// elements.
#[derive(Debug, Default)]
struct Decl {
    attributes: BTreeSet<String>,
    required: BTreeSet<String>,
    children: BTreeSet<String>,
    text_only: bool,
}

fn read_xsd() -> (BTreeMap<String, Decl>, String) {
    let text = std::fs::read_to_string(xsd_path()).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let xs = |n: &roxmltree::Node, tag: &str| n.is_element() && n.tag_name().name() == tag;
    let complex_types: BTreeMap<String, roxmltree::Node> = doc
        .root_element()
        .children()
        .filter(|n| xs(n, "complexType"))
        .map(|n| (n.attribute("name").unwrap().to_string(), n))
        .collect();
    let collect = |body: roxmltree::Node, d: &mut Decl| {
        for n in body.descendants() {
            if xs(&n, "attribute") {
                let name = n.attribute("name").unwrap().to_string();
                if n.attribute("use") == Some("required") {
                    d.required.insert(name.clone());
                }
                d.attributes.insert(name);
            } else if xs(&n, "element") && n != body {
                d.children.insert(
                    n.attribute("ref")
                        .or(n.attribute("name"))
                        .unwrap()
                        .to_string(),
                );
            }
        }
    };
    let mut decls = BTreeMap::new();
    for el in doc.root_element().children().filter(|n| xs(n, "element")) {
        let mut d = Decl::default();
        match el.attribute("type") {
            Some("xs:string") => d.text_only = true,
            Some(t) => collect(complex_types[t], &mut d),
            None => collect(el, &mut d),
        }
        decls.insert(el.attribute("name").unwrap().to_string(), d);
    }
    // Elements declared locally with a simple type (stackTrace in rerunType) hold text only.
    for n in doc
        .descendants()
        .filter(|n| xs(n, "element") && n.attribute("type") == Some("xs:string"))
    {
        if let Some(name) = n.attribute("name") {
            decls.entry(name.to_string()).or_insert_with(|| Decl {
                text_only: true,
                ..Decl::default()
            });
        }
    }
    let pattern = doc
        .descendants()
        .find(|n| xs(n, "simpleType") && n.attribute("name") == Some("SUREFIRE_TIME"))
        .and_then(|n| n.descendants().find(|p| xs(p, "pattern")))
        .and_then(|p| p.attribute("value"))
        .unwrap()
        .to_string();
    (decls, pattern)
}

/// SUREFIRE_TIME: digits (with optional thousands commas), then up to three decimals.
fn surefire_time(v: &str) -> bool {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    !int.is_empty()
        && int.chars().all(|c| c.is_ascii_digit() || c == ',')
        && frac.len() <= 3
        && frac.chars().all(|c| c.is_ascii_digit())
}

/// Every element, attribute and child of `xml` as the schema declares them; the first
/// deviation as an error.
fn check_structure(xml: &str) -> Result<BTreeSet<String>, String> {
    let (decls, _) = read_xsd();
    let doc = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
    if doc.root_element().tag_name().name() != "testsuites" {
        return Err("root is not <testsuites>".into());
    }
    let mut seen = BTreeSet::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        let d = decls
            .get(name)
            .ok_or(format!("<{name}> is not declared by the schema"))?;
        seen.insert(name.to_string());
        for a in n.attributes() {
            let tolerated = name == "testsuites" && TOLERATED_ON_TESTSUITES.contains(&a.name());
            if !d.attributes.contains(a.name()) && !tolerated {
                return Err(format!("<{name}> has undeclared attribute {}", a.name()));
            }
            if a.name() == "time"
                && (name == "testsuite" || name == "testsuites")
                && !surefire_time(a.value())
            {
                return Err(format!("<{name} time={}> is not SUREFIRE_TIME", a.value()));
            }
        }
        for r in &d.required {
            if n.attribute(r.as_str()).is_none() {
                return Err(format!("<{name}> lacks required {r}"));
            }
        }
        for c in n.children().filter(|c| c.is_element()) {
            if !d.children.contains(c.tag_name().name()) {
                return Err(format!("<{}> inside <{name}>", c.tag_name().name()));
            }
        }
        if d.text_only && !n.children().all(|c| c.is_text()) {
            return Err(format!("<{name}> must hold text only"));
        }
        // rerunType is a sequence: stackTrace, system-out, system-err in that order.
        if name.starts_with("flaky") || name.starts_with("rerun") {
            let order: Vec<&str> = n
                .children()
                .filter(|c| c.is_element())
                .map(|c| c.tag_name().name())
                .collect();
            let rank = |t: &str| {
                ["stackTrace", "system-out", "system-err"]
                    .iter()
                    .position(|x| *x == t)
            };
            if !order.windows(2).all(|w| rank(w[0]) < rank(w[1])) {
                return Err(format!("<{name}> children out of order: {order:?}"));
            }
        }
    }
    Ok(seen)
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
