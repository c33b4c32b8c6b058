//! The BLE surface against the real device model.

use super::peripheral::APP_ADV_INTERVAL;
use super::*;
use crate::debug_port::{DebugPort, ProgramOptions};
use crate::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless};
use crate::events::SimTime;
use crate::softdevice::{S132_3_0_0, S132_7_2_0};
use crate::standin;
use crate::status::Status;
use crate::virtual_device::Device;
use crate::Segment;
use nrf_dfu::settings::{generate, BackupPlacement, Family, GenerateOptions};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// S132 + a BLE stand-in bootloader of `sdk`; with `app`, the stand-in application and settings
/// that make it valid. Booted and settled.
fn device(sdk: SdkVersion, app: Option<Buttonless>) -> (Device, SimTime) {
    device_with(sdk, app, false)
}

/// [`device`] with the bootloader built with `NRF_DFU_BLE_REQUIRES_BONDS` = `bonds`.
pub(super) fn device_with(
    sdk: SdkVersion,
    app: Option<Buttonless>,
    bonds: bool,
) -> (Device, SimTime) {
    let mut dev = Device::new(Chip::Nrf52832Qfaa, 7);
    let sd = if sdk == SdkVersion::Sdk12 {
        S132_3_0_0
    } else {
        S132_7_2_0
    };
    let mut segs: Vec<Segment> = standin::softdevice_hex_segments(&sd);
    let mut bl = BootloaderDescriptor::sdk_default(sdk, [5; 64]);
    bl.requires_bonds = bonds;
    segs.extend(standin::bootloader_segments(&bl, Chip::Nrf52832Qfaa, 0x5000).unwrap());
    if let Some(buttonless) = app {
        let base = sd.info.end_address;
        let img = standin::app_image(
            &AppDescriptor {
                name: "rig-app".into(),
                version: 7,
                buttonless,
            },
            Chip::Nrf52832Qfaa,
            base,
            0x2000,
        )
        .unwrap();
        let g = generate(
            &GenerateOptions {
                family: Family::Nrf52,
                application: Some(&img),
                application_version: Some(7),
                bootloader_version: 1,
                bl_settings_version: sdk.settings_version(),
                start_address: None,
                backup: if sdk.has_settings_backup() {
                    BackupPlacement::BelowSettings
                } else {
                    BackupPlacement::None
                },
                app_boot_validation: None,
                sd_boot_validation: None,
                softdevice: None,
            },
            None,
        )
        .unwrap();
        segs.extend(g.segments());
        segs.push((base, img));
    }
    let mut d = dev.debug(SimTime::ZERO);
    d.program(&segs, ProgramOptions::default()).unwrap();
    d.soft_reset().unwrap();
    let t = dev.settle(Duration::from_secs(5));
    (dev, t)
}

fn ficr_address(dev: &Device) -> [u8; 6] {
    dev.hardware().ficr().ble_address()
}

#[test]
fn bootloader_advertises_dfutarg_every_25_ms_at_address_plus_one() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    assert!(matches!(dev.status(), Status::Bootloader(_)));
    let mut ble = BlePeripheral::new();
    let a = ble.scan(&mut dev, t).expect("advertising");
    assert_eq!(a.data.local_name(), Some("DfuTarg"));
    assert_eq!(a.data.flags(), Some(0x06));
    assert_eq!(a.data.uuids16(), vec![0xFE59]);
    assert_eq!(a.data.encode().len(), 9 + 7);
    assert!(a.connectable);
    let mut want = ficr_address(&dev);
    want[0] = want[0].wrapping_add(1);
    assert_eq!(a.address.0, want);
    assert_eq!(
        &a.address.0[1..],
        &ficr_address(&dev)[1..],
        "no carry into byte 1"
    );
    // Events every 25 ms from the first; a scan sees the last one, never older than an interval.
    let first = a.at;
    let b = ble.scan(&mut dev, first + ms(30)).unwrap();
    assert_eq!(b.at, first + ms(25));
    assert_eq!(
        ble.scan(&mut dev, first + ms(50)).unwrap().at,
        first + ms(50)
    );
    assert_eq!(ble.next_advertisement(first + ms(51)), Some(first + ms(75)));
}

#[test]
fn advertisements_are_fresh_only_while_the_device_advertises() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    assert!(ble.scan(&mut dev, t).is_some());
    dev.power_off(t + ms(10));
    assert!(
        ble.scan(&mut dev, t + ms(11)).is_none(),
        "no stale advertisement after power-off"
    );
    dev.power_on(t + ms(20));
    // The settings pages agree: nothing to write, DFU mode opens at once and advertising
    // starts from the power-on, not from before the cut.
    let a = ble.scan(&mut dev, t + ms(30)).unwrap();
    assert_eq!(a.at, t + ms(20));
}

