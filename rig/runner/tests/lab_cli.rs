//! `rig lab` as a program: a background lab started and stopped (no process, socket or pty
//! left), the bench file it writes, power through its command switch and its virtual PPK2
//! (the rig's own drivers), and every bad input with what to do.

mod lab;
use lab::*;

#[test]
fn up_status_power_down_and_nothing_left() {
    let l = Lab::up(2, &[]);
    let st = l.status();
    assert_eq!(st["duts"].as_array().unwrap().len(), 2);
    assert_eq!(st["duts"][0]["supply_on"], true);
    // The bench file parses and names both switch kinds.
    let bench = std::fs::read_to_string(l.dir.join("bench.yaml")).unwrap();
    assert!(
        bench.contains("kind: ppk2") && bench.contains("kind: command"),
        "{bench}"
    );

    // `rig power` through the bench file: dut-1's command switch is `rig lab power`, dut-0's
    // the rig's PPK2 driver talking to the virtual PPK2.
    for dut in ["dut-0", "dut-1"] {
        l.rig_ok(&["power", "off", "--dut", dut]);
        assert!(l.supply_settles(dut, false), "{dut} off");
        l.rig_ok(&["power", "cycle", "--off-time", "10", "--dut", dut]);
        assert!(l.supply_settles(dut, true), "{dut} on after cycle");
    }
    // Bad input: an unknown DUT, a second lab on the same directory.
    let e = l.lab_err(&["power", "dut-7", "on"]);
    assert!(
        e.contains("no DUT named \"dut-7\"") && e.contains("dut-0, dut-1"),
        "{e}"
    );
    let e = l.lab_err(&["up", "--duts", "2"]);
    assert!(
        e.contains("already running") && e.contains("rig lab down"),
        "{e}"
    );
    l.down_and_check_clean();
}

