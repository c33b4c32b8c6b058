//! The stand-in bootloader descriptor: which Secure DFU bootloader build the region holds.
//! Body (100 bytes):
//!
//! | Offset | Size | Field |
//! |---|---|---|
//! | 0 | 1 | profile: SDK version code 12, 14, 150, 152, 153, 160, 171 (12.3 … 17.1) |
//! | 1 | 1 | transport: 0 BLE, 1 UART |
//! | 2 | 1 | flags: bit 0 `NRF_DFU_BLE_REQUIRES_BONDS`, bit 1 `NRF_DFU_SINGLE_BANK_APP_UPDATES`, bit 2 `NRF_DFU_SAVE_PROGRESS_IN_FLASH`, bit 3 `NRF_DFU_APP_DOWNGRADE_PREVENTION` = 0, bit 4 `NRF_DFU_APP_ACCEPT_SAME_VERSION` = 0, bit 5 `NRF_DFU_REQUIRE_SIGNED_APP_UPDATE` = 0 (bits 3-5 mark a default-on option switched off, so a 0 byte is the SDK default build); others 0 |
//! | 3 | 1 | advertising name length (1..=20) |
//! | 4 | 4 | hw_version u32 (`NRF_DFU_HW_VERSION`, 52 by default) |
//! | 8 | 4 | inactivity timeout ms u32 (`NRF_BL_DFU_INACTIVITY_TIMEOUT_MS`; 0 = none, as SDK 12) |
//! | 12 | 4 | defect set u32 ([`crate::defects::DefectSet`] bit mask) |
//! | 16 | 64 | public key: P-256 point x‖y as the bootloader's `pk[64]` holds it (little-endian halves) |
//! | 80 | 20 | advertising name, zero padded (`NRF_DFU_BLE_ADV_NAME`, "DfuTarg") |

use super::{frame, le32, padded, text, unframe, DescriptorError, Kind};
use crate::defects::DefectSet;
use nrf_dfu::SdkVersion;
use serde::{Deserialize, Serialize};

const BODY_LEN: usize = 100;
/// Longest advertising name (`NRF_DFU_ADV_NAME_MAX_LENGTH`, SDK 17.1 `ble_dfu_unbonded.c`).
pub const MAX_ADV_NAME: usize = 20;
const FLAG_BONDS: u8 = 1 << 0;
const FLAG_SINGLE_BANK: u8 = 1 << 1;
const FLAG_SAVE_PROGRESS: u8 = 1 << 2;
const FLAG_NO_DOWNGRADE_PREVENTION: u8 = 1 << 3;
const FLAG_REJECT_SAME_VERSION: u8 = 1 << 4;
const FLAG_UNSIGNED_APP_OK: u8 = 1 << 5;
const FLAG_DEBUG_VERSION: u8 = 1 << 6;
const KNOWN_FLAGS: u8 = FLAG_DEBUG_VERSION
    | FLAG_BONDS
    | FLAG_SINGLE_BANK
    | FLAG_SAVE_PROGRESS
    | FLAG_NO_DOWNGRADE_PREVENTION
    | FLAG_REJECT_SAME_VERSION
    | FLAG_UNSIGNED_APP_OK;

/// The DFU transport the bootloader was built with (nrf-dfu's, `ble` or `uart` in text).
pub use nrf_dfu::wire::Transport;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootloaderDescriptor {
    pub profile: SdkVersion,
    pub transport: Transport,
    #[serde(with = "pk_hex")]
    pub public_key: [u8; 64],
    pub hw_version: u32,
    pub requires_bonds: bool,
    pub single_bank: bool,
    pub inactivity_timeout_ms: u32,
    /// `NRF_DFU_SAVE_PROGRESS_IN_FLASH` (see [`super::options`] for these four and the above).
    #[serde(default)]
    pub save_progress_in_flash: bool,
    #[serde(default = "yes")]
    pub app_downgrade_prevention: bool,
    #[serde(default = "yes")]
    pub app_accept_same_version: bool,
    #[serde(default = "yes")]
    pub require_signed_app_update: bool,
    /// A debug build (`NRF_DFU_DEBUG_VERSION`, as the SDK's `*_debug` Makefiles define it): an
    /// init command with `is_debug` skips the hw_version, sd_req and fw_version checks (15.2 to
    /// 17.1 `nrf_dfu_ver_validation.c`, `nrf_dfu_ver_validation_check`).
    #[serde(default)]
    pub debug_version: bool,
    pub adv_name: String,
    pub defects: DefectSet,
}

