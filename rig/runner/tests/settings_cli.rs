//! `rig settings generate|display` run as a program, against what nrfutil 6.1.7 wrote and printed
//! for the same command lines (rig/nrf-dfu/tests/fixtures/nrfutil/settings/README.md).

mod support;

use support::cli::rig;

use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../nrf-dfu/tests/fixtures/nrfutil")
}

fn fixture(name: &str) -> Vec<u8> {
    let dir = fixtures();
    let path = if dir.join(name).exists() {
        dir.join(name)
    } else {
        dir.join("settings").join(name)
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A scratch directory holding the inputs nrfutil was run with.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["app.hex", "sd.hex", "private.key", "settings/app.bin"] {
        let name = Path::new(f).file_name().unwrap();
        std::fs::write(dir.path().join(name), fixture(f)).unwrap();
    }
    dir
}

const BASE: &[&str] = &[
    "--family",
    "NRF52",
    "--application",
    "app.hex",
    "--application-version",
    "1",
    "--bootloader-version",
    "1",
];

/// (output file, options after `settings generate`), exactly as nrfutil was run.
fn cases() -> Vec<(&'static str, Vec<&'static str>)> {
    let with = |extra: &[&'static str]| BASE.iter().chain(extra).copied().collect::<Vec<_>>();
    vec![
        ("settings.hex", with(&["--bl-settings-version", "2"])),
        ("settings_v1.hex", with(&["--bl-settings-version", "1"])),
        (
            "settings_v2_nobackup.hex",
            with(&["--bl-settings-version", "2", "--no-backup"]),
        ),
        (
            "settings_v1_nobackup.hex",
            vec![
                "--family",
                "NRF52",
                "--application",
                "app.hex",
                "--application-version",
                "3",
                "--bootloader-version",
                "2",
                "--bl-settings-version",
                "1",
                "--no-backup",
            ],
        ),
        (
            "settings_qfab.hex",
            vec![
                "--family",
                "NRF52QFAB",
                "--application",
                "app.hex",
                "--application-version",
                "1",
                "--bootloader-version",
                "1",
                "--bl-settings-version",
                "2",
            ],
        ),
        (
            "settings_sd.hex",
            with(&["--bl-settings-version", "2", "--softdevice", "sd.hex"]),
        ),
        (
            "settings_v1_sd.hex",
            with(&["--bl-settings-version", "1", "--softdevice", "sd.hex"]),
        ),
        (
            "settings_sha256.hex",
            with(&[
                "--bl-settings-version",
                "2",
                "--softdevice",
                "sd.hex",
                "--app-boot-validation",
                "VALIDATE_GENERATED_SHA256",
                "--sd-boot-validation",
                "VALIDATE_GENERATED_SHA256",
            ]),
        ),
        (
            "settings_novalidation.hex",
            with(&[
                "--bl-settings-version",
                "2",
                "--softdevice",
                "sd.hex",
                "--app-boot-validation",
                "NO_VALIDATION",
                "--sd-boot-validation",
                "NO_VALIDATION",
            ]),
        ),
        (
            "settings_noapp.hex",
            vec![
                "--family",
                "NRF52",
                "--bootloader-version",
                "3",
                "--bl-settings-version",
                "2",
            ],
        ),
        (
            "settings_versionstring.hex",
            vec![
                "--family",
                "NRF52",
                "--application",
                "app.hex",
                "--application-version-string",
                "2.7.31",
                "--bootloader-version",
                "0x10",
                "--bl-settings-version",
                "2",
            ],
        ),
        (
            "settings_octal.hex",
            vec![
                "--family",
                "NRF52",
                "--application",
                "app.hex",
                "--application-version",
                "010",
                "--bootloader-version",
                "0xFFFFFFFF",
                "--bl-settings-version",
                "2",
            ],
        ),
        (
            "settings_start_address.hex",
            with(&["--bl-settings-version", "2", "--start-address", "0x7D000"]),
        ),
        (
            "settings_appbin.hex",
            vec![
                "--family",
                "NRF52",
                "--application",
                "app.bin",
                "--application-version",
                "1",
                "--bootloader-version",
                "1",
                "--bl-settings-version",
                "2",
            ],
        ),
    ]
}

#[test]
fn generate_writes_nrfutils_file_and_prints_its_output() {
    let dir = workdir();
    for (file, opts) in cases() {
        let mut args = vec!["settings", "generate"];
        args.extend(opts);
        args.push(file);
        let out = rig(dir.path(), &args);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = std::fs::read(dir.path().join(file)).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(fixture(file)).unwrap(),
            "{file}"
        );
        let printed = String::from_utf8(fixture(&file.replace(".hex", ".generate.txt"))).unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            printed,
            "{file}: stdout"
        );
    }
}

