//! `rig flash`, `rig dfu` and `rig inspect` together on the virtual bench: what the update left
//! on the device is read back through the probe by `rig inspect --json`.

mod support;

use support::cli::{rig, text};

use nrf_dfu::crc::crc32;
use nrf_dfu::image::{parse_intel_hex, write_intel_hex, Segments};
use nrf_dfu::package::Package;
use nrf_dfu::signing::SigningKey;
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;
use serde_json::Value;
use std::path::{Path, PathBuf};
use virtual_nrf52::descriptor::BootloaderDescriptor;
use virtual_nrf52::softdevice::S132_3_0_0;
use virtual_nrf52::standin;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sim(name: &str) -> String {
    repo().join("firmware/sim").join(name).display().to_string()
}

fn fixture(name: &str) -> PathBuf {
    repo().join("rig/nrf-dfu/tests/fixtures/nrfutil").join(name)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = rig(dir, args);
    let text = text(&o);
    assert!(o.status.success(), "rig {args:?} failed:\n{text}");
    text
}

fn inspect(dir: &Path) -> Value {
    let o = rig(dir, &["inspect", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("inspect --json prints JSON")
}

fn hex_bytes(path: &str) -> Vec<u8> {
    let segs = parse_intel_hex(&std::fs::read_to_string(path).unwrap()).unwrap();
    let runs: Vec<_> = segs.runs().collect();
    assert_eq!(runs.len(), 1, "{path} is one run");
    runs[0].1.to_vec()
}

#[test]
fn flash_then_dfu_next_version_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = repo()
        .join("firmware/keys/rig-test-private.pem")
        .display()
        .to_string();
    let files = [
        sim("mbr.hex"),
        sim("s132-7.2.0.hex"),
        sim("bootloader-17.1-ble.hex"),
        sim("app-a.hex"),
    ];
    let mut args = vec!["flash"];
    args.extend(files.iter().map(String::as_str));
    ok(d, &args);
    let before = inspect(d);
    let version_before = before["settings"]["settings"]["app_version"]
        .as_u64()
        .unwrap();
    let out = ok(
        d,
        &[
            "dfu",
            "--image",
            &sim("app-b.hex"),
            "--version",
            "next",
            "--key",
            &key,
        ],
    );
    assert!(
        out.contains("DFU done: 1 image(s), 9216 bytes") && out.contains("(simulated)"),
        "{out}"
    );
    let app_b = hex_bytes(&sim("app-b.hex"));
    let after = inspect(d);
    let s = &after["settings"]["settings"];
    assert_eq!(s["bank_0"]["bank_code"], "VALID_APP");
    assert_eq!(s["bank_0"]["image_size"], app_b.len() as u64);
    assert_eq!(s["bank_0"]["image_crc"], crc32(&app_b) as u64);
    assert_eq!(s["app_version"], version_before + 1);
    assert_eq!(after["settings_backup"]["settings"]["bank_0"], s["bank_0"]);
    assert_eq!(after["application"]["crc_matches"], true);
    assert_eq!(
        after["application"]["descriptor"]["version"], 2,
        "app-b runs"
    );
    assert_eq!(after["next_boot"]["next"]["action"], "run_app");
    assert_eq!(after["boot_simulation"]["state"], "app");
    // JSON mode: progress lines, then the result; a second update to the same version is
    // refused by the device (17.1: an app fw_version below app_version) with a non-zero exit.
    let o = rig(
        d,
        &[
            "dfu",
            "--image",
            &sim("app-b.hex"),
            "--version",
            "0",
            "--key",
            &key,
            "--json",
            "--prn",
            "4",
        ],
    );
    assert!(!o.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["progress"]["phase"], "setup");
    let err = &lines.last().unwrap()["error"];
    assert_eq!(err["class"], "dut", "{err}");
    assert_eq!(err["phase"], "execute", "{err}");
    assert_eq!(
        err["opcode"].as_str().map(|s| s.contains("EXECUTE")),
        Some(true),
        "{err}"
    );
    assert_eq!(
        err["ext"].as_str().map(|s| s.contains("FW_VERSION")),
        Some(true),
        "{err}"
    );
}

/// A stand-in 17.1 BLE bootloader trusting the fixtures' private.key, over S132 3.0.0 (FWID
/// 0x8C, which every fixture package requires).
fn flash_fixture_stack(d: &Path) {
    let pem = std::fs::read_to_string(fixture("private.key")).unwrap();
    let pk = SigningKey::from_pem(&pem).unwrap().public_key().to_pk64();
    let mut segs = standin::softdevice_hex_segments(&S132_3_0_0);
    segs.extend(
        standin::bootloader_segments(
            &BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, pk),
            Chip::Nrf52832Qfaa,
            standin::DEFAULT_BOOTLOADER_SIZE,
        )
        .unwrap(),
    );
    let s = Segments::from_runs(segs.iter().map(|(a, d)| (*a, d.as_slice()))).unwrap();
    std::fs::write(d.join("stack.hex"), write_intel_hex(&s)).unwrap();
    ok(d, &["flash", "stack.hex"]);
}

