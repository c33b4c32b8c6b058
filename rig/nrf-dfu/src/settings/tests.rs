//! Codec round trips, CRC checks and errors. Boot-time merge rules: `tests_merge.rs`.

use super::*;
use proptest::prelude::*;
use rstest::rstest;

/// Any struct-sized byte string.
fn raw(layout: SettingsLayout) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), layout.size())
}

fn layouts() -> impl Strategy<Value = SettingsLayout> {
    prop_oneof![
        Just(SettingsLayout::Sdk12),
        Just(SettingsLayout::V1),
        Just(SettingsLayout::V2)
    ]
}

proptest! {
    // decode is lossless: bytes -> page -> bytes is the identity for every layout.
    #[test]
    fn bytes_round_trip(bytes in layouts().prop_flat_map(|l| (Just(l), raw(l)))) {
        let (layout, bytes) = bytes;
        let page = SettingsPage::decode(&bytes, layout).unwrap();
        prop_assert_eq!(page.layout(), layout);
        prop_assert_eq!(page.encode(), bytes.clone());
        // encode -> decode -> encode
        let again = SettingsPage::decode(&page.encode(), layout).unwrap();
        prop_assert_eq!(&again, &page);
        prop_assert_eq!(again.encode(), bytes);
    }

    // A whole 4 KB page decodes to the same struct as its head.
    #[test]
    fn page_tail_ignored(bytes in raw(SettingsLayout::V2), fill in any::<u8>()) {
        let mut page = bytes.clone();
        page.resize(4096, fill);
        prop_assert_eq!(SettingsPage::decode(&page, SettingsLayout::V2).unwrap(),
                        SettingsPage::decode(&bytes, SettingsLayout::V2).unwrap());
    }

    // Fixing makes every CRC hold, and each CRC guards its range.
    #[test]
    fn fix_then_validate(bytes in layouts().prop_flat_map(|l| (Just(l), raw(l))), flip in 4usize..0x5C) {
        let (layout, bytes) = bytes;
        let mut page = SettingsPage::decode(&bytes, layout).unwrap();
        page.fix_crcs();
        // 0xFFFFFFFF is never a valid crc; a page whose bytes hash to it cannot be fixed.
        prop_assume!(page.crc != 0xFFFF_FFFF);
        prop_assert_eq!(page.validate(), Ok(()));
        prop_assert!(crc_ok(&page.encode()));
        let mut b = page.encode();
        b[flip] ^= 0x01;
        let broken = SettingsPage::decode(&b, layout).unwrap();
        let m = broken.crc_mismatches();
        prop_assert_eq!(m.len(), 1);
        prop_assert_eq!(m[0].field, CrcField::Crc);
        prop_assert_eq!(m[0].found, page.crc);
    }
}

#[rstest]
#[case(SettingsLayout::Sdk12, 348)]
#[case(SettingsLayout::V1, 440)]
#[case(SettingsLayout::V2, 896)]
fn short_buffer_is_an_error(#[case] layout: SettingsLayout, #[case] size: usize) {
    let bytes = vec![0u8; size - 1];
    assert_eq!(
        SettingsPage::decode(&bytes, layout),
        Err(SettingsError::TooShort {
            what: "settings page",
            needed: size,
            found: size - 1
        })
    );
    assert!(SettingsPage::decode(&vec![0u8; size], layout).is_ok());
    assert_eq!(SettingsPage::defaults(layout).encode().len(), size);
}

#[test]
fn bad_crc_decodes_and_validate_names_it() {
    let mut page = SettingsPage::defaults(SettingsLayout::V2);
    page.app_version = 7;
    page.fix_crcs();
    let good_crc = page.crc;
    page.crc ^= 0xFF;
    // Not a parse failure: the bootloader must be able to look at it.
    let decoded = SettingsPage::decode(&page.encode(), SettingsLayout::V2).unwrap();
    assert_eq!(decoded.app_version, 7);
    let err = decoded.validate().unwrap_err();
    assert_eq!(
        err,
        SettingsError::Crc(vec![CrcMismatch {
            field: CrcField::Crc,
            expected: good_crc,
            found: good_crc ^ 0xFF
        }])
    );
    assert!(err.to_string().contains("crc (bytes 0x04..0x5B) expected"));
}

#[test]
fn boot_validation_crc_checked_separately() {
    let mut page = SettingsPage::defaults(SettingsLayout::V2);
    page.fix_crcs();
    let v2 = page.v2_mut().unwrap();
    v2.boot_validation_app = BootValidation::crc(b"image");
    let m = page.crc_mismatches();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].field, CrcField::BootValidationCrc);
    assert_eq!(m[0].expected, page.compute_boot_validation_crc().unwrap());
    // The main crc does not cover boot validation.
    assert_eq!(page.check_crcs().crc.status, CrcStatus::Valid);
    page.fix_crcs();
    assert_eq!(page.validate(), Ok(()));
}

#[test]
fn unset_crc_is_invalid_even_if_it_matches() {
    let page = SettingsPage::decode(&[0xFF; 896], SettingsLayout::V2).unwrap();
    let report = page.check_crcs();
    assert_eq!(report.crc.status, CrcStatus::Erased);
    assert_eq!(report.peer_data.unwrap().status, CrcStatus::Erased);
    assert_eq!(report.adv_name.unwrap().status, CrcStatus::Erased);
    let m = page.crc_mismatches();
    assert_eq!(
        m.iter().map(|m| m.field).collect::<Vec<_>>(),
        vec![CrcField::Crc, CrcField::BootValidationCrc]
    );
    assert!(m[0].to_string().contains("never written"));
    assert!(!crc_ok(&[0xFF; 896]));
}