fn yes() -> bool {
    true
}

/// The public key as 128 hex digits in text formats.
mod pk_hex {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pk: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(pk))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(d)?;
        let mut pk = [0u8; 64];
        hex::decode_to_slice(text.trim(), &mut pk)
            .map_err(|e| D::Error::custom(format!("public_key: {e} (expected 128 hex digits)")))?;
        Ok(pk)
    }
}

/// Descriptor code of an SDK profile.
pub fn profile_code(v: SdkVersion) -> u8 {
    match v {
        SdkVersion::Sdk12 => 12,
        SdkVersion::Sdk14 => 14,
        SdkVersion::Sdk15_0 => 150,
        SdkVersion::Sdk15_2 => 152,
        SdkVersion::Sdk15_3 => 153,
        SdkVersion::Sdk16 => 160,
        SdkVersion::Sdk17 => 171,
    }
}

fn profile_from_code(c: u8) -> Option<SdkVersion> {
    SdkVersion::ALL.into_iter().find(|v| profile_code(*v) == c)
}

impl BootloaderDescriptor {
    /// The SDK example's defaults for `profile` over BLE: hw_version 52, no bonds, dual bank,
    /// 120 s inactivity timeout (none in SDK 12.3's `nrf_bootloader_init`), name "DfuTarg".
    pub fn sdk_default(profile: SdkVersion, public_key: [u8; 64]) -> BootloaderDescriptor {
        BootloaderDescriptor {
            profile,
            transport: Transport::Ble,
            public_key,
            hw_version: 52,
            requires_bonds: false,
            single_bank: false,
            inactivity_timeout_ms: if profile == SdkVersion::Sdk12 {
                0
            } else {
                120_000
            },
            save_progress_in_flash: false,
            app_downgrade_prevention: true,
            app_accept_same_version: true,
            require_signed_app_update: true,
            debug_version: false,
            adv_name: "DfuTarg".into(),
            defects: DefectSet::empty(),
        }
    }

