//! `pkg generate` rules, each expectation taken from what nrfutil 6.1.7 wrote for the same
//! options (`nrfutil pkg display` of its output).

use nrf_dfu::init_packet::{FwType, ValidationType};
use nrf_dfu::package::{
    generate_package, GenerateError, GenerateOptions, ImageInput, ImageKind, Warning,
};
use rstest::rstest;

fn input(name: &str) -> Option<ImageInput> {
    let path = format!(
        "{}/tests/fixtures/nrfutil/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    Some(ImageInput::file(name, std::fs::read(path).unwrap()))
}

/// (kind, fw_version, hw_version, sd_req, type, is_debug) per image, in sending order.
type Row = (ImageKind, u32, u32, Vec<u32>, FwType, bool);

#[rstest]
// sd_req is de-duplicated in CPython set order: nrfutil writes 0x91 before 0x8C.
#[case(GenerateOptions { hw_version: Some(52), application: input("app.hex"), application_version: Some(3), sd_req: Some(vec![0x8C, 0x91, 0xFFFE, 0x101]), ..Default::default() },
       vec![(ImageKind::Application, 3, 52, vec![0x91, 0x8C, 0xFFFE, 0x101], FwType::Application, false)])]
// SD+BL+App: the system image accepts the old and the new SoftDevice, the app only the new one.
#[case(GenerateOptions { hw_version: Some(52), softdevice: input("sd.hex"), bootloader: input("bl.hex"), bootloader_version: Some(2), application: input("app.hex"), application_version: Some(5), sd_req: Some(vec![0x8C, 0x91]), sd_id: Some(vec![0xA8, 0xB7]), ..Default::default() },
       vec![(ImageKind::SoftdeviceBootloader, 2, 52, vec![0xA8, 0x91, 0x8C, 0xB7], FwType::SoftdeviceBootloader, false),
         (ImageKind::Application, 5, 52, vec![0xA8, 0xB7], FwType::Application, false)])]
#[case(GenerateOptions { hw_version: Some(52), softdevice: input("sd.hex"), application: input("app.hex"), application_version: Some(5), sd_req: Some(vec![0x8C]), sd_id: Some(vec![0x101]), ..Default::default() },
       vec![(ImageKind::Softdevice, 0xFFFF_FFFF, 52, vec![0x101, 0x8C], FwType::Softdevice, false),
         (ImageKind::Application, 5, 52, vec![0x101], FwType::Application, false)])]
// Debug mode fills in "any" for everything not given.
#[case(GenerateOptions { application: input("app.hex"), debug_mode: true, ..Default::default() },
       vec![(ImageKind::Application, 0xFFFF_FFFF, 0xFFFF_FFFF, vec![0xFFFE], FwType::Application, true)])]
// External app: no --sd-req needed, sd_req becomes 0xFFFE.
#[case(GenerateOptions { hw_version: Some(52), application: input("app.hex"), application_version: Some(1), external_app: true, ..Default::default() },
       vec![(ImageKind::Application, 1, 52, vec![0xFFFE], FwType::ExternalApplication, false)])]
#[case(GenerateOptions { hw_version: Some(52), application: input("app.hex"), application_version_string: Some("2.7.31".into()), sd_req: Some(vec![0x8C]), ..Default::default() },
       vec![(ImageKind::Application, 20731, 52, vec![0x8C], FwType::Application, false)])]