#[test]
fn app_advertises_name_and_version_at_its_own_address() {
    let (mut dev, t) = device(SdkVersion::Sdk17, Some(Buttonless::Unbonded));
    assert!(matches!(dev.status(), Status::App(_)), "{:?}", dev.status());
    let mut ble = BlePeripheral::new();
    let a = ble.scan(&mut dev, t).unwrap();
    assert_eq!(a.data.local_name(), Some("rig-app"));
    assert_eq!(a.data.app_version(), Some(7));
    assert_eq!(
        a.data.manufacturer_data(0x0059),
        Some(&7u32.to_le_bytes()[..])
    );
    assert_eq!(a.address.0, ficr_address(&dev));
    let first = a.at;
    assert_eq!(
        ble.scan(&mut dev, first + ms(200)).unwrap().at,
        first + APP_ADV_INTERVAL
    );
}

#[test]
fn app_without_descriptor_does_not_advertise() {
    let mut dev = Device::new(Chip::Nrf52832Qfaa, 3);
    let mut segs = standin::softdevice_hex_segments(&S132_7_2_0);
    // A "real" application: a vector table, no descriptor; no bootloader configured.
    segs.push((
        0x26000,
        [0x2001_0000u32.to_le_bytes(), 0x26101u32.to_le_bytes()].concat(),
    ));
    let mut d = dev.debug(SimTime::ZERO);
    d.program(&segs, ProgramOptions::default()).unwrap();
    d.soft_reset().unwrap();
    let t = dev.settle(Duration::from_secs(1));
    assert_eq!(dev.status(), Status::Silent);
    assert!(BlePeripheral::new().scan(&mut dev, t).is_none());
}

/// Connected to a 17.1 bootloader, services discovered; returns (CP handle, CP CCCD, Packet).
fn connected(dev: &mut Device, ble: &mut BlePeripheral, t: SimTime) -> (u16, u16, u16, SimTime) {
    let t = ble.connect(dev, t).unwrap();
    let (gatt, t) = ble.discover(dev, t).unwrap();
    let cp = gatt.characteristic(&uuid::CONTROL_POINT).unwrap();
    let pkt = gatt.characteristic(&uuid::PACKET).unwrap();
    (
        cp.value_handle,
        cp.cccd_handle.unwrap(),
        pkt.value_handle,
        t,
    )
}

#[test]
fn control_point_needs_notifications_enabled() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let (cp, cccd, _, t) = connected(&mut dev, &mut ble, t);
    assert!(
        ble.scan(&mut dev, t).is_none(),
        "no advertising while connected"
    );
    let err = ble
        .write_request(&mut dev, t, cp, &[0x06, 0x01])
        .unwrap_err();
    assert!(
        matches!(err, BleError::Att { error: AttError::CccdImproperlyConfigured(h), .. } if h == cp),
        "{err:?}"
    );
    let t = ble.write_request(&mut dev, t, cccd, &[0x01, 0x00]).unwrap();
    let sent_at = t;
    let rsp = ble.write_request(&mut dev, t, cp, &[0x06, 0x01]).unwrap();
    let interval = ble.connection().unwrap().link.interval;
    assert_eq!(interval, ms(15));
    assert!(
        rsp - sent_at <= interval * 2 && rsp > sent_at,
        "a round trip: {:?}",
        rsp - sent_at
    );
    let ev = ble.events(&mut dev, rsp + ms(100));
    let n = ev.iter().find_map(|e| match e {
        PeripheralEvent::Notification { handle, value, .. } if *handle == cp => Some(value.clone()),
        _ => None,
    });
    let n = n.expect("SELECT response notification");
    assert_eq!(&n[..3], &[0x60, 0x06, 0x01]);
    assert_eq!(
        u32::from_le_bytes(n[3..7].try_into().unwrap()),
        512,
        "17.1 max init packet"
    );
}

#[rstest]
#[case(SdkVersion::Sdk17, 23, 23)]
#[case(SdkVersion::Sdk17, 100, 99)]
#[case(SdkVersion::Sdk17, 185, 183)]
#[case(SdkVersion::Sdk17, 247, 247)]
#[case(SdkVersion::Sdk17, 517, 247)]
#[case(SdkVersion::Sdk15_0, 185, 183)]
#[case(SdkVersion::Sdk14, 517, 23)]
#[case(SdkVersion::Sdk12, 247, 23)]
fn mtu_exchange_with_the_bootloader(#[case] sdk: SdkVersion, #[case] asked: u16, #[case] got: u16) {
    let (mut dev, t) = device(sdk, None);
    let mut ble = BlePeripheral::new();
    let t = ble.connect(&mut dev, t).unwrap();
    let (mtu, at) = ble.exchange_mtu(&mut dev, t, asked).unwrap();
    assert_eq!(mtu, got);
    assert!(at > t);
}

