//! A lab started in this process: its files, the control socket, the supply through the
//! control socket and through the virtual PPK2, one lab per directory, a clean stop.

use rig_lab::control::{call, ControlRequest};
use rig_lab::layout::{LabConfig, LabDir};
use rig_lab::protocol::PowerAction;
use rig_lab::{DeviceFactory, DutClient, Lab};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use virtual_nrf52::{Chip, Device};

struct Blank;
impl DeviceFactory for Blank {
    fn fresh(&self, _dut: &str, i: usize) -> Result<Device, String> {
        Ok(Device::new(Chip::Nrf52832Qfaa, i as u64 + 1))
    }
}

fn start(dir: &LabDir, n: usize) -> Lab {
    let log: rig_lab::Logger = Arc::new(|_| {});
    Lab::start(
        dir.clone(),
        LabConfig::new("nRF52832_xxAA", 1.0, n),
        &Blank,
        log,
    )
    .unwrap()
}

fn supply(dir: &LabDir, dut: usize) -> bool {
    let s = call(&dir.control(), &ControlRequest::Status).unwrap();
    s.status.unwrap().duts[dut].supply_on
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_two_dut_lab_serves_control_ppk2_and_stops_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = LabDir::new(tmp.path()).unwrap();
    let lab = start(&dir, 2);
    let (stop_tx, stop_rx) = std::os::unix::net::UnixStream::pair().unwrap();
    std::thread::scope(|s| {
        let l = &lab;
        let served = s.spawn(move || l.serve(&stop_rx));
        for f in [
            "lab.sock",
            "lab.pid",
            "lab.json",
            "dut-0.swd",
            "dut-0.tty",
            "dut-0.ppk2",
            "dut-1.swd",
            "dut-1.tty",
        ] {
            assert!(
                std::fs::symlink_metadata(dir.file(f)).is_ok(),
                "{f} missing"
            );
        }
        assert!(
            std::fs::symlink_metadata(dir.file("dut-1.ppk2")).is_err(),
            "dut-1 has the command switch"
        );

        // A second lab on the same directory is refused with what to do.
        let again = Lab::start(
            dir.clone(),
            LabConfig::new("nRF52832_xxAA", 1.0, 2),
            &Blank,
            Arc::new(|_| {}),
        );
        let e = again.err().expect("second lab refused").to_string();
        assert!(
            e.contains("already running") && e.contains("rig lab down"),
            "{e}"
        );

        // The control socket switches the supply; an unknown DUT is named.
        assert!(supply(&dir, 1));
        call(
            &dir.control(),
            &ControlRequest::Power {
                dut: "dut-1".into(),
                action: PowerAction::Off,
            },
        )
        .unwrap();
        assert!(!supply(&dir, 1));
        assert_eq!(
            std::fs::read_to_string(dir.power("dut-1")).unwrap(),
            "off\n"
        );
        let r = call(
            &dir.control(),
            &ControlRequest::Power {
                dut: "dut-9".into(),
                action: PowerAction::On,
            },
        )
        .unwrap();
        assert!(
            !r.ok
                && r.error
                    .as_deref()
                    .unwrap()
                    .contains("no DUT named \"dut-9\""),
            "{r:?}"
        );

        // The virtual PPK2 answers metadata and switches dut-0 as the rig's driver does.
        let mut ppk = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.ppk2("dut-0"))
            .unwrap();
        ppk.write_all(&[0x19]).unwrap();
        let mut meta = Vec::new();
        let mut b = [0u8; 512];
        while !meta.ends_with(b"END\n") {
            let n = ppk.read(&mut b).unwrap();
            meta.extend_from_slice(&b[..n]);
        }
        assert!(meta.starts_with(b"Calibrated: 0\n"));
        ppk.write_all(&[0x11, 2, 0x0D, 0x0B, 0xB8, 0x0C, 0])
            .unwrap();
        eventually("PPK2 off reaches the supply", || !supply(&dir, 0));
        ppk.write_all(&[0x0C, 1]).unwrap();
        eventually("PPK2 on reaches the supply", || supply(&dir, 0));

        // One debugger per DUT; status and power need none.
        let c = DutClient::connect(&dir.swd("dut-0")).unwrap();
        assert_eq!(
            (c.dut.as_str(), c.chip.as_str()),
            ("dut-0", "nRF52832_xxAA")
        );
        let e = DutClient::connect(&dir.swd("dut-0"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("in use by process"), "{e}");
        drop(c);
        eventually("the probe is released when its connection closes", || {
            DutClient::connect(&dir.swd("dut-0")).is_ok()
        });

        call(&dir.control(), &ControlRequest::Down).unwrap();
        served.join().unwrap().unwrap();
        let _ = stop_tx;
    });
    lab.shutdown();
    for f in [
        "lab.sock",
        "lab.pid",
        "dut-0.swd",
        "dut-0.tty",
        "dut-0.ppk2",
        "dut-1.swd",
        "dut-1.tty",
    ] {
        assert!(
            std::fs::symlink_metadata(dir.file(f)).is_err(),
            "{f} left behind"
        );
    }
    // The state stays, and the supply switch's position with it.
    assert!(dir.state("dut-0").exists() && dir.state("dut-1").exists());
    let lab = start(&dir, 2);
    let st = lab.status();
    assert!(st.duts[0].supply_on && !st.duts[1].supply_on);
    assert_eq!(st.duts[1].runs, "off");
    lab.shutdown();
}

#[test]
fn clients_tell_a_missing_lab_from_a_stale_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = LabDir::new(tmp.path()).unwrap();
    let e = DutClient::connect(&dir.swd("dut-0"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("socket does not exist") && e.contains("rig lab up --dir"),
        "{e}"
    );
    // A socket file nobody listens on (what kill -9 leaves).
    drop(std::os::unix::net::UnixListener::bind(dir.swd("dut-0")).unwrap());
    let e = DutClient::connect(&dir.swd("dut-0"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("stale socket") && e.contains("rig lab up --dir"),
        "{e}"
    );
    // Starting a lab clears it.
    let lab = start(&dir, 1);
    DutClient::connect(&dir.swd("dut-0")).unwrap();
    lab.shutdown();
}
