//! Data objects and the init packet's effects (SDK 17.1 `nrf_dfu_req_handler.c`,
//! `nrf_dfu_validation.c`, `nrf_dfu_ver_validation.c`; docs/notes/interrupted-transfers.md):
//! CREATE checks in order,
//! a CREATE discards an unexecuted partial object, CRC_GET reports everything received,
//! EXECUTE of an incomplete object, dual/single bank, sd_req and fw_version rules, what survives
//! a reset per version, the stored init re-executed at DFU start.

use crate::common::*;
use crate::support::*;
use nrf_dfu::crc::crc32;
use nrf_dfu::settings::BankCode;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::SdkVersion;
use rstest::rstest;

fn crc_reply(host: &mut Host, dev: &mut virtual_nrf52::Device) -> (u32, u32) {
    let r = ask(host, dev, &Request::CrcGet);
    (
        u32::from_le_bytes(r[3..7].try_into().unwrap()),
        u32::from_le_bytes(r[7..11].try_into().unwrap()),
    )
}

/// 15+ order: init executed (0x08), size 0 (0x03), not page-sized and not last (0x03), over
/// 4096 (0x04), past the image end (0x08). Image of 0x1800 bytes.
#[rstest]
#[case::zero(0, 0x03)]
#[case::unaligned_not_last(0x100, 0x03)]
#[case::too_big(0x2000, 0x04)]
#[case::page(0x1000, 0x01)]
fn data_create_checks_in_order(#[case] size: u32, #[case] result: u8) {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x1800);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    assert_eq!(
        ask(
            &mut host,
            &mut dev,
            &Request::create(ObjectType::Data, size)
        ),
        vec![0x60, 0x01, result]
    );
}

#[test]
fn data_create_past_the_image_end_is_not_permitted() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x1800);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    host.send_objects(&mut dev, &image, 0x1000);
    // 0x1000 executed; 0x1000 more would end past 0x1800 (and 0x800 is the last one, fine).
    assert_eq!(
        ask(
            &mut host,
            &mut dev,
            &Request::create(ObjectType::Data, 0x1000)
        ),
        vec![0x60, 0x01, 0x08]
    );
    assert_eq!(
        ask(
            &mut host,
            &mut dev,
            &Request::create(ObjectType::Data, 0x800)
        ),
        vec![0x60, 0x01, 0x01]
    );
}

#[test]
fn crc_get_reports_everything_received_and_create_discards_the_partial_object() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    host.send_objects(&mut dev, &image, 0x1000);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    host.t += ms(400);
    for c in image[0x1000..0x1000 + 244 * 3].chunks(244) {
        host.write(&mut dev, c);
    }
    assert_eq!(
        crc_reply(&mut host, &mut dev),
        (0x1000 + 244 * 3, crc32(&image[..0x1000 + 244 * 3]))
    );
    // EXECUTE of the incomplete object: not permitted.
    assert_eq!(
        ask(&mut host, &mut dev, &Request::Execute),
        vec![0x60, 0x04, 0x08]
    );
    // A new CREATE starts again at the last executed offset.
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    assert_eq!(
        crc_reply(&mut host, &mut dev),
        (0x1000, crc32(&image[..0x1000]))
    );
    // CREATE then EXECUTE with no data: 0x08 (the trigger of Android-DFU-Library issue #252).
    assert_eq!(
        ask(&mut host, &mut dev, &Request::Execute),
        vec![0x60, 0x04, 0x08]
    );
}

#[test]
fn write_past_the_object_is_an_invalid_parameter_at_the_prn_boundary() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x1000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    ask(&mut host, &mut dev, &Request::SetPrn { count: 1 });
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x100),
    );
    host.t += ms(400);
    let out = dev.dfu_packet(host.t, &[0; 0x104]);
    assert_eq!(
        out.notification.map(|n| n.bytes),
        Some(vec![0x60, 0x03, 0x03])
    );
}

/// 17.1 `nrf_dfu_cache_prepare`: bank 1 after the app when it fits; otherwise the app is
/// invalidated at init EXECUTE (persisted), the image goes to bank 0, and a reset mid-transfer
/// leaves DFU mode, not the app.
#[rstest]
#[case::dual_bank(0x3000, false)]
#[case::single_bank(0x30000, true)]
fn bank_choice_dual_or_single(#[case] size: u32, #[case] single: bool) {
    let bench = Bench {
        app_size: 0x20000,
        ..Bench::new(SdkVersion::Sdk17)
    };
    let image = bench.app_sized(2, size);
    let (mut dev, host, _) = after_init(&bench, Link::Ble, &image, 2);
    dev.settle(host.t + secs(2));
    let s = flash_settings(&dev, bench.sdk);
    assert_eq!(s.bank_0.bank_code == BankCode::Invalid, single);
    let t = dev.now();
    dev.power_off(t);
    dev.power_on(t + ms(10));
    dev.settle(t + secs(10));
    assert_eq!(in_dfu_mode(&dev), single, "{:?}", dev.status());
    assert_eq!(app_version(&dev).is_some(), !single);
}