#[test]
fn generate_with_ecdsa_key() {
    let dir = workdir();
    let file = "settings_ecdsa.hex";
    let mut args = vec!["settings", "generate"];
    args.extend(BASE);
    args.extend([
        "--bl-settings-version",
        "2",
        "--softdevice",
        "sd.hex",
        "--app-boot-validation",
        "VALIDATE_ECDSA_P256_SHA256",
        "--sd-boot-validation",
        "VALIDATE_ECDSA_P256_SHA256",
        "--key-file",
        "private.key",
        file,
    ]);
    let out = rig(dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The signatures (random nonce in nrfutil) and so boot_validation_crc and the hex record
    // checksums differ; every other printed line is nrfutil's.
    let printed = String::from_utf8(fixture("settings_ecdsa.generate.txt")).unwrap();
    let ours = String::from_utf8(out.stdout).unwrap();
    let differs = |l: &&str| l.starts_with("* Boot Validation CRC:");
    assert_eq!(
        ours.lines().filter(|l| !differs(l)).collect::<Vec<_>>(),
        printed.lines().filter(|l| !differs(l)).collect::<Vec<_>>()
    );
    // The file displays as valid, with ECDSA entries for app and SoftDevice.
    let shown = rig(dir.path(), &["settings", "display", file, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(json["crcs"]["crc"]["status"], "valid");
    assert_eq!(json["crcs"]["boot_validation_crc"]["status"], "valid");
    assert_eq!(
        json["settings"]["boot_validation_app"]["type"],
        "VALIDATE_ECDSA_P256_SHA256"
    );
    assert_eq!(
        json["settings"]["boot_validation_softdevice"]["type"],
        "VALIDATE_ECDSA_P256_SHA256"
    );
    assert_eq!(json["settings"]["crc"], 0x0C70_1B15u32);
}

/// The nrfutil block of `display` shows what nrfutil's display shows, except where nrfutil is
/// wrong: it prints the file's lowest address as "Start Address" (the backup page) and a v1 page's
/// Softdevice Size as 0.
#[test]
fn display_block_matches_nrfutils_display() {
    let dir = workdir();
    let skip = |l: &str| l.starts_with("* Start Address:") || l.starts_with("* Softdevice Size:");
    for (file, display) in cases()
        .iter()
        .map(|(f, _)| *f)
        .filter(|f| *f != "settings_start_address.hex" && *f != "settings.hex")
        .map(|f| (f, f.replace(".hex", ".display.txt")))
        .chain([("settings.hex", "settings_fixture.display.txt".to_string())])
    {
        std::fs::write(dir.path().join(file), fixture(file)).unwrap();
        let out = rig(dir.path(), &["settings", "display", file]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = String::from_utf8(out.stdout).unwrap();
        let theirs = String::from_utf8(fixture(&display)).unwrap();
        let block = |t: &str| -> Vec<String> {
            t.lines()
                .skip_while(|l| !l.starts_with("Bootloader DFU Settings:"))
                .take(17)
                .filter(|l| !skip(l))
                .map(String::from)
                .collect()
        };
        assert_eq!(block(&ours), block(&theirs), "{file}");
        assert!(
            ours.contains("* Start Address:            0x0007F000") || file == "settings_qfab.hex"
        );
    }
}

#[test]
fn display_reports_backup_crcs_and_bootloaders() {
    let dir = workdir();
    std::fs::write(dir.path().join("settings.hex"), fixture("settings.hex")).unwrap();
    let out = rig(
        dir.path(),
        &["settings", "display", "settings.hex", "--json"],
    );
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["address"], 0x7F000);
    assert_eq!(json["layout"], "v2");
    assert_eq!(json["settings"]["bank_0"]["bank_code"], "VALID_APP");
    assert_eq!(json["settings"]["bank_0"]["image_crc"], 0x7BBF_56F5u32);
    assert_eq!(json["crcs"]["crc"]["stored"], 0xCC10_E690u32);
    assert_eq!(
        json["crcs"]["boot_validation_crc"]["stored"],
        0xFC66_FE7Du32
    );
    assert_eq!(json["backup"]["address"], 0x7E000);
    assert_eq!(json["backup"]["equal_to_main"], true);
    let sdks: Vec<&str> = json["bootloaders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["sdk"].as_str().unwrap())
        .collect();
    assert_eq!(sdks, vec!["12", "14", "15.0", "15.2", "15.3", "16", "17"]);
    assert_eq!(
        json["bootloaders"][6]["outcome"]["kind"],
        "main_merged_with_backup"
    );

    let text = String::from_utf8(rig(dir.path(), &["settings", "display", "settings.hex"]).stdout)
        .unwrap();
    assert!(text.contains("* crc:                        0xCC10E690 valid"));
    assert!(text.contains("* boot_validation_crc:        0xFC66FE7D valid"));
    assert!(text.contains("Backup page at 0x0007E000: identical to the main page"));
    assert!(text.contains("* SDK 17:   main page used, backup agrees"));
}

#[test]
fn display_of_a_corrupt_raw_page() {
    let dir = workdir();
    // The main page of settings.hex as a raw .bin, one bit flipped in app_version.
    let segs =
        nrf_dfu::image::parse_intel_hex(std::str::from_utf8(&fixture("settings.hex")).unwrap())
            .unwrap();
    let mut page = segs.read(0x7F000, 0x324);
    let backup = page.clone();
    page[0x08] ^= 0x02;
    std::fs::write(dir.path().join("main.bin"), &page).unwrap();
    std::fs::write(dir.path().join("backup.bin"), &backup).unwrap();
    let out = rig(
        dir.path(),
        &["settings", "display", "main.bin", "--backup", "backup.bin"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("* crc:                        0xCC10E690 INVALID (bytes give 0x"),
        "{text}"
    );
    assert!(
        text.contains("differs from the main page in app_version"),
        "{text}"
    );
    assert!(
        text.contains("* SDK 15.0: reset to defaults (no valid page)"),
        "{text}"
    );
    assert!(
        text.contains("* SDK 17:   restored from backup (main page CRC invalid)"),
        "{text}"
    );
}

#[test]
fn errors_name_the_problem() {
    let dir = workdir();
    let out = rig(
        dir.path(),
        &[
            "settings",
            "generate",
            "--family",
            "NRF52840",
            "--bootloader-version",
            "1",
            "--bl-settings-version",
            "2",
            "x.hex",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nRF52832"));
    let out = rig(
        dir.path(),
        &[
            "settings",
            "generate",
            "--family",
            "NRF52",
            "--application",
            "app.hex",
            "--bootloader-version",
            "1",
            "--bl-settings-version",
            "2",
            "x.hex",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--application-version"));
    let out = rig(
        dir.path(),
        &[
            "settings",
            "generate",
            "--family",
            "NRF52",
            "--no-backup",
            "--backup-address",
            "0x7C000",
            "--bootloader-version",
            "1",
            "--bl-settings-version",
            "2",
            "x.hex",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-backup"));
    assert!(!dir.path().join("x.hex").exists());
    std::fs::write(
        dir.path().join("short.hex"),
        ":0400000001000000FB\n:00000001FF\n",
    )
    .unwrap();
    let out = rig(dir.path(), &["settings", "display", "short.hex"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("short.hex"));
}
