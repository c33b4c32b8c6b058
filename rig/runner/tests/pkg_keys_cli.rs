//! `rig pkg` and `rig keys` run as a user runs them, against the nrfutil 6.1.7 fixtures.

mod support;

use support::cli::{command, here, RIG};

use rstest::rstest;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../nrf-dfu/tests/fixtures/nrfutil")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// `rig ARGS` at the fixtures' package timestamp (SOURCE_DATE_EPOCH), so generated packages
/// match nrfutil's byte for byte.
fn rig_at_epoch(args: &[&str]) -> Output {
    command(RIG, here(), args)
        .env("SOURCE_DATE_EPOCH", "1795514928")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const NOKEY_BANNER_LINE: &str = "|You are not providing a signature key, which means the DFU     |";

#[test]
fn unsigned_generate_is_byte_identical_to_nrfutil() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("unsigned.zip");
    let app = fixture("app.hex");
    let o = rig_at_epoch(&[
        "pkg",
        "generate",
        "--hw-version",
        "52",
        "--application",
        &app,
        "--application-version",
        "1",
        "--sd-req",
        "0x8C",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains(NOKEY_BANNER_LINE));
    assert!(stdout(&o).ends_with(&format!("Zip created at {}\n", out.display())));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(fixtures().join("unsigned.zip")).unwrap()
    );
}

#[rstest]
#[case("out.zip")]
#[case("sdbl.zip")]
#[case("app_ecdsa_bv.zip")]
fn display_prints_nrfutils_text(#[case] zip: &str) {
    let dir = fixtures();
    let o = Command::new(RIG)
        .current_dir(&dir)
        .args(["pkg", "display", zip])
        .output()
        .unwrap();
    assert!(o.status.success());
    let want =
        std::fs::read_to_string(dir.join(format!("display/{}.txt", zip.trim_end_matches(".zip"))))
            .unwrap();
    assert_eq!(stdout(&o), want);
}

