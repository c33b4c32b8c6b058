//! Checklist — activation (SDK 17.1 `nrf_bootloader_fw_activation.c`, `image_copy` / `bl_activate`;
//! 12.3 `nrf_dfu_utils.c`, `nrf_dfu_app_continue`): copy in 8-page steps with settings + backup
//! written after each (SDK 12: page by page, no backup), the CRC check of bank 0 deciding the app,
//! and a bootloader update going through the MBR's COPY_BL with an extra reset.

use crate::common::*;
use crate::support::*;
use nrf_dfu::crc::crc32;
use nrf_dfu::init_packet::{FwType, Hash, HashType, InitCommand};
use nrf_dfu::settings::{Bank, BankCode};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;
use sha2::{Digest, Sha256};
use virtual_nrf52::descriptor::BootloaderDescriptor;
use virtual_nrf52::standin;
use virtual_nrf52::DebugPort;

/// The operations of the activation that follows a completed transfer.
fn activation_ops(bench: &Bench, old_size: u32, new_size: u32) -> Vec<String> {
    let bench = Bench {
        app_size: old_size,
        ..bench.clone()
    };
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let image = bench.app_sized(2, new_size);
    host.update(&mut dev, &app_package(&bench, &image, 2))
        .expect("update");
    let done = host.t;
    dev.record_flash_ops(true);
    dev.settle(done + secs(120));
    assert_eq!(app_version(&dev), Some(2));
    let ops: Vec<String> = dev
        .flash_op_journal()
        .iter()
        .map(|r| r.what.clone())
        .collect();
    let first = ops
        .iter()
        .position(|w| *w == format!("page erase at {:#07x}", bench.bank0()))
        .expect("activation");
    ops[first..].to_vec()
}

fn erase(a: u32) -> String {
    format!("page erase at {a:#07x}")
}

fn write(n: u32, a: u32) -> String {
    format!("write of {n} bytes at {a:#07x}")
}

#[test]
fn activation_copies_in_8_page_steps_with_settings_and_backup_after_each() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let b0 = bench.bank0();
    let ops = activation_ops(&bench, 0x9000, 0xA000);
    let settings = || {
        vec![
            erase(0x7F000),
            write(896, 0x7F000),
            erase(0x7E000),
            write(896, 0x7E000),
        ]
    };
    let mut expected: Vec<String> = (0..8).map(|p| erase(b0 + p * 0x1000)).collect();
    expected.push(write(0x8000, b0));
    expected.extend(settings());
    expected.extend([
        erase(b0 + 0x8000),
        erase(b0 + 0x9000),
        write(0x2000, b0 + 0x8000),
    ]);
    expected.extend(settings());
    // bank 1 invalidated, then the reset; the new app starts without further writes.
    expected.extend(settings());
    assert_eq!(ops, expected);
}

/// The step never overlaps its source: an old app of 3 pages limits steps to 3 pages.
#[test]
fn activation_step_shrinks_to_the_gap_between_banks() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let ops = activation_ops(&bench, 0x3000, 0x5000);
    assert_eq!(ops[3], write(0x3000, bench.bank0()));
    assert_eq!(ops[10], write(0x2000, bench.bank0() + 0x3000));
}

#[test]
fn sdk12_activation_copies_page_by_page_and_erases_the_source() {
    let bench = Bench::new(SdkVersion::Sdk12);
    let (b0, b1) = (bench.bank0(), bench.bank0() + 0x3000);
    let ops = activation_ops(&bench, 0x3000, 0x2000);
    let expected = vec![
        erase(b0),
        write(0x1000, b0),
        erase(0x7F000),
        write(348, 0x7F000),
        erase(b1),
        erase(b0 + 0x1000),
        write(0x1000, b0 + 0x1000),
        erase(0x7F000),
        write(348, 0x7F000),
        erase(b1 + 0x1000),
        erase(0x7F000),
        write(348, 0x7F000),
    ];
    assert_eq!(ops, expected);
}

