//! Each injectable defect's observable effect, against the same scenario without it.

use crate::common::*;
use crate::support::*;
use nrf_dfu::crc::crc32;
use nrf_dfu::settings::BankCode;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::SdkVersion;
use rstest::rstest;
use virtual_nrf52::defects::{Defect, DefectSet};
use virtual_nrf52::{DropReason, SilentReason};

fn with(sdk: SdkVersion, defect: Option<Defect>) -> Bench {
    Bench::new(sdk).defects(defect.map_or(DefectSet::empty(), |d| DefectSet::empty().with(d)))
}

/// Power lost in the middle of the first settings-page erase of the activation: with the
/// backup the device resumes and runs the new app; without it (defect) the settings reset to
/// defaults: no valid app, no update state, DFU mode.
#[rstest]
#[case::backup(None, true)]
#[case::no_backup(Some(Defect::NoSettingsBackup), false)]
fn no_settings_backup_loses_the_activation_state(
    #[case] defect: Option<Defect>,
    #[case] survives: bool,
) {
    let bench = with(SdkVersion::Sdk17, defect);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    dev.record_flash_ops(true);
    let done_at = host.t;
    host.update(&mut dev, &app_package(&bench, &bench.app(2), 2))
        .expect("update");
    let _ = done_at;
    let mut probe = dev.clone();
    probe.settle(host.t + secs(60));
    let activation = probe
        .flash_op_journal()
        .iter()
        .position(|r| r.what == format!("page erase at {:#07x}", bench.bank0()))
        .expect("activation");
    let cut = probe.flash_op_journal()[activation..]
        .iter()
        .find(|r| r.what == "page erase at 0x7f000")
        .expect("settings erase")
        .clone();
    dev.power_off(cut.start + cut.duration() / 2);
    dev.power_on(cut.end + ms(10));
    dev.settle(cut.end + secs(60));
    if survives {
        assert_eq!(app_version(&dev), Some(2));
    } else {
        assert!(in_dfu_mode(&dev), "{:?}", dev.status());
        let s = flash_settings(&dev, bench.sdk);
        assert_eq!(
            (s.bank_0.bank_code, s.bank_1.bank_code, s.app_version),
            (BankCode::Invalid, BankCode::Invalid, 0)
        );
    }
}

#[test]
fn no_settings_backup_writes_only_the_main_page() {
    let bench = with(SdkVersion::Sdk17, Some(Defect::NoSettingsBackup));
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    dev.record_flash_ops(true);
    host.send_init(&mut dev, &app_package(&bench, &bench.app(2), 2).init)
        .unwrap();
    dev.settle(host.t + secs(2));
    let ops: Vec<_> = dev
        .flash_op_journal()
        .iter()
        .map(|r| r.what.clone())
        .collect();
    assert_eq!(
        ops,
        vec![
            "page erase at 0x7f000".to_string(),
            "write of 896 bytes at 0x7f000".into()
        ]
    );
}

/// A corrupted image: refused with VERIFICATION_FAILED, or (defect) accepted and run.
#[rstest]
#[case::checked(None)]
#[case::skipped(Some(Defect::SkipHashCheck))]
fn skip_hash_check_activates_a_corrupted_image(#[case] defect: Option<Defect>) {
    let bench = with(SdkVersion::Sdk17, defect);
    let image = bench.app(2);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let mut pkg = app_package(&bench, &image, 2);
    pkg.image[0x1500] ^= 0x5A;
    let r = host.update(&mut dev, &pkg);
    dev.settle(host.t + secs(60));
    match defect {
        None => {
            assert!(
                matches!(
                    r,
                    Err(HostError::Refused {
                        step: "execute data",
                        ..
                    })
                ),
                "{r:?}"
            );
            assert_eq!(app_version(&dev), Some(1));
        }
        Some(_) => {
            assert_eq!(r, Ok(()));
            assert_eq!(app_version(&dev), Some(2));
            assert_eq!(
                dev.read_flash(bench.bank0(), image.len() as u32),
                pkg.image,
                "the corrupted image runs"
            );
        }
    }
}

