//! Settings pages against the files nrfutil 6.1.7 wrote (tests/fixtures/nrfutil/settings/README.md).

use nrf_dfu::image::{load_firmware, parse_intel_hex, write_intel_hex, Segments};
use nrf_dfu::settings::{
    generate, locate_settings, settings_init, BackupPlacement, BankCode, BootValidationType,
    CrcStatus, Family, GenerateError, GenerateOptions, InitOutcome, NrfutilSummary, SettingsLayout,
    SettingsPage, SettingsReport,
};
use nrf_dfu::SdkVersion;
use rstest::rstest;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nrfutil");
    let path = if dir.join(name).exists() {
        dir.join(name)
    } else {
        dir.join("settings").join(name)
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex_fixture(name: &str) -> Segments {
    parse_intel_hex(std::str::from_utf8(&fixture(name)).unwrap()).unwrap()
}

fn main_page(name: &str) -> SettingsPage {
    let pages = locate_settings(&hex_fixture(name), None).unwrap();
    SettingsPage::decode_detect(&pages.main).unwrap()
}

#[derive(Debug, PartialEq)]
enum Field {
    U32(u32),
    Code(BankCode),
    Type(BootValidationType),
    Bytes(Vec<u8>),
}

fn value(p: &SettingsPage, field: &str) -> Field {
    let t = p.v2().unwrap();
    match field {
        "crc" => Field::U32(p.crc),
        "settings_version" => Field::U32(p.settings_version),
        "app_version" => Field::U32(p.app_version),
        "bootloader_version" => Field::U32(p.bootloader_version),
        "bank_layout" => Field::U32(p.bank_layout),
        "bank_current" => Field::U32(p.bank_current),
        "bank_0.image_size" => Field::U32(p.bank_0.image_size),
        "bank_0.image_crc" => Field::U32(p.bank_0.image_crc),
        "bank_0.bank_code" => Field::Code(p.bank_0.bank_code),
        "bank_1.image_size" => Field::U32(p.bank_1.image_size),
        "bank_1.image_crc" => Field::U32(p.bank_1.image_crc),
        "bank_1.bank_code" => Field::Code(p.bank_1.bank_code),
        "write_offset" => Field::U32(p.write_offset),
        "sd_size" => Field::U32(p.sd_size),
        "enter_buttonless_dfu" => Field::U32(p.enter_buttonless_dfu),
        "boot_validation_crc" => Field::U32(t.boot_validation_crc),
        "boot_validation_softdevice.type" => Field::Type(t.boot_validation_softdevice.kind),
        "boot_validation_app.type" => Field::Type(t.boot_validation_app.kind),
        "boot_validation_app.bytes[0..4]" => {
            Field::Bytes(t.boot_validation_app.bytes[..4].to_vec())
        }
        "boot_validation_bootloader.type" => Field::Type(t.boot_validation_bootloader.kind),
        other => panic!("no field {other}"),
    }
}

/// The fixture README's values for settings.hex, one by one.
#[rstest]
#[case("crc", Field::U32(0xCC10_E690))]
#[case("settings_version", Field::U32(2))]
#[case("app_version", Field::U32(1))]
#[case("bootloader_version", Field::U32(1))]
#[case("bank_layout", Field::U32(0))]
#[case("bank_current", Field::U32(0))]
#[case("bank_0.image_size", Field::U32(0x1388))]
#[case("bank_0.image_crc", Field::U32(0x7BBF_56F5))]
#[case("bank_0.bank_code", Field::Code(BankCode::ValidApp))]
#[case("bank_1.image_size", Field::U32(0))]
#[case("bank_1.image_crc", Field::U32(0))]
#[case("bank_1.bank_code", Field::Code(BankCode::Invalid))]
#[case("write_offset", Field::U32(0))]
#[case("sd_size", Field::U32(0))]
#[case("enter_buttonless_dfu", Field::U32(0))]
#[case("boot_validation_crc", Field::U32(0xFC66_FE7D))]
#[case(
    "boot_validation_softdevice.type",
    Field::Type(BootValidationType::NoValidation)
)]
#[case(
    "boot_validation_app.type",
    Field::Type(BootValidationType::ValidateCrc)
)]
#[case("boot_validation_app.bytes[0..4]", Field::Bytes(vec![0xF5, 0x56, 0xBF, 0x7B]))]
#[case(
    "boot_validation_bootloader.type",
    Field::Type(BootValidationType::NoValidation)
)]
fn settings_hex_decodes_value_by_value(#[case] field: &str, #[case] expected: Field) {
    let page = main_page("settings.hex");
    assert_eq!(value(&page, field), expected, "{field}");
}