fn init_packet_fields_follow_nrfutil(#[case] opts: GenerateOptions, #[case] want: Vec<Row>) {
    let g = generate_package(opts).unwrap();
    let got: Vec<Row> = g
        .package
        .images()
        .iter()
        .map(|i| {
            let c = i.init_packet.init_command();
            let t = FwType::try_from(c.r#type.unwrap()).unwrap();
            (
                i.kind,
                c.fw_version.unwrap(),
                c.hw_version.unwrap(),
                c.sd_req.clone(),
                t,
                c.is_debug.unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn sd_bl_merge_layout_and_boot_validation() {
    let g = generate_package(GenerateOptions {
        hw_version: Some(52),
        softdevice: input("sd.hex"),
        bootloader: input("bl.hex"),
        bootloader_version: Some(2),
        sd_req: Some(vec![0x8C]),
        sd_boot_validation: Some(ValidationType::NoValidation),
        ..Default::default()
    })
    .unwrap();
    let img = &g.package.images()[0];
    assert_eq!(img.bin_file, "sd_bl.bin");
    assert_eq!(img.dat_file, "sd_bl.dat");
    assert_eq!(img.firmware.len(), 131072 + 20480);
    let c = img.init_packet.init_command();
    assert_eq!(
        (c.sd_size, c.bl_size, c.app_size),
        (Some(131072), Some(20480), Some(0))
    );
    let bv: Vec<i32> = c
        .boot_validation
        .iter()
        .map(|b| b.r#type.unwrap())
        .collect();
    assert_eq!(
        bv,
        vec![
            ValidationType::NoValidation as i32,
            ValidationType::ValidateGeneratedCrc as i32
        ]
    );
    assert_eq!(g.warnings, vec![Warning::NoKey]);
}

#[rstest]
#[case(GenerateOptions { hw_version: Some(52), sd_req: Some(vec![0x8C]), ..Default::default() }, GenerateError::NoImage)]
#[case(GenerateOptions { hw_version: Some(52), application: input("app.hex"), application_version: Some(1), sd_req: Some(vec![0x8C]), app_boot_validation: Some(ValidationType::ValidateEcdsaP256Sha256), ..Default::default() }, GenerateError::EcdsaBootValidationNeedsKey("app"))]
#[case(GenerateOptions { hw_version: Some(52), application_version: Some(1), sd_req: Some(vec![0x8C]), ..Default::default() }, GenerateError::AppVersionWithoutImage)]
#[case(GenerateOptions { hw_version: Some(52), bootloader_version: Some(1), sd_req: Some(vec![0x8C]), ..Default::default() }, GenerateError::BootloaderVersionWithoutImage)]
#[case(GenerateOptions { hw_version: Some(52), bootloader: input("bl.hex"), sd_req: Some(vec![0x8C]), ..Default::default() }, GenerateError::BootloaderVersionRequired)]
#[case(GenerateOptions { hw_version: Some(52), external_app: true, sd_req: Some(vec![0x8C]), ..Default::default() }, GenerateError::ExternalAppWithoutApp)]
#[case(GenerateOptions { hw_version: Some(52), application: input("app.hex"), application_version: Some(1), softdevice: input("sd.hex"), sd_id: Some(vec![1]), external_app: true, ..Default::default() }, GenerateError::ExternalAppNotAlone)]
fn refusals(#[case] opts: GenerateOptions, #[case] want: GenerateError) {
    assert_eq!(generate_package(opts).unwrap_err(), want);
}

#[test]
fn version_string_wins_over_a_nonzero_version_with_a_warning() {
    let g = generate_package(GenerateOptions {
        hw_version: Some(52),
        application: input("app.hex"),
        application_version: Some(7),
        application_version_string: Some("1.0.0".into()),
        sd_req: Some(vec![0x8C]),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(g.warnings, vec![Warning::VersionStringWins, Warning::NoKey]);
    assert_eq!(
        g.package.images()[0].init_packet.init_command().fw_version,
        Some(10000)
    );
}

#[test]
fn bad_image_names_the_file_and_line() {
    let mut app = input("app.hex").unwrap();
    let nrf_dfu::package::ImageContent::File(bytes) = &mut app.content else {
        panic!("a file read from disk is ImageContent::File");
    };
    bytes[20] = b'G';
    let e = generate_package(GenerateOptions {
        hw_version: Some(52),
        application: Some(app),
        application_version: Some(1),
        sd_req: Some(vec![0x8C]),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("app.hex: line 2: malformed record"),
        "{e}"
    );
}
