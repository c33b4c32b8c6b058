//! `rig suite check`: every problem of a suite file, structural (from yaml_serde, see `load`)
//! and semantic (checked here on the parsed suite, positioned through `spans`).

use super::fault::{Fault, FaultAt};
use super::load::LoadedSuite;
use super::spans::{Pos, YamlPath};
use super::step::{DfuStep, PowerAction, Step};
use super::sweep::{FlashOps, Sweep};
use super::Case;
use crate::campaign::phase::Phase;
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem of a suite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Problem {
    pub fn new(file: &Path, pos: Pos, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    /// `file:line:column: message`, as compilers print, so editors jump to it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Check a suite file: the loaded suite when it parses, and every problem found.
pub fn check_file(path: &Path) -> (Option<LoadedSuite>, Vec<Problem>) {
    match LoadedSuite::read(path) {
        Ok(s) => {
            let problems = semantic(&s);
            (Some(s), problems)
        }
        Err(p) => (None, p),
    }
}

/// As [`check_file`] for text already read (files in it are relative to `path`'s directory).
pub fn check_text(path: &Path, text: &str) -> (Option<LoadedSuite>, Vec<Problem>) {
    match LoadedSuite::from_text(path, text) {
        Ok(s) => {
            let problems = semantic(&s);
            (Some(s), problems)
        }
        Err(p) => (None, p),
    }
}

/// Names appear in sub-case names, JUnit test names and `--replay CASE:ITERATION`.
fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

struct Checker<'a> {
    s: &'a LoadedSuite,
    out: Vec<Problem>,
}

impl Checker<'_> {
    fn at(&mut self, path: &YamlPath, message: impl Into<String>) {
        let pos = self.s.root.locate(path);
        self.out.push(Problem::new(&self.s.path, pos, message));
    }

    /// At the key itself (for a key that should not be there).
    fn at_key(&mut self, path: &YamlPath, message: impl Into<String>) {
        let pos = match self.s.root.key_node(path) {
            Some(k) => k.start,
            None => self.s.root.locate(path),
        };
        self.out.push(Problem::new(&self.s.path, pos, message));
    }

    fn file_exists(&mut self, path: &YamlPath, file: &Path) {
        let full = self.s.dir.join(file);
        if !full.is_file() {
            self.at(
                path,
                format!(
                    "file `{}` not found (looked for {})",
                    file.display(),
                    full.display()
                ),
            );
        }
    }
}

fn semantic(s: &LoadedSuite) -> Vec<Problem> {
    let mut c = Checker { s, out: Vec::new() };
    let top = YamlPath::root();
    let suite = &s.suite;
    if suite.name.trim().is_empty() {
        c.at(&top.key("name"), "the suite needs a name");
    }
    if suite.cases.is_empty() {
        c.at(&top.key("cases"), "the suite has no cases");
    }
    steps(&mut c, &suite.setup, &top.key("setup"), true);
    let mut seen = HashSet::new();
    for (i, case) in suite.cases.iter().enumerate() {
        let at = top.key("cases").index(i);
        if !name_ok(&case.name) {
            c.at(
                &at.key("name"),
                format!(
                    "case name `{}` must be letters, digits, `-`, `_` or `.`",
                    case.name
                ),
            );
        }
        if !seen.insert(case.name.as_str()) {
            c.at(
                &at.key("name"),
                format!("case name `{}` is used twice", case.name),
            );
        }
        check_case(&mut c, case, &at);
    }
    let mut out = c.out;
    out.sort_by_key(|p| (p.line, p.column));
    out.dedup();
    out
}

fn check_case(c: &mut Checker, case: &Case, at: &YamlPath) {
    if case.iterations == 0 {
        c.at(&at.key("iterations"), "iterations must be at least 1");
    }
    if case.steps.is_empty() {
        c.at(&at.key("steps"), "the case has no steps");
    }
    if case.stop.max_failures == Some(0) {
        c.at(
            &at.key("stop").key("max_failures"),
            "max_failures must be at least 1",
        );
    }
    if case.stop.time_budget_s == Some(0) {
        c.at(
            &at.key("stop").key("time_budget_s"),
            "time_budget_s must be at least 1",
        );
    }
    steps(c, &case.setup, &at.key("setup"), true);
    steps(c, &case.steps, &at.key("steps"), false);
    if let Some(sweep) = &case.sweep {
        check_sweep(c, sweep, case, &at.key("sweep"));
    }
}

