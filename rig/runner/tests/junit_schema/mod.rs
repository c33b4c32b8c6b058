//! The Surefire/Jenkins JUnit schema (tests/fixtures/junit-10.xsd) as a check the tests can
//! call: the elements, attributes and children it declares, read from the XSD itself.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn xsd_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd")
}

/// The one deviation tolerated: attributes quick-junit always writes on `<testsuites>` that
/// the schema does not declare.
pub const TOLERATED_ON_TESTSUITES: [&str; 4] = ["skipped", "disabled", "uuid", "timestamp"];

pub fn strip_tolerated(xml: &str) -> String {
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

/// What the XSD declares for each element: attributes (and which are required) and child
/// elements.
#[derive(Debug, Default)]
pub struct Decl {
    pub attributes: BTreeSet<String>,
    pub required: BTreeSet<String>,
    pub children: BTreeSet<String>,
    pub text_only: bool,
}

pub fn read_xsd() -> (BTreeMap<String, Decl>, String) {
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
pub fn check_structure(xml: &str) -> Result<BTreeSet<String>, String> {
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
