//! `rig` as an installed program: copied out of the build, run from an empty directory, with
//! nothing of the checkout (keys, stand-in images and suites are built in). Then the same
//! directory holds only what the commands wrote.

mod support;

use support::cli::{run, streams};

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The built binary copied once into `ROOT/bin/rig`, as `cargo install --root ROOT` places it.
/// Once per test process: a copy being written while another test forks would make that exec
/// fail with "text file busy".
fn install(_: &Path) -> PathBuf {
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("installed-rig/bin");
            std::fs::create_dir_all(&bin).unwrap();
            let rig = bin.join("rig");
            let partial = bin.join("rig.partial");
            std::fs::copy(env!("CARGO_BIN_EXE_rig"), &partial).unwrap();
            std::fs::rename(&partial, &rig).unwrap();
            rig
        })
        .clone()
}

fn ok(exe: &Path, dir: &Path, args: &[&str]) -> (String, String) {
    let o = run(exe, dir, args);
    let (out, err) = streams(&o);
    assert!(
        o.status.success(),
        "rig {args:?} failed ({:?}):\n{out}{err}",
        o.status
    );
    (out, err)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_installed_rig_runs_a_built_in_suite_an_update_inspect_and_report_from_an_empty_directory() {
    let root = tempfile::tempdir().unwrap();
    let exe = install(root.path());
    let work = tempfile::tempdir().unwrap();
    let d = work.path();

    // The shipped suites, with what each proves.
    let (list, _) = ok(&exe, d, &["suite", "list"]);
    for name in [
        "bug-zoo",
        "interrupt-recovery",
        "nightly-soak",
        "power-loss-sweep",
        "seed-sdk12-qfab",
        "smoke",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(name)),
            "{name} listed:\n{list}"
        );
    }
    assert!(
        list.contains("fault (reset, power cut, link drop)"),
        "{list}"
    );

    // A built-in suite by its name: 2 iterations of each of its 12 sub-cases (four bootloader
    // builds by three fault actions).
    let (summary, _) = ok(
        &exe,
        d,
        &[
            "run",
            "interrupt-recovery",
            "--seed",
            "7",
            "--iterations",
            "2",
        ],
    );
    assert!(
        summary.contains("total 24 iterations: 24 passed"),
        "{summary}"
    );
    let run_dir = d.join("rig-runs/interrupt-recovery-7");
    for f in [
        "journal.jsonl",
        "junit.xml",
        "summary.txt",
        "summary.json",
        "report.html",
    ] {
        assert!(run_dir.join(f).is_file(), "{f} written");
    }
    let header: Value = serde_json::from_str(
        std::fs::read_to_string(run_dir.join("journal.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header["suite"]["path"], "interrupt-recovery",
        "a replay names the built-in suite: {header}"
    );
    assert!(
        header["duts"][0]["bootloader"]
            .as_str()
            .is_some_and(|b| b.starts_with("nRF5 SDK 17 Secure DFU bootloader (BLE")),
        "read as a person reads it: {header}"
    );

    // One update by hand on the persistent virtual bench, with the built-in stand-ins and key.
    ok(
        &exe,
        d,
        &[
            "flash",
            "standin:s132-7.2.0",
            "standin:bootloader-17.1-ble",
            "standin:app-a",
        ],
    );
    let inspect = |d: &Path| -> Value {
        let o = run(&exe, d, &["inspect", "--json"]);
        assert!(o.status.success(), "{}", streams(&o).1);
        assert_eq!(
            o.stdout.iter().filter(|&&b| b == b'\n').count(),
            1,
            "one line"
        );
        serde_json::from_slice(&o.stdout).expect("one JSON object")
    };
    let before = inspect(d)["settings"]["settings"]["app_version"]
        .as_u64()
        .expect("a settings page");
    let (out, err) = ok(
        &exe,
        d,
        &["dfu", "--image", "standin:app-b", "--version", "next"],
    );
    assert!(out.contains("DFU done"), "{out}");
    assert!(err.contains("signed with the built-in test key"), "{err}");
    let inspected = inspect(d);
    assert_eq!(inspected["settings"]["settings"]["app_version"], before + 1);
    assert_eq!(inspected["application"]["crc_matches"], true);
    assert_eq!(
        inspected["application"]["descriptor"]["version"], 2,
        "app-b runs"
    );

    // The reports rebuilt from the journal.
    std::fs::remove_file(run_dir.join("report.html")).unwrap();
    let (rebuilt, _) = ok(&exe, d, &["report", "rig-runs/interrupt-recovery-7"]);
    assert!(rebuilt.contains("total 24 iterations"), "{rebuilt}");
    assert!(run_dir.join("report.html").is_file());

    // A suite written out to edit, then run from its file.
    let (written, _) = ok(&exe, d, &["suite", "export", "smoke", "mine"]);
    assert_eq!(written.trim(), "mine/smoke.yaml");
    ok(
        &exe,
        d,
        &["run", "mine/smoke.yaml", "--seed", "1", "--out", "mine/run"],
    );

    assert_eq!(
        entries(d),
        [".rig", "mine", "rig-runs"],
        "nothing else written"
    );
}

#[test]
fn a_path_wins_over_a_built_in_name() {
    let root = tempfile::tempdir().unwrap();
    let exe = install(root.path());
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    // A file called `smoke` that is not the shipped suite.
    std::fs::write(
        d.join("smoke"),
        "name: not-the-shipped-one\ncases: [ { name: a } ]\n",
    )
    .unwrap();
    let o = run(&exe, d, &["run", "smoke", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", streams(&o));
    let (_, err) = streams(&o);
    assert!(err.contains("smoke:"), "the file was read: {err}");
}

#[test]
fn errors_about_missing_files_say_what_to_pass_instead() {
    let root = tempfile::tempdir().unwrap();
    let exe = install(root.path());
    let work = tempfile::tempdir().unwrap();
    let d = work.path();

    // The README's path from outside the checkout.
    let o = run(&exe, d, &["run", "suites/interrupt-recovery.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = streams(&o);
    assert!(err.contains("give `interrupt-recovery` instead"), "{err}");

    let o = run(&exe, d, &["run", "nightly"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        streams(&o).1.contains("rig suite list"),
        "{:?}",
        streams(&o)
    );

    ok(
        &exe,
        d,
        &[
            "flash",
            "standin:s132-7.2.0",
            "standin:bootloader-17.1-ble",
            "standin:app-a",
        ],
    );
    let o = run(&exe, d, &["dfu", "--image", "app.hex", "--version", "next"]);
    assert!(!o.status.success());
    let (_, err) = streams(&o);
    assert!(
        err.contains("app.hex") && err.contains("standin:app-b"),
        "{err}"
    );

    let o = run(
        &exe,
        d,
        &[
            "dfu",
            "--image",
            "standin:app-b",
            "--version",
            "next",
            "--key",
            "k.pem",
        ],
    );
    assert!(!o.status.success());
    let (_, err) = streams(&o);
    assert!(
        err.contains("k.pem") && err.contains("leave out --key"),
        "{err}"
    );

    let o = run(&exe, d, &["flash", "standin:app-z"]);
    assert!(!o.status.success());
    assert!(streams(&o).1.contains("standin:app-a"), "{:?}", streams(&o));

    let o = run(&exe, d, &["suite", "export", "no-such-suite"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        streams(&o).1.contains("interrupt-recovery"),
        "{:?}",
        streams(&o)
    );
}

#[test]
fn the_source_reads_no_file_of_the_checkout_at_run_time() {
    // Compiled-in paths would make an installed binary depend on the checkout it came from.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    // Tests may read fixtures; the binary may not.
                    if line.contains("#[cfg(test)]") {
                        break;
                    }
                    assert!(
                        !line.contains(concat!("env!(\"CARGO_", "MANIFEST_DIR")),
                        "{}:{}: {line}",
                        p.display(),
                        i + 1
                    );
                }
            }
        }
    }
}
