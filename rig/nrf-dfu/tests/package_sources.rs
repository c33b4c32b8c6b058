//! A package built from an image in memory (segments or firmware) is the package built from
//! its Intel HEX file, byte for byte: a campaign builds its packages from memory, `rig pkg
//! generate` from files.

use nrf_dfu::image::{parse_intel_hex, Firmware};
use nrf_dfu::init_packet::ValidationType;
use nrf_dfu::package::{generate_package, CivilTime, GenerateOptions, ImageInput};
use nrf_dfu::signing::SigningKey;
use rstest::rstest;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/nrfutil/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const TIME: CivilTime = CivilTime {
    year: 2026,
    month: 11,
    day: 24,
    hour: 10,
    minute: 8,
    second: 48,
};

#[derive(Clone, Copy, Debug)]
enum Source {
    File,
    Segments,
    Firmware,
}

fn input(name: &str, source: Source) -> Option<ImageInput> {
    let bytes = fixture(name);
    let segments = || parse_intel_hex(std::str::from_utf8(&bytes).unwrap()).unwrap();
    Some(match source {
        Source::File => ImageInput::file(name, bytes.clone()),
        Source::Segments => ImageInput::segments(name, segments()),
        Source::Firmware => {
            ImageInput::firmware(name, Firmware::from_segments(&segments()).unwrap())
        }
    })
}

fn options(combination: &str, source: Source) -> GenerateOptions {
    let key = SigningKey::from_pem(&String::from_utf8(fixture("private.key")).unwrap()).unwrap();
    let base = GenerateOptions {
        hw_version: Some(52),
        sd_req: Some(vec![0x8C, 0x101]),
        key: Some(key),
        ..Default::default()
    };
    match combination {
        "app" => GenerateOptions {
            application: input("app.hex", source),
            application_version: Some(7),
            ..base
        },
        // The image itself signed for boot validation: the signature covers the firmware.
        "app-ecdsa" => GenerateOptions {
            application: input("app.hex", source),
            application_version: Some(7),
            app_boot_validation: Some(ValidationType::ValidateEcdsaP256Sha256),
            ..base
        },
        "bootloader" => GenerateOptions {
            bootloader: input("bl.hex", source),
            bootloader_version: Some(3),
            ..base
        },
        // SoftDevice+bootloader (the SoftDevice alone signed for boot) and an application.
        "sd-bl-app" => GenerateOptions {
            softdevice: input("sd.hex", source),
            bootloader: input("bl.hex", source),
            bootloader_version: Some(3),
            application: input("app.hex", source),
            application_version: Some(7),
            sd_id: Some(vec![0x101]),
            sd_boot_validation: Some(ValidationType::ValidateEcdsaP256Sha256),
            ..base
        },
        other => panic!("no combination {other}"),
    }
}

fn zip(combination: &str, source: Source) -> Vec<u8> {
    generate_package(options(combination, source))
        .unwrap()
        .package
        .to_zip(TIME)
        .unwrap()
}

#[rstest]
fn memory_images_give_the_files_package(
    #[values("app", "app-ecdsa", "bootloader", "sd-bl-app")] combination: &str,
    #[values(Source::Segments, Source::Firmware)] source: Source,
) {
    let from_file = zip(combination, Source::File);
    assert!(from_file.len() > 1000, "{combination}: a real package");
    assert!(
        zip(combination, source) == from_file,
        "{combination} from {source:?} differs from the HEX file's package"
    );
}

#[test]
fn a_segments_error_names_the_image() {
    let e = generate_package(GenerateOptions {
        hw_version: Some(52),
        sd_req: Some(vec![0x101]),
        application: Some(ImageInput::segments(
            "empty.hex",
            nrf_dfu::image::Segments::new(),
        )),
        application_version: Some(1),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        e.to_string().starts_with("empty.hex: no firmware data"),
        "{e}"
    );
}
