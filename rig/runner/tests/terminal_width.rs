//! `rig run` on a 100-column terminal: progress and summary without a wrapped line. bug-zoo with
//! one iteration per case has what makes lines long: many sub-cases, failures with their
//! messages and replay commands, every column of the tables.

use std::path::Path;
use std::process::{Command, Output};
use unicode_width::UnicodeWidthStr;

const WIDTH: usize = 100;
const ARGS: [&str; 6] = ["run", "bug-zoo", "--iterations", "1", "--seed", "5"];

fn run(dir: &Path, columns: Option<&str>, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rig"));
    c.args(ARGS).args(extra).current_dir(dir);
    match columns {
        Some(n) => c.env("COLUMNS", n),
        None => c.env_remove("COLUMNS"),
    };
    c.output().expect("rig runs")
}

fn widest(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

#[test]
fn rig_run_fits_a_100_column_terminal_and_summary_txt_keeps_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), Some("100"), &["--out", "fitted"]);
    assert_eq!(o.status.code(), Some(1), "bug-zoo fails on purpose");
    let stdout = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        for line in text.lines() {
            assert!(
                UnicodeWidthStr::width(line) <= WIDTH,
                "{name} line wider than {WIDTH} columns:\n{line}"
            );
        }
    }
    assert!(stdout.contains("first failures"), "{stdout}");
    assert!(
        stdout.contains("--wide"),
        "says what was left out: {stdout}"
    );
    assert!(stdout.contains("replay: rig run bug-zoo"), "{stdout}");

    // The file keeps the full table, wider than the terminal.
    let file = std::fs::read_to_string(dir.path().join("fitted/summary.txt")).unwrap();
    assert!(widest(&file) > WIDTH, "summary.txt has every column");
    let header = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("sub-case"))
            .unwrap()
            .to_string()
    };
    assert!(header(&file).contains("B/s p50/p95"), "{file}");
    assert!(!header(&stdout).contains("B/s p50/p95"), "{stdout}");
    assert!(
        stdout.contains("(left out to fit the terminal: bench, B/s p50/p95"),
        "says which columns it left out: {stdout}"
    );

    // --wide prints that full table; a pipe without COLUMNS gets it too.
    for (out, columns, extra) in [("wide", Some("100"), Some("--wide")), ("piped", None, None)] {
        let o = run(
            dir.path(),
            columns,
            &[&["--out", out][..], extra.as_slice()].concat(),
        );
        let file = std::fs::read_to_string(dir.path().join(out).join("summary.txt")).unwrap();
        assert_eq!(String::from_utf8(o.stdout).unwrap(), file, "{out}");
    }
}

/// The same in a real terminal: a detached tmux session 100 columns wide, where the progress
/// bar is drawn too. A line the terminal wrapped shows as a joined line longer than the width.
#[test]
fn rig_run_in_a_100_column_tmux_window_wraps_no_line() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux not found: install it (apt-get install -y tmux) for this check; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = d.join("tmux.conf");
    std::fs::write(
        &conf,
        "set -g history-limit 100000\nset -g remain-on-exit on\n",
    )
    .unwrap();
    let socket = format!("rig-width-{}", std::process::id());
    let script = d.join("run.sh");
    std::fs::write(
        &script,
        format!(
            "cd '{}' && env -u COLUMNS '{}' {} --out tmux; echo \"rig-exit=$?\"\n",
            d.display(),
            env!("CARGO_BIN_EXE_rig"),
            ARGS.join(" ")
        ),
    )
    .unwrap();
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f"])
            .arg(&conf)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs")
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "40",
        "-s",
        "w",
        "sh",
    ]);
    assert!(started.status.success(), "{started:?}");
    let sent = tmux(&[
        "send-keys",
        "-t",
        "w",
        &format!("sh '{}'", script.display()),
        "Enter",
    ]);
    assert!(sent.status.success(), "{sent:?}");
    let capture = |join: bool| {
        let mut a = vec!["capture-pane", "-p", "-S", "-", "-E", "-", "-t", "w"];
        if join {
            a.push("-J");
        }
        String::from_utf8_lossy(&tmux(&a).stdout).into_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let screen = loop {
        let s = capture(true);
        if s.contains("rig-exit=") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rig did not finish:\n{s}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = tmux(&["kill-server"]);
    assert!(screen.contains("rig-exit=1"), "{screen}");
    assert!(screen.contains("first failures"), "{screen}");
    for line in screen.lines() {
        // The command line typed into the shell is not rig's output.
        if line.contains("run.sh") {
            continue;
        }
        assert!(
            UnicodeWidthStr::width(line.trim_end()) <= 100,
            "a line the terminal wrapped:\n{line}"
        );
    }
}
