//! `rig sim serve` as a program: with `--serial` a UART bootloader answers SLIP requests on the
//! pseudo-terminal, SIGINT saves the device, and a second run continues from the saved state;
//! the choice of transport and `--ble`'s error when it cannot reach the bus.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn serve(link: &Path, state: &Path, extra: &[&str]) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "serve", "--serial", "--link"])
        .arg(link)
        .arg("--state")
        .arg(state)
        .args(extra)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::symlink_metadata(link).is_err() {
        assert!(Instant::now() < deadline, "no link");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop(mut c: Child) {
    kill(Pid::from_raw(c.id() as i32), Signal::SIGINT).unwrap();
    assert!(c.wait().unwrap().success());
}

/// Send one SLIP frame and read the device's frame back (up to and including END).
fn request(port: &mut std::fs::File, frame: &[u8]) -> Vec<u8> {
    port.write_all(&nrf_dfu::slip::encode(frame)).unwrap();
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    let deadline = Instant::now() + Duration::from_secs(5);
    while out.last() != Some(&0xC0) {
        assert!(
            Instant::now() < deadline,
            "no reply to {frame:02x?}, got {out:02x?}"
        );
        if port.read(&mut b).unwrap() == 1 {
            out.push(b[0]);
        }
    }
    out
}

#[test]
fn uart_bootloader_answers_and_its_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (link, state) = (dir.path().join("tty"), dir.path().join("dev.state"));
    let c = serve(&link, &state, &["--profile", "sdk15.3"]);
    std::thread::sleep(Duration::from_millis(500)); // first boot: settings written
    let mut port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&link)
        .unwrap();
    assert_eq!(
        request(&mut port, &[0x09, 0x2A]),
        [0x60, 0x09, 0x01, 0x2A, 0xC0],
        "PING"
    );
    assert_eq!(
        request(&mut port, &[0x07]),
        [0x60, 0x07, 0x01, 0x83, 0x00, 0xC0],
        "MTU 131"
    );
    drop(port);
    stop(c);
    assert!(!link.exists(), "link removed on exit");
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "inspect", "--json", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bootloader"]["descriptor"]["profile"], "15.3");
    assert_eq!(v["bootloader"]["descriptor"]["transport"], "uart");
    assert_eq!(
        v["softdevice"],
        serde_json::Value::Null,
        "UART layout: no SoftDevice"
    );
    assert_eq!(
        v["settings"]["settings"]["settings_version"], 2,
        "the first boot wrote the settings"
    );
    assert_eq!(v["next_boot"]["next"]["action"], "enter_dfu");
    // 15.3 keeps the address words in the MBR page, not in UICR.
    assert_eq!(v["uicr"]["nrffw_0"], 0xFFFF_FFFFu32);

    let saved = std::fs::read(&state).unwrap();
    let c = serve(&link, &state, &[]);
    let mut port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&link)
        .unwrap();
    assert_eq!(
        request(&mut port, &[0x09, 0x01]),
        [0x60, 0x09, 0x01, 0x01, 0xC0],
        "the saved device answers"
    );
    drop(port);
    stop(c);
    let again: serde_json::Value = serde_json::from_slice(
        &Command::new(env!("CARGO_BIN_EXE_rig"))
            .args(["sim", "inspect", "--json", "--state"])
            .arg(&state)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        again["bootloader"]["descriptor"]["profile"], "15.3",
        "--profile applies to fresh devices only"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "nothing written: same flash and wear"
    );
}

#[test]
fn sdk_12_has_no_serial_bootloader() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "serve", "--serial", "--profile", "sdk12.3", "--link"])
        .arg(dir.path().join("tty"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SDK 12 has no serial Secure DFU bootloader")
    );
}

#[test]
fn serve_needs_one_transport_and_ble_says_which_bus_it_could_not_reach() {
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<--serial|--ble <ADAPTER>>"));
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "serve", "--ble", "hci0", "--link", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--link belongs to --serial");
    // --ble publishes on the system bus DBUS_SYSTEM_BUS_ADDRESS names.
    let dir = tempfile::tempdir().unwrap();
    let bus = format!("unix:path={}", dir.path().join("no-bus").display());
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "serve", "--ble", "hci0"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("connecting to the D-Bus at {bus}")),
        "{err}"
    );
}