#[test]
fn packet_payload_is_limited_to_mtu_minus_3() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let (_, _, pkt, t) = connected(&mut dev, &mut ble, t);
    let e = ble.write_command(&mut dev, t, pkt, &[0; 21]).unwrap_err();
    assert!(
        matches!(
            e,
            BleError::Att {
                error: AttError::InvalidAttributeValueLength {
                    len: 21,
                    max: 20,
                    ..
                },
                ..
            }
        ),
        "{e:?}"
    );
    ble.write_command(&mut dev, t, pkt, &[0; 20]).unwrap();
    let (mtu, t) = ble.exchange_mtu(&mut dev, t, 247).unwrap();
    assert_eq!(mtu, 247);
    ble.write_command(&mut dev, t, pkt, &[0; 244]).unwrap();
    assert!(matches!(
        ble.write_command(&mut dev, t, pkt, &[0; 245]),
        Err(BleError::Att {
            error: AttError::InvalidAttributeValueLength { max: 244, .. },
            ..
        })
    ));
    // The Packet characteristic takes no write request.
    assert!(matches!(
        ble.write_request(&mut dev, t, pkt, &[0; 4]),
        Err(BleError::Att {
            error: AttError::WriteNotPermitted(_),
            ..
        })
    ));
}

#[test]
fn write_commands_fill_connection_events_and_prn_notifies_on_the_cp() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let (cp, cccd, pkt, t) = connected(&mut dev, &mut ble, t);
    let (_, t) = ble.exchange_mtu(&mut dev, t, 247).unwrap();
    let t = ble.write_request(&mut dev, t, cccd, &[1, 0]).unwrap();
    let t = ble
        .write_request(&mut dev, t, cp, &[0x02, 0x01, 0x00])
        .unwrap(); // PRN = 1
    let t = ble
        .write_request(&mut dev, t, cp, &[0x01, 0x01, 0x20, 0x00, 0x00, 0x00])
        .unwrap(); // CREATE command, 32 B
    let t = t + ms(50);
    let _ = ble.events(&mut dev, t);
    let a = ble.write_command(&mut dev, t, pkt, &[0xAB; 16]).unwrap();
    let b = ble.write_command(&mut dev, t, pkt, &[0xCD; 16]).unwrap();
    assert_eq!(a, b, "two packets share one connection event");
    let ev = ble.events(&mut dev, b + ms(100));
    let prn: Vec<Vec<u8>> = ev
        .iter()
        .filter_map(|e| match e {
            PeripheralEvent::Notification { handle, value, .. } if *handle == cp => {
                Some(value.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(prn.len(), 2, "{ev:?}");
    assert_eq!(&prn[0][..3], &[0x60, 0x03, 0x01]);
    assert_eq!(u32::from_le_bytes(prn[1][3..7].try_into().unwrap()), 32);
    let crc = nrf_dfu::crc::crc32(&[[0xAB; 16], [0xCD; 16]].concat());
    assert_eq!(u32::from_le_bytes(prn[1][7..11].try_into().unwrap()), crc);
    // 17 packets at MTU 247 take 9 connection events (2 per event: timing::CENTRAL_PACKETS_PER_EVENT).
    let c0 = ble.connection().unwrap().link.clone();
    let start = c0.event_at_or_after(b + ms(200));
    let times: Vec<SimTime> = (0..17)
        .map(|_| ble.write_command(&mut dev, start, pkt, &[0; 4]).unwrap())
        .collect();
    assert_eq!(times[0], start);
    assert_eq!(times[16], start + ms(120));
}

#[rstest]
#[case(SdkVersion::Sdk17, 6000)]
#[case(SdkVersion::Sdk15_3, 6000)]
#[case(SdkVersion::Sdk14, 4000)]
#[case(SdkVersion::Sdk12, 4000)]
fn power_loss_is_seen_after_the_supervision_timeout(
    #[case] sdk: SdkVersion,
    #[case] timeout_ms: u64,
) {
    let (mut dev, t) = device(sdk, None);
    let mut ble = BlePeripheral::new();
    let t = ble.connect(&mut dev, t).unwrap();
    let cut = t + ms(100);
    dev.power_off(cut);
    let last_event = ble.connection().unwrap().link.event_at_or_before(cut);
    assert!(
        ble.events(&mut dev, cut + ms(timeout_ms) - ms(20))
            .is_empty(),
        "not yet"
    );
    assert!(ble.is_connected(cut + ms(timeout_ms) - ms(20)));
    let ev = ble.events(&mut dev, cut + ms(timeout_ms) + ms(20));
    assert_eq!(
        ev,
        vec![PeripheralEvent::Disconnected {
            at: last_event + ms(timeout_ms),
            reason: DisconnectReason::ConnectionTimeout
        }]
    );
    assert_eq!(DisconnectReason::ConnectionTimeout.code(), 0x08);
}

#[test]
fn requests_to_a_reset_device_fail_when_the_link_times_out() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let (cp, cccd, _, t) = connected(&mut dev, &mut ble, t);
    let t = ble.write_request(&mut dev, t, cccd, &[1, 0]).unwrap();
    assert!(dev.reset(t, crate::power::ResetKind::SoftReset));
    match ble.write_request(&mut dev, t + ms(1), cp, &[0x06, 0x01]) {
        Err(BleError::Disconnected {
            at,
            reason: DisconnectReason::ConnectionTimeout,
        }) => assert!(at >= t + ms(5985)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_radio_link_loss_times_out_on_both_sides_without_running_the_device_ahead() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let (cp, cccd, pkt, t) = connected(&mut dev, &mut ble, t);
    let t = ble.write_request(&mut dev, t, cccd, &[1, 0]).unwrap();
    // A request answered after the loss: its notification never arrives.
    ble.write_request(&mut dev, t, cp, &[0x06, 0x01]).unwrap();
    let lost = t + ms(1);
    let end = ble.link_lost(&mut dev, lost).unwrap();
    assert_eq!(
        end,
        ble.connection().unwrap().link.event_at_or_before(lost) + ms(6000),
        "the central gives up one supervision timeout after the last event it heard"
    );
    assert!(
        dev.now() < end,
        "the device is not run ahead to the timeout"
    );
    assert_eq!(ble.link_lost(&mut dev, lost), Err(BleError::NotConnected));
    // Until then writes go nowhere and requests fail at the timeout.
    let dropped = ble.stats.packets_dropped;
    ble.write_command(&mut dev, lost + ms(5), pkt, &[0; 20])
        .unwrap();
    assert_eq!(ble.stats.packets_dropped, dropped + 1);
    assert_eq!(
        ble.write_request(&mut dev, lost + ms(5), cp, &[0x06, 0x01]),
        Err(BleError::Disconnected {
            at: end,
            reason: DisconnectReason::ConnectionTimeout
        })
    );
    assert_eq!(
        ble.events(&mut dev, end),
        vec![PeripheralEvent::Disconnected {
            at: end,
            reason: DisconnectReason::ConnectionTimeout
        }],
        "nothing the device sent after the loss arrives"
    );
    assert!(
        ble.scan(&mut dev, end + ms(30)).is_some(),
        "advertising again"
    );
    assert!(ble.connect(&mut dev, end + ms(30)).is_ok());
}

#[test]
fn abort_disconnects_cleanly_at_once() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let (cp, cccd, _, t) = connected(&mut dev, &mut ble, t);
    let t = ble.write_request(&mut dev, t, cccd, &[1, 0]).unwrap();
    let t = ble.write_request(&mut dev, t, cp, &[0x0C]).unwrap();
    let ev = ble.events(&mut dev, t + ms(1000));
    let d = ev.iter().find_map(|e| match e {
        PeripheralEvent::Disconnected { at, reason } => Some((*at, *reason)),
        _ => None,
    });
    let (at, reason) = d.expect("disconnected");
    assert_eq!(reason, DisconnectReason::RemoteUserTerminated);
    assert!(at < t + ms(1000), "well before a supervision timeout");
}

#[test]
fn central_disconnect_restarts_advertising_and_reverts_progress_on_16_and_17() {
    let (mut dev, t) = device(SdkVersion::Sdk17, None);
    let mut ble = BlePeripheral::new();
    let t = ble.connect(&mut dev, t).unwrap();
    let at = ble.disconnect(&mut dev, t + ms(3)).unwrap();
    assert_eq!(at, t + ms(15));
    assert_eq!(
        ble.events(&mut dev, at),
        vec![PeripheralEvent::Disconnected {
            at,
            reason: DisconnectReason::LocalHostTerminated
        }]
    );
    let a = ble.scan(&mut dev, at).unwrap();
    assert_eq!(a.at, at, "advertising again from the disconnect");
    assert!(ble.connect(&mut dev, at).is_ok());
}

/// Connected to the app, indications on the buttonless characteristic enabled or not.
fn app_link(indications: bool) -> (Device, BlePeripheral, u16, SimTime) {
    let (mut dev, t) = device(SdkVersion::Sdk17, Some(Buttonless::Unbonded));
    let mut ble = BlePeripheral::new();
    let t = ble.connect(&mut dev, t).unwrap();
    let (gatt, mut t) = ble.discover(&mut dev, t).unwrap();
    let ch = gatt
        .characteristic(&uuid::BUTTONLESS_UNBONDED)
        .unwrap()
        .clone();
    assert!(gatt.characteristic(&uuid::CONTROL_POINT).is_none());
    if indications {
        t = ble
            .write_request(&mut dev, t, ch.cccd_handle.unwrap(), &[2, 0])
            .unwrap();
    }
    (dev, ble, ch.value_handle, t)
}

#[test]
fn buttonless_needs_indications_enabled() {
    let (mut dev, mut ble, h, t) = app_link(false);
    let e = ble.write_request(&mut dev, t, h, &[0x01]).unwrap_err();
    assert!(
        matches!(
            e,
            BleError::Att {
                error: AttError::CccdImproperlyConfigured(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(dev.status(), Status::App(_)));
}

#[test]
fn buttonless_resets_only_after_the_indication_is_confirmed() {
    let (mut dev, mut ble, h, t) = app_link(true);
    let epoch = dev.epoch();
    let t = ble.write_request(&mut dev, t, h, &[0x01]).unwrap();
    let ev = ble.events(&mut dev, t + ms(100));
    assert!(
        matches!(&ev[..], [PeripheralEvent::Indication { value, .. }] if value == &[0x20, 0x01, 0x01]),
        "{ev:?}"
    );
    // Never confirmed: the application keeps running.
    let later = t + Duration::from_secs(30);
    assert!(ble.events(&mut dev, later).is_empty());
    assert_eq!(dev.epoch(), epoch);
    assert!(matches!(dev.status(), Status::App(_)));
    assert_eq!(dev.hardware().power().gpregret(), 0);
    // Confirmed: disconnect 0x13, GPREGRET 0xB1, reset into the bootloader, which advertises at +1.
    let at = ble.confirm_indication(&mut dev, later).unwrap();
    let ev = ble.events(&mut dev, at + ms(100));
    assert!(
        matches!(
            ev[..],
            [PeripheralEvent::Disconnected {
                reason: DisconnectReason::RemoteUserTerminated,
                ..
            }]
        ),
        "{ev:?}"
    );
    assert_ne!(dev.epoch(), epoch);
    let booted = dev.settle(at + Duration::from_secs(5));
    assert!(
        matches!(dev.status(), Status::Bootloader(_)),
        "{:?}",
        dev.status()
    );
    let a = ble.scan(&mut dev, booted).unwrap();
    assert_eq!(a.data.local_name(), Some("DfuTarg"));
    assert_eq!(a.address.0[0], ficr_address(&dev)[0].wrapping_add(1));
    assert!(matches!(
        ble.confirm_indication(&mut dev, booted),
        Err(BleError::NotConnected)
    ));
}

#[test]
fn buttonless_set_adv_name_and_bad_requests() {
    let (mut dev, mut ble, h, t) = app_link(true);
    let t = ble.write_request(&mut dev, t, h, &[0x02, 0x00]).unwrap();
    let t = ble
        .write_request(&mut dev, t, h, b"\x02\x06RigDfu")
        .unwrap();
    let t = ble.write_request(&mut dev, t, h, &[0x07]).unwrap();
    let ev = ble.events(&mut dev, t + ms(500));
    let ind: Vec<Vec<u8>> = ev
        .iter()
        .filter_map(|e| match e {
            PeripheralEvent::Indication { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        ind,
        vec![
            vec![0x20, 0x02, 0x05],
            vec![0x20, 0x02, 0x01],
            vec![0x20, 0x07, 0x02]
        ]
    );
    // Enter DFU: the bootloader advertises the new name.
    let t = t + ms(500);
    for _ in 0..3 {
        ble.confirm_indication(&mut dev, t).unwrap();
    }
    let t = ble.write_request(&mut dev, t, h, &[0x01]).unwrap();
    let _ = ble.events(&mut dev, t + ms(100));
    let at = ble.confirm_indication(&mut dev, t + ms(100)).unwrap();
    let booted = dev.settle(at + Duration::from_secs(5));
    assert_eq!(
        ble.scan(&mut dev, booted).unwrap().data.local_name(),
        Some("RigDfu")
    );
}
