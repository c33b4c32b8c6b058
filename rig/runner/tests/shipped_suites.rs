//! Every suite in suites/ passes `rig suite check` and validates against `rig suite schema`.

use rig::campaign::suite::{check_file, schema, LoadedSuite, Step, Suite, SweepValue};
use std::path::{Path, PathBuf};

const SHIPPED: [&str; 6] = [
    "bug-zoo",
    "interrupt-recovery",
    "nightly-soak",
    "power-loss-sweep",
    "seed-sdk12-qfab",
    "smoke",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("suites"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(name: &str) -> Suite {
    let path = repo().join("suites").join(format!("{name}.yaml"));
    match LoadedSuite::read(&path) {
        Ok(s) => s.suite,
        Err(p) => panic!("{p:?}"),
    }
}

#[test]
fn the_six_suites_are_there() {
    let names: Vec<String> = shipped()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, SHIPPED);
}

#[test]
fn every_shipped_suite_checks_clean_and_needs_no_file_beside_it() {
    for file in shipped() {
        let (loaded, problems) = check_file(&file);
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
        assert!(loaded.is_some());
        // The same text alone in an empty directory: every image is a stand-in, so the suite
        // runs from the binary (`rig run NAME`) or exported anywhere.
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(file.file_name().unwrap());
        std::fs::copy(&file, &copy).unwrap();
        let (_, problems) = check_file(&copy);
        assert!(
            problems.is_empty(),
            "{} alone: {problems:#?}",
            file.display()
        );
    }
}

#[test]
fn the_built_in_suites_are_the_files_of_suites() {
    let builtin: Vec<(&str, &str)> = rig::builtin::suites::SUITES
        .iter()
        .map(|s| (s.name, s.text))
        .collect();
    let files: Vec<(String, String)> = shipped()
        .iter()
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        builtin.len(),
        files.len(),
        "one built-in suite per file of suites/"
    );
    for ((name, text), (file_name, file_text)) in builtin.iter().zip(&files) {
        assert_eq!(name, file_name);
        assert_eq!(text, file_text, "{name}");
    }
}

#[test]
fn every_shipped_suite_validates_against_the_schema() {
    let schema = serde_json::to_value(schema::suite_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for file in shipped() {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let json = serde_json::to_value(&yaml).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
    // The schema is as strict as the reader: unknown keys, outcomes and stand-ins are refused.
    for bad in [
        "name: x\ncases: [{ name: a, steps: [inspect], iteratons: 2 }]",
        "name: x\ncases: [{ name: a, steps: [{ expect: { outcome: [bricke] } }] }]",
        "name: x\ncases: [{ name: a, steps: [{ dfu: { image: 'standin:app-z' } }] }]",
        "name: x\ncases: [{ name: a, steps: [{ flash: { app: a.hex, fault: { action: reset, at: { percent: 1 } } } }] }]",
        "name: x\ncases: [{ name: a, defects: [nope], steps: [inspect] }]",
        "name: x\ncases: [{ name: a, sweep: { flash_op: every }, steps: [inspect] }]",
    ] {
        let yaml: serde_yaml::Value = serde_yaml::from_str(bad).unwrap();
        let json = serde_json::to_value(&yaml).unwrap();
        assert!(!validator.is_valid(&json), "schema accepted {bad}");
    }
}

#[test]
fn plans_match_what_the_suites_promise() {
    let dfu_steps =
        |steps: &[Step]| steps.iter().filter(|s| matches!(s, Step::Dfu(_))).count() as u64;

    let soak = load("nightly-soak");
    let c = &soak.cases[0];
    assert_eq!(
        u64::from(c.iterations) * dfu_steps(&c.steps),
        500,
        "500 updates"
    );

    let ir = load("interrupt-recovery");
    let subs = ir.sub_cases(None).unwrap();
    assert_eq!(
        subs.iter().map(|s| u64::from(s.iterations)).sum::<u64>(),
        300
    );
    let names: Vec<String> = subs.iter().map(|s| s.name.clone()).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    for build in ["sdk12.3", "sdk15.3", "sdk17.1", "sdk17.1-save-progress"] {
        for action in ["reset", "power-cut-200ms", "link-drop"] {
            assert!(
                names.contains(&format!("{build}[fault_action={action}]")),
                "{build} x {action} missing from {names:?}"
            );
        }
    }

    let pls = load("power-loss-sweep");
    assert!(
        pls.sub_cases(None).is_err(),
        "flash_op: all waits for the count"
    );
    let subs = pls.sub_cases(Some(40)).unwrap();
    assert_eq!(subs.len(), 40);
    assert_eq!(subs[39].params, [SweepValue::FlashOp(39)]);

    let seed = load("seed-sdk12-qfab");
    assert_eq!(seed.dut.unwrap().chip, Some(nrf_dfu::Chip::Nrf52832Qfab));
    let Step::Dfu(d) = &seed.cases[0].steps[1] else {
        panic!()
    };
    assert_eq!(d.sd_req, Some(vec![0x8C]));

    let zoo = load("bug-zoo");
    let mut defects: Vec<_> = zoo.cases.iter().flat_map(|c| c.defects.clone()).collect();
    defects.sort();
    let mut all = virtual_nrf52::defects::Defect::ALL.to_vec();
    all.sort();
    assert_eq!(defects, all, "one case per defect of the catalogue");
    for c in &zoo.cases {
        assert_eq!(c.defects.len(), 1);
        assert_eq!(
            c.name,
            c.defects[0].name(),
            "cases are named after their defect"
        );
    }
}