#[test]
fn display_json_uses_proto_names() {
    let o = rig_at_epoch(&["pkg", "display", "--json", &fixture("sdbl.zip")]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let img = &v["images"][0];
    assert_eq!(img["type"], "softdevice_bootloader");
    assert_eq!(img["bin_size"], 151552);
    assert_eq!(img["info_read_only_metadata"]["sd_size"], 131072);
    let init = &img["init_packet"]["init"];
    assert_eq!(init["type"], "SOFTDEVICE_BOOTLOADER");
    assert_eq!(init["fw_version"], 2);
    assert_eq!(init["hw_version"], 52);
    assert_eq!(init["sd_req"], serde_json::json!([140]));
    assert_eq!(init["sd_size"], 131072);
    assert_eq!(init["bl_size"], 20480);
    assert_eq!(init["app_size"], 0);
    assert_eq!(init["is_debug"], false);
    assert_eq!(init["hash"]["hash_type"], "SHA256");
    assert_eq!(init["boot_validation"][1]["type"], "VALIDATE_GENERATED_CRC");
    assert_eq!(img["init_packet"]["signature_type"], "ECDSA_P256_SHA256");
}

#[test]
fn verify_accepts_nrfutils_packages_and_rejects_a_wrong_key() {
    for zip in [
        "out.zip",
        "debug.zip",
        "app_ecdsa_bv.zip",
        "bl.zip",
        "sd.zip",
        "sdbl.zip",
    ] {
        let o = rig_at_epoch(&[
            "pkg",
            "verify",
            &fixture(zip),
            "--key",
            &fixture("private.key"),
            "--sdk",
            "17",
        ]);
        assert!(o.status.success(), "{zip}: {}", stdout(&o));
    }
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.pem");
    assert!(rig_at_epoch(&["keys", "generate", other.to_str().unwrap()])
        .status
        .success());
    let o = rig_at_epoch(&[
        "pkg",
        "verify",
        &fixture("app_ecdsa_bv.zip"),
        "--key",
        other.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let text = stdout(&o);
    assert!(text.contains("application signature: FAILED"), "{text}");
    assert!(
        text.contains("application boot_validation: FAILED"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("2 check(s) failed"));
}

#[test]
fn ecdsa_boot_validation_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bv.zip");
    let o = rig_at_epoch(&[
        "pkg",
        "generate",
        "--hw-version",
        "52",
        "--application",
        &fixture("app.hex"),
        "--application-version",
        "1",
        "--sd-req",
        "0x8C",
        "--app-boot-validation",
        "VALIDATE_ECDSA_P256_SHA256",
        "--key-file",
        &fixture("private.key"),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = rig_at_epoch(&["pkg", "display", "--json", out.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["images"][0]["init_packet"]["init"]["boot_validation"][0]["type"],
        "VALIDATE_ECDSA_P256_SHA256"
    );
    assert_eq!(v["images"][0]["init_packet"]["size"], 205);
    let o = rig_at_epoch(&[
        "pkg",
        "verify",
        out.to_str().unwrap(),
        "--key",
        &fixture("private.key"),
    ]);
    assert!(stdout(&o).contains(
        "application boot_validation: OK ([0] VALIDATE_ECDSA_P256_SHA256: signature valid)"
    ));
}

#[test]
fn keys_generate_then_display_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let o = rig_at_epoch(&["keys", "generate", key.to_str().unwrap()]);
    assert_eq!(
        stdout(&o),
        format!(
            "Generated private key and stored it in: {}\n",
            key.display()
        )
    );
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(
        pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n")
            && pem.ends_with("-----END EC PRIVATE KEY-----\n")
    );
    let o = rig_at_epoch(&[
        "keys",
        "display",
        "--key",
        "pk",
        "--format",
        "hex",
        key.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(
        text.starts_with("Public (verification) key pk:\n")
            && text.len() == "Public (verification) key pk:\n".len() + 129
    );
    // Existing file, answer "n": nothing is overwritten.
    let mut child = Command::new(RIG)
        .args(["keys", "generate", key.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(stdout(&o).ends_with("Key generation aborted.\n"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), pem);
}

#[test]
fn keys_display_matches_nrfutil_for_the_fixture_key() {
    let o = rig_at_epoch(&[
        "keys",
        "display",
        "--key",
        "pk",
        "--format",
        "hex",
        &fixture("private.key"),
    ]);
    assert_eq!(stdout(&o), "Public (verification) key pk:\n3b87a1dcc0465e412999bb51840edd07b89ca3bcb71ce93a02084a3664063dcf78ab198c64a8b22a150565fdcacdcf3249cbb448836c1517512d9333dff55e65\n");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pk.pem");
    let o = rig_at_epoch(&[
        "keys",
        "display",
        "--key",
        "pk",
        "--format",
        "pem",
        "--out_file",
        out.to_str().unwrap(),
        &fixture("private.key"),
    ]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzz0GZDZKCAI66Ry3vKOcuAfdDoRRu5kpQV5GwNyh\nhztlXvXfM5MtURcVbINItMtJMs/Nyv1lBRUqsqhkjBmreA==\n-----END PUBLIC KEY-----\n"
    );
    let o = rig_at_epoch(&[
        "keys",
        "display",
        "--key",
        "sk",
        "--format",
        "code",
        &fixture("private.key"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("Displaying the private key as code is not available."));
}

#[rstest]
#[case(&["--application", "app.hex", "--application-version", "1", "--sd-req", "0x8C"], "--hw-version required.")]
#[case(&["--hw-version", "52", "--application", "app.hex", "--application-version", "1"], "--sd-req required.")]
#[case(&["--hw-version", "52", "--application", "app.hex", "--sd-req", "0x8C"], "--application-version or --application-version-string required with application image.")]
#[case(&["--hw-version", "52", "--application", "app.hex", "--application-version", "1", "--bootloader", "bl.hex", "--bootloader-version", "2", "--sd-req", "0x8C"], "Invalid combination: use two .zip packages instead.")]
#[case(&["--hw-version", "52", "--application", "app.hex", "--application-version", "1", "--softdevice", "sd.hex", "--sd-req", "0x8C"], "--sd-id required with softdevice and application images.")]
#[case(&["--hw-version", "52", "--application", "app.hex", "--application-version-string", "1.2", "--sd-req", "0x8C"], "Invalid value for application-version-string: Must be on the format x.y.z")]
#[case(&["--hw-version", "52", "--application", "app.hex", "--application-version", "1", "--sd-req", "0x8C", "--sd-req", "0x91"], "Please specify SoftDevice requirements as a comma-separated list")]
fn generate_refuses_as_nrfutil_does(#[case] args: &[&str], #[case] message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.zip");
    let o = Command::new(RIG)
        .current_dir(fixtures())
        .args(["pkg", "generate"])
        .args(args)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(message),
        "{o:?}"
    );
    assert!(!out.exists());
}

#[test]
fn corrupt_package_is_reported_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("cut.zip");
    let good = std::fs::read(fixtures().join("out.zip")).unwrap();
    std::fs::write(&zip, &good[..good.len() / 2]).unwrap();
    let o = rig_at_epoch(&["pkg", "display", zip.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cut.zip") && err.contains("not a readable zip archive"),
        "{err}"
    );
}
