//! Diagnostics at the binary's edge: `-v`/`-vv` logs go to stderr with the campaign's spans and
//! leave `--json` stdout parseable; a failing command shows the cause underneath its error.

use std::path::Path;
use std::process::Command;

#[test]
fn vv_logs_spans_on_stderr_and_json_stdout_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites/smoke.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .args(["-vv", "run"])
        .arg(&suite)
        .args(["--seed", "5", "--iterations", "1", "--json", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rig -vv run failed:\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert!(summary.is_object(), "{stdout}");
    // The DUT, case and step spans around a DFU object event, and a per-iteration event.
    let object = stderr
        .lines()
        .find(|l| l.contains("dfu object") && l.contains("phase=execute"))
        .unwrap_or_else(|| panic!("no `dfu object` trace event on stderr:\n{stderr}"));
    for span in [
        "dut{dut=\"virtual-1\"}",
        "case{sub_case=",
        "step{n=",
        "dfu{transport=Ble",
    ] {
        assert!(object.contains(span), "{span} missing in: {object}");
    }
    assert!(stderr.contains("iteration done iteration=0"), "{stderr}");
    assert!(stderr.contains("campaign starts"), "{stderr}");
}

#[test]
fn without_v_nothing_is_logged_and_rust_log_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites/smoke.yaml");
    let run = |rust_log: Option<&str>, out: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rig"));
        c.current_dir(dir.path()).env_remove("RUST_LOG");
        if let Some(f) = rust_log {
            c.env("RUST_LOG", f);
        }
        let o = c
            .arg("run")
            .arg(&suite)
            .args(["--seed", "5", "--iterations", "1", "--json", "--out"])
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let quiet = run(None, "a");
    assert!(!quiet.contains("iteration done"), "{quiet}");
    let filtered = run(Some("rig::campaign::run::campaign=debug"), "b");
    assert!(
        filtered.contains("iteration done iteration=0"),
        "{filtered}"
    );
    assert!(!filtered.contains("dfu object"), "{filtered}");
}

#[test]
fn a_failing_command_shows_the_io_error_underneath() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-package.zip");
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .args(["-v", "dfu"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{stderr}"));
    assert!(
        first.contains(&format!("reading {}", missing.display()))
            && first.contains("No such file or directory"),
        "{first}"
    );
    // The io::Error is a cause of its own, not only text in the message.
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start() == "caused by: No such file or directory (os error 2)"),
        "{stderr}"
    );
}
