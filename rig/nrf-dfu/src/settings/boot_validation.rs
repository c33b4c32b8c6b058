//! Boot validation entries of the v2 settings page (`boot_validation_t` in `nrf_dfu_types.h`,
//! SDK 15.3+).
//!
//! The settings page stores what the bootloader checks at boot: a CRC-32 (little-endian), a SHA-256
//! digest (big-endian, not reversed as in the init packet) or an ECDSA P-256 signature (r and s
//! each little-endian, as nrfutil's `Signing.sign` returns them).

use super::hex_serde;
use super::layout::BOOT_VALIDATION_BYTES_LEN;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// `boot_validation_type_t` (one byte: the SDK builds with `-fshort-enums`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootValidationType {
    /// 0 `NO_VALIDATION`.
    NoValidation,
    /// 1 `VALIDATE_CRC` (init packet and nrfutil: `VALIDATE_GENERATED_CRC`).
    ValidateCrc,
    /// 2 `VALIDATE_SHA256` (nrfutil option: `VALIDATE_GENERATED_SHA256`).
    ValidateSha256,
    /// 3 `VALIDATE_ECDSA_P256_SHA256`.
    ValidateEcdsaP256Sha256,
    /// Any other byte.
    Unknown(u8),
}

impl BootValidationType {
    pub fn code(self) -> u8 {
        match self {
            BootValidationType::NoValidation => 0,
            BootValidationType::ValidateCrc => 1,
            BootValidationType::ValidateSha256 => 2,
            BootValidationType::ValidateEcdsaP256Sha256 => 3,
            BootValidationType::Unknown(c) => c,
        }
    }

    /// The SDK's enumerator name (`nrf_dfu_types.h`), `None` for an unknown code.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            BootValidationType::NoValidation => "NO_VALIDATION",
            BootValidationType::ValidateCrc => "VALIDATE_CRC",
            BootValidationType::ValidateSha256 => "VALIDATE_SHA256",
            BootValidationType::ValidateEcdsaP256Sha256 => "VALIDATE_ECDSA_P256_SHA256",
            BootValidationType::Unknown(_) => return None,
        })
    }

    /// How many of the 64 bytes carry the value: 4 (CRC), 32 (SHA-256), 64 (ECDSA), 0 otherwise.
    pub fn value_len(self) -> usize {
        match self {
            BootValidationType::ValidateCrc => 4,
            BootValidationType::ValidateSha256 => 32,
            BootValidationType::ValidateEcdsaP256Sha256 => 64,
            BootValidationType::NoValidation | BootValidationType::Unknown(_) => 0,
        }
    }
}

impl From<u8> for BootValidationType {
    fn from(code: u8) -> Self {
        match code {
            0 => BootValidationType::NoValidation,
            1 => BootValidationType::ValidateCrc,
            2 => BootValidationType::ValidateSha256,
            3 => BootValidationType::ValidateEcdsaP256Sha256,
            other => BootValidationType::Unknown(other),
        }
    }
}

/// The text named no boot validation type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown boot validation `{0}`: expected NO_VALIDATION, VALIDATE_GENERATED_CRC, VALIDATE_GENERATED_SHA256 or VALIDATE_ECDSA_P256_SHA256")]
pub struct UnknownBootValidation(pub String);

/// Accepts the SDK names, the init packet names and nrfutil's option values.
impl FromStr for BootValidationType {
    type Err = UnknownBootValidation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_uppercase().as_str() {
            "NO_VALIDATION" => BootValidationType::NoValidation,
            "VALIDATE_CRC" | "VALIDATE_GENERATED_CRC" => BootValidationType::ValidateCrc,
            "VALIDATE_SHA256" | "VALIDATE_GENERATED_SHA256" => BootValidationType::ValidateSha256,
            "VALIDATE_ECDSA_P256_SHA256" => BootValidationType::ValidateEcdsaP256Sha256,
            _ => return Err(UnknownBootValidation(s.to_string())),
        })
    }
}

impl fmt::Display for BootValidationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.code()),
            None => write!(f, "unknown ({})", self.code()),
        }
    }
}

impl Serialize for BootValidationType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => s.serialize_str(name),
            None => s.serialize_u8(self.code()),
        }
    }
}

/// `boot_validation_t`: 65 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BootValidation {
    #[serde(rename = "type")]
    pub kind: BootValidationType,
    #[serde(with = "hex_serde")]
    pub bytes: [u8; BOOT_VALIDATION_BYTES_LEN],
}

