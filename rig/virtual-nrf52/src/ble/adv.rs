//! Advertising: the AD structures the virtual device puts on air, the bootloader's address rule,
//! and the format of the stand-in application's version in its manufacturer data.
//!
//! Bootloader (SDK 17.1 `nrf_dfu_ble.c`, `advertising_init` / `advertising_start`): `02 01 06`
//! flags + `03 02 59 FE` incomplete 16-bit UUID list + `<n+1> 09 <name>` complete local name; no
//! scan response; 25 ms interval; connectable undirected.
//!
//! Stand-in application (the rig's own format; the real-DUT test application in
//! `firmware/testapp` advertises the same bytes, docs/DEVICE-CONTRACT.md):
//! `02 01 06` flags + the name (`09` complete, or `08` shortened to what fits in 31 bytes) +
//! `07 FF 59 00 <version u32 LE>`: manufacturer-specific data with company identifier 0x0059
//! (Nordic Semiconductor ASA) followed by the application version as the init packet's
//! `fw_version` (little-endian u32). A client reads the version running on a device from its
//! advertisement, without connecting.

use super::uuid::DFU_SERVICE_16;
use std::fmt;

/// Legacy advertising payload limit (Bluetooth Core Vol 6 Part B 2.3.1.1).
pub const ADV_DATA_MAX: usize = 31;
/// LE General Discoverable + BR/EDR not supported.
pub const FLAGS_GENERAL_DISCOVERABLE: u8 = 0x06;
/// Bluetooth SIG company identifier of Nordic Semiconductor ASA.
pub const NORDIC_COMPANY_ID: u16 = 0x0059;

mod ad_type {
    pub const FLAGS: u8 = 0x01;
    pub const INCOMPLETE_UUID16: u8 = 0x02;
    pub const COMPLETE_UUID16: u8 = 0x03;
    pub const SHORT_NAME: u8 = 0x08;
    pub const COMPLETE_NAME: u8 = 0x09;
    pub const MANUFACTURER: u8 = 0xFF;
}

/// One AD structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdStructure {
    Flags(u8),
    IncompleteUuid16(Vec<u16>),
    CompleteUuid16(Vec<u16>),
    CompleteName(String),
    ShortName(String),
    Manufacturer {
        company: u16,
        data: Vec<u8>,
    },
    /// Any other AD type, kept as it is.
    Other {
        ad_type: u8,
        data: Vec<u8>,
    },
}

/// Advertising data that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdvError {
    #[error("AD structure at offset {offset}: length {len} runs past the {total}-byte payload")]
    Overrun {
        offset: usize,
        len: usize,
        total: usize,
    },
    #[error("AD structure at offset {offset} (type {ad_type:#04x}): {reason}")]
    Field {
        offset: usize,
        ad_type: u8,
        reason: &'static str,
    },
    #[error("advertising data is {0} bytes, legacy advertising carries at most 31")]
    TooLong(usize),
}