#[test]
fn settings_hex_layout_crcs_and_backup() {
    let segs = hex_fixture("settings.hex");
    let pages = locate_settings(&segs, None).unwrap();
    assert_eq!(pages.address, 0x7F000);
    assert_eq!(pages.family, Some(Family::Nrf52));
    assert_eq!(pages.backup_address, 0x7E000);
    // 0x324 bytes at each page: 0x323 of struct + one 0xFF fill.
    assert_eq!(
        segs.runs().map(|(a, r)| (a, r.len())).collect::<Vec<_>>(),
        vec![(0x7E000, 0x324), (0x7F000, 0x324)]
    );
    let page = SettingsPage::decode_detect(&pages.main).unwrap();
    assert_eq!(page.layout(), SettingsLayout::V2);
    assert_eq!(page.validate(), Ok(()));
    let crcs = page.check_crcs();
    assert_eq!(crcs.crc.status, CrcStatus::Valid);
    assert_eq!(crcs.boot_validation_crc.unwrap().status, CrcStatus::Valid);
    assert_eq!(crcs.peer_data.unwrap().status, CrcStatus::Erased);
    assert_eq!(page.v2().unwrap().padding, 0xFF);
    assert!(page.init_command().iter().all(|&b| b == 0));
    let backup = pages.backup.as_ref().expect("backup page present");
    assert_eq!(backup, &pages.main, "backup page equal to the main page");
}

/// What each SDK's bootloader makes of settings.hex as flashed (main + backup).
#[rstest]
#[case(SdkVersion::Sdk12, InitOutcome::MainUsed, 2)]
#[case(SdkVersion::Sdk14, InitOutcome::MainUsed, 2)]
#[case(SdkVersion::Sdk15_0, InitOutcome::MainUsed, 2)]
#[case(SdkVersion::Sdk15_2, InitOutcome::MainUsed, 2)]
#[case(SdkVersion::Sdk15_3, InitOutcome::MainMergedWithBackup { restored_fields: vec![] }, 2)]
#[case(SdkVersion::Sdk17, InitOutcome::MainMergedWithBackup { restored_fields: vec![] }, 2)]
fn bootloaders_accept_settings_hex(
    #[case] sdk: SdkVersion,
    #[case] outcome: InitOutcome,
    #[case] version: u32,
) {
    let pages = locate_settings(&hex_fixture("settings.hex"), None).unwrap();
    let r = settings_init(sdk, &pages.main, pages.backup.as_deref().unwrap()).unwrap();
    assert_eq!(r.outcome, outcome);
    assert_eq!(r.settings.settings_version, version);
    assert_eq!(r.settings.bank_0.bank_code, BankCode::ValidApp);
    assert_eq!(r.settings.app_version, 1);
    if sdk >= SdkVersion::Sdk15_3 {
        // The bootloader writes 896 bytes: the erased peer data / adv name stay as they are.
        assert_eq!(r.main_page_write, None);
        assert_eq!(r.backup_page_write, None);
    }
}

struct Case {
    file: &'static str,
    family: Family,
    application: Option<&'static str>,
    application_version: Option<u32>,
    bootloader_version: u32,
    bl_settings_version: u32,
    softdevice: bool,
    backup: BackupPlacement,
    start_address: Option<u32>,
    app_bv: Option<BootValidationType>,
    sd_bv: Option<BootValidationType>,
}

const BASE: Case = Case {
    file: "",
    family: Family::Nrf52,
    application: Some("app.hex"),
    application_version: Some(1),
    bootloader_version: 1,
    bl_settings_version: 2,
    softdevice: false,
    backup: BackupPlacement::BelowSettings,
    start_address: None,
    app_bv: None,
    sd_bv: None,
};

fn cases() -> Vec<Case> {
    use BootValidationType::*;
    vec![
        Case {
            file: "settings.hex",
            ..BASE
        },
        Case {
            file: "settings_v1.hex",
            bl_settings_version: 1,
            ..BASE
        },
        Case {
            file: "settings_v2_nobackup.hex",
            backup: BackupPlacement::None,
            ..BASE
        },
        Case {
            file: "settings_v1_nobackup.hex",
            application_version: Some(3),
            bootloader_version: 2,
            bl_settings_version: 1,
            backup: BackupPlacement::None,
            ..BASE
        },
        Case {
            file: "settings_qfab.hex",
            family: Family::Nrf52Qfab,
            ..BASE
        },
        Case {
            file: "settings_sd.hex",
            softdevice: true,
            ..BASE
        },
        Case {
            file: "settings_v1_sd.hex",
            softdevice: true,
            bl_settings_version: 1,
            ..BASE
        },
        Case {
            file: "settings_sha256.hex",
            softdevice: true,
            app_bv: Some(ValidateSha256),
            sd_bv: Some(ValidateSha256),
            ..BASE
        },
        Case {
            file: "settings_novalidation.hex",
            softdevice: true,
            app_bv: Some(NoValidation),
            sd_bv: Some(NoValidation),
            ..BASE
        },
        Case {
            file: "settings_noapp.hex",
            application: None,
            application_version: None,
            bootloader_version: 3,
            ..BASE
        },
        Case {
            file: "settings_versionstring.hex",
            application_version: Some(20731),
            bootloader_version: 0x10,
            ..BASE
        },
        Case {
            file: "settings_octal.hex",
            application_version: Some(8),
            bootloader_version: 0xFFFF_FFFF,
            ..BASE
        },
        Case {
            file: "settings_start_address.hex",
            start_address: Some(0x7D000),
            ..BASE
        },
        Case {
            file: "settings_appbin.hex",
            application: Some("app.bin"),
            ..BASE
        },
    ]
}