#[test]
fn peer_data_crc_reported_and_fixed() {
    let mut page = SettingsPage::defaults(SettingsLayout::V1);
    page.fix_settings_crcs();
    // Defaults zero the peer data: written (not erased) with a wrong CRC. The page stays valid.
    assert_eq!(page.peer_data().unwrap().status(), AreaStatus::Invalid);
    let m = page.crc_mismatches();
    assert_eq!(
        m.iter().map(|m| m.field).collect::<Vec<_>>(),
        vec![CrcField::PeerData, CrcField::AdvName]
    );
    assert_eq!(m[0].found, 0);
    assert_eq!(m[0].expected, crate::crc::crc32(&[0u8; 60]));
    assert_eq!(page.validate(), Ok(()));
    let report = page.check_crcs();
    assert_eq!(report.peer_data.unwrap().status, CrcStatus::Invalid);
    page.fix_crcs();
    assert_eq!(page.crc_mismatches(), vec![]);
    assert_eq!(page.peer_data().unwrap().status(), AreaStatus::Valid);
    *page.adv_name_mut().unwrap() = AdvName::new(b"DfuTarg");
    page.peer_data_mut().unwrap().0 = [0xFF; 64];
    assert_eq!(
        page.check_crcs().peer_data.unwrap().status,
        CrcStatus::Erased
    );
    assert_eq!(page.crc_mismatches(), vec![]);
    let bytes = page.encode();
    assert_eq!(
        &bytes[offset::ADV_NAME_V1 + 4..offset::ADV_NAME_V1 + 11],
        b"DfuTarg"
    );
}

#[test]
fn sdk12_has_no_tail() {
    let page = SettingsPage::defaults(SettingsLayout::Sdk12);
    assert!(page.peer_data().is_none() && page.adv_name().is_none() && page.v2().is_none());
    assert_eq!(page.init_command().len(), 256);
    let json = serde_json::to_value(&page).unwrap();
    assert!(json.get("peer_data").is_none());
    assert_eq!(json["init_command"].as_str().unwrap().len(), 512);
}

#[test]
fn json_uses_sdk_field_names() {
    let mut page = SettingsPage::defaults(SettingsLayout::V2);
    page.bank_0 = Bank {
        image_size: 0x1388,
        image_crc: 0x7BBF_56F5,
        bank_code: BankCode::ValidApp,
    };
    page.bank_1.bank_code = BankCode::Unknown(0x42);
    page.v2_mut().unwrap().boot_validation_app = BootValidation::crc(b"x");
    let json = serde_json::to_value(&page).unwrap();
    for key in [
        "crc",
        "settings_version",
        "app_version",
        "bootloader_version",
        "bank_layout",
        "bank_current",
        "bank_0",
        "bank_1",
        "write_offset",
        "sd_size",
        "progress",
        "enter_buttonless_dfu",
        "init_command",
        "boot_validation_crc",
        "boot_validation_softdevice",
        "boot_validation_app",
        "boot_validation_bootloader",
        "peer_data",
        "adv_name",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["bank_0"]["bank_code"], "VALID_APP");
    assert_eq!(json["bank_0"]["image_size"], 0x1388);
    assert_eq!(json["bank_1"]["bank_code"], 0x42);
    assert_eq!(json["boot_validation_app"]["type"], "VALIDATE_CRC");
    for key in [
        "command_size",
        "firmware_image_crc",
        "firmware_image_offset_last",
    ] {
        assert!(
            json["progress"].get(key).is_some(),
            "missing progress.{key}"
        );
    }
}

#[test]
fn update_start_address_is_the_crc_word() {
    let mut page = SettingsPage::defaults(SettingsLayout::V2);
    page.progress.set_update_start_address(0x4_A000);
    let b = page.encode();
    assert_eq!(&b[0x48..0x4C], &0x4_A000u32.to_le_bytes());
    assert_eq!(page.progress.firmware_image_crc, 0x4_A000);
}

#[test]
fn differing_fields_names_them() {
    let a = SettingsPage::defaults(SettingsLayout::V2);
    let mut b = a.clone();
    b.app_version = 2;
    b.bank_1.bank_code = BankCode::ValidSd;
    b.v2_mut().unwrap().boot_validation_softdevice = BootValidation::sha256(b"sd");
    b.crc = 99; // CRCs are not fields of interest
    assert_eq!(
        a.differing_fields(&b),
        vec!["app_version", "bank_1", "boot_validation_softdevice"]
    );
}

#[test]
fn field_offsets() {
    let mut page = SettingsPage::defaults(SettingsLayout::V2);
    page.sd_size = 0x1122_3344;
    page.write_offset = 0x5566_7788;
    page.enter_buttonless_dfu = 1;
    page.progress.firmware_image_offset_last = 0xAABB_CCDD;
    page.init_command_mut()[511] = 0x99;
    page.v2_mut().unwrap().boot_validation_bootloader = BootValidation::ecdsa(&[0x5A; 64]);
    let b = page.encode();
    assert_eq!(&b[0x34..0x38], &0x1122_3344u32.to_le_bytes());
    assert_eq!(&b[0x30..0x34], &0x5566_7788u32.to_le_bytes());
    assert_eq!(b[0x58], 1);
    assert_eq!(&b[0x54..0x58], &0xAABB_CCDDu32.to_le_bytes());
    assert_eq!(b[0x25B], 0x99);
    assert_eq!(b[0x2E2], 3);
    assert_eq!(b[0x2E3..0x323], [0x5A; 64]);
}