impl BootValidation {
    /// `NO_VALIDATION` with zeroed bytes, as nrfutil and a settings reset leave it.
    pub const NONE: BootValidation = BootValidation {
        kind: BootValidationType::NoValidation,
        bytes: [0; BOOT_VALIDATION_BYTES_LEN],
    };

    /// A type with `value` in the first bytes and zeros after (how nrfutil fills the page).
    pub fn with_value(kind: BootValidationType, value: &[u8]) -> Self {
        let mut bytes = [0u8; BOOT_VALIDATION_BYTES_LEN];
        let n = value.len().min(BOOT_VALIDATION_BYTES_LEN);
        bytes[..n].copy_from_slice(&value[..n]);
        BootValidation { kind, bytes }
    }

    /// `VALIDATE_CRC` of `image`: its CRC-32, little-endian.
    pub fn crc(image: &[u8]) -> Self {
        Self::with_value(
            BootValidationType::ValidateCrc,
            &crate::crc::crc32(image).to_le_bytes(),
        )
    }

    /// `VALIDATE_SHA256` of `image`: the digest in its natural (big-endian) order.
    pub fn sha256(image: &[u8]) -> Self {
        Self::with_value(BootValidationType::ValidateSha256, &Sha256::digest(image))
    }

    /// `VALIDATE_ECDSA_P256_SHA256` with a signature given as r (32 bytes LE) ‖ s (32 bytes LE).
    pub fn ecdsa(signature_r_le_s_le: &[u8; 64]) -> Self {
        Self::with_value(
            BootValidationType::ValidateEcdsaP256Sha256,
            signature_r_le_s_le,
        )
    }

    /// The bytes the type uses (4, 32 or 64 of them; none for `NO_VALIDATION`).
    pub fn value(&self) -> &[u8] {
        &self.bytes[..self.kind.value_len()]
    }

    pub(crate) fn decode(b: &[u8]) -> Self {
        let mut bytes = [0u8; BOOT_VALIDATION_BYTES_LEN];
        if let Some(src) = b.get(1..1 + BOOT_VALIDATION_BYTES_LEN) {
            bytes.copy_from_slice(src);
        }
        BootValidation {
            kind: b.first().copied().unwrap_or(0).into(),
            bytes,
        }
    }

    pub(crate) fn encode_into(&self, out: &mut [u8]) {
        if let Some(t) = out.first_mut() {
            *t = self.kind.code();
        }
        if let Some(dst) = out.get_mut(1..1 + BOOT_VALIDATION_BYTES_LEN) {
            dst.copy_from_slice(&self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("NO_VALIDATION", 0)]
    #[case("VALIDATE_GENERATED_CRC", 1)]
    #[case("VALIDATE_CRC", 1)]
    #[case("VALIDATE_GENERATED_SHA256", 2)]
    #[case("VALIDATE_SHA256", 2)]
    #[case("VALIDATE_ECDSA_P256_SHA256", 3)]
    fn names_and_codes(#[case] name: &str, #[case] code: u8) {
        let t: BootValidationType = name.parse().unwrap();
        assert_eq!(t.code(), code);
        assert_eq!(BootValidationType::from(code), t);
    }

    #[test]
    fn unknown_type_kept() {
        assert_eq!(
            BootValidationType::from(0xFF),
            BootValidationType::Unknown(0xFF)
        );
        assert_eq!(
            serde_json::to_string(&BootValidationType::Unknown(7)).unwrap(),
            "7"
        );
        assert!("VALIDATE_MD5".parse::<BootValidationType>().is_err());
    }

    #[test]
    fn crc_is_little_endian() {
        // The fixture app's CRC 0x7BBF56F5 is stored f5 56 bf 7b.
        let v = BootValidation::with_value(
            BootValidationType::ValidateCrc,
            &0x7BBF_56F5u32.to_le_bytes(),
        );
        assert_eq!(v.value(), &[0xF5, 0x56, 0xBF, 0x7B]);
        assert_eq!(
            BootValidation::crc(b"123456789").value(),
            &0xCBF4_3926u32.to_le_bytes()
        );
    }

    #[test]
    fn sha256_is_not_reversed() {
        let v = BootValidation::sha256(b"abc");
        assert_eq!(v.value()[..4], [0xBA, 0x78, 0x16, 0xBF]);
        assert_eq!(v.bytes[32..], [0u8; 32]);
    }

    #[test]
    fn encode_decode() {
        let v = BootValidation::ecdsa(&[7u8; 64]);
        let mut buf = [0u8; 65];
        v.encode_into(&mut buf);
        assert_eq!(buf[0], 3);
        assert_eq!(BootValidation::decode(&buf), v);
    }
}
