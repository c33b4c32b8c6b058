//! Interoperability with Nordic's nrfutil 6.1.7 serial DFU client (scripts/interop-serial.sh in
//! Rust): `rig sim serve --serial` on a pseudo-terminal is updated by `nrfutil dfu serial`.
//! Runs only when `NRFUTIL` points at an nrfutil executable; otherwise it prints why it skipped.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use nrf_dfu::package::{ImageKind, Package};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Serve(Child);

impl Serve {
    fn start(link: &Path, state: &Path) -> Serve {
        let child = Command::new(env!("CARGO_BIN_EXE_rig"))
            .args(["sim", "serve", "--serial", "--profile", "sdk17.1", "--link"])
            .arg(link)
            .arg("--state")
            .arg(state)
            .spawn()
            .expect("start rig sim serve");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::symlink_metadata(link).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not appear",
                link.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let the first boot's flash work finish on the real clock.
        std::thread::sleep(Duration::from_millis(500));
        Serve(child)
    }

    fn stop(mut self) {
        kill(Pid::from_raw(self.0.id() as i32), Signal::SIGINT).expect("SIGINT");
        let st = self.0.wait().expect("wait for rig sim serve");
        assert!(st.success(), "rig sim serve exited with {st}");
    }
}

fn nrfutil(exe: &str, tmp: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .env("TMPDIR", tmp)
        .args(args)
        .output()
        .expect("run nrfutil")
}

fn inspect(state: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "inspect", "--json", "--state"])
        .arg(state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn nrfutil_updates_a_served_device_only_with_the_right_key() {
    let Ok(exe) = std::env::var("NRFUTIL") else {
        eprintln!("skipped: set NRFUTIL to an nrfutil 6.1.7 executable to run the serial interoperability test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let (link, state) = (dir.path().join("ttyDFU"), dir.path().join("device.state"));
    let key = root().join("firmware/keys/rig-test-private.pem");
    let app = root().join("firmware/sim/app-b.hex");
    let other = dir.path().join("other.pem");
    assert!(
        nrfutil(&exe, &tmp, &["keys", "generate", other.to_str().unwrap()])
            .status
            .success()
    );
    for (zip, k) in [("good.zip", &key), ("bad.zip", &other)] {
        let out = nrfutil(
            &exe,
            &tmp,
            &[
                "pkg",
                "generate",
                "--hw-version",
                "52",
                "--sd-req",
                "0x00",
                "--application-version",
                "2",
                "--application",
                app.to_str().unwrap(),
                "--key-file",
                k.to_str().unwrap(),
                dir.path().join(zip).to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dfu = |zip: &str| {
        nrfutil(
            &exe,
            &tmp,
            &[
                "dfu",
                "serial",
                "-pkg",
                dir.path().join(zip).to_str().unwrap(),
                "-p",
                link.to_str().unwrap(),
                "-b",
                "115200",
                "-fc",
                "0",
                "-cd",
                "0",
                "-t",
                "5",
            ],
        )
    };

    Serve::start(&link, &state).stop();
    let before = inspect(&state);
    assert_eq!(before["next_boot"]["next"]["action"], "enter_dfu");

    let s = Serve::start(&link, &state);
    let bad = dfu("bad.zip");
    s.stop();
    assert!(
        !bad.status.success(),
        "a package signed with another key was accepted"
    );
    assert_eq!(
        inspect(&state),
        before,
        "the refused update changed the device"
    );

    let s = Serve::start(&link, &state);
    let good = dfu("good.zip");
    std::thread::sleep(Duration::from_secs(1));
    s.stop();
    assert!(
        good.status.success(),
        "nrfutil failed:\n{}\n{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );
    let pkg = Package::from_zip(&std::fs::read(dir.path().join("good.zip")).unwrap()).unwrap();
    let fw = &pkg.image(ImageKind::Application).unwrap().firmware;
    let after = inspect(&state);
    let s = &after["settings"]["settings"];
    assert_eq!(s["bank_0"]["bank_code"], "VALID_APP");
    assert_eq!(s["bank_0"]["image_size"], fw.len());
    assert_eq!(s["bank_0"]["image_crc"], nrf_dfu::crc::crc32(fw));
    assert_eq!(s["app_version"], 2);
    assert_eq!(after["application"]["crc_matches"], true);
    assert_eq!(after["next_boot"]["next"]["action"], "run_app");
    assert_eq!(after["next_boot"]["next"]["app"]["version"], 2);
}
