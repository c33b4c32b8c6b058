//! BLE addresses as printed (MSB first, "F1:22:33:44:55:66") and the unbonded bootloader's
//! address rule: the least significant byte + 1, wrapping, no carry (nRF5 SDK
//! `nrf_dfu_ble.c` `gap_address_change`, SDK 12-17; Android computes the same).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BleAddress(pub [u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a BLE address (expected six hex bytes like F1:22:33:44:55:66)")]
pub struct BadAddress(pub String);

impl FromStr for BleAddress {
    type Err = BadAddress;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(BadAddress(s.to_string()));
        }
        let mut a = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            if p.len() != 2 {
                return Err(BadAddress(s.to_string()));
            }
            a[i] = u8::from_str_radix(p, 16).map_err(|_| BadAddress(s.to_string()))?;
        }
        Ok(BleAddress(a))
    }
}

impl fmt::Display for BleAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&s.join(":"))
    }
}

impl BleAddress {
    /// Where the unbonded bootloader advertises: last printed byte (the LSB) + 1, wrapping.
    pub fn bootloader(self) -> BleAddress {
        let mut a = self.0;
        a[5] = a[5].wrapping_add(1);
        BleAddress(a)
    }

    pub fn from_btleplug(a: btleplug::api::BDAddr) -> BleAddress {
        BleAddress(a.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("F1:22:33:44:55:66", "F1:22:33:44:55:67")]
    #[case("F1:22:33:44:55:FF", "F1:22:33:44:55:00")] // wraps, no carry into 0x55
    #[case("c0:00:00:00:00:fe", "C0:00:00:00:00:FF")]
    fn bootloader_address_is_lsb_plus_one_without_carry(#[case] app: &str, #[case] bl: &str) {
        assert_eq!(
            app.parse::<BleAddress>().unwrap().bootloader().to_string(),
            bl
        );
    }

    #[rstest]
    #[case("F1:22:33:44:55")]
    #[case("F1:22:33:44:55:6G")]
    #[case("F1:22:33:44:55:666")]
    #[case("")]
    fn bad_addresses(#[case] s: &str) {
        assert!(s.parse::<BleAddress>().is_err());
    }

    #[test]
    fn btleplug_byte_order_matches_printing() {
        let b: btleplug::api::BDAddr = "F1:22:33:44:55:66".parse().unwrap();
        assert_eq!(
            BleAddress::from_btleplug(b).to_string(),
            "F1:22:33:44:55:66"
        );
    }
}