    fn field(field: &'static str, reason: impl Into<String>) -> DescriptorError {
        DescriptorError::Field {
            kind: Kind::Bootloader.name(),
            field,
            reason: reason.into(),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, DescriptorError> {
        let n = self.adv_name.len();
        if n == 0 || n > MAX_ADV_NAME {
            return Err(Self::field(
                "adv_name",
                format!("must be 1..={MAX_ADV_NAME} bytes, is {n}"),
            ));
        }
        let mut b = Vec::with_capacity(BODY_LEN);
        b.push(profile_code(self.profile));
        b.push(match self.transport {
            Transport::Ble => 0,
            Transport::Uart => 1,
        });
        let bit = |on: bool, f: u8| if on { f } else { 0 };
        b.push(
            bit(self.requires_bonds, FLAG_BONDS)
                | bit(self.single_bank, FLAG_SINGLE_BANK)
                | bit(self.save_progress_in_flash, FLAG_SAVE_PROGRESS)
                | bit(!self.app_downgrade_prevention, FLAG_NO_DOWNGRADE_PREVENTION)
                | bit(!self.app_accept_same_version, FLAG_REJECT_SAME_VERSION)
                | bit(!self.require_signed_app_update, FLAG_UNSIGNED_APP_OK)
                | bit(self.debug_version, FLAG_DEBUG_VERSION),
        );
        b.push(n as u8);
        b.extend_from_slice(&self.hw_version.to_le_bytes());
        b.extend_from_slice(&self.inactivity_timeout_ms.to_le_bytes());
        b.extend_from_slice(&self.defects.bits().to_le_bytes());
        b.extend_from_slice(&self.public_key);
        b.extend_from_slice(&padded(&self.adv_name, MAX_ADV_NAME));
        Ok(frame(Kind::Bootloader, &b))
    }

    pub fn decode(bytes: &[u8]) -> Result<BootloaderDescriptor, DescriptorError> {
        let b = unframe(Kind::Bootloader, bytes, BODY_LEN)?;
        let profile = profile_from_code(b[0]).ok_or_else(|| {
            Self::field("profile", format!("code {} is not an SDK profile", b[0]))
        })?;
        let transport = match b[1] {
            0 => Transport::Ble,
            1 => Transport::Uart,
            t => {
                return Err(Self::field(
                    "transport",
                    format!("code {t} is not 0 (BLE) or 1 (UART)"),
                ))
            }
        };
        let flags = b[2];
        if flags & !KNOWN_FLAGS != 0 {
            return Err(Self::field(
                "flags",
                format!("unknown bits in {flags:#04x}"),
            ));
        }
        let n = b[3] as usize;
        if n == 0 {
            return Err(Self::field("adv_name", "is empty"));
        }
        let mask = le32(b, 12);
        let defects = DefectSet::from_mask(mask)
            .ok_or_else(|| Self::field("defects", format!("unknown bits in {mask:#010x}")))?;
        let mut public_key = [0u8; 64];
        public_key.copy_from_slice(&b[16..80]);
        Ok(BootloaderDescriptor {
            profile,
            transport,
            public_key,
            hw_version: le32(b, 4),
            requires_bonds: flags & FLAG_BONDS != 0,
            single_bank: flags & FLAG_SINGLE_BANK != 0,
            inactivity_timeout_ms: le32(b, 8),
            save_progress_in_flash: flags & FLAG_SAVE_PROGRESS != 0,
            app_downgrade_prevention: flags & FLAG_NO_DOWNGRADE_PREVENTION == 0,
            app_accept_same_version: flags & FLAG_REJECT_SAME_VERSION == 0,
            require_signed_app_update: flags & FLAG_UNSIGNED_APP_OK == 0,
            debug_version: flags & FLAG_DEBUG_VERSION != 0,
            adv_name: text(Kind::Bootloader, "adv_name", &b[80..100], n, MAX_ADV_NAME)?,
            defects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_and_layout() {
        let d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [7; 64]);
        let e = d.encode().unwrap();
        assert_eq!(e.len(), 112);
        assert_eq!(&e[..4], b"rigB");
        assert_eq!(e[8], 171);
        assert_eq!(&e[12..16], &52u32.to_le_bytes());
        assert_eq!(&e[16..20], &120_000u32.to_le_bytes());
        assert_eq!(&e[88..95], b"DfuTarg");
        assert_eq!(
            BootloaderDescriptor::sdk_default(SdkVersion::Sdk12, [0; 64]).inactivity_timeout_ms,
            0
        );
    }

    #[test]
    fn name_too_long_is_refused() {
        let mut d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk15_3, [0; 64]);
        d.adv_name = "ABCDEFGHIJKLMNOPQRSTU".into();
        assert!(d.encode().unwrap_err().to_string().contains("adv_name"));
    }

    fn any_profile() -> impl Strategy<Value = SdkVersion> {
        proptest::sample::select(SdkVersion::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn round_trip(
            profile in any_profile(), uart: bool, pk in proptest::array::uniform32(any::<u8>()),
            hw: u32, bonds: bool, single: bool, timeout: u32, name in "[A-Za-z0-9]{1,20}", mask in 0u32..512,
            opts in proptest::array::uniform5(any::<bool>()),
        ) {
            let mut public_key = [0u8; 64];
            public_key[..32].copy_from_slice(&pk);
            public_key[32..].copy_from_slice(&pk);
            let d = BootloaderDescriptor {
                profile, transport: if uart { Transport::Uart } else { Transport::Ble }, public_key,
                hw_version: hw, requires_bonds: bonds, single_bank: single, inactivity_timeout_ms: timeout,
                save_progress_in_flash: opts[0], app_downgrade_prevention: opts[1],
                app_accept_same_version: opts[2], require_signed_app_update: opts[3],
                debug_version: opts[4],
                adv_name: name, defects: DefectSet::from_mask(mask).unwrap(),
            };
            let e = d.encode().unwrap();
            let back = BootloaderDescriptor::decode(&e).unwrap();
            prop_assert_eq!(back.encode().unwrap(), e);
            prop_assert_eq!(back, d);
        }

        #[test]
        fn garbage_is_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..140)) {
            prop_assert!(BootloaderDescriptor::decode(&bytes).is_err());
        }
    }
}
