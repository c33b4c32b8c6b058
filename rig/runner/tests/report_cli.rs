//! `rig report`: junit.xml and summary.txt rebuilt from journals, one or merged, including a
//! journal whose last line was cut by a kill.

mod support;

use support::cli::rig_here;

mod common;

#[test]
fn rebuild_from_a_journal_with_a_truncated_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // 20 iterations, no footer (killed), then half of a 21st record.
    common::write_journal(
        &run,
        "bench-a",
        42,
        &["random-interrupt[fault_action=reset]"],
        20,
        false,
    );
    let journal = run.join("journal.jsonl");
    let partial = serde_json::to_string(&rig::campaign::journal::Record::Iteration(
        common::iteration("random-interrupt[fault_action=reset]", 20),
    ))
    .unwrap();
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(&partial.as_bytes()[..partial.len() / 2]);
    std::fs::write(&journal, &bytes).unwrap();
    let lines = bytes.iter().filter(|b| **b == b'\n').count();

    let (code, out, err) = rig_here(&["report", run.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "note: {}:{}: dropped a partial last line",
            journal.display(),
            lines + 1
        )),
        "{err}"
    );
    assert!(
        err.contains("no footer: the campaign did not finish"),
        "{err}"
    );
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert_eq!(out, summary);
    // Iterations 0..20 of common::iteration: 3 and 10 and 17 fail, 5 and 18 are errors, 4 and 15 flaky.
    assert!(
        summary.contains(
            "total 20 iterations: 13 passed, 3 failed, 2 flaky, 2 infrastructure errors; 0 bricked"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("interrupted (partial last line dropped)"),
        "{summary}"
    );
    assert!(summary.contains("replay: rig run suites/interrupt-recovery.yaml --seed 42 --replay 'random-interrupt[fault_action=reset]:3'"), "{summary}");
    assert!(summary.contains("healing: power-cycle 1"), "{summary}");
    let xml = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        20
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["totals"]["iterations"], 20);
    assert_eq!(json["runs"][0]["truncated"], true);

    let (code, out, _) = rig_here(&["report", run.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let printed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed, json);
}

#[test]
fn merge_benches_and_nights() {
    let dir = tempfile::tempdir().unwrap();
    let subs = ["random-interrupt[fault_action=reset]"];
    common::write_journal(&dir.path().join("a-night1"), "bench-a", 42, &subs, 10, true);
    common::write_journal(&dir.path().join("a-night2"), "bench-a", 43, &subs, 10, true);
    common::write_journal(&dir.path().join("b-night1"), "bench-b", 42, &subs, 10, true);
    let inputs: Vec<String> = ["a-night1", "a-night2", "b-night1"]
        .iter()
        .map(|d| dir.path().join(d).display().to_string())
        .collect();
    let mut args: Vec<&str> = vec!["report"];
    args.extend(inputs.iter().map(String::as_str));

    let (code, _, err) = rig_here(&args);
    assert_eq!(code, 1);
    assert!(err.contains("give --out DIR"), "{err}");

    let out_dir = dir.path().join("merged");
    args.extend(["--out", out_dir.to_str().unwrap()]);
    let (code, out, err) = rig_here(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("total 30 iterations"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    // Same seed on two benches: apart. Two nights of one bench: together.
    let groups = json["groups"].as_array().unwrap();
    let per_bench: Vec<(String, u64)> = groups
        .iter()
        .map(|g| {
            (
                g["bench"].as_str().unwrap().to_string(),
                g["iterations"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_bench,
        [("bench-a".to_string(), 20), ("bench-b".to_string(), 10)]
    );
    let xml = std::fs::read_to_string(out_dir.join("junit.xml")).unwrap();
    assert!(
        xml.contains(
            "name=\"interrupt-recovery.random-interrupt[fault_action=reset].bench-a.dut0#2\""
        ),
        "two nights of one bench stay distinct"
    );
}

#[test]
fn corrupt_journal_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    common::write_journal(&run, "bench-a", 1, &["a"], 5, true);
    let journal = run.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"record\":\"iteration\",";
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let (code, _, err) = rig_here(&["report", run.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("{}:4: corrupt journal line", journal.display())),
        "{err}"
    );
    assert!(!run.join("junit.xml").exists());

    let (code, _, err) = rig_here(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("no journal.jsonl in this directory"), "{err}");
}

#[test]
fn report_html_with_history_shows_the_trend() {
    let dir = tempfile::tempdir().unwrap();
    let subs = ["random-interrupt[fault_action=reset]"];
    let night1 = dir.path().join("night1");
    let night2 = dir.path().join("night2");
    common::write_journal(&night1, "bench-a", 42, &subs, 20, true);
    common::write_journal(&night2, "bench-a", 43, &subs, 20, true);

    let (code, _, err) = rig_here(&["report", night2.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("report.html"), "{err}");
    let html = std::fs::read_to_string(night2.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("data-chart=\"trend\""));
    // Evidence with markup characters arrives escaped.
    assert!(
        html.contains("&lt;size=4096&gt; &amp; &quot;go&quot;"),
        "evidence"
    );
    for external in ["http://", "https://", "<script", "<link", "@import"] {
        let outside_svg_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !outside_svg_ns.contains(external),
            "{external} in a self-contained page"
        );
    }

    let (code, _, err) = rig_here(&[
        "report",
        night2.to_str().unwrap(),
        "--history",
        night1.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // The same rates both nights: a trend, no regression.
    assert!(!err.contains("regression:"), "{err}");
    let html = std::fs::read_to_string(night2.join("report.html")).unwrap();
    assert!(html.contains("data-chart=\"trend\""));
    assert!(html.contains("data-regressed=\"false\""));

    let (code, _, err) = rig_here(&[
        "report",
        night2.to_str().unwrap(),
        "--history",
        dir.path().join("missing").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("missing"), "{err}");
}
