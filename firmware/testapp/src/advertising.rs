//! The advertising payload, byte for byte the format of the virtual device's stand-in application
//! (`rig/virtual-nrf52/src/ble/adv.rs`, `app_advertising`), so the rig reads the running
//! version from either without connecting:
//!
//! ```text
//! 02 01 06                      flags: LE General Discoverable, BR/EDR not supported
//! 08 09 72 69 67 2D 61 70 70    complete local name "rig-app"
//! 07 FF 59 00 vv vv vv vv       manufacturer data: company 0x0059 (Nordic Semiconductor ASA),
//!                               then the application version (fw_version), u32 little-endian
//! ```
//! Connectable, scannable undirected; the scan response is empty.

/// The advertised complete local name.
pub const APP_NAME: &str = "rig-app";
/// Bluetooth SIG company identifier of Nordic Semiconductor ASA.
pub const NORDIC_COMPANY_ID: u16 = 0x0059;
/// LE General Discoverable Mode + BR/EDR Not Supported.
pub const FLAGS: u8 = 0x06;
/// Bytes of the payload: flags (3) + name (2 + 7) + manufacturer data (2 + 2 + 4).
pub const ADV_LEN: usize = 3 + 2 + APP_NAME.len() + 2 + 2 + 4;

// Legacy advertising carries at most 31 bytes (Core Vol 6 Part B 2.3.1.1).
const _: () = assert!(ADV_LEN <= 31);

const AD_FLAGS: u8 = 0x01;
const AD_COMPLETE_NAME: u8 = 0x09;
const AD_MANUFACTURER: u8 = 0xFF;

/// The advertising data of an application of `version`.
pub const fn advertising_data(version: u32) -> [u8; ADV_LEN] {
    let mut out = [0u8; ADV_LEN];
    out[0] = 2;
    out[1] = AD_FLAGS;
    out[2] = FLAGS;
    let name = APP_NAME.as_bytes();
    out[3] = name.len() as u8 + 1;
    out[4] = AD_COMPLETE_NAME;
    let mut i = 0;
    while i < name.len() {
        out[5 + i] = name[i];
        i += 1;
    }
    let m = 5 + name.len();
    out[m] = 7;
    out[m + 1] = AD_MANUFACTURER;
    let company = NORDIC_COMPANY_ID.to_le_bytes();
    out[m + 2] = company[0];
    out[m + 3] = company[1];
    let v = version.to_le_bytes();
    out[m + 4] = v[0];
    out[m + 5] = v[1];
    out[m + 6] = v[2];
    out[m + 7] = v[3];
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same bytes as virtual-nrf52's `app_payload_bytes_and_version` test expects of the
    /// stand-in application: if one side changes, this literal breaks on the other.
    #[test]
    fn payload_is_the_stand_in_format() {
        let expected: [u8; 20] = [
            0x02, 0x01, 0x06, //
            0x08, 0x09, b'r', b'i', b'g', b'-', b'a', b'p', b'p', //
            0x07, 0xFF, 0x59, 0x00, 2, 0, 0, 0,
        ];
        assert_eq!(advertising_data(2), expected);
    }

    #[test]
    fn version_is_little_endian_after_the_company_id() {
        let d = advertising_data(0x0102_0304);
        assert_eq!(&d[ADV_LEN - 6..], &[0x59, 0x00, 0x04, 0x03, 0x02, 0x01]);
    }
}