fn steps(c: &mut Checker, steps: &[Step], list: &YamlPath, setup: bool) {
    let mut dfu_before = false;
    for (j, step) in steps.iter().enumerate() {
        let at = list.index(j);
        match step {
            Step::Flash(f) => {
                let fat = at.key("flash");
                if f.images().next().is_none() {
                    c.at(&fat, "flash names no image");
                }
                for (key, img) in [
                    ("mbr", &f.mbr),
                    ("softdevice", &f.softdevice),
                    ("bootloader", &f.bootloader),
                    ("app", &f.app),
                ] {
                    if let Some(file) = img.as_ref().and_then(|i| i.resolve(Path::new(""))) {
                        c.file_exists(&fat.key(key), &file);
                    }
                }
                for (k, img) in f.files.iter().enumerate() {
                    if let Some(file) = img.resolve(Path::new("")) {
                        c.file_exists(&fat.key("files").index(k), &file);
                    }
                }
                if f.settings == Some(true) && f.app.is_none() {
                    c.at(
                        &fat.key("settings"),
                        "settings: true marks an app valid, but the step flashes no app",
                    );
                }
            }
            Step::Dfu(d) => {
                check_dfu(c, d, &at.key("dfu"), dfu_before, setup);
                dfu_before = true;
            }
            Step::Expect(e) => {
                if e.outcome.is_empty() {
                    c.at(&at.key("expect").key("outcome"), "expect lists no outcome");
                }
                if !dfu_before {
                    c.at(&at.key("expect"), "expect must follow a dfu step");
                }
                let unique: BTreeSet<_> = e.outcome.iter().collect();
                if unique.len() != e.outcome.len() {
                    c.at(
                        &at.key("expect").key("outcome"),
                        "an outcome is listed twice",
                    );
                }
            }
            Step::Verify(v) => {
                if !v.checks_anything() {
                    c.at(&at.key("verify"), "verify checks nothing: give settings_valid, bank0_matches_image, app_version or running");
                }
                if (v.bank0_matches_image.is_some() || v.app_version.is_some()) && !dfu_before {
                    c.at(&at.key("verify"), "bank0_matches_image and app_version compare with a dfu step before this one");
                }
            }
            Step::Power(p) => {
                if p.off_ms.is_some() && p.action != PowerAction::Cycle {
                    c.at_key(
                        &at.key("power").key("off_ms"),
                        "off_ms applies to `action: cycle` only",
                    );
                }
            }
            Step::EnterDfu(_) | Step::Wait(_) | Step::Inspect | Step::Reset(_) => {}
        }
    }
}

fn check_dfu(c: &mut Checker, d: &DfuStep, at: &YamlPath, dfu_before: bool, setup: bool) {
    match (&d.package, &d.image) {
        (Some(_), Some(_)) => c.at(at, "give `package` or `image`, not both"),
        (None, None) if !d.resume => c.at(
            at,
            "dfu needs a `package` or an `image` (or `resume: true` after another dfu step)",
        ),
        (None, None) if !dfu_before => c.at(
            &at.key("resume"),
            "resume without package or image continues a previous dfu step, but there is none",
        ),
        _ => {}
    }
    if let Some(p) = &d.package {
        c.file_exists(&at.key("package"), p);
        for key in ["version", "sd_req"] {
            let given = if key == "version" {
                d.version.is_some()
            } else {
                d.sd_req.is_some()
            };
            if given {
                c.at_key(
                    &at.key(key),
                    format!(
                        "`{key}` applies to an `image` being packaged, not to a prebuilt package"
                    ),
                );
            }
        }
    }
    if let Some(file) = d.image.as_ref().and_then(|i| i.resolve(Path::new(""))) {
        c.file_exists(&at.key("image"), &file);
    }
    if d.sd_req.as_ref().is_some_and(Vec::is_empty) {
        c.at(
            &at.key("sd_req"),
            "sd_req is empty: give the accepted SoftDevice FWIDs (0xFFFE for none)",
        );
    }
    if let Some(mtu) = d.mtu {
        if mtu < 23 {
            c.at(
                &at.key("mtu"),
                format!("mtu {mtu} is below the ATT minimum of 23"),
            );
        }
    }
    if let Some(f) = &d.fault {
        if setup {
            c.at_key(
                &at.key("fault"),
                "faults belong in a case's steps: setup must leave the DUT in a known state",
            );
        }
        check_fault(c, f, &at.key("fault"));
    }
}

fn check_fault(c: &mut Checker, f: &Fault, at: &YamlPath) {
    check_fault_at(c, &f.at, &at.key("at"));
}

