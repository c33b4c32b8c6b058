//! The crate edges hold: nrf-dfu (protocol and formats) and virtual-nrf52 (the device model) do
//! no I/O and know no hardware backend. They do not depend on tokio, probe-rs or btleplug, and
//! their sources do not use `std::fs`, `std::net` or `std::process`: files, sockets, processes
//! and runtimes belong to the runner and the lab. One exception, stated in nrf-dfu's Cargo.toml
//! and docs/ARCHITECTURE.md ("Hygiene decisions"): nrf-dfu's DFU client waits through
//! `tokio::time` (timers only: feature `time`, no runtime, no I/O).

use std::path::{Path, PathBuf};

/// Crates that must stay free of I/O (directories under rig/).
const PURE_CRATES: &[&str] = &["nrf-dfu", "virtual-nrf52"];

/// Dependencies no pure crate may have (in any non-dev section of its manifest).
const FORBIDDEN_DEPS: &[&str] = &["tokio", "probe-rs", "btleplug", "serialport", "nix", "dbus"];

/// Paths no pure crate's sources may name (outside comments). Built with `concat!` so a search
/// of the tree for them does not find this file.
const FORBIDDEN_PATHS: &[&str] = &[
    concat!("std::", "fs"),
    concat!("std::", "net"),
    concat!("std::", "process"),
    concat!("tokio", "::"),
    concat!("probe_rs", "::"),
    concat!("btleplug", "::"),
];

/// The one allowed use: nrf-dfu's client timers.
fn allowed(krate: &str, needle: &str, line: &str) -> bool {
    krate == "nrf-dfu"
        && needle == concat!("tokio", "::")
        && line
            .match_indices(concat!("tokio", "::"))
            .all(|(i, _)| line[i..].starts_with(concat!("tokio", "::time")))
}

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// `(section, dependency name, rest of the line)` for every dependency the manifest declares
/// outside `[dev-dependencies]`.
fn normal_deps(manifest: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_string();
            continue;
        }
        let counts = (section.ends_with("dependencies") && !section.ends_with("dev-dependencies"))
            || section.contains("dependencies.");
        if !counts || line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some((name, rest)) = line.split_once('=') {
            let name = name.trim().split('.').next().unwrap_or("").trim();
            out.push((section.clone(), name.to_string(), rest.trim().to_string()));
        }
    }
    out
}

/// `(dependency, why)` for each forbidden dependency of a pure crate.
fn dep_violations(krate: &str, manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (section, name, rest) in normal_deps(manifest) {
        if !FORBIDDEN_DEPS.contains(&name.as_str()) {
            continue;
        }
        // nrf-dfu: tokio with exactly the `time` feature and nothing else.
        let timers_only = krate == "nrf-dfu"
            && name == "tokio"
            && rest.contains(r#"features = ["time"]"#)
            && !rest.contains("default-features = true");
        if !timers_only {
            out.push(format!("{krate} [{section}] {name} = {rest}"));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `file:line: text` for each line of code (comments aside) naming a forbidden path.
fn source_violations(krate: &str, name: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let brace_import = code.contains("use std::{")
            && ["fs", "net", "process"]
                .iter()
                .any(|m| code.split(['{', '}', ',', ' ']).any(|w| w == *m));
        let hit = FORBIDDEN_PATHS
            .iter()
            .any(|n| code.contains(n) && !allowed(krate, n, code));
        if hit || brace_import {
            out.push(format!("{name}:{}: {}", i + 1, line.trim()));
        }
    }
    out
}

#[test]
fn pure_crates_depend_on_no_runtime_and_no_hardware_backend() {
    let mut found = Vec::new();
    for krate in PURE_CRATES {
        let path = crate_dir(krate).join("Cargo.toml");
        let manifest = std::fs::read_to_string(&path).unwrap();
        assert!(
            !normal_deps(&manifest).is_empty(),
            "{}: no dependency read",
            path.display()
        );
        found.extend(dep_violations(krate, &manifest));
    }
    assert!(
        found.is_empty(),
        "the I/O-free crates depend on a runtime or a hardware backend (move that code to \
         rig/runner or rig/lab):\n{}",
        found.join("\n")
    );
}

#[test]
fn pure_crates_do_no_file_network_or_process_io() {
    let mut found = Vec::new();
    for krate in PURE_CRATES {
        let src = crate_dir(krate).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() > 10, "{}: {} files", src.display(), files.len());
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = format!("{krate}/{}", f.strip_prefix(&src).unwrap().display());
            found.extend(source_violations(krate, &name, &text));
        }
    }
    assert!(
        found.is_empty(),
        "the I/O-free crates touch files, sockets or processes (the runner or the lab does that; \
         give the crate bytes instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_each_violation() {
    let manifest = "[dependencies]\nthiserror.workspace = true\ntokio = { workspace = true, \
                    features = [\"time\", \"rt\"] }\n[dev-dependencies]\nprobe-rs = \"1\"\n\
                    [target.'cfg(unix)'.dependencies]\nbtleplug.workspace = true\n";
    assert_eq!(dep_violations("virtual-nrf52", manifest).len(), 2);
    assert_eq!(dep_violations("nrf-dfu", manifest).len(), 2);
    let timers = "[dependencies]\ntokio = { workspace = true, features = [\"time\"] }\n";
    assert!(dep_violations("nrf-dfu", timers).is_empty());
    assert_eq!(dep_violations("virtual-nrf52", timers).len(), 1);

    let fs = concat!("let b = std::", "fs::read(p)?;\n");
    assert_eq!(source_violations("virtual-nrf52", "x.rs", fs).len(), 1);
    let import = "use std::{fmt, process};\n";
    assert_eq!(source_violations("nrf-dfu", "x.rs", import).len(), 1);
    let sleep = concat!("tokio", "::time::sleep(d).await;\n");
    assert!(source_violations("nrf-dfu", "x.rs", sleep).is_empty());
    assert_eq!(source_violations("virtual-nrf52", "x.rs", sleep).len(), 1);
    let spawn = concat!("tokio", "::spawn(f);\n");
    assert_eq!(source_violations("nrf-dfu", "x.rs", spawn).len(), 1);
    assert!(source_violations("nrf-dfu", "x.rs", "// a probe_rs::Session would\n").is_empty());
}
