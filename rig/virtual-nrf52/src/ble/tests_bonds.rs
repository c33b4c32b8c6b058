//! Bonds end to end on the BLE surface: the bonded buttonless application, pairing, the
//! bootloader built with NRF_DFU_BLE_REQUIRES_BONDS at the same address, its whitelist, its
//! encryption with the handed-over LTK and its Service Changed indication.

use super::adv::AdStructure;
use super::security::{BondKeys, SMP_PAIRING_NOT_SUPPORTED};
use super::tests::device_with;
use super::uuid::{self, sig16};
use super::*;
use crate::descriptor::Buttonless;
use crate::events::SimTime;
use crate::status::Status;
use crate::virtual_device::Device;
use nrf_dfu::SdkVersion;
use std::time::Duration;

const CENTRAL: [u8; 6] = [0x01, 0x71, 0xDA, 0x7D, 0x1A, 0x00];
const STRANGER: [u8; 6] = [0x02, 0x71, 0xDA, 0x7D, 0x1A, 0x00];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn att_code(e: &BleError) -> Option<u8> {
    match e {
        BleError::Att { error, .. } => Some(error.code()),
        _ => None,
    }
}

/// The bonded application, paired with CENTRAL, with indications on Service Changed and the
/// buttonless characteristic; `01` written and confirmed: the bootloader is up.
fn into_bonded_bootloader() -> (Device, BlePeripheral, BondKeys, SimTime) {
    let (mut dev, t) = device_with(SdkVersion::Sdk17, Some(Buttonless::Bonded), true);
    let app_address = dev.hardware().ficr().ble_address();
    let mut ble = BlePeripheral::new();
    let t = ble.connect_from(&mut dev, t, Some(CENTRAL)).unwrap();
    let (gatt, t) = ble.discover(&mut dev, t).unwrap();
    let b = gatt
        .characteristic(&uuid::BUTTONLESS_BONDED)
        .unwrap()
        .clone();
    let sc = gatt
        .characteristic(&sig16(uuid::SERVICE_CHANGED_16))
        .unwrap()
        .clone();
    // Unencrypted: no key for this central yet → 0x05 on the value and on its CCCD.
    let e = ble
        .write_request(&mut dev, t, b.cccd_handle.unwrap(), &[2, 0])
        .unwrap_err();
    assert_eq!(att_code(&e), Some(0x05), "{e}");
    let e = ble
        .write_request(&mut dev, t, b.value_handle, &[1])
        .unwrap_err();
    assert_eq!(att_code(&e), Some(0x05), "{e}");
    let (t, keys) = ble.pair(&mut dev, t).unwrap();
    assert_eq!(ble.bond(CENTRAL), Some(keys));
    assert_eq!(keys, BondKeys::derive(app_address, CENTRAL));
    let t = ble
        .write_request(&mut dev, t, sc.cccd_handle.unwrap(), &[2, 0])
        .unwrap();
    let t = ble
        .write_request(&mut dev, t, b.cccd_handle.unwrap(), &[2, 0])
        .unwrap();
    let t = ble
        .write_request(&mut dev, t, b.value_handle, &[1])
        .unwrap();
    let ev = ble.events(&mut dev, t + ms(200));
    assert!(
        matches!(&ev[..], [PeripheralEvent::Indication { value, .. }] if value == &[0x20, 0x01, 0x01]),
        "{ev:?}"
    );
    let at = ble.confirm_indication(&mut dev, t + ms(200)).unwrap();
    let booted = dev.settle(at + Duration::from_secs(5));
    match dev.status() {
        Status::Bootloader(s) => {
            assert!(s.requires_bonds);
            assert_eq!(s.ble_address, app_address, "same address with bonds");
            let peer = s.peer.expect("peer data handed over");
            assert_eq!(peer.addr(), CENTRAL);
            assert_eq!(peer.ltk(), keys.ltk);
            assert_eq!(peer.ediv(), keys.ediv);
        }
        other => panic!("{other:?}"),
    }
    (dev, ble, keys, booted)
}

#[test]
fn the_bonded_bootloader_keeps_the_address_and_whitelists_its_peer() {
    let (mut dev, mut ble, _, t) = into_bonded_bootloader();
    let a = ble.scan(&mut dev, t).unwrap();
    assert_eq!(a.address.0, dev.hardware().ficr().ble_address());
    assert_eq!(a.data.0[0], AdStructure::Flags(0x04), "not discoverable");
    assert!(!a.connectable);
    assert_eq!(
        ble.connect_from(&mut dev, t, Some(STRANGER)),
        Err(BleError::NotConnectable)
    );
    assert_eq!(ble.connect(&mut dev, t), Err(BleError::NotConnectable));
    ble.connect_from(&mut dev, t, Some(CENTRAL)).unwrap();
}

