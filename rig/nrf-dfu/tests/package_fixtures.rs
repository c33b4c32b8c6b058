//! Packages made by nrfutil 6.1.7 (tests/fixtures/nrfutil, documented in SOURCE.md): read value
//! by value, verified, displayed as nrfutil displays them, and regenerated.

use nrf_dfu::init_packet::{FwType, HashType, ValidationType};
use nrf_dfu::package::{
    generate_package, CivilTime, GenerateOptions, ImageInput, ImageKind, Package, PackageError,
};
use nrf_dfu::signing::SigningKey;
use rstest::rstest;
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/nrfutil/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn key() -> SigningKey {
    SigningKey::from_pem(&String::from_utf8(fixture("private.key")).unwrap()).unwrap()
}

/// The fixtures' zip timestamp: 2026-11-24 10:08:48.
const FIXTURE_TIME: CivilTime = CivilTime {
    year: 2026,
    month: 11,
    day: 24,
    hour: 10,
    minute: 8,
    second: 48,
};

struct Want {
    kind: ImageKind,
    bin: &'static str,
    dat: &'static str,
    dat_len: usize,
    bin_len: usize,
    fw_version: u32,
    fw_type: FwType,
    sd_size: u32,
    bl_size: u32,
    app_size: u32,
    is_debug: bool,
    boot_validation: &'static [(ValidationType, usize)],
    signed: bool,
}

const CRC: (ValidationType, usize) = (ValidationType::ValidateGeneratedCrc, 0);