#[test]
fn descriptor_forces_single_bank() {
    let bench = Bench {
        single_bank: true,
        ..Bench::new(SdkVersion::Sdk17)
    };
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    host.update(&mut dev, &app_package(&bench, &bench.app(2), 2))
        .expect("update");
    dev.settle(host.t + secs(30));
    assert_eq!(app_version(&dev), Some(2));
}

/// 17.1 `nrf_dfu_validation_init`: a stored init command is re-executed at DFU start, so after a
/// reset the data can continue without the init packet; 12 also resumes from the last executed
/// object (docs/notes/interrupted-transfers.md),
/// 15+ restart the data at 0.
#[rstest]
#[case::sdk12(SdkVersion::Sdk12, 0x1000)]
#[case::sdk15_3(SdkVersion::Sdk15_3, 0)]
#[case::sdk17(SdkVersion::Sdk17, 0)]
fn progress_after_a_reset_per_version(#[case] sdk: SdkVersion, #[case] offset: u32) {
    let bench = Bench::new(sdk);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, mut host, pkg) = after_init(&bench, Link::Ble, &image, 2);
    host.send_objects(&mut dev, &image, 0x1000);
    dev.settle(host.t + secs(2));
    let t = dev.now();
    dev.power_off(t);
    dev.power_on(t + ms(10));
    let t = dev.settle(t + secs(10));
    let t = if in_dfu_mode(&dev) {
        t
    } else {
        enter_dfu(&mut dev, t)
    };
    let mut host = Host::ble(t);
    if sdk == SdkVersion::Sdk12 {
        host.payload = 20;
    }
    let sel = ask(&mut host, &mut dev, &Request::select(ObjectType::Command));
    assert_eq!(
        u32::from_le_bytes(sel[7..11].try_into().unwrap()),
        pkg.init.len() as u32,
        "init still stored"
    );
    let sel = ask(&mut host, &mut dev, &Request::select(ObjectType::Data));
    assert_eq!(u32::from_le_bytes(sel[7..11].try_into().unwrap()), offset);
    // No init packet sent again: the data CREATE is accepted.
    assert_eq!(
        ask(
            &mut host,
            &mut dev,
            &Request::create(ObjectType::Data, 0x1000)
        ),
        vec![0x60, 0x01, 0x01]
    );
}

/// sd_req rules with S132 7.2.0 installed (FWID 0x101), 17.1 BLE.
#[rstest]
#[case::installed(vec![0x101], vec![0x60, 0x04, 0x01])]
#[case::among_others(vec![0xCB, 0x101], vec![0x60, 0x04, 0x01])]
#[case::other(vec![0xB7], vec![0x60, 0x04, 0x0B, 0x07])]
#[case::empty(vec![], vec![0x60, 0x04, 0x0B, 0x07])]
#[case::app_overwrites_sd(vec![0x00], vec![0x60, 0x04, 0x0B, 0x07])]
#[case::any_sd(vec![0xFFFE], vec![0x60, 0x04, 0x0B, 0x07])]
fn sd_req_rules(#[case] sd_req: Vec<u32>, #[case] reply: Vec<u8>) {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let mut init = app_init(&bench, &bench.app(2), 2);
    init.sd_req = sd_req;
    let init = signed(init);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Command, init.len() as u32),
    );
    host.write(&mut dev, &init);
    assert_eq!(ask(&mut host, &mut dev, &Request::Execute), reply);
}

/// fw_version: same version accepted (NRF_DFU_APP_ACCEPT_SAME_VERSION), lower refused; a
/// bootloader must be strictly newer.
#[rstest]
#[case::newer(5, vec![0x60, 0x04, 0x01])]
#[case::same(3, vec![0x60, 0x04, 0x01])]
#[case::older(2, vec![0x60, 0x04, 0x0B, 0x05])]
fn fw_version_rules(#[case] version: u32, #[case] reply: Vec<u8>) {
    let bench = Bench {
        app_version: 3,
        ..Bench::new(SdkVersion::Sdk17)
    };
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let init = signed(app_init(&bench, &bench.app(version), version));
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Command, init.len() as u32),
    );
    host.write(&mut dev, &init);
    assert_eq!(ask(&mut host, &mut dev, &Request::Execute), reply);
}

#[test]
fn executing_the_init_again_succeeds_without_revalidation() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &bench.app(2), 2);
    assert_eq!(
        ask(&mut host, &mut dev, &Request::select(ObjectType::Command))[2],
        0x01
    );
    assert_eq!(
        ask(&mut host, &mut dev, &Request::Execute),
        vec![0x60, 0x04, 0x01]
    );
}
