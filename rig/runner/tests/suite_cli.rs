//! `rig suite check` and `rig suite schema` as a user runs them.

mod support;

use support::cli::rig_here;

#[test]
fn check_reports_every_problem_of_every_file_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "\
name: bad
cases:
  - name: a
    steps:
      - dfu: { image: app.hex, prm: 1 }
      - expect: { outcome: [bricke] }
  - name: b
    sweep: { prn: [1] }
    steps:
      - dfu: { image: missing.hex, prn: 4 }
",
    )
    .unwrap();
    let worse = dir.path().join("worse.yaml");
    std::fs::write(&worse, "name: \"unterminated\ncases: []\n").unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "name: good\ncases:\n  - name: a\n    iterations: 4\n    sweep: { prn: [0, 1] }\n    steps:\n      - dfu: { image: 'standin:app-b' }\n").unwrap();

    let (code, out, err) = rig_here(&[
        "suite",
        "check",
        bad.to_str().unwrap(),
        worse.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let b = bad.display().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "{b}:5:32: error: cases[0].steps[0]: dfu: unknown field `prm`"
        )),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{b}:6:29: error: cases[0].steps[1]: expect.outcome[0]: unknown variant `bricke`"
        )),
        "{out}"
    );
    assert!(
        lines[2].starts_with(&format!(
            "{}:3:1: error: found unexpected end of stream",
            worse.display()
        )),
        "{out}"
    );
    assert_eq!(
        lines[3],
        format!(
            "{}: ok: 1 case: 2 sub-cases with 8 iterations per DUT",
            good.display()
        )
    );
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(err.trim(), "3 problems in 3 files");

    // Once the structure is right, the semantic problems show, each at its place.
    let text = std::fs::read_to_string(&bad)
        .unwrap()
        .replace(", prm: 1", "")
        .replace("bricke", "bricked");
    std::fs::write(&bad, text).unwrap();
    let (code, out, _) = rig_here(&["suite", "check", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!(
                "{b}:5:23: error: file `app.hex` not found (looked for {})",
                dir.path().join("app.hex").display()
            ),
            format!(
                "{b}:10:23: error: file `missing.hex` not found (looked for {})",
                dir.path().join("missing.hex").display()
            ),
            format!("{b}:10:36: error: `prn` is swept by the case; remove it here"),
        ]
    );
}

#[test]
fn check_passes_a_good_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        "name: good\ncases:\n  - name: a\n    steps: [inspect]\n",
    )
    .unwrap();
    let (code, out, err) = rig_here(&["suite", "check", good.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.ends_with("ok: 1 case: 1 sub-case with 1 iteration per DUT\n"),
        "{out}"
    );
}

#[test]
fn schema_is_json_schema() {
    let (code, out, _) = rig_here(&["suite", "schema"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(v["required"], serde_json::json!(["name", "cases"]));
    assert_eq!(v["additionalProperties"], false);
}
