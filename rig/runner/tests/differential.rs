//! The differential run's comparison (`rig::differential`), without Nordic's images: the model
//! against itself finds nothing, and a model built with an injected defect is caught where the
//! defect acts. With RIG_NRF5_IMAGES (a directory with the SDK 17 nrf52832 UART test images:
//! mbr.hex, bootloader_secure_uart_debug_without_bonds_mbr.hex) the whole run against the
//! genuine bootloader must find only the differences docs/ARCHITECTURE.md explains.

use rig::differential::{self, DiffConfig, KeyPatch, Reference};
use virtual_nrf52::{Defect, DefectSet};

fn config(
    reference: Reference,
    defects: DefectSet,
    scenarios: &[&str],
    points: usize,
) -> DiffConfig {
    let key = rig::builtin::keys::test_signing_key();
    let mut model = differential::model_descriptor(&key.public_key());
    model.defects = defects;
    DiffConfig {
        reference,
        key_patch: KeyPatch::AlreadyTrusted { address: 0 },
        model,
        key,
        app: differential::generated_app(5000),
        seed: 3,
        points,
        scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
    }
}

fn clean_model() -> Reference {
    let key = rig::builtin::keys::test_signing_key();
    Reference::Model(differential::model_descriptor(&key.public_key()))
}

#[test]
fn the_model_against_itself_differs_nowhere() {
    let c = config(
        clean_model(),
        DefectSet::empty(),
        &["update", "downgrade", "bad-signature", "reset", "power-cut"],
        1,
    );
    let r = differential::run(&c, &mut |_| {}).expect("runs");
    assert_eq!(r.scenarios.len(), 5);
    assert_eq!(r.errors, 0, "{}", r.text());
    assert_eq!(r.differences, 0, "{}", r.text());
    assert!(r.clean());
    let update = &r.scenarios[0];
    assert_eq!(update.outcome, "completed");
    assert!(update.requests >= 10 && update.states >= 2, "{}", r.text());
}

#[test]
fn a_model_that_accepts_downgrades_is_caught_at_the_init_command() {
    let c = config(
        clean_model(),
        Defect::AcceptDowngrade.flag(),
        &["downgrade"],
        0,
    );
    let r = differential::run(&c, &mut |_| {}).expect("runs");
    assert!(!r.clean());
    let first = &r.scenarios[0].differences[0];
    assert_eq!(first.scenario, "downgrade");
    assert_eq!(first.what, "response to EXECUTE command");
    // The reference refuses with EXT_ERROR FW_VERSION_FAILURE, the defective model accepts.
    assert_eq!(first.genuine, "60040b05");
    assert_eq!(first.model, "600401");
    assert!(first.explained.is_none());
    // The client stops at the reference's refusal; the init command the model accepted
    // persists in both of its settings copies.
    let whats: Vec<&str> = r.scenarios[0]
        .differences
        .iter()
        .map(|d| d.what.as_str())
        .collect();
    assert!(
        whats.contains(&"settings.progress.command_size"),
        "{whats:?}"
    );
    assert!(whats.contains(&"backup.progress.command_size"), "{whats:?}");
}

#[test]
fn a_model_without_the_settings_backup_is_caught_in_the_backup_page() {
    let c = config(
        clean_model(),
        Defect::NoSettingsBackup.flag(),
        &["update"],
        0,
    );
    let r = differential::run(&c, &mut |_| {}).expect("runs");
    let run = &r.scenarios[0];
    // The responses agree; the state comparison finds the backup copy (the MBR parameter
    // page) the defective model never writes, named field by field.
    assert!(
        run.differences
            .iter()
            .all(|d| !d.what.starts_with("response")),
        "{}",
        r.text()
    );
    let backup = run
        .differences
        .iter()
        .find(|d| d.what == "backup.settings_version")
        .unwrap_or_else(|| panic!("{}", r.text()));
    assert_eq!(backup.genuine, "0x2");
    assert!(r.text().contains("DIFFERS"));
}

#[test]
fn a_release_model_against_a_debug_build_differs_only_where_is_debug_is_set() {
    let key = rig::builtin::keys::test_signing_key();
    let mut debug = differential::model_descriptor(&key.public_key());
    debug.debug_version = true;
    let c = config(
        Reference::Model(debug),
        DefectSet::empty(),
        &["downgrade", "downgrade-debug"],
        0,
    );
    let r = differential::run(&c, &mut |_| {}).expect("runs");
    // Without is_debug both refuse the downgrade (FW_VERSION_FAILURE).
    assert!(r.scenarios[0].differences.is_empty(), "{}", r.text());
    assert!(r.scenarios[0].outcome.contains("60040b05"), "{}", r.text());
    // With it the debug build accepts (15.2-17.1 nrf_dfu_ver_validation_check), the release
    // build refuses.
    let first = &r.scenarios[1].differences[0];
    assert_eq!(first.what, "response to EXECUTE command");
    assert_eq!(
        (first.genuine.as_str(), first.model.as_str()),
        ("600401", "60040b05")
    );
    assert_eq!(r.scenarios[1].outcome, "completed");
}

