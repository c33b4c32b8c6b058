//! `rig sim inspect` run as a program on state files of devices flashed with the committed
//! stand-in images.

use nrf_dfu::image::parse_intel_hex;
use nrf_dfu::settings::{generate, BackupPlacement, Family, GenerateOptions};
use nrf_dfu::Chip;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use virtual_nrf52::{DebugPort, ProgramOptions};
use virtual_nrf52::{Hardware as Device, Segment};

fn hex_segments(name: &str) -> Vec<Segment> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware/sim")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    parse_intel_hex(&text)
        .unwrap()
        .runs()
        .map(|(a, d)| (a, d.to_vec()))
        .collect()
}

/// S132 7.2.0 + BLE bootloader 17.1 + app-a, with settings naming app-a valid when `settings`.
fn state_file(dir: &Path, settings: bool) -> PathBuf {
    let mut dev = Device::new(Chip::Nrf52832Qfaa, 42);
    dev.power_on().unwrap();
    let mut segs = hex_segments("s132-7.2.0.hex");
    segs.extend(hex_segments("bootloader-17.1-ble.hex"));
    let app = hex_segments("app-a.hex");
    if settings {
        let g = generate(
            &GenerateOptions {
                family: Family::Nrf52,
                application: Some(&app[0].1),
                application_version: Some(1),
                bootloader_version: 1,
                bl_settings_version: 2,
                start_address: None,
                backup: BackupPlacement::BelowSettings,
                app_boot_validation: None,
                sd_boot_validation: None,
                softdevice: None,
            },
            None,
        )
        .unwrap();
        segs.extend(g.segments());
    }
    segs.extend(app);
    dev.program(&segs, ProgramOptions::default()).unwrap();
    let path = dir.join("dev.state");
    rig::sim::state_file::save(&path, &dev).unwrap();
    path
}

fn inspect(state: &Path, json: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rig"));
    cmd.args(["sim", "inspect", "--state"]).arg(state);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn valid_app_json_uses_settings_field_names() {
    let dir = tempfile::tempdir().unwrap();
    let v: Value = serde_json::from_str(&inspect(&state_file(dir.path(), true), true)).unwrap();
    let s = &v["settings"]["settings"];
    assert_eq!(s["settings_version"], 2);
    assert_eq!(s["app_version"], 1);
    assert_eq!(s["bank_0"]["bank_code"], "VALID_APP");
    assert_eq!(s["bank_0"]["image_size"], 0x1800);
    assert_eq!(s["bank_1"]["bank_code"], "INVALID");
    assert_eq!(v["settings"]["crcs"]["crc"]["status"], "valid");
    assert_eq!(
        v["settings_backup"]["settings"]["bank_0"]["bank_code"],
        "VALID_APP"
    );
    assert_eq!(v["uicr"]["nrffw_0"], 0x78000);
    assert_eq!(v["uicr"]["nrffw_1"], 0x7E000);
    assert_eq!(v["softdevice"]["fwid"], 0x101);
    assert_eq!(v["softdevice"]["version"], 7_002_000);
    assert_eq!(v["bootloader"]["content"], "stand_in");
    assert_eq!(v["bootloader"]["descriptor"]["adv_name"], "DfuTarg");
    assert_eq!(v["application"]["address"], 0x26000);
    assert_eq!(v["application"]["descriptor"]["version"], 1);
    assert_eq!(v["application"]["crc_matches"], true);
    assert_eq!(v["application"]["computed_crc"], s["bank_0"]["image_crc"]);
    assert_eq!(v["next_boot"]["next"]["action"], "run_app");
    assert_eq!(v["next_boot"]["next"]["app_version"], 1);
    assert_eq!(
        v["boot_simulation"]["state"], "app",
        "the device model agrees"
    );
}

#[test]
fn valid_app_text() {
    let dir = tempfile::tempdir().unwrap();
    let t = inspect(&state_file(dir.path(), true), false);
    assert!(t.contains("SoftDevice: s132_nrf52_7.2.0"), "{t}");
    assert!(t.contains("bank_0: VALID_APP, image_size 6144"), "{t}");
    assert!(t.contains("matches bank_0.image_crc"), "{t}");
    assert!(t.contains("next power-on: runs the application at 0x26000, settings app_version 1 (stand-in \"rig-app\" version 1)"), "{t}");
    assert!(
        t.contains("device model after power-on: runs \"rig-app\" version 1"),
        "{t}"
    );
}

#[test]
fn no_settings_enters_dfu() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_file(dir.path(), false);
    let v: Value = serde_json::from_str(&inspect(&state, true)).unwrap();
    assert_eq!(v["settings"]["erased"], true);
    assert_eq!(v["next_boot"]["next"]["action"], "enter_dfu");
    assert_eq!(
        v["next_boot"]["next"]["reasons"][0]["kind"],
        "app_not_valid"
    );
    assert_eq!(
        v["next_boot"]["settings_outcome"]["kind"],
        "reset_to_defaults"
    );
    assert_eq!(
        v["boot_simulation"]["state"], "bootloader",
        "the device model agrees"
    );
    let t = inspect(&state, false);
    assert!(
        t.contains("next power-on: enters DFU mode: bank_0 is INVALID, not VALID_APP"),
        "{t}"
    );
}

#[test]
fn bad_state_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.state");
    std::fs::write(&p, b"not a state").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "inspect", "--state"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("junk.state") && e.contains("not a virtual nRF52 state file"),
        "{e}"
    );
}