#[test]
fn the_bonded_bootloader_needs_encryption_and_indicates_service_changed() {
    let (mut dev, mut ble, keys, t) = into_bonded_bootloader();
    let t = ble.connect_from(&mut dev, t, Some(CENTRAL)).unwrap();
    let (gatt, t) = ble.discover(&mut dev, t).unwrap();
    let cp = gatt.characteristic(&uuid::CONTROL_POINT).unwrap().clone();
    let sc = gatt
        .characteristic(&sig16(uuid::SERVICE_CHANGED_16))
        .unwrap()
        .clone();
    // The CP's CCCD is open; its value needs encryption, and the bootloader holds a key: 0x0F.
    let t = ble
        .write_request(&mut dev, t, cp.cccd_handle.unwrap(), &[1, 0])
        .unwrap();
    let e = ble
        .write_request(&mut dev, t, cp.value_handle, &[0x06, 0x01])
        .unwrap_err();
    assert_eq!(att_code(&e), Some(0x0F), "{e}");
    // Pairing again is refused (PAIRING_NOT_SUPP); a wrong key too.
    assert!(matches!(
        ble.pair(&mut dev, t),
        Err(BleError::PairingFailed { reason, .. }) if reason == SMP_PAIRING_NOT_SUPPORTED
    ));
    let wrong = BondKeys {
        ediv: keys.ediv ^ 1,
        ..keys
    };
    assert!(matches!(
        ble.encrypt(&mut dev, t, &wrong),
        Err(BleError::KeyMissing { .. })
    ));
    let t = ble.encrypt(&mut dev, t, &keys).unwrap();
    // CONN_SEC_UPDATE: Service Changed from the DFU service's start handle to 0xFFFF.
    let dfu_start = gatt
        .services
        .iter()
        .find(|s| s.uuid == sig16(uuid::DFU_SERVICE_16))
        .unwrap()
        .start_handle;
    let ev = ble.events(&mut dev, t + ms(100));
    let mut want = dfu_start.to_le_bytes().to_vec();
    want.extend_from_slice(&[0xFF, 0xFF]);
    assert!(
        matches!(&ev[..], [PeripheralEvent::Indication { handle, value, .. }] if *handle == sc.value_handle && *value == want),
        "{ev:?}"
    );
    let t = ble.confirm_indication(&mut dev, t + ms(100)).unwrap();
    let t = ble
        .write_request(&mut dev, t, cp.value_handle, &[0x06, 0x01])
        .unwrap();
    let ev = ble.events(&mut dev, t + ms(100));
    assert!(
        matches!(&ev[..], [PeripheralEvent::Notification { value, .. }] if value[..3] == [0x60, 0x06, 0x01]),
        "{ev:?}"
    );
}

#[test]
fn the_bonded_application_answers_not_bonded_and_unsupported_ops() {
    let (mut dev, t) = device_with(SdkVersion::Sdk17, Some(Buttonless::Bonded), true);
    let mut ble = BlePeripheral::new();
    let t = ble.connect_from(&mut dev, t, Some(CENTRAL)).unwrap();
    let (gatt, t) = ble.discover(&mut dev, t).unwrap();
    let b = gatt
        .characteristic(&uuid::BUTTONLESS_BONDED)
        .unwrap()
        .clone();
    let (t, _) = ble.pair(&mut dev, t).unwrap();
    let t = ble
        .write_request(&mut dev, t, b.cccd_handle.unwrap(), &[2, 0])
        .unwrap();
    let t = ble
        .write_request(&mut dev, t, b.value_handle, b"\x02\x04Targ")
        .unwrap();
    let ev = ble.events(&mut dev, t + ms(100));
    assert!(
        matches!(&ev[..], [PeripheralEvent::Indication { value, .. }] if value == &[0x20, 0x02, 0x02]),
        "{ev:?}"
    );
    // A second connection encrypts with the stored bond: 0x0F before, accepted after.
    let keys = ble.bond(CENTRAL).unwrap();
    let t = ble.confirm_indication(&mut dev, t + ms(100)).unwrap();
    let t = ble.disconnect(&mut dev, t).unwrap();
    let t = ble
        .connect_from(&mut dev, t + ms(10), Some(CENTRAL))
        .unwrap();
    let e = ble
        .write_request(&mut dev, t, b.value_handle, &[1])
        .unwrap_err();
    assert_eq!(att_code(&e), Some(0x0F), "{e}");
    let _: SimTime = ble.encrypt(&mut dev, t, &keys).unwrap();
}