#[test]
fn the_bootloader_is_made_to_trust_the_key_or_refused_with_the_file_named() {
    let key = rig::builtin::keys::test_signing_key();
    let other = nrf_dfu::signing::SigningKey::from_scalar_bytes(&[7; 32]).unwrap();
    let mut image = vec![0u8; 0x200];
    image[0x40..0x80].copy_from_slice(&other.public_key().to_pk64());
    let (patched, how) =
        differential::trusting("bl.hex", vec![(0x64000, image.clone())], &key.public_key())
            .expect("one key to replace");
    assert_eq!(how, KeyPatch::Replaced { address: 0x64040 });
    assert_eq!(patched[0].1[0x40..0x80], key.public_key().to_pk64());
    let (_, how) = differential::trusting("bl.hex", patched, &key.public_key()).unwrap();
    assert_eq!(how, KeyPatch::AlreadyTrusted { address: 0x64040 });
    let err = differential::trusting("bl.hex", vec![(0x64000, vec![0; 0x200])], &key.public_key())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bl.hex: no P-256 public key"), "{err}");
}

/// All scenarios against Nordic's genuine SDK 17.0.2 UART bootloader (debug build). In a debug
/// build one point per interruption kind; `--release` runs three. Command:
/// `RIG_NRF5_IMAGES=DIR cargo test --release -p rig --test differential -- --nocapture`.
#[test]
fn against_the_genuine_bootloader_every_difference_is_explained() {
    let Some(dir) = std::env::var_os("RIG_NRF5_IMAGES").map(std::path::PathBuf::from) else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set (a directory with the SDK's mbr.hex and bootloader_secure_uart_debug_without_bonds_mbr.hex)");
        return;
    };
    let read = |name: &str| {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        differential::hex_segments(name, &text).expect("Intel HEX")
    };
    let key = rig::builtin::keys::test_signing_key();
    let (bootloader, patch) = differential::trusting(
        "bootloader",
        read("bootloader_secure_uart_debug_without_bonds_mbr.hex"),
        &key.public_key(),
    )
    .expect("the SDK's test key to replace");
    let mut c = config(
        Reference::Genuine {
            mbr: read("mbr.hex"),
            bootloader,
        },
        DefectSet::empty(),
        &differential::SCENARIOS,
        if cfg!(debug_assertions) { 1 } else { 3 },
    );
    c.key_patch = patch;
    // Nordic's test image is the debug build (pca10040_uart_debug: NRF_DFU_DEBUG_VERSION).
    c.model.debug_version = true;
    let started = std::time::Instant::now();
    let r = differential::run(&c, &mut |l| eprintln!("  {l}")).expect("runs");
    eprintln!(
        "{}({:.1} s wall)",
        r.text(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(r.errors, 0, "every scenario ran to its end");
    assert_eq!(r.unexplained, 0, "every difference is explained");
    // Each documented explanation is still needed (a fixed model would make it stale).
    for e in differential::EXPLAINED {
        assert!(
            r.scenarios
                .iter()
                .flat_map(|s| &s.differences)
                .any(|d| d.explained.as_deref() == Some(e.why)),
            "explained difference not found any more: {}",
            e.why
        );
    }
}

#[test]
fn rig_diff_names_the_bad_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mbr = dir.path().join("mbr.hex");
    std::fs::write(
        &mbr,
        ":10000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00\n:00000001FF\n",
    )
    .unwrap();
    let bl = dir.path().join("bl.hex");
    std::fs::write(&bl, "this is not Intel HEX\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["diff", "--mbr"])
        .arg(&mbr)
        .arg("--bootloader")
        .arg(&bl)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bl.hex"), "{err}");
    // A HEX without a P-256 key is not a Secure DFU bootloader.
    std::fs::write(
        &bl,
        ":10000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00\n:00000001FF\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["diff", "--mbr"])
        .arg(&mbr)
        .arg("--bootloader")
        .arg(&bl)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bl.hex: no P-256 public key"), "{err}");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(["diff", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--scenario") && help.contains("power-cut") && help.contains("--debug-build"),
        "{help}"
    );
}
