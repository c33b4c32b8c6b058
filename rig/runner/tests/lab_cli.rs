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
