//! The UUIDs of Nordic's Secure DFU over BLE (SDK 17.1 `nrf_dfu_ble.h` and `ble_dfu.h`), as
//! `uuid::Uuid` (what btleplug and
//! other host stacks use). 16-bit SIG UUIDs are expanded on the Bluetooth base UUID.

use ::uuid::Uuid;

/// The DFU service (SIG-assigned to Nordic), in the bootloader and, for buttonless DFU, in the app.
pub const DFU_SERVICE_16: u16 = 0xFE59;
/// GAP and GATT services every SoftDevice exposes.
pub const GAP_SERVICE_16: u16 = 0x1800;
pub const GATT_SERVICE_16: u16 = 0x1801;
pub const DEVICE_NAME_16: u16 = 0x2A00;
pub const APPEARANCE_16: u16 = 0x2A01;
pub const PPCP_16: u16 = 0x2A04;
pub const SERVICE_CHANGED_16: u16 = 0x2A05;
/// Client Characteristic Configuration descriptor.
pub const CCCD_16: u16 = 0x2902;

/// `8EC9xxxx-F315-4F60-9FB8-838830DAEA50`, the vendor base of the DFU characteristics.
pub const fn nordic_dfu(short: u16) -> Uuid {
    Uuid::from_u128(0x8EC9_0000_F315_4F60_9FB8_8388_30DA_EA50 | (short as u128) << 96)
}

/// Control Point: write (with response) + notify.
pub const CONTROL_POINT: Uuid = nordic_dfu(0x0001);
/// Packet: write without response.
pub const PACKET: Uuid = nordic_dfu(0x0002);
/// Buttonless DFU without bonds (in the application).
pub const BUTTONLESS_UNBONDED: Uuid = nordic_dfu(0x0003);
/// Buttonless DFU with bonds (in the application).
pub const BUTTONLESS_BONDED: Uuid = nordic_dfu(0x0004);

/// A 16-bit SIG UUID on the Bluetooth base UUID `0000xxxx-0000-1000-8000-00805F9B34FB`.
pub const fn sig16(short: u16) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_1000_8000_0080_5F9B_34FB | (short as u128) << 96)
}

/// The 16-bit form of a UUID on the Bluetooth base, if it is one.
pub fn as_sig16(u: &Uuid) -> Option<u16> {
    let v = u.as_u128();
    let short = (v >> 96) as u16;
    (v == sig16(short).as_u128() && (v >> 112) == 0).then_some(short)
}

/// The UUID as the SoftDevice stores it: 16 bytes least significant first (the SDK writes the
/// vendor base as `50 EA DA 30 … C9 8E`).
pub fn lsb_first(u: &Uuid) -> [u8; 16] {
    u.as_u128().to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dfu_uuids_are_nordics() {
        assert_eq!(
            CONTROL_POINT.to_string().to_uppercase(),
            "8EC90001-F315-4F60-9FB8-838830DAEA50"
        );
        assert_eq!(
            PACKET.to_string().to_uppercase(),
            "8EC90002-F315-4F60-9FB8-838830DAEA50"
        );
        assert_eq!(
            BUTTONLESS_UNBONDED.to_string().to_uppercase(),
            "8EC90003-F315-4F60-9FB8-838830DAEA50"
        );
        assert_eq!(
            BUTTONLESS_BONDED.to_string().to_uppercase(),
            "8EC90004-F315-4F60-9FB8-838830DAEA50"
        );
        let mut base = lsb_first(&nordic_dfu(0));
        assert_eq!(
            base,
            [
                0x50, 0xEA, 0xDA, 0x30, 0x88, 0x83, 0xB8, 0x9F, 0x60, 0x4F, 0x15, 0xF3, 0x00, 0x00,
                0xC9, 0x8E
            ]
        );
        base[12] = 1;
        assert_eq!(Uuid::from_u128(u128::from_le_bytes(base)), CONTROL_POINT);
    }

    #[test]
    fn sig_uuids() {
        assert_eq!(
            sig16(DFU_SERVICE_16).to_string(),
            "0000fe59-0000-1000-8000-00805f9b34fb"
        );
        assert_eq!(as_sig16(&sig16(0x2902)), Some(0x2902));
        assert_eq!(as_sig16(&CONTROL_POINT), None);
    }
}
