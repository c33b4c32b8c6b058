//! The repository stands on its own: no file points outside it, what its documented commands
//! write is ignored by git, its licences and docs are where the README says.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Directories that hold build output, caches or runs, not sources.
const SKIPPED: [&str; 9] = [
    ".git",
    "target",
    ".rig",
    "rig-runs",
    "corpus",
    "artifacts",
    "coverage",
    "__pycache__",
    "node_modules",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_file_refers_to_anything_outside_the_repository() {
    // Built at run time so this file does not match itself.
    let needles = [
        format!("{}/{}", "..", "shared"),
        format!("/{}/{}", "work", "shared"),
    ];
    let mut all = Vec::new();
    files(&repo(), &mut all);
    assert!(
        all.len() > 100,
        "walked the repository ({} files)",
        all.len()
    );
    let mut hits = Vec::new();
    for f in &all {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.lines().enumerate() {
            if needles.iter().any(|n| line.contains(n.as_str())) {
                hits.push(format!("{}:{}: {line}", f.display(), i + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "references outside the repository:\n{}",
        hits.join("\n")
    );
}

#[test]
fn what_documented_commands_write_is_ignored_by_git() {
    let root = repo();
    if !root.join(".git").exists() || Command::new("git").arg("--version").output().is_err() {
        eprintln!("not a git checkout (or no git): skipped");
        return;
    }
    // cargo builds, `rig run`, the virtual bench, firmware/testapp's own workspace, the fuzzers,
    // Python caches of ci/ and scripts/.
    for path in [
        "target/x",
        "rig-runs/smoke-1/journal.jsonl",
        ".rig/virtual/dut0.state",
        "firmware/testapp/target/x",
        "fuzz/target/x",
        "fuzz/corpus/slip/x",
        "fuzz/artifacts/slip/crash-1",
        "ci/tests/__pycache__/make_journal.cpython-311.pyc",
        "scripts/page-test/__pycache__/x.pyc",
    ] {
        let o = Command::new("git")
            .args(["check-ignore", "-q", "--no-index", path])
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(o.success(), "{path} is not ignored by .gitignore");
    }
}

#[test]
fn licences_docs_and_metadata_are_where_the_readme_says() {
    let root = repo();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for f in [
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "CONTRIBUTING.md",
        "docs/ARCHITECTURE.md",
        "docs/DEVICE-CONTRACT.md",
        "docs/notes/README.md",
    ] {
        assert!(root.join(f).is_file(), "{f} exists");
        assert!(readme.contains(f), "README links {f}");
    }
    assert!(
        readme.contains("cargo install --path rig/runner"),
        "README has the install line"
    );
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"MIT OR Apache-2.0\""));
    assert!(std::fs::read_to_string(root.join("LICENSE-APACHE"))
        .unwrap()
        .contains("Apache License"));
    assert!(std::fs::read_to_string(root.join("LICENSE-MIT"))
        .unwrap()
        .contains("Permission is hereby granted, free of charge"));
}