fn firmware(name: &str) -> Vec<u8> {
    load_firmware(name, &fixture(name), 0).unwrap().bin
}

/// Every nrfutil output is reproduced byte for byte.
#[test]
fn generate_matches_nrfutil_byte_for_byte() {
    let sd = firmware("sd.hex");
    assert_eq!(sd.len(), 131072);
    for case in cases() {
        let app = case.application.map(firmware);
        let opts = GenerateOptions {
            family: case.family,
            application: app.as_deref(),
            application_version: case.application_version,
            bootloader_version: case.bootloader_version,
            bl_settings_version: case.bl_settings_version,
            start_address: case.start_address,
            backup: case.backup,
            app_boot_validation: case.app_bv,
            sd_boot_validation: case.sd_bv,
            softdevice: case.softdevice.then_some(sd.as_slice()),
        };
        let generated = generate(&opts, None).unwrap();
        let segs =
            Segments::from_runs(generated.segments().iter().map(|(a, b)| (*a, b.as_slice())))
                .unwrap();
        let ours = write_intel_hex(&segs);
        let theirs = String::from_utf8(fixture(case.file)).unwrap();
        assert_eq!(ours, theirs, "{}", case.file);
        // And the summary nrfutil printed after generating.
        let printed =
            String::from_utf8(fixture(&case.file.replace(".hex", ".generate.txt"))).unwrap();
        {
            let block = NrfutilSummary {
                file: case.file,
                family: case.family.arch_str(),
                address: generated.address,
                page: &generated.page,
            }
            .to_string();
            assert!(
                printed.contains(&block),
                "{}: summary\n{block}\nnot in\n{printed}",
                case.file
            );
        }
    }
}

#[test]
fn generated_v1_page_reads_as_erased_after_0x5c() {
    let app = firmware("app.hex");
    let opts = GenerateOptions {
        bl_settings_version: 1,
        ..options(&app)
    };
    let g = generate(&opts, None).unwrap();
    assert_eq!(g.image().len(), 0x5C);
    assert_eq!(g.page.layout(), SettingsLayout::V1);
    assert!(g.page.init_command().iter().all(|&b| b == 0xFF));
    assert_eq!(g.page.validate(), Ok(()));
}

fn options(app: &[u8]) -> GenerateOptions<'_> {
    GenerateOptions {
        family: Family::Nrf52,
        application: Some(app),
        application_version: Some(1),
        bootloader_version: 1,
        bl_settings_version: 2,
        start_address: None,
        backup: BackupPlacement::BelowSettings,
        app_boot_validation: None,
        sd_boot_validation: None,
        softdevice: None,
    }
}

#[test]
fn generate_refuses_what_nrfutil_refuses() {
    let app = firmware("app.hex");
    let o = options(&app);
    let err = |opts: GenerateOptions<'_>| generate(&opts, None).unwrap_err();
    assert_eq!(
        err(GenerateOptions {
            bl_settings_version: 3,
            ..o
        }),
        GenerateError::UnknownSettingsVersion(3)
    );
    assert_eq!(
        err(GenerateOptions {
            application_version: None,
            ..o
        }),
        GenerateError::ApplicationVersionRequired
    );
    assert_eq!(
        err(GenerateOptions {
            bl_settings_version: 1,
            app_boot_validation: Some(BootValidationType::ValidateCrc),
            ..o
        }),
        GenerateError::BootValidationNeedsV2
    );
    assert_eq!(
        err(GenerateOptions {
            app_boot_validation: Some(BootValidationType::ValidateEcdsaP256Sha256),
            ..o
        }),
        GenerateError::SigningKeyRequired
    );
    assert_eq!(
        err(GenerateOptions {
            application: None,
            app_boot_validation: Some(BootValidationType::NoValidation),
            ..o
        }),
        GenerateError::AppBootValidationWithoutApplication
    );
    assert_eq!(
        err(GenerateOptions {
            sd_boot_validation: Some(BootValidationType::ValidateCrc),
            ..o
        }),
        GenerateError::SdBootValidationWithoutSoftDevice
    );
    assert!("NRF52840"
        .parse::<Family>()
        .unwrap_err()
        .to_string()
        .contains("nRF52832"));
    assert!("nrf52qfab".parse::<Family>().is_ok());
}