fn check_fault_at(c: &mut Checker, fa: &FaultAt, at: &YamlPath) {
    match fa {
        FaultAt::Percent(p) if !(0.0..=100.0).contains(p) => {
            c.at(&at.key("percent"), format!("percent {p} is outside 0..100"));
        }
        FaultAt::Fixed(p) if p.byte.is_some() && p.phase != Phase::Write => {
            c.at_key(
                &at.key("fixed").key("byte"),
                format!(
                    "`byte` counts bytes written, so it needs `phase: write` (not {})",
                    p.phase
                ),
            );
        }
        FaultAt::Random(r) if r.phases.as_ref().is_some_and(Vec::is_empty) => {
            c.at(
                &at.key("random").key("phases"),
                "phases is empty: leave it out for every phase",
            );
        }
        _ => {}
    }
}

fn check_sweep(c: &mut Checker, sweep: &Sweep, case: &Case, at: &YamlPath) {
    let dfus: Vec<(usize, &DfuStep)> = case
        .steps
        .iter()
        .enumerate()
        .filter_map(|(j, s)| match s {
            Step::Dfu(d) => Some((j, d)),
            _ => None,
        })
        .collect();
    let with_fault = dfus.iter().filter(|(_, d)| d.fault.is_some()).count();
    let steps_at = at.0[..at.0.len() - 1].to_vec();
    let steps_at = YamlPath(steps_at).key("steps");

    // Per parameter: its length, whether values repeat, and which steps it needs.
    let lens: [(&str, Option<(usize, usize)>); 6] = [
        ("prn", sweep.prn.as_ref().map(|v| (v.len(), distinct(v)))),
        ("mtu", sweep.mtu.as_ref().map(|v| (v.len(), distinct(v)))),
        (
            "transport",
            sweep.transport.as_ref().map(|v| (v.len(), distinct(v))),
        ),
        (
            "fault_action",
            sweep
                .fault_action
                .as_ref()
                .map(|v| (v.len(), distinct_by_text(v))),
        ),
        (
            "fault_at",
            sweep
                .fault_at
                .as_ref()
                .map(|v| (v.len(), distinct_by_text(v))),
        ),
        (
            "flash_op",
            match &sweep.flash_op {
                Some(FlashOps::List(v)) => Some((v.len(), distinct(v))),
                Some(FlashOps::All) => Some((1, 1)),
                None => None,
            },
        ),
    ];
    for (key, len) in lens {
        let Some((n, unique)) = len else { continue };
        if n == 0 {
            c.at(&at.key(key), format!("sweep `{key}` has no values"));
        } else if unique != n {
            c.at(
                &at.key(key),
                format!("sweep `{key}` repeats a value (sub-case names would clash)"),
            );
        }
        let needs_fault = matches!(key, "fault_action" | "fault_at" | "flash_op");
        if needs_fault && with_fault == 0 {
            c.at_key(
                &at.key(key),
                format!("sweep `{key}` needs a dfu step with a `fault` in the case's steps"),
            );
        } else if !needs_fault && dfus.is_empty() {
            c.at_key(
                &at.key(key),
                format!("sweep `{key}` needs a dfu step in the case's steps"),
            );
        }
        // A step that sets the swept field itself would be overridden silently.
        if !needs_fault {
            for (j, d) in &dfus {
                let set = match key {
                    "prn" => d.prn.is_some(),
                    "mtu" => d.mtu.is_some(),
                    _ => d.transport.is_some(),
                };
                if set {
                    c.at_key(
                        &steps_at.index(*j).key("dfu").key(key),
                        format!("`{key}` is swept by the case; remove it here"),
                    );
                }
            }
        }
    }
    if sweep.fault_at.is_some() && sweep.flash_op.is_some() {
        c.at_key(
            &at.key("flash_op"),
            "sweep both `fault_at` and `flash_op`: both set where the fault fires; keep one",
        );
    }
    if let Some(v) = &sweep.fault_at {
        for (k, fa) in v.iter().enumerate() {
            check_fault_at(c, fa, &at.key("fault_at").index(k));
        }
    }
}

fn distinct<T: PartialEq>(v: &[T]) -> usize {
    let mut seen: Vec<&T> = Vec::new();
    for x in v {
        if !seen.contains(&x) {
            seen.push(x);
        }
    }
    seen.len()
}

fn distinct_by_text<T: fmt::Display>(v: &[T]) -> usize {
    v.iter()
        .map(|x| x.to_string())
        .collect::<BTreeSet<_>>()
        .len()
}