#[test]
fn a_lab_that_is_not_running_and_a_stale_one_are_told_apart() {
    let l = Lab::new_dir();
    let e = l.lab_err(&["status"]);
    assert!(
        e.contains("no lab is running") && e.contains("rig lab up --dir"),
        "{e}"
    );
    let e = l.lab_err(&["down"]);
    assert!(e.contains("no lab is running"), "{e}");
    let mut l = Lab::up_in(l, 1, &[]);
    l.kill9();
    let e = l.lab_err(&["status"]);
    assert!(
        e.contains("stale socket") && e.contains("rig lab up --dir"),
        "{e}"
    );
    // A probe-rs command through the bench file says the same.
    let e = l.rig_err(&["inspect", "--dut", "dut-0"]);
    assert!(e.contains("stale socket"), "{e}");
    // `down` cleans what the dead lab left; `up` would too.
    let out = l.lab(&["down"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not running"));
    l.check_clean();
}

/// A small generated image: a vector table (SP at the top of RAM, reset at 0x8) and `wfi; b.n`
/// at 0x8 (the core sleeps), and a UICR record (CUSTOMER[0]).
fn sleeper_hex(path: &std::path::Path) {
    let mut s = nrf_dfu::image::Segments::new();
    s.insert(
        0,
        &[
            0x00, 0x00, 0x01, 0x20, // initial SP 0x20010000
            0x09, 0x00, 0x00, 0x00, // reset handler 0x8, Thumb
            0x30, 0xBF, // wfi
            0xFD, 0xE7, // b.n 0x8
        ],
    )
    .unwrap();
    s.insert(0x1000_1080, &0x1234_5678u32.to_le_bytes())
        .unwrap();
    std::fs::write(path, nrf_dfu::image::write_intel_hex(&s)).unwrap();
}

/// Per-DUT CPU and `--firmware`: dut-0 runs the firmware models, dut-1 the emulated core on an
/// image preloaded into its flash and UICR before its first boot; `rig lab status` says which
/// runs what, lab.json keeps it, and a second `up` holds the lab to it.
#[test]
fn one_lab_serves_a_model_dut_and_an_emulated_one_started_on_preloaded_firmware() {
    // The lab directory outlives the first lab (whose `tmp` goes with it).
    let keep = tempfile::tempdir().unwrap();
    let mut l = Lab {
        tmp: tempfile::tempdir().unwrap(),
        dir: keep.path().join("lab"),
        pid: None,
    };
    let hex = keep.path().join("sleeper.hex");
    sleeper_hex(&hex);
    let fw = format!("dut-1={}", hex.display());
    l = Lab::up_in(l, 2, &["--cpu", "dut-1=emulated", "--firmware", &fw]);
    let d0 = l.dut_status("dut-0");
    let d1 = l.dut_status("dut-1");
    assert_eq!(d0["cpu"], "model", "{d0}");
    assert_eq!(d1["cpu"], "emulated", "{d1}");
    assert!(
        d1["runs"]
            .as_str()
            .unwrap()
            .starts_with("emulated Cortex-M4F runs the firmware in flash"),
        "the core runs the preloaded image, no `rig flash`: {d1}"
    );
    // The WFI retired; the core sleeps in it (a blank chip would lock up on vector 0xFFFFFFFF).
    assert!(d1["instructions"].as_u64().unwrap() >= 1, "{d1}");
    let text = String::from_utf8_lossy(&l.lab(&["status"]).stdout).into_owned();
    assert!(text.contains("dut-0: nRF52832_xxAA (model CPU)"), "{text}");
    assert!(
        text.contains("dut-1: nRF52832_xxAA (emulated CPU)"),
        "{text}"
    );
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(l.dir.join("lab.json")).unwrap()).unwrap();
    assert_eq!(cfg["cpu"], "model", "{cfg}");
    assert_eq!(cfg["duts"][1]["cpu"], "emulated", "{cfg}");
    assert!(cfg["duts"][0].get("cpu").is_none(), "{cfg}");
    let dir = l.dir.clone();
    l.down_and_check_clean();
    // The preload is in the saved chip: flash and the UICR word.
    let mut dev =
        virtual_nrf52::Device::from_state_bytes(&std::fs::read(dir.join("dut-1.state")).unwrap())
            .unwrap();
    assert_eq!(dev.read_flash(8, 4), [0x30, 0xBF, 0xFD, 0xE7]);
    dev.power_on(dev.now());
    assert_eq!(dev.read_u32(0x1000_1080).unwrap(), 0x1234_5678);

    // Carrying on: the lab is held to what lab.json says, naming the DUT; a preload is refused
    // for a DUT that has state.
    let l2 = Lab {
        tmp: tempfile::tempdir().unwrap(),
        dir: dir.clone(),
        pid: None,
    };
    let e = l2.lab_err(&["up", "--cpu", "emulated"]);
    assert!(
        e.contains("whose dut-0 runs --cpu model, not emulated"),
        "{e}"
    );
    let e = l2.lab_err(&["up", "--firmware", &fw]);
    assert!(
        e.contains("--firmware: dut-1 carries on from") && e.contains("dut-1.state"),
        "{e}"
    );
}

#[test]
fn bad_cpu_and_firmware_values_are_named() {
    let l = Lab::new_dir();
    let e = l.lab_err(&["up", "--duts", "2", "--cpu", "dut-5=emulated"]);
    assert!(
        e.contains("--cpu dut-5=emulated: no DUT named \"dut-5\"") && e.contains("dut-0, dut-1"),
        "{e}"
    );
    let e = l.lab_err(&["up", "--cpu", "arm"]);
    assert!(e.contains("--cpu arm: unknown CPU \"arm\""), "{e}");
    let e = l.lab_err(&["up", "--cpu", "dut-0=fast"]);
    assert!(e.contains("--cpu dut-0=fast: unknown CPU \"fast\""), "{e}");
    let missing = l.tmp.path().join("missing.hex");
    let e = l.lab_err(&["up", "--firmware", missing.to_str().unwrap()]);
    assert!(e.contains("missing.hex: cannot read it"), "{e}");
    // A record outside flash and UICR: RAM.
    let ram = l.tmp.path().join("ram.hex");
    let mut s = nrf_dfu::image::Segments::new();
    s.insert(0x2000_0000, &[1, 2, 3, 4]).unwrap();
    std::fs::write(&ram, nrf_dfu::image::write_intel_hex(&s)).unwrap();
    let e = l.lab_err(&[
        "up",
        "--cpu",
        "emulated",
        "--firmware",
        ram.to_str().unwrap(),
    ]);
    assert!(
        e.contains("ram.hex: line 2: data at 0x20000000..0x20000004 is outside"),
        "{e}"
    );
    let e = l.lab_err(&["up", "--fresh", "uart-bootloader", "--cpu", "emulated"]);
    assert!(e.contains("dut-0 runs --cpu emulated"), "{e}");
    assert!(!l.dir.join("lab.json").exists(), "nothing started");
}
