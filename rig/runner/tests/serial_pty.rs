//! Our own serial DFU client through a real pseudo-terminal: `rig sim serve --serial` (real clock)
//! is updated (a) in-process by `SerialTransport` + `DfuClient`, (b) by `rig dfu PKG --port`.
//! Each update is checked in the saved device state (`rig sim inspect --json`).

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use nrf_dfu::client::{DfuClient, DfuConfig, DfuImage};
use nrf_dfu::package::{
    generate_package, CivilTime, GenerateOptions, ImageInput, ImageKind, Package,
};
use nrf_dfu::signing::SigningKey;
use rig::drivers::serial::{PortSettings, SerialOptions, SerialTransport};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Wait for `child` to exit, at most `limit`; `None` if it is still running.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return Some(st);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed on drop, so a failing test never leaves it running.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `rig sim serve --serial` on `link`, saving to `state`.
struct Serve(Guard);

impl Serve {
    fn start(link: &Path, state: &Path) -> Serve {
        let child = Command::new(env!("CARGO_BIN_EXE_rig"))
            .args(["sim", "serve", "--serial", "--profile", "sdk17.1", "--link"])
            .arg(link)
            .arg("--state")
            .arg(state)
            .stdout(Stdio::null())
            .spawn()
            .expect("start rig sim serve");
        let serve = Serve(Guard(Some(child)));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::symlink_metadata(link).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not appear within 10 s",
                link.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        serve
    }

    /// SIGTERM, then a bounded wait: the server saves the device state and exits 0.
    fn stop(mut self) {
        let child = self.0 .0.as_mut().expect("running");
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
        let st = wait_bounded(child, Duration::from_secs(5))
            .expect("rig sim serve did not exit within 5 s of SIGTERM");
        self.0 .0 = None;
        assert!(st.success(), "rig sim serve exited with {st}");
    }
}

fn inspect(state: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["sim", "inspect", "--json", "--state"])
        .arg(state)
        .output()
        .expect("run rig sim inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("inspect prints JSON")
}

/// `nrfutil pkg generate --hw-version 52 --sd-req 0x00 --application-version V --application
/// HEX --key-file rig-test-private.pem`: the UART layout has no SoftDevice.
fn package(hex: &str, version: u32) -> Package {
    let pem = std::fs::read_to_string(root().join("firmware/keys/rig-test-private.pem")).unwrap();
    let generated = generate_package(GenerateOptions {
        hw_version: Some(52),
        application: Some(ImageInput::file(
            hex,
            std::fs::read(root().join("firmware/sim").join(hex)).unwrap(),
        )),
        application_version: Some(version),
        sd_req: Some(vec![0x00]),
        key: Some(SigningKey::from_pem(&pem).expect("test key")),
        ..Default::default()
    })
    .expect("nrfutil accepts the options");
    generated.package
}

/// The saved state holds `pkg`'s application as a valid bank 0 with settings app_version
/// `version`, and the next boot runs the stand-in application built into the image (`app`: its
/// own name and version, which the package version does not change).
fn assert_installed(state: &Path, pkg: &Package, version: u32, app: (&str, u32)) {
    let fw = &pkg.image(ImageKind::Application).unwrap().firmware;
    let after = inspect(state);
    let s = &after["settings"]["settings"];
    assert_eq!(s["bank_0"]["bank_code"], "VALID_APP", "{after:#}");
    assert_eq!(s["bank_0"]["image_size"], fw.len());
    assert_eq!(s["bank_0"]["image_crc"], nrf_dfu::crc::crc32(fw));
    assert_eq!(s["app_version"], version);
    assert_eq!(after["application"]["crc_matches"], true);
    assert_eq!(after["next_boot"]["next"]["action"], "run_app");
    assert_eq!(
        after["next_boot"]["next"]["app"]["name"], app.0,
        "{after:#}"
    );
    assert_eq!(after["next_boot"]["next"]["app"]["version"], app.1);
}

/// The stand-in applications firmware/sim/app-a.hex and app-b.hex (`rig sim images`).
const APP_A: (&str, u32) = ("rig-app", 1);
const APP_B: (&str, u32) = ("rig-app", 2);

/// Time for the bootloader to write the settings page and reset on the real clock after the
/// last EXECUTE answer, before the state is saved.
const SETTLE: Duration = Duration::from_millis(1000);

#[test]
fn our_client_updates_a_served_device_in_process() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (link, state) = (dir.path().join("tty"), dir.path().join("dev.state"));
    let pkg = package("app-b.hex", 2);
    let images = DfuImage::from_package(&pkg);
    assert_eq!(images.len(), 1);

    let serve = Serve::start(&link, &state);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reports = rt.block_on(async {
        let settings = PortSettings {
            path: link.to_str().unwrap().into(),
            baud: 115_200,
            // A pseudo-terminal has no RTS/CTS lines.
            flow_control: false,
        };
        let options = SerialOptions {
            connect_timeout: Duration::from_secs(5),
            ..SerialOptions::default()
        };
        let t = tokio::time::timeout(
            Duration::from_secs(8),
            SerialTransport::connect(settings, options),
        )
        .await
        .expect("connect within 8 s")
        .expect("PING/MTU handshake");
        assert!(t.mtu().is_some(), "MTU_GET answered");
        let mut client = DfuClient::new(t, DfuConfig::default());
        let r = tokio::time::timeout(Duration::from_secs(10), client.update(&images))
            .await
            .expect("update within 10 s");
        drop(client); // close the port before the server stops
        r
    });
    let reports = reports.expect("DFU over the pseudo-terminal");
    assert_eq!(reports.len(), 1);
    std::thread::sleep(SETTLE);
    serve.stop();
    assert_installed(&state, &pkg, 2, APP_B);
    eprintln!("in-process update: {:?}", started.elapsed());
}

#[test]
fn rig_dfu_cli_updates_a_served_device() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (link, state) = (dir.path().join("tty"), dir.path().join("dev.state"));
    let pkg = package("app-a.hex", 3);
    let zip = dir.path().join("app-a-v3.zip");
    std::fs::write(
        &zip,
        pkg.to_zip(CivilTime::from_unix_utc(1_700_000_000)).unwrap(),
    )
    .unwrap();

    let serve = Serve::start(&link, &state);
    let child = Command::new(env!("CARGO_BIN_EXE_rig"))
        .current_dir(dir.path())
        .arg("dfu")
        .arg(&zip)
        .arg("--port")
        .arg(&link)
        .arg("--no-flow-control")
        .arg("--virtual-dir")
        .arg(dir.path().join("virtual"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rig dfu");
    let mut dfu = Guard(Some(child));
    let st = wait_bounded(dfu.0.as_mut().unwrap(), Duration::from_secs(15))
        .expect("rig dfu finished within 15 s");
    let out = dfu.0.take().unwrap().wait_with_output().unwrap();
    assert!(
        st.success(),
        "rig dfu failed ({st}):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(SETTLE);
    serve.stop();
    assert_installed(&state, &pkg, 3, APP_A);
    eprintln!("rig dfu update: {:?}", started.elapsed());
}