#[rstest]
#[case::app("out.zip")]
#[case::debug("debug.zip")]
#[case::app_ecdsa_boot_validation("app_ecdsa_bv.zip")]
fn fixture_application_packages_install(#[case] zip: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    flash_fixture_stack(d);
    let path = fixture(zip);
    let package = Package::from_zip(&std::fs::read(&path).unwrap()).unwrap();
    let app = &package.images()[0];
    let out = ok(d, &["dfu", path.to_str().unwrap()]);
    assert!(out.contains("DFU done: 1 image(s), 5000 bytes"), "{out}");
    let r = inspect(d);
    let s = &r["settings"]["settings"];
    assert_eq!(s["bank_0"]["bank_code"], "VALID_APP", "{s}");
    assert_eq!(s["bank_0"]["image_size"], 5000);
    assert_eq!(s["bank_0"]["image_crc"], crc32(&app.firmware) as u64);
    assert_eq!(s["app_version"], 1);
    assert_eq!(s["bank_1"]["bank_code"], "INVALID");
    assert_eq!(
        r["application"]["address"], 0x1F000,
        "bank 0 follows S132 3.0.0"
    );
    assert_eq!(r["application"]["crc_matches"], true);
}

#[test]
fn fixture_unsigned_package_is_refused_by_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    flash_fixture_stack(d);
    let o = rig(
        d,
        &["dfu", fixture("unsigned.zip").to_str().unwrap(), "--json"],
    );
    assert!(!o.status.success());
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["error"]["class"], "dut", "{last}");
    assert_eq!(last["error"]["phase"], "execute", "{last}");
    let r = inspect(d);
    assert_ne!(
        r["settings"]["settings"]["bank_0"]["bank_code"],
        "VALID_APP"
    );
}

/// bl.zip replaces the bootloader with 20 KB of random bytes: the MBR copies it in (COPY_BL,
/// through the parameter page = the 17.1 settings backup page, which it erases after), and the
/// new "bootloader" is no stand-in, so nothing runs the activation that would clear bank_1.
#[test]
fn fixture_bootloader_package_installs_code_the_model_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    flash_fixture_stack(d);
    let path = fixture("bl.zip");
    let package = Package::from_zip(&std::fs::read(&path).unwrap()).unwrap();
    let bl = &package.images()[0].firmware;
    let out = ok(d, &["dfu", path.to_str().unwrap()]);
    assert!(out.contains("DFU done: 1 image(s), 20480 bytes"), "{out}");
    let r = inspect(d);
    let s = &r["settings"]["settings"];
    assert_eq!(s["bootloader_version"], 2);
    assert_eq!(s["bank_1"]["bank_code"], "VALID_BL");
    assert_eq!(s["bank_1"]["image_size"], 20480);
    assert_eq!(s["bank_1"]["image_crc"], crc32(bl) as u64);
    assert_eq!(r["bootloader"]["content"], "unknown", "{}", r["bootloader"]);
    assert_eq!(
        r["settings_backup"]["erased"], true,
        "the MBR erased its parameter page"
    );
    assert_eq!(r["next_boot"]["next"]["action"], "unknown_bootloader");
}

/// sd.zip and sdbl.zip carry a stand-in SoftDevice that is only random bytes around the
/// info-struct magic: the key accepts the init packet, the 17.1 post-validation of the last data
/// object refuses the SoftDevice, and the installed stack is untouched.
#[rstest]
#[case::sd("sd.zip", 131072)]
#[case::sd_bl("sdbl.zip", 151552)]
fn fixture_softdevice_packages_fail_post_validation(#[case] zip: &str, #[case] size: u64) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    flash_fixture_stack(d);
    let o = rig(d, &["dfu", fixture(zip).to_str().unwrap(), "--json"]);
    assert!(!o.status.success());
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    let e = &last["error"];
    assert_eq!(e["class"], "dut", "{e}");
    assert_eq!(
        e["failure_class"], "dut.protocol.execute.invalid_object",
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(&format!("at offset {size}")),
        "{e}"
    );
    let r = inspect(d);
    assert_eq!(r["softdevice"]["fwid"], 0x8C);
    assert_eq!(r["bootloader"]["content"], "stand_in");
    assert_eq!(r["settings"]["settings"]["bank_1"]["bank_code"], "INVALID");
}