impl AdStructure {
    fn encode_into(&self, out: &mut Vec<u8>) {
        let (t, body): (u8, Vec<u8>) = match self {
            AdStructure::Flags(f) => (ad_type::FLAGS, vec![*f]),
            AdStructure::IncompleteUuid16(u) => (
                ad_type::INCOMPLETE_UUID16,
                u.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            AdStructure::CompleteUuid16(u) => (
                ad_type::COMPLETE_UUID16,
                u.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            AdStructure::CompleteName(n) => (ad_type::COMPLETE_NAME, n.as_bytes().to_vec()),
            AdStructure::ShortName(n) => (ad_type::SHORT_NAME, n.as_bytes().to_vec()),
            AdStructure::Manufacturer { company, data } => {
                let mut b = company.to_le_bytes().to_vec();
                b.extend_from_slice(data);
                (ad_type::MANUFACTURER, b)
            }
            AdStructure::Other { ad_type, data } => (*ad_type, data.clone()),
        };
        out.push(body.len() as u8 + 1);
        out.push(t);
        out.extend_from_slice(&body);
    }
}

/// A whole advertising payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdvertisingData(pub Vec<AdStructure>);

fn uuid16_list(offset: usize, t: u8, b: &[u8]) -> Result<Vec<u16>, AdvError> {
    if !b.len().is_multiple_of(2) {
        return Err(AdvError::Field {
            offset,
            ad_type: t,
            reason: "16-bit UUID list of odd length",
        });
    }
    Ok(b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

impl AdvertisingData {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ADV_DATA_MAX);
        for s in &self.0 {
            s.encode_into(&mut out);
        }
        out
    }

    /// Decode a payload as a scanner does. A zero length byte ends the significant part (Core
    /// Vol 3 Part C 11: the rest is padding).
    pub fn decode(bytes: &[u8]) -> Result<AdvertisingData, AdvError> {
        if bytes.len() > ADV_DATA_MAX {
            return Err(AdvError::TooLong(bytes.len()));
        }
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = bytes[at] as usize;
            if len == 0 {
                break;
            }
            let body = bytes.get(at + 1..at + 1 + len).ok_or(AdvError::Overrun {
                offset: at,
                len,
                total: bytes.len(),
            })?;
            let (t, d) = (body[0], &body[1..]);
            let text = |d: &[u8]| {
                String::from_utf8(d.to_vec()).map_err(|_| AdvError::Field {
                    offset: at,
                    ad_type: t,
                    reason: "name is not UTF-8",
                })
            };
            out.push(match t {
                ad_type::FLAGS if d.len() == 1 => AdStructure::Flags(d[0]),
                ad_type::FLAGS => {
                    return Err(AdvError::Field {
                        offset: at,
                        ad_type: t,
                        reason: "flags must be one byte",
                    })
                }
                ad_type::INCOMPLETE_UUID16 => AdStructure::IncompleteUuid16(uuid16_list(at, t, d)?),
                ad_type::COMPLETE_UUID16 => AdStructure::CompleteUuid16(uuid16_list(at, t, d)?),
                ad_type::COMPLETE_NAME => AdStructure::CompleteName(text(d)?),
                ad_type::SHORT_NAME => AdStructure::ShortName(text(d)?),
                ad_type::MANUFACTURER if d.len() >= 2 => AdStructure::Manufacturer {
                    company: u16::from_le_bytes([d[0], d[1]]),
                    data: d[2..].to_vec(),
                },
                ad_type::MANUFACTURER => {
                    return Err(AdvError::Field {
                        offset: at,
                        ad_type: t,
                        reason: "manufacturer data without a company identifier",
                    })
                }
                _ => AdStructure::Other {
                    ad_type: t,
                    data: d.to_vec(),
                },
            });
            at += 1 + len;
        }
        Ok(AdvertisingData(out))
    }

    /// The complete or shortened local name.
    pub fn local_name(&self) -> Option<&str> {
        self.0.iter().find_map(|s| match s {
            AdStructure::CompleteName(n) | AdStructure::ShortName(n) => Some(n.as_str()),
            _ => None,
        })
    }

    pub fn flags(&self) -> Option<u8> {
        self.0.iter().find_map(|s| match s {
            AdStructure::Flags(f) => Some(*f),
            _ => None,
        })
    }

    /// Every advertised 16-bit service UUID (complete or incomplete lists).
    pub fn uuids16(&self) -> Vec<u16> {
        self.0
            .iter()
            .flat_map(|s| match s {
                AdStructure::IncompleteUuid16(u) | AdStructure::CompleteUuid16(u) => u.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    pub fn manufacturer_data(&self, company: u16) -> Option<&[u8]> {
        self.0.iter().find_map(|s| match s {
            AdStructure::Manufacturer { company: c, data } if *c == company => {
                Some(data.as_slice())
            }
            _ => None,
        })
    }

    /// The application version of the rig's manufacturer-data format (company 0x0059, u32 LE).
    pub fn app_version(&self) -> Option<u32> {
        let d = self.manufacturer_data(NORDIC_COMPANY_ID)?;
        Some(u32::from_le_bytes(d.try_into().ok()?))
    }
}

/// What a Secure DFU bootloader advertises (17.1 `advertising_init`): 9 + name length bytes.
pub fn bootloader_advertising(name: &str) -> AdvertisingData {
    AdvertisingData(vec![
        AdStructure::Flags(FLAGS_GENERAL_DISCOVERABLE),
        AdStructure::IncompleteUuid16(vec![DFU_SERVICE_16]),
        AdStructure::CompleteName(name.to_string()),
    ])
}

/// What the stand-in application advertises: flags, its name (shortened, as the SDK's
/// `ble_advdata` does, when the whole payload would exceed 31 bytes) and its version.
pub fn app_advertising(name: &str, version: u32) -> AdvertisingData {
    let fixed = 3 + 2 + 2 + 2 + 4; // flags, name header, manufacturer header, company, version
    let room = ADV_DATA_MAX - fixed;
    let name_ad = if name.len() <= room {
        AdStructure::CompleteName(name.to_string())
    } else {
        let mut cut = room;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        AdStructure::ShortName(name[..cut].to_string())
    };
    AdvertisingData(vec![
        AdStructure::Flags(FLAGS_GENERAL_DISCOVERABLE),
        name_ad,
        AdStructure::Manufacturer {
            company: NORDIC_COMPANY_ID,
            data: version.to_le_bytes().to_vec(),
        },
    ])
}

/// A BLE device address, least significant byte first (as the SoftDevice's `addr[6]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BleAddress(pub [u8; 6]);

impl BleAddress {
    /// The address the bootloader advertises with (17.1 `nrf_dfu_ble.c`, 12.3 `nrf_ble_dfu.c`:
    /// `gap_address_change`): without bonds it adds 1 to
    /// `addr[0]` (the least significant byte) with 8-bit wrap-around and no carry, so phones see a
    /// new device; with bonds it keeps the address. The address type (random static) is unchanged.
    pub fn for_bootloader(self, bonded: bool) -> BleAddress {
        let mut a = self.0;
        if !bonded {
            a[0] = a[0].wrapping_add(1);
        }
        BleAddress(a)
    }
}

/// "C3:11:22:33:44:55": most significant byte first, as hosts print addresses.
impl fmt::Display for BleAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            a[5], a[4], a[3], a[2], a[1], a[0]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bootloader_payload_bytes() {
        let d = bootloader_advertising("DfuTarg");
        let e = d.encode();
        assert_eq!(
            e,
            [
                &[0x02, 0x01, 0x06, 0x03, 0x02, 0x59, 0xFE, 0x08, 0x09][..],
                b"DfuTarg"
            ]
            .concat()
        );
        assert_eq!(e.len(), 9 + 7);
        assert_eq!(AdvertisingData::decode(&e).unwrap(), d);
        assert_eq!(d.uuids16(), vec![0xFE59]);
        assert_eq!(d.flags(), Some(0x06));
        assert_eq!(
            bootloader_advertising("ABCDEFGHIJKLMNOPQRST")
                .encode()
                .len(),
            29
        );
    }

    /// firmware/testapp's `payload_is_the_stand_in_format` expects these same bytes.
    #[test]
    fn app_payload_bytes_and_version() {
        let d = app_advertising("rig-app", 2);
        let e = d.encode();
        assert_eq!(
            e,
            [
                &[0x02, 0x01, 0x06, 0x08, 0x09][..],
                b"rig-app",
                &[0x07, 0xFF, 0x59, 0x00, 2, 0, 0, 0]
            ]
            .concat()
        );
        let back = AdvertisingData::decode(&e).unwrap();
        assert_eq!(back.app_version(), Some(2));
        assert_eq!(back.local_name(), Some("rig-app"));
        assert!(back.uuids16().is_empty());
    }

    #[test]
    fn long_app_names_are_shortened_to_fit() {
        let name = "a-very-long-application-name-32b";
        let d = app_advertising(name, 7);
        let e = d.encode();
        assert_eq!(e.len(), 31);
        assert!(matches!(&d.0[1], AdStructure::ShortName(n) if n == &name[..18]));
        assert_eq!(AdvertisingData::decode(&e).unwrap().app_version(), Some(7));
    }

    #[test]
    fn address_plus_one_without_carry() {
        let a = BleAddress([0xFF, 0x10, 0x20, 0x30, 0x40, 0xC5]);
        assert_eq!(
            a.for_bootloader(false),
            BleAddress([0x00, 0x10, 0x20, 0x30, 0x40, 0xC5])
        );
        assert_eq!(a.for_bootloader(true), a);
        assert_eq!(
            BleAddress([0x01, 2, 3, 4, 5, 0xC6]).for_bootloader(false).0[0],
            0x02
        );
        assert_eq!(a.to_string(), "C5:40:30:20:10:FF");
    }

    #[test]
    fn malformed_payloads_are_located() {
        assert!(matches!(
            AdvertisingData::decode(&[0x05, 0x09, b'a']),
            Err(AdvError::Overrun { offset: 0, .. })
        ));
        assert!(matches!(
            AdvertisingData::decode(&[0x02, 0x01, 0x06, 0x02, 0x02, 0x59]),
            Err(AdvError::Field { offset: 3, .. })
        ));
        assert!(matches!(
            AdvertisingData::decode(&[0x02, 0xFF, 0x59]),
            Err(AdvError::Field { .. })
        ));
        assert!(matches!(
            AdvertisingData::decode(&[0u8; 32]),
            Err(AdvError::TooLong(32))
        ));
        assert_eq!(
            AdvertisingData::decode(&[0x02, 0x01, 0x06, 0x00, 0x00])
                .unwrap()
                .0
                .len(),
            1
        );
    }

    proptest! {
        #[test]
        fn app_round_trip(name in "[a-zA-Z0-9_-]{1,32}", version: u32) {
            let d = app_advertising(&name, version);
            let e = d.encode();
            prop_assert!(e.len() <= ADV_DATA_MAX);
            let back = AdvertisingData::decode(&e).unwrap();
            prop_assert_eq!(back.encode(), e);
            prop_assert_eq!(back.app_version(), Some(version));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(d) = AdvertisingData::decode(&bytes) {
                let e = d.encode();
                prop_assert_eq!(AdvertisingData::decode(&e).unwrap(), d);
            }
        }
    }
}