#[test]
fn backup_address_is_honoured() {
    // nrfutil 6.1.7 rejects --backup-address outright; the rig places the copy there.
    let app = firmware("app.hex");
    let g = generate(
        &GenerateOptions {
            backup: BackupPlacement::At(0x7C000),
            ..options(&app)
        },
        None,
    )
    .unwrap();
    let addrs: Vec<u32> = g.segments().iter().map(|(a, _)| *a).collect();
    assert_eq!(addrs, vec![0x7C000, 0x7F000]);
}

#[test]
fn report_on_each_fixture() {
    for case in cases() {
        let segs = hex_fixture(case.file);
        let pages = locate_settings(&segs, None).unwrap();
        assert_eq!(
            pages.address,
            case.start_address.unwrap_or(case.family.settings_address()),
            "{}",
            case.file
        );
        let report = SettingsReport::new(&pages, None).unwrap();
        assert_eq!(report.settings.validate(), Ok(()), "{}", case.file);
        let has_backup = case.backup != BackupPlacement::None;
        assert_eq!(
            report.backup.as_ref().map(|b| b.equal_to_main),
            has_backup.then_some(true),
            "{}",
            case.file
        );
        // Every bootloader keeps a page nrfutil generated (no reset to defaults).
        for c in &report.bootloaders {
            assert_ne!(
                c.outcome,
                InitOutcome::ResetToDefaults,
                "{} {}",
                case.file,
                c.sdk
            );
            assert_eq!(
                c.upgraded_from_v1,
                c.sdk >= SdkVersion::Sdk15_3 && case.bl_settings_version == 1
            );
        }
        let text = report.to_text(case.file);
        assert!(text.contains("Bootloader DFU Settings:"));
        assert!(text.contains("At boot"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["settings"]["settings_version"],
            case.bl_settings_version
        );
    }
}

/// ECDSA signatures use a random nonce in nrfutil (python-ecdsa) and RFC 6979 here, so the
/// signature bytes differ: both are verified, then nrfutil's are put into our page and the whole
/// file must match byte for byte.
#[test]
fn ecdsa_boot_validation_matches_nrfutil_but_for_the_nonce() {
    use nrf_dfu::signing::SigningKey;
    let key = SigningKey::from_pem(std::str::from_utf8(&fixture("private.key")).unwrap()).unwrap();
    let public = key.public_key();
    let (app, sd) = (firmware("app.hex"), firmware("sd.hex"));
    let theirs_text = String::from_utf8(fixture("settings_ecdsa.hex")).unwrap();
    let theirs = SettingsPage::decode_detect(
        &locate_settings(&parse_intel_hex(&theirs_text).unwrap(), None)
            .unwrap()
            .main,
    )
    .unwrap();
    let t = theirs.v2().unwrap();
    assert_eq!(
        t.boot_validation_app.kind,
        BootValidationType::ValidateEcdsaP256Sha256
    );
    public
        .verify_nordic(&app, &t.boot_validation_app.bytes)
        .expect("nrfutil's app signature verifies");
    public
        .verify_nordic(&sd, &t.boot_validation_softdevice.bytes)
        .expect("nrfutil's SD signature verifies");

    let ecdsa = Some(BootValidationType::ValidateEcdsaP256Sha256);
    let opts = GenerateOptions {
        softdevice: Some(&sd),
        app_boot_validation: ecdsa,
        sd_boot_validation: ecdsa,
        ..options(&app)
    };
    let sign = |data: &[u8]| key.sign_nordic(data);
    let mut ours = generate(&opts, Some(&sign)).unwrap();
    let o = ours.page.v2().unwrap();
    public
        .verify_nordic(&app, &o.boot_validation_app.bytes)
        .expect("our app signature verifies");
    public
        .verify_nordic(&sd, &o.boot_validation_softdevice.bytes)
        .expect("our SD signature verifies");
    assert_eq!(
        ours.page.crc, theirs.crc,
        "crc does not cover boot validation"
    );

    let v2 = ours.page.v2_mut().unwrap();
    v2.boot_validation_app = t.boot_validation_app;
    v2.boot_validation_softdevice = t.boot_validation_softdevice;
    ours.page.fix_settings_crcs();
    let segs =
        Segments::from_runs(ours.segments().iter().map(|(a, b)| (*a, b.as_slice()))).unwrap();
    assert_eq!(write_intel_hex(&segs), theirs_text);
}
