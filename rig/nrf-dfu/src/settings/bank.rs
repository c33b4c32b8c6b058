//! Banks (`nrf_dfu_bank_t`) and their codes (`NRF_DFU_BANK_*` in `nrf_dfu_types.h`).

use serde::{Serialize, Serializer};
use std::fmt;

/// What a bank holds. Codes the SDK does not define are kept as their number, so that a corrupt or
/// foreign page decodes and encodes back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BankCode {
    /// 0x00 `NRF_DFU_BANK_INVALID`.
    Invalid,
    /// 0x01 `NRF_DFU_BANK_VALID_APP`.
    ValidApp,
    /// 0xA5 `NRF_DFU_BANK_VALID_SD`.
    ValidSd,
    /// 0xAA `NRF_DFU_BANK_VALID_BL`.
    ValidBl,
    /// 0xAC `NRF_DFU_BANK_VALID_SD_BL`.
    ValidSdBl,
    /// 0xB1 `NRF_DFU_BANK_VALID_EXT_APP` (SDK 15.3+: an application for another node).
    ValidExtApp,
    /// Any other value.
    Unknown(u32),
}

impl BankCode {
    pub fn code(self) -> u32 {
        match self {
            BankCode::Invalid => 0x00,
            BankCode::ValidApp => 0x01,
            BankCode::ValidSd => 0xA5,
            BankCode::ValidBl => 0xAA,
            BankCode::ValidSdBl => 0xAC,
            BankCode::ValidExtApp => 0xB1,
            BankCode::Unknown(c) => c,
        }
    }

    /// The SDK's name without the `NRF_DFU_BANK_` prefix, or `None` for an unknown code.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            BankCode::Invalid => "INVALID",
            BankCode::ValidApp => "VALID_APP",
            BankCode::ValidSd => "VALID_SD",
            BankCode::ValidBl => "VALID_BL",
            BankCode::ValidSdBl => "VALID_SD_BL",
            BankCode::ValidExtApp => "VALID_EXT_APP",
            BankCode::Unknown(_) => return None,
        })
    }

    /// Parse an SDK name (with or without the `NRF_DFU_BANK_` prefix).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_uppercase();
        let n = n.strip_prefix("NRF_DFU_BANK_").unwrap_or(&n);
        Some(match n {
            "INVALID" => BankCode::Invalid,
            "VALID_APP" => BankCode::ValidApp,
            "VALID_SD" => BankCode::ValidSd,
            "VALID_BL" => BankCode::ValidBl,
            "VALID_SD_BL" => BankCode::ValidSdBl,
            "VALID_EXT_APP" => BankCode::ValidExtApp,
            _ => return None,
        })
    }
}

impl From<u32> for BankCode {
    fn from(code: u32) -> Self {
        match code {
            0x00 => BankCode::Invalid,
            0x01 => BankCode::ValidApp,
            0xA5 => BankCode::ValidSd,
            0xAA => BankCode::ValidBl,
            0xAC => BankCode::ValidSdBl,
            0xB1 => BankCode::ValidExtApp,
            other => BankCode::Unknown(other),
        }
    }
}

impl From<BankCode> for u32 {
    fn from(code: BankCode) -> u32 {
        code.code()
    }
}

impl fmt::Display for BankCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#04x})", self.code()),
            None => write!(f, "unknown ({:#010x})", self.code()),
        }
    }
}

/// Known codes serialise as their SDK name, unknown ones as the number.
impl Serialize for BankCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => s.serialize_str(name),
            None => s.serialize_u32(self.code()),
        }
    }
}

/// `nrf_dfu_bank_t`: 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Bank {
    pub image_size: u32,
    /// CRC-32 of the image (SDK 12: 0 means "do not check").
    pub image_crc: u32,
    pub bank_code: BankCode,
}

impl Bank {
    pub const LEN: usize = 12;

    /// An empty, invalid bank (all zero), as the bootloader leaves it after invalidating.
    pub const EMPTY: Bank = Bank {
        image_size: 0,
        image_crc: 0,
        bank_code: BankCode::Invalid,
    };

    pub(crate) fn from_words(image_size: u32, image_crc: u32, bank_code: u32) -> Self {
        Bank {
            image_size,
            image_crc,
            bank_code: bank_code.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case(0x00, "INVALID")]
    #[case(0x01, "VALID_APP")]
    #[case(0xA5, "VALID_SD")]
    #[case(0xAA, "VALID_BL")]
    #[case(0xAC, "VALID_SD_BL")]
    #[case(0xB1, "VALID_EXT_APP")]
    fn sdk_codes_and_names(#[case] code: u32, #[case] name: &str) {
        let bank = BankCode::from(code);
        assert_eq!(bank.name(), Some(name));
        assert_eq!(bank.code(), code);
        assert_eq!(BankCode::from_name(name), Some(bank));
        assert_eq!(
            BankCode::from_name(&format!("NRF_DFU_BANK_{name}")),
            Some(bank)
        );
        assert_eq!(serde_json::to_string(&bank).unwrap(), format!("\"{name}\""));
    }

    #[test]
    fn unknown_codes_stay_numbers() {
        let bank = BankCode::from(0xFFFF_FFFF);
        assert_eq!(bank, BankCode::Unknown(0xFFFF_FFFF));
        assert_eq!(bank.name(), None);
        assert_eq!(serde_json::to_string(&bank).unwrap(), "4294967295");
        assert_eq!(bank.to_string(), "unknown (0xffffffff)");
        assert_eq!(BankCode::ValidApp.to_string(), "VALID_APP (0x01)");
    }

    proptest! {
        #[test]
        fn code_round_trip(code in any::<u32>()) {
            prop_assert_eq!(BankCode::from(code).code(), code);
        }
    }
}