#[rstest]
#[case::checked(None, vec![0x60, 0x04, 0x0B, 0x05])]
#[case::accepted(Some(Defect::AcceptDowngrade), vec![0x60, 0x04, 0x01])]
fn accept_downgrade_takes_an_older_version(#[case] defect: Option<Defect>, #[case] reply: Vec<u8>) {
    let bench = Bench {
        app_version: 5,
        ..with(SdkVersion::Sdk17, defect)
    };
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let init = signed(app_init(&bench, &bench.app(2), 2));
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Command, init.len() as u32),
    );
    host.write(&mut dev, &init);
    assert_eq!(ask(&mut host, &mut dev, &Request::Execute), reply);
}

/// The final EXECUTE: answered once the data is written, or (defect) at once with the settings
/// written ahead of the data; a power cut right after those settings loses the image the
/// client saw executed, and with it the old app (overwritten by the activation). SDK 15.0: no
/// settings backup to roll back to.
#[rstest]
#[case::drains(None)]
#[case::early(Some(Defect::ExecuteBeforeFlashDrain))]
fn execute_before_flash_drain_loses_acknowledged_data(#[case] defect: Option<Defect>) {
    let bench = with(SdkVersion::Sdk15_0, defect);
    let image = bench.app_sized(2, 0x1000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    dev.record_flash_ops(true);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    host.t += ms(400);
    // A link faster than the SoftDevice's flash writes, so data is still queued at EXECUTE.
    stream(&mut host, &mut dev, &image, ms(5));
    let t = host.t;
    let reply = dev.dfu_control(t, &Request::Execute.encode()).unwrap();
    assert_eq!(reply.bytes, vec![0x60, 0x04, 0x01]);
    let mut probe = dev.clone();
    probe.settle(t + secs(30));
    let j = probe.flash_op_journal();
    let settings = j
        .iter()
        .find(|r| r.what == "write of 440 bytes at 0x7f000" && r.start >= t)
        .unwrap()
        .clone();
    let data = format!("{:#07x}", bench.bank0() + bench.app_size + 16 * 244);
    let last_data = j.iter().find(|r| r.what.ends_with(&data)).unwrap().clone();
    assert!(last_data.end > t, "data still queued at EXECUTE");
    dev.power_off(settings.end + ms(1));
    dev.power_on(settings.end + ms(20));
    dev.settle(settings.end + secs(60));
    if defect.is_none() {
        assert!(
            reply.ready_at >= last_data.end,
            "answered once the data is written"
        );
        assert!(settings.start >= last_data.end);
        assert_eq!(app_version(&dev), Some(2), "{:?}", dev.status());
    } else {
        assert_eq!(reply.ready_at, t, "answered before the queue drained");
        assert!(
            settings.end < last_data.end,
            "settings accounted before the data is written"
        );
        assert!(in_dfu_mode(&dev), "{:?}", dev.status());
        assert_eq!(app_version(&dev), None);
    }
}

#[rstest]
#[case::normal(None, 15)]
#[case::dropping(Some(Defect::DropPacketsAfterCreate), 0)]
fn drop_packets_after_create_loses_the_erase_window(
    #[case] defect: Option<Defect>,
    #[case] accepted: usize,
) {
    let bench = with(SdkVersion::Sdk17, defect);
    let image = bench.app_sized(2, 0x1000);
    let (mut dev, host, _) = after_init(&bench, Link::Ble, &image, 2);
    let t = host.t;
    dev.dfu_control(t, &Request::create(ObjectType::Data, 0x1000).encode())
        .unwrap();
    let outs: Vec<_> = image
        .chunks(244)
        .map(|c| dev.dfu_packet(t + ms(1), c))
        .collect();
    assert_eq!(outs.iter().filter(|o| o.is_accepted()).count(), accepted);
    if defect.is_some() {
        assert!(outs
            .iter()
            .all(|o| o.dropped == Some(DropReason::DuringCreateErase)));
        // After the erase, packets are taken again.
        let later = dev.dfu_packet(t + ms(200), &image[..244]);
        assert!(later.is_accepted());
    }
}

/// SDK 12 (the DevZone 42186 setting): a data CREATE while the previous object's writes are
/// queued fails with INVALID_OBJECT and (defect) wedges the device until a power cycle.
#[test]
fn stuck_after_create_failure_needs_a_power_cycle() {
    let bench = with(SdkVersion::Sdk12, Some(Defect::StuckAfterCreateFailure));
    let image = bench.app_sized(2, 0x14000);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    let r = host.update(&mut dev, &app_package(&bench, &image, 2));
    assert_eq!(
        r,
        Err(HostError::NoResponse {
            step: "create data"
        })
    );
    assert_eq!(dev.silent_reason(), Some(SilentReason::Stuck));
    assert_eq!(dev.dfu_control(host.t, &[0x06, 0x01]), None);
    dev.advance_to(host.t + secs(600));
    assert_eq!(
        dev.silent_reason(),
        Some(SilentReason::Stuck),
        "no timeout rescues it"
    );
    dev.power_off(host.t + secs(600));
    dev.power_on(host.t + secs(601));
    dev.settle(host.t + secs(610));
    assert_eq!(
        app_version(&dev),
        Some(1),
        "dual bank: the old app after the power cycle"
    );
}

/// Intermittent, but reproducible: the same seed fails at the same object.
#[test]
fn stuck_after_create_failure_is_seeded() {
    let run = |seed| {
        let bench = Bench {
            seed,
            ..with(SdkVersion::Sdk12, Some(Defect::StuckAfterCreateFailure))
        };
        let image = bench.app_sized(2, 0x14000);
        let (mut dev, mut host) = dfu(&bench, Link::Ble);
        let r = host.update(&mut dev, &app_package(&bench, &image, 2));
        (host.t, r, dev.silent_reason())
    };
    assert_eq!(run(11), run(11));
}

#[rstest]
#[case::sdk17(None, false)]
#[case::sdk17_loop(Some(Defect::GpregretLoop), true)]
fn gpregret_loop_enters_dfu_on_a_stray_bit(#[case] defect: Option<Defect>, #[case] enters: bool) {
    let bench = with(SdkVersion::Sdk17, defect);
    let mut dev = bench.build();
    let t = dev.now();
    dev.app_write_gpregret(t, 0x01).unwrap();
    dev.app_soft_reset(t).unwrap();
    let t = dev.settle(t + secs(10));
    assert_eq!(in_dfu_mode(&dev), enters);
    if enters {
        dev.dfu_control(t, &[0x0C]).unwrap();
        dev.settle(t + secs(10));
        assert!(in_dfu_mode(&dev), "again after the next reset");
    }
}

#[rstest]
#[case::kept(None, vec![0x60, 0x01, 0x01])]
#[case::lost(Some(Defect::LoseInitOnReset), vec![0x60, 0x01, 0x08])]
fn lose_init_on_reset_refuses_data_after_a_reset(
    #[case] defect: Option<Defect>,
    #[case] reply: Vec<u8>,
) {
    let bench = with(SdkVersion::Sdk17, defect);
    let (mut dev, host, _) = after_init(&bench, Link::Ble, &bench.app(2), 2);
    let now = dev.settle(host.t + secs(1));
    let t = enter_dfu_swd(&mut dev, now);
    let mut host = Host::ble(t);
    assert_eq!(
        ask(
            &mut host,
            &mut dev,
            &Request::create(ObjectType::Data, 0x1000)
        ),
        reply
    );
}

/// 15.3 keeps RAM over a disconnect; after it CRC_GET of the partial object is wrong (defect).
#[rstest]
#[case::right(None, true)]
#[case::corrupt(Some(Defect::CorruptResumeCrc), false)]
fn corrupt_resume_crc_reports_a_wrong_crc_after_link_loss(
    #[case] defect: Option<Defect>,
    #[case] right: bool,
) {
    let bench = with(SdkVersion::Sdk15_3, defect);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    host.t += ms(400);
    for c in image[..244 * 5].chunks(244) {
        host.write(&mut dev, c);
    }
    dev.dfu_link_lost(host.t);
    host.t += secs(1);
    let r = ask(&mut host, &mut dev, &Request::CrcGet);
    let (offset, crc) = (
        u32::from_le_bytes(r[3..7].try_into().unwrap()),
        u32::from_le_bytes(r[7..11].try_into().unwrap()),
    );
    assert_eq!(offset, 244 * 5);
    assert_eq!(crc == crc32(&image[..244 * 5]), right);
}