#[rstest]
#[case("out.zip", Want { kind: ImageKind::Application, bin: "app.bin", dat: "app.dat", dat_len: 140, bin_len: 5000, fw_version: 1, fw_type: FwType::Application, sd_size: 0, bl_size: 0, app_size: 5000, is_debug: false, boot_validation: &[CRC], signed: true })]
#[case("unsigned.zip", Want { kind: ImageKind::Application, bin: "app.bin", dat: "app.dat", dat_len: 69, bin_len: 5000, fw_version: 1, fw_type: FwType::Application, sd_size: 0, bl_size: 0, app_size: 5000, is_debug: false, boot_validation: &[CRC], signed: false })]
#[case("debug.zip", Want { kind: ImageKind::Application, bin: "app.bin", dat: "app.dat", dat_len: 140, bin_len: 5000, fw_version: 1, fw_type: FwType::Application, sd_size: 0, bl_size: 0, app_size: 5000, is_debug: true, boot_validation: &[CRC], signed: true })]
#[case("app_ecdsa_bv.zip", Want { kind: ImageKind::Application, bin: "app.bin", dat: "app.dat", dat_len: 205, bin_len: 5000, fw_version: 1, fw_type: FwType::Application, sd_size: 0, bl_size: 0, app_size: 5000, is_debug: false, boot_validation: &[(ValidationType::ValidateEcdsaP256Sha256, 64)], signed: true })]
#[case("bl.zip", Want { kind: ImageKind::Bootloader, bin: "bl.bin", dat: "bl.dat", dat_len: 141, bin_len: 20480, fw_version: 2, fw_type: FwType::Bootloader, sd_size: 0, bl_size: 20480, app_size: 0, is_debug: false, boot_validation: &[CRC], signed: true })]
#[case("sd.zip", Want { kind: ImageKind::Softdevice, bin: "sd.bin", dat: "sd.dat", dat_len: 145, bin_len: 131072, fw_version: 0xFFFF_FFFF, fw_type: FwType::Softdevice, sd_size: 131072, bl_size: 0, app_size: 0, is_debug: false, boot_validation: &[CRC], signed: true })]
#[case("sdbl.zip", Want { kind: ImageKind::SoftdeviceBootloader, bin: "sd_bl.bin", dat: "sd_bl.dat", dat_len: 149, bin_len: 151552, fw_version: 2, fw_type: FwType::SoftdeviceBootloader, sd_size: 131072, bl_size: 20480, app_size: 0, is_debug: false, boot_validation: &[CRC, CRC], signed: true })]
fn fixture_packages_decode_value_by_value(#[case] zip: &str, #[case] want: Want) {
    let pkg = Package::from_zip(&fixture(zip)).unwrap();
    assert_eq!(pkg.images().len(), 1);
    let img = &pkg.images()[0];
    assert_eq!(img.kind, want.kind);
    assert_eq!(img.bin_file, want.bin);
    assert_eq!(img.dat_file, want.dat);
    assert_eq!(img.init_packet.as_bytes().len(), want.dat_len);
    assert_eq!(img.firmware.len(), want.bin_len);
    assert_eq!(img.init_packet.is_signed(), want.signed);
    let init = img.init_packet.init_command();
    assert_eq!(init.fw_version, Some(want.fw_version));
    assert_eq!(init.hw_version, Some(52));
    assert_eq!(init.sd_req, vec![0x8C]);
    assert_eq!(init.r#type, Some(want.fw_type as i32));
    assert_eq!(init.sd_size, Some(want.sd_size));
    assert_eq!(init.bl_size, Some(want.bl_size));
    assert_eq!(init.app_size, Some(want.app_size));
    assert_eq!(init.is_debug, Some(want.is_debug));
    let hash = init.hash.as_ref().unwrap();
    assert_eq!(hash.hash_type, Some(HashType::Sha256 as i32));
    let mut digest = Sha256::digest(&img.firmware).to_vec();
    digest.reverse();
    assert_eq!(hash.hash.as_deref(), Some(&digest[..]));
    let bv: Vec<(i32, usize)> = init
        .boot_validation
        .iter()
        .map(|b| (b.r#type.unwrap(), b.bytes.as_ref().unwrap().len()))
        .collect();
    let want_bv: Vec<(i32, usize)> = want
        .boot_validation
        .iter()
        .map(|(t, n)| (*t as i32, *n))
        .collect();
    assert_eq!(bv, want_bv);
    if want.kind == ImageKind::SoftdeviceBootloader {
        let m = img.sd_bl_sizes.unwrap();
        assert_eq!((m.sd_size, m.bl_size), (131072, 20480));
    }
    // Every fixture verifies with the fixture key (unsigned.zip only without one).
    let pk = key().public_key();
    let report = pkg.verify(if want.signed { Some(&pk) } else { None });
    assert!(
        report.passed(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
}

#[test]
fn bins_are_nrfutils_conversion_of_the_hex_inputs() {
    use nrf_dfu::image::load_firmware;
    let app = load_firmware("app.hex", &fixture("app.hex"), 0).unwrap();
    let bl = load_firmware("bl.hex", &fixture("bl.hex"), 0).unwrap();
    let sd = load_firmware("sd.hex", &fixture("sd.hex"), 0).unwrap();
    let get = |zip: &str| {
        Package::from_zip(&fixture(zip)).unwrap().images()[0]
            .firmware
            .clone()
    };
    assert_eq!(get("out.zip"), app.bin);
    assert_eq!(get("bl.zip"), bl.bin);
    assert_eq!(get("sd.zip"), sd.bin);
    let mut sdbl = sd.bin.clone();
    sdbl.extend_from_slice(&bl.bin);
    assert_eq!(get("sdbl.zip"), sdbl);
}

#[rstest]
#[case("out.zip")]
#[case("unsigned.zip")]
#[case("debug.zip")]
#[case("app_ecdsa_bv.zip")]
#[case("bl.zip")]
#[case("sd.zip")]
#[case("sdbl.zip")]
fn display_text_is_nrfutils(#[case] zip: &str) {
    let pkg = Package::from_zip(&fixture(zip)).unwrap();
    let want = String::from_utf8(fixture(&format!(
        "display/{}.txt",
        zip.trim_end_matches(".zip")
    )))
    .unwrap();
    // click.echo adds a newline.
    assert_eq!(format!("{}\n", pkg.nrfutil_display(zip)), want);
}

fn input(name: &str) -> ImageInput {
    ImageInput::file(name.to_string(), fixture(name))
}

fn app_options() -> GenerateOptions {
    GenerateOptions {
        hw_version: Some(52),
        application: Some(input("app.hex")),
        application_version: Some(1),
        sd_req: Some(vec![0x8C]),
        ..Default::default()
    }
}

#[test]
fn unsigned_package_is_byte_identical_to_nrfutils() {
    let generated = generate_package(app_options()).unwrap();
    let zip = generated.package.to_zip(FIXTURE_TIME).unwrap();
    assert_eq!(zip, fixture("unsigned.zip"));
    // Reading nrfutil's and writing it back gives the same bytes too.
    assert_eq!(
        Package::from_zip(&fixture("unsigned.zip"))
            .unwrap()
            .to_zip(FIXTURE_TIME)
            .unwrap(),
        fixture("unsigned.zip")
    );
}

/// Signed packages differ from nrfutil's only in the signature bytes (nrfutil's nonce is
/// random): same files, same init command bytes, same binaries.
#[rstest]
#[case("out.zip", GenerateOptions { key: Some(key()), ..app_options() })]
#[case("debug.zip", GenerateOptions { key: Some(key()), debug_mode: true, ..app_options() })]
#[case("bl.zip", GenerateOptions { hw_version: Some(52), bootloader: Some(input("bl.hex")), bootloader_version: Some(2), sd_req: Some(vec![0x8C]), key: Some(key()), ..Default::default() })]
#[case("sd.zip", GenerateOptions { hw_version: Some(52), softdevice: Some(input("sd.hex")), sd_req: Some(vec![0x8C]), key: Some(key()), ..Default::default() })]
#[case("sdbl.zip", GenerateOptions { hw_version: Some(52), softdevice: Some(input("sd.hex")), bootloader: Some(input("bl.hex")), bootloader_version: Some(2), sd_req: Some(vec![0x8C]), key: Some(key()), ..Default::default() })]
fn signed_packages_match_nrfutils_but_for_the_signature(
    #[case] zip: &str,
    #[case] opts: GenerateOptions,
) {
    let ours = generate_package(opts).unwrap().package;
    let theirs = Package::from_zip(&fixture(zip)).unwrap();
    assert_eq!(ours.manifest(), theirs.manifest());
    assert_eq!(ours.images().len(), theirs.images().len());
    for (a, b) in ours.images().iter().zip(theirs.images()) {
        assert_eq!(
            a.init_packet.init_command_bytes(),
            b.init_packet.init_command_bytes()
        );
        assert_eq!(
            a.init_packet.as_bytes().len(),
            b.init_packet.as_bytes().len()
        );
        assert_eq!(a.firmware, b.firmware);
    }
    assert!(ours.verify(Some(&key().public_key())).passed());
    // Our zip reads back to the same package.
    assert_eq!(
        Package::from_zip(&ours.to_zip(FIXTURE_TIME).unwrap()).unwrap(),
        ours
    );
}

#[test]
fn ecdsa_boot_validation_signs_the_binary() {
    let ours = generate_package(GenerateOptions {
        key: Some(key()),
        app_boot_validation: Some(ValidationType::ValidateEcdsaP256Sha256),
        ..app_options()
    })
    .unwrap()
    .package;
    let img = &ours.images()[0];
    assert_eq!(img.init_packet.as_bytes().len(), 205);
    let bv = &img.init_packet.init_command().boot_validation[0];
    key()
        .public_key()
        .verify_nordic(&img.firmware, bv.bytes.as_ref().unwrap())
        .unwrap();
    assert!(ours.verify(Some(&key().public_key())).passed());
    // nrfutil's: same check passes on its signature.
    let theirs = Package::from_zip(&fixture("app_ecdsa_bv.zip")).unwrap();
    let bv = &theirs.images()[0]
        .init_packet
        .init_command()
        .boot_validation[0];
    key()
        .public_key()
        .verify_nordic(&theirs.images()[0].firmware, bv.bytes.as_ref().unwrap())
        .unwrap();
}

#[test]
fn verify_catches_tampering() {
    let pkg = Package::from_zip(&fixture("out.zip")).unwrap();
    let mut images = pkg.images().to_vec();
    images[0].firmware[100] ^= 0xFF;
    let tampered = Package::new(images).unwrap();
    let report = tampered.verify(Some(&key().public_key()));
    let failed: Vec<&str> = report.failures().map(|c| c.what).collect();
    assert_eq!(failed, vec!["hash"]);
    let other = SigningKey::generate().unwrap();
    let failed: Vec<&str> = pkg
        .verify(Some(&other.public_key()))
        .failures()
        .map(|c| c.what)
        .collect();
    assert_eq!(failed, vec!["signature"]);
    let unsigned = Package::from_zip(&fixture("unsigned.zip")).unwrap();
    let failed: Vec<&str> = unsigned
        .verify(Some(&key().public_key()))
        .failures()
        .map(|c| c.what)
        .collect();
    assert_eq!(failed, vec!["signature"]);
}

#[test]
fn corrupt_packages_give_precise_errors() {
    let good = fixture("unsigned.zip");
    // Truncated: the end-of-central-directory record is gone.
    assert!(matches!(
        Package::from_zip(&good[..good.len() - 30]),
        Err(PackageError::Zip(_))
    ));
    assert!(matches!(
        Package::from_zip(b"not a zip"),
        Err(PackageError::Zip(_))
    ));
    // A flipped byte inside app.bin's data: CRC mismatch on that entry.
    let mut bad = good.clone();
    let at = bad.len() - 400;
    bad[at] ^= 0xFF;
    match Package::from_zip(&bad) {
        Err(PackageError::Entry { name, .. }) => assert_eq!(name, "app.bin"),
        other => panic!("{other:?}"),
    }
    let write = |entries: &[(&str, &[u8])]| {
        nrf_dfu::package::write_stored_zip(entries, FIXTURE_TIME).unwrap()
    };
    let dat = Package::from_zip(&good).unwrap().images()[0]
        .init_packet
        .encode();
    assert_eq!(
        Package::from_zip(&write(&[("app.bin", b"1234")])),
        Err(PackageError::MissingManifest)
    );
    assert!(matches!(
        Package::from_zip(&write(&[("manifest.json", b"{\"manifest\": {\"application\": ")])),
        Err(PackageError::ManifestJson(m)) if m.contains("line 1")
    ));
    let manifest =
        br#"{"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat"}}}"#;
    assert_eq!(
        Package::from_zip(&write(&[("manifest.json", manifest), ("app.dat", &dat)])),
        Err(PackageError::MissingFile {
            key: "application",
            field: "bin_file",
            file: "app.bin".into()
        })
    );
    match Package::from_zip(&write(&[
        ("manifest.json", manifest),
        ("app.dat", b"\xff\xff\xff"),
        ("app.bin", b"1234"),
    ])) {
        Err(PackageError::InitPacket { file, .. }) => assert_eq!(file, "app.dat"),
        other => panic!("{other:?}"),
    }
    let android =
        br#"{"manifest": {"softdevice_application": {"bin_file": "x.bin", "dat_file": "x.dat"}}}"#;
    let e = Package::from_zip(&write(&[("manifest.json", android)])).unwrap_err();
    assert_eq!(e.to_string(), "manifest.json lists none of application, bootloader, softdevice, softdevice_bootloader (only softdevice_application)");
}

#[test]
fn android_extra_keys_are_tolerated() {
    let dat = Package::from_zip(&fixture("unsigned.zip"))
        .unwrap()
        .images()[0]
        .init_packet
        .encode();
    let manifest = br#"{"manifest": {"application": {"bin_file": "app.bin", "dat_file": "app.dat"},
        "softdevice_bootloader_application": {"bin_file": "x.bin", "dat_file": "x.dat"}}, "dfu_version": 0.5}"#;
    let zip = nrf_dfu::package::write_stored_zip(
        &[
            ("manifest.json", manifest),
            ("app.dat", &dat),
            ("app.bin", &[0u8; 5000]),
        ],
        FIXTURE_TIME,
    )
    .unwrap();
    let pkg = Package::from_zip(&zip).unwrap();
    assert_eq!(pkg.images().len(), 1);
    assert_eq!(
        pkg.ignored_manifest_keys,
        vec!["softdevice_bootloader_application".to_string()]
    );
}
