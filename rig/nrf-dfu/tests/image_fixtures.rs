//! Intel HEX and firmware conversion against the files nrfutil 6.1.7 read and wrote.

use nrf_dfu::image::{load_firmware, parse_intel_hex, write_intel_hex, Firmware};
use rstest::rstest;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/nrfutil/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every fixture .hex was written by Python `intelhex` (nrfutil's writer): parsing and writing
/// back must reproduce it byte for byte.
#[rstest]
#[case("app.hex", 0x23000, 0x24387, 5000)]
#[case("bl.hex", 0x78000, 0x7CFFF, 20480)]
#[case("sd.hex", 0x1000, 0x20FFF, 131072)]
#[case("settings.hex", 0x7E000, 0x7F323, 2 * 0x324)]
fn hex_round_trip_is_byte_identical(
    #[case] name: &str,
    #[case] min: u32,
    #[case] max: u32,
    #[case] bytes: usize,
) {
    let text = String::from_utf8(fixture(name)).unwrap();
    let segments = parse_intel_hex(&text).unwrap();
    assert_eq!(segments.min_address(), Some(min));
    assert_eq!(segments.max_address(), Some(max));
    assert_eq!(segments.len(), bytes);
    assert_eq!(write_intel_hex(&segments), text);
}

#[rstest]
#[case("app.hex", 0x23000, 5000)]
#[case("bl.hex", 0x78000, 20480)]
#[case("sd.hex", 0x1000, 131072)]
fn firmware_sizes_match_nrfutil(#[case] name: &str, #[case] start: u32, #[case] len: usize) {
    let fw: Firmware = load_firmware(name, &fixture(name), 0).unwrap();
    assert_eq!(fw.start_address, start);
    assert_eq!(fw.len(), len);
}

#[test]
fn stand_in_softdevice_has_its_magic() {
    let fw = load_firmware("sd.hex", &fixture("sd.hex"), 0).unwrap();
    assert_eq!(&fw.bin[0x2004..0x2008], &0x51B1_E5DBu32.to_le_bytes());
    assert!(fw.softdevice_info().is_some());
}