/// After the copy, CRC32 of bank 0 must equal bank_1.image_crc, or the app stays invalid.
#[rstest]
#[case::crc_matches(true)]
#[case::crc_differs(false)]
fn activation_crc_check_decides_the_app(#[case] good: bool) {
    let bench = Bench {
        app_size: 0x4000,
        ..Bench::new(SdkVersion::Sdk17)
    };
    let mut dev = bench.build();
    let image = bench.app_sized(2, 0x2000);
    let bank1 = bench.bank0() + 0x4000;
    let mut s = flash_settings(&dev, bench.sdk);
    s.bank_0.bank_code = BankCode::Invalid;
    s.bank_1 = Bank {
        image_size: 0x2000,
        image_crc: crc32(&image) ^ u32::from(!good),
        bank_code: BankCode::ValidApp,
    };
    s.progress.set_update_start_address(bank1);
    s.write_offset = 0;
    if let Some(v2) = s.v2_mut() {
        v2.boot_validation_app = nrf_dfu::settings::BootValidation::crc(&image);
    }
    s.fix_crcs();
    let t = dev.now();
    {
        let mut port = dev.debug(t);
        port.program(
            &[(bank1, image), (0x7E000, s.encode()), (0x7F000, s.encode())],
            Default::default(),
        )
        .unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(t + secs(60));
    if good {
        assert_eq!(app_version(&dev), Some(2));
    } else {
        assert!(in_dfu_mode(&dev), "{:?}", dev.status());
        assert_eq!(
            flash_settings(&dev, bench.sdk).bank_0.bank_code,
            BankCode::Invalid
        );
    }
}

/// A signed bootloader package.
fn bootloader_package(bench: &Bench, desc: &BootloaderDescriptor, version: u32) -> Package {
    let image =
        standin::bootloader_image(desc, Chip::Nrf52832Qfaa, standin::DEFAULT_BOOTLOADER_SIZE)
            .unwrap();
    let mut hash = Sha256::digest(&image).to_vec();
    hash.reverse();
    let init = InitCommand {
        fw_version: Some(version),
        hw_version: Some(52),
        sd_req: vec![bench.softdevice().info.fwid as u32],
        r#type: Some(FwType::Bootloader as i32),
        sd_size: Some(0),
        bl_size: Some(image.len() as u32),
        app_size: Some(0),
        hash: Some(Hash {
            hash_type: Some(HashType::Sha256 as i32),
            hash: Some(hash),
        }),
        is_debug: Some(false),
        boot_validation: vec![],
    };
    Package {
        init: signed(init),
        image,
    }
}

#[rstest]
#[case::sdk15_3(SdkVersion::Sdk15_3)]
#[case::sdk17(SdkVersion::Sdk17)]
fn bootloader_update_goes_through_mbr_copy_bl_with_an_extra_reset(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let mut new = bench.descriptor();
    new.adv_name = "NewBoot".into();
    let pkg = bootloader_package(&bench, &new, 2);
    let epoch = dev.epoch();
    host.update(&mut dev, &pkg).expect("bootloader update");
    dev.record_flash_ops(true);
    dev.settle(host.t + secs(60));
    let journal: Vec<String> = dev
        .flash_op_journal()
        .iter()
        .map(|r| r.what.clone())
        .collect();
    assert!(
        journal
            .iter()
            .any(|w| w.starts_with("MBR bootloader copy of 20480 bytes to 0x78000")),
        "{journal:?}"
    );
    // Completion reset, COPY_BL reset, activation reset.
    assert_eq!(dev.epoch(), epoch + 3);
    assert_eq!(
        dev.hardware()
            .installed()
            .bootloader_descriptor()
            .map(|d| d.adv_name.clone()),
        Some("NewBoot".into())
    );
    assert_eq!(flash_settings(&dev, sdk).bootloader_version, 2);
    assert_eq!(app_version(&dev), Some(1), "the app is untouched");
    let now = dev.now();
    enter_dfu(&mut dev, now);
    match dev.status() {
        virtual_nrf52::Status::Bootloader(b) => assert_eq!(b.adv_name, "NewBoot"),
        other => panic!("{other:?}"),
    }
}

/// A SoftDevice update (same major version): copied to 0x1000 in steps, checked against its
/// boot validation; with the app still valid the bootloader then waits in DFU mode for an app
/// for 10 s (NRF_BL_DFU_CONTINUATION_TIMEOUT_MS), then starts the app.
#[test]
fn softdevice_activation_then_waits_10_s_for_an_app() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let mut sd = standin::softdevice_image(&bench.softdevice());
    sd[0x4000] ^= 0xFF;
    let mut hash = Sha256::digest(&sd).to_vec();
    hash.reverse();
    let init = InitCommand {
        fw_version: None,
        hw_version: Some(52),
        sd_req: vec![bench.softdevice().info.fwid as u32],
        r#type: Some(FwType::Softdevice as i32),
        sd_size: Some(sd.len() as u32),
        bl_size: Some(0),
        app_size: Some(0),
        hash: Some(Hash {
            hash_type: Some(HashType::Sha256 as i32),
            hash: Some(hash),
        }),
        is_debug: Some(false),
        boot_validation: vec![nrf_dfu::init_packet::BootValidation {
            r#type: Some(1),
            bytes: Some(vec![]),
        }],
    };
    host.update(
        &mut dev,
        &Package {
            init: signed(init),
            image: sd.clone(),
        },
    )
    .expect("SoftDevice update");
    let done = host.t;
    let mut entered = None;
    while let Some(t) = dev.next_event_time() {
        if t > done + secs(120) {
            break;
        }
        dev.advance_to(t);
        if entered.is_none()
            && dev.dfu_enter_reason() == Some(virtual_nrf52::EnterReason::AfterSoftDevice)
        {
            entered = Some(t);
        }
    }
    let entered = entered.expect("DFU mode after the SoftDevice activation");
    assert_eq!(
        dev.read_flash(0x1000, sd.len() as u32),
        sd,
        "new SoftDevice in place"
    );
    assert_eq!(
        app_version(&dev),
        Some(1),
        "the app starts after the 10 s continuation"
    );
    assert!(dev.now() >= entered + secs(10));
}
