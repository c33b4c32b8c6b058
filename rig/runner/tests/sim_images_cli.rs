//! `rig sim images` run as a program: the committed `firmware/sim/` set is exactly what the
//! command writes today.

use std::path::PathBuf;
use std::process::Command;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../firmware/sim")
}

#[test]
fn regenerating_gives_the_committed_files() {
    let out = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "images", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = std::fs::read_dir(committed())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    expected.sort();
    assert_eq!(written, expected, "file list");
    for name in &written {
        let a = std::fs::read(out.path().join(name)).unwrap();
        let b = std::fs::read(committed().join(name)).unwrap();
        assert!(
            a == b,
            "{name} differs from firmware/sim/{name}: run `rig sim images --out firmware/sim`"
        );
    }
    let stdout = String::from_utf8(st.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        written.len(),
        "one printed path per file"
    );
}

#[test]
fn unwritable_output_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "images", "--out"])
        .arg(blocker.join("sub"))
        .output()
        .unwrap();
    assert!(!st.status.success());
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("sub"), "{err}");
}

#[test]
fn options_build_the_stand_in_bootloaders_that_have_them() {
    let out = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args([
            "sim",
            "images",
            "--option",
            "NRF_DFU_APP_ACCEPT_SAME_VERSION=0",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    // The option exists from SDK 15.3 on: 15.3, 16.0 and 17.1, BLE and UART.
    assert_eq!(
        written,
        [
            "bootloader-15.3-ble-app-accept-same-version-0.hex",
            "bootloader-15.3-uart-app-accept-same-version-0.hex",
            "bootloader-16.0-ble-app-accept-same-version-0.hex",
            "bootloader-16.0-uart-app-accept-same-version-0.hex",
            "bootloader-17.1-ble-app-accept-same-version-0.hex",
            "bootloader-17.1-uart-app-accept-same-version-0.hex",
        ]
    );
    let st = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args([
            "sim",
            "images",
            "--option",
            "NRF_DFU_SAVE_PROGRESS=1",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(!st.status.success());
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("unknown bootloader option `NRF_DFU_SAVE_PROGRESS`"),
        "{err}"
    );
}
