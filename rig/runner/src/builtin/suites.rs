//! The shipped suites (suites/*.yaml), compiled in: `rig run interrupt-recovery` runs one from
//! any directory, `rig suite list` shows them, `rig suite export` writes one out to edit. They
//! name stand-in images only (`standin:NAME`), so they need no file beside them.
//!
//! A path always wins: `rig run smoke` reads ./smoke when such a file exists.

use crate::campaign::suite::{check_text, LoadedSuite, Problem};
use std::path::{Path, PathBuf};

/// A suite compiled into the binary.
#[derive(Debug)]
pub struct BuiltinSuite {
    pub name: &'static str,
    /// The file's text, byte for byte (its SHA-256 is what a run from the file records).
    pub text: &'static str,
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        [$(BuiltinSuite {
            name: $name,
            text: include_str!(concat!("../../../../suites/", $name, ".yaml")),
        }),*]
    };
}

/// Every file of suites/, in name order (a test keeps this list and the directory equal).
pub static SUITES: [BuiltinSuite; 6] = shipped!(
    "bug-zoo",
    "interrupt-recovery",
    "nightly-soak",
    "power-loss-sweep",
    "seed-sdk12-qfab",
    "smoke",
);

/// The built-in suite called `name`.
pub fn find(name: &str) -> Option<&'static BuiltinSuite> {
    SUITES.iter().find(|s| s.name == name)
}

/// The built-in names, comma separated, for messages.
pub fn names() -> String {
    SUITES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

impl BuiltinSuite {
    /// Parsed, as if read from a file called NAME in the current directory (so a replay command
    /// reads `rig run NAME ...`).
    pub fn load(&self) -> Result<LoadedSuite, Vec<Problem>> {
        LoadedSuite::from_text(Path::new(self.name), self.text)
    }

    /// Parsed and checked as `rig suite check` does.
    pub fn check(&self) -> (Option<LoadedSuite>, Vec<Problem>) {
        check_text(Path::new(self.name), self.text)
    }

    /// The suite's `description` (its name when it has none).
    pub fn description(&self) -> String {
        self.load()
            .ok()
            .and_then(|s| s.suite.description)
            .unwrap_or_else(|| self.name.to_string())
    }
}

/// What a SUITE argument names.
#[derive(Debug)]
pub enum SuiteArg {
    File(PathBuf),
    BuiltIn(&'static BuiltinSuite),
}

/// Neither a file nor a built-in suite.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SuiteNotFound(String);

/// A file when one exists at `arg`, else the built-in suite of that name.
pub fn resolve(arg: &Path) -> Result<SuiteArg, SuiteNotFound> {
    if arg.exists() {
        return Ok(SuiteArg::File(arg.to_path_buf()));
    }
    let text = arg.to_string_lossy();
    if let Some(s) = find(&text) {
        return Ok(SuiteArg::BuiltIn(s));
    }
    let here = std::env::current_dir()
        .map(|d| format!(" (in {})", d.display()))
        .unwrap_or_default();
    let same_name = arg
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(find)
        .filter(|_| arg.extension().is_some_and(|e| e == "yaml" || e == "yml"));
    Err(SuiteNotFound(match same_name {
        Some(s) => format!(
            "no suite file {text}{here}; the shipped suite of that name is built in: give `{0}` \
             instead (or `rig suite export {0}` to write it out and edit it)",
            s.name
        ),
        None => format!(
            "no suite file {text}{here}, and no built-in suite of that name; built-in suites: {} \
             (`rig suite list` describes them)",
            names()
        ),
    }))
}

impl SuiteArg {
    /// Read and parse; the problems when it does not parse.
    pub fn load(&self) -> Result<LoadedSuite, Vec<Problem>> {
        match self {
            SuiteArg::File(p) => LoadedSuite::read(p),
            SuiteArg::BuiltIn(s) => s.load(),
        }
    }

    /// How the suite is named in commands printed back (replay lines, journal).
    pub fn shown(&self) -> String {
        match self {
            SuiteArg::File(p) => p.display().to_string(),
            SuiteArg::BuiltIn(s) => s.name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_suite_checks_clean_without_any_file() {
        for s in &SUITES {
            let (loaded, problems) = s.check();
            assert!(problems.is_empty(), "{}: {problems:#?}", s.name);
            let loaded = loaded.unwrap();
            assert_eq!(loaded.suite.name, s.name, "file name = suite name");
            assert!(
                loaded.suite.description.is_some(),
                "{} has a description",
                s.name
            );
        }
    }

    #[test]
    fn a_path_wins_over_a_built_in_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smoke");
        std::fs::write(&file, "name: mine\ncases: []\n").unwrap();
        assert!(matches!(resolve(&file), Ok(SuiteArg::File(p)) if p == file));
        assert!(
            matches!(resolve(Path::new("smoke")), Ok(SuiteArg::BuiltIn(s)) if s.name == "smoke")
        );
    }

    #[test]
    fn a_missing_file_says_what_to_pass_instead() {
        let e = resolve(Path::new("/nowhere/suites/interrupt-recovery.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("give `interrupt-recovery` instead"), "{e}");
        let e = resolve(Path::new("/nowhere/nightly.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("built-in suites: bug-zoo, interrupt-recovery"),
            "{e}"
        );
        assert!(e.contains("rig suite list"), "{e}");
    }
}
