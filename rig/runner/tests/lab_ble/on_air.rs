//! A lab with a DUT on the air, for the BLE tests: `rig lab up --ble`, skipped (with the reason)
//! when dbus-daemon is missing unless RIG_REQUIRE_DBUS=1, where it fails instead.

use super::lab::Lab;
use std::time::{Duration, Instant};

/// A lab of `duts` DUTs with `ble` on the air, every fresh DUT on a bootloader (UART DUTs the
/// 17.1 UART one, DUTs on the air S132 7.2.0 and the 17.1 BLE one, waiting as "DfuTarg").
pub fn up(duts: usize, ble: &str) -> Option<Lab> {
    if let Err(e) = virtual_bluez::find_dbus_daemon() {
        if std::env::var("RIG_REQUIRE_DBUS").as_deref() == Ok("1") {
            panic!("RIG_REQUIRE_DBUS=1 but {e}");
        }
        eprintln!(
            "SKIPPED: {e} (a lab with DUTs on the air needs dbus-daemon; .ci/run installs it)"
        );
        return None;
    }
    Some(Lab::up(duts, &["--ble", ble, "--fresh", "uart-bootloader"]))
}

/// The DUT's `ble` entry of the lab's bench file.
pub fn ble_config(l: &Lab, dut: &str) -> rig::benchfile::schema::BleConfig {
    let path = l.dir.join("bench.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let b = rig::benchfile::parse(&path, &text).unwrap();
    b.duts[dut].ble.clone().expect("a DUT on the air has `ble`")
}

/// Wait (at most `within` of wall time) until `rig lab status` says `dut` runs `what`.
pub fn runs(l: &Lab, dut: &str, what: &str, within: Duration) -> String {
    let t = Instant::now();
    loop {
        let runs = l.dut_status(dut)["runs"].as_str().unwrap().to_string();
        if runs.contains(what) || t.elapsed() > within {
            return runs;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The stand-in images (`rig sim images`) in `dir`.
pub fn images(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("images");
    let o = std::process::Command::new(super::lab::RIG)
        .args(["sim", "images", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}
