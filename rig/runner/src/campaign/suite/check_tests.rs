//! Semantic checks: each problem at its line and column.

use super::check::{check_file, check_text, Problem};
use std::path::Path;

fn run(text: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.hex"), ":00000001FF\n").unwrap();
    std::fs::write(dir.path().join("pkg.zip"), b"PK").unwrap();
    let (_, problems) = check_text(&dir.path().join("s.yaml"), text);
    problems
}

/// (line, column, a phrase of the message) for each problem, in order.
fn expect(text: &str, want: &[(usize, usize, &str)]) {
    let got = run(text);
    let summary: Vec<String> = got
        .iter()
        .map(|p| format!("{}:{} {}", p.line, p.column, p.message))
        .collect();
    assert_eq!(got.len(), want.len(), "{summary:#?}");
    for (p, (line, column, phrase)) in got.iter().zip(want) {
        assert_eq!((p.line, p.column), (*line, *column), "{summary:#?}");
        assert!(
            p.message.contains(phrase),
            "`{}` lacks `{phrase}`",
            p.message
        );
    }
}

#[test]
fn a_clean_suite_has_no_problems() {
    expect(
        "\
name: ok
setup:
  - flash: { app: app.hex, bootloader: standin:bootloader-17.1-ble, erase: all }
cases:
  - name: a
    iterations: 2
    sweep: { prn: [0, 12], fault_at: [{ percent: 10 }, { percent: 90 }] }
    steps:
      - dfu: { image: app.hex, fault: { action: reset, at: { percent: 50 } } }
      - expect: { outcome: [dfu-mode, old-app-running] }
      - dfu: { resume: true }
      - verify: { running: new-app, app_version: sent }
  - name: b
    steps:
      - dfu: { package: pkg.zip }
",
        &[],
    );
}

#[test]
fn files_are_relative_to_the_suite() {
    expect(
        "\
name: files
setup:
  - flash: { app: missing.hex, files: [app.hex, gone.hex] }
cases:
  - name: a
    steps:
      - dfu: { image: nowhere/app.hex }
      - dfu: { package: nothing.zip }
",
        &[
            (3, 19, "file `missing.hex` not found"),
            (3, 49, "file `gone.hex` not found"),
            (7, 23, "file `nowhere/app.hex` not found"),
            (8, 25, "file `nothing.zip` not found"),
        ],
    );
}

#[test]
fn step_rules() {
    expect(
        "\
name: steps
setup:
  - dfu: { image: app.hex, fault: { action: reset, at: { percent: 5 } } }
cases:
  - name: a
    iterations: 0
    stop: { max_failures: 0 }
    steps:
      - expect: { outcome: [completed] }
      - dfu: { resume: true }
      - dfu: { image: app.hex, package: pkg.zip }
      - dfu: {}
      - dfu: { package: pkg.zip, version: next }
      - dfu: { image: app.hex, mtu: 20, fault: { action: reset, at: { percent: 101 } } }
      - dfu: { image: app.hex, fault: { action: reset, at: { fixed: { phase: create, byte: 4 } } } }
      - verify: {}
      - power: { action: off, off_ms: 10 }
      - expect: { outcome: [] }
  - name: a
    steps: [inspect]
  - name: 'bad name'
    steps: [inspect]
",
        &[
            (3, 28, "faults belong in a case's steps"),
            (6, 17, "iterations must be at least 1"),
            (7, 27, "max_failures must be at least 1"),
            (9, 17, "expect must follow a dfu step"),
            (10, 24, "resume without package or image"),
            (11, 14, "give `package` or `image`, not both"),
            (12, 14, "dfu needs a `package` or an `image`"),
            (13, 34, "`version` applies to an `image`"),
            (14, 37, "mtu 20 is below the ATT minimum"),
            (14, 80, "percent 101 is outside 0..100"),
            (15, 86, "`byte` counts bytes written"),
            (16, 17, "verify checks nothing"),
            (17, 31, "off_ms applies to `action: cycle` only"),
            (18, 28, "expect lists no outcome"),
            (19, 11, "case name `a` is used twice"),
            (21, 11, "case name `bad name` must be"),
        ],
    );
}

#[test]
fn sweep_rules() {
    expect(
        "\
name: sweeps
cases:
  - name: a
    sweep: { prn: [1, 1], mtu: [], fault_at: [{ percent: 5 }], flash_op: all }
    steps:
      - dfu: { image: app.hex, prn: 4 }
  - name: b
    sweep: { transport: [ble] }
    steps: [inspect]
",
        &[
            (4, 19, "sweep `prn` repeats a value"),
            (4, 32, "sweep `mtu` has no values"),
            (4, 36, "sweep `fault_at` needs a dfu step with a `fault`"),
            (4, 64, "sweep `flash_op` needs a dfu step with a `fault`"),
            (4, 64, "sweep both `fault_at` and `flash_op`"),
            (6, 32, "`prn` is swept by the case; remove it here"),
            (8, 14, "sweep `transport` needs a dfu step"),
        ],
    );
}

#[test]
fn structural_and_file_problems_come_from_check_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, "name: x\ncases:\n  - name: a\n    steps:\n      - dfu: { image: app.hex, fault: { action: reset } }\n").unwrap();
    let (loaded, problems) = check_file(&path);
    assert!(loaded.is_none());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column), (5, 39));
    assert!(problems[0].message.contains("missing field `at`"));
    assert_eq!(
        problems[0].to_string(),
        format!("{}:5:39: {}", path.display(), problems[0].message)
    );
    let (_, problems) = check_file(Path::new("/nonexistent/suite.yaml"));
    assert!(
        problems[0].message.starts_with("cannot read"),
        "{problems:?}"
    );
}
