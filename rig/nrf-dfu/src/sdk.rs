//! nRF5 SDK versions whose Secure DFU bootloaders differ in ways a client, a package or a
//! settings page can see. Rules that differ name the version they come from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An nRF5 SDK release line, as far as Secure DFU behaviour goes.
///
/// 13 and 14 behave alike (14.2 was read); 15.0 and 15.1 alike; 17.0 and 17.1 alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SdkVersion {
    /// SDK 12.x (12.3 read): no extended errors, everything fails with 0x0A, settings v1 of 348 B.
    #[serde(rename = "12")]
    Sdk12,
    /// SDK 13/14 (14.2 read): extended errors appear; BLE MTU 23.
    #[serde(rename = "14")]
    Sdk14,
    /// SDK 15.0-15.1: MTU 247, no settings backup yet.
    #[serde(rename = "15.0")]
    Sdk15_0,
    /// SDK 15.2: settings backup page with the "restore on tamper" merge.
    #[serde(rename = "15.2")]
    Sdk15_2,
    /// SDK 15.3: settings v2 (boot validation), 512-byte init command, reduced BLE opcode set.
    #[serde(rename = "15.3")]
    Sdk15_3,
    /// SDK 16.0: as 15.3, and RAM progress reverts on disconnect.
    #[serde(rename = "16")]
    Sdk16,
    /// SDK 17.0/17.1: strict GPREGRET mask.
    #[serde(rename = "17")]
    Sdk17,
}

impl SdkVersion {
    pub const ALL: [SdkVersion; 7] = [
        SdkVersion::Sdk12,
        SdkVersion::Sdk14,
        SdkVersion::Sdk15_0,
        SdkVersion::Sdk15_2,
        SdkVersion::Sdk15_3,
        SdkVersion::Sdk16,
        SdkVersion::Sdk17,
    ];

    /// Extended error codes (result 0x0B) exist from SDK 13/14 on.
    pub fn has_extended_errors(self) -> bool {
        self >= SdkVersion::Sdk14
    }

    /// The bootloader settings layout this SDK writes (`NRF_DFU_SETTINGS_VERSION`).
    pub fn settings_version(self) -> u32 {
        if self >= SdkVersion::Sdk15_3 {
            2
        } else {
            1
        }
    }

    /// The settings backup page at 0x7E000 exists from 15.2 on (absent in 15.0).
    pub fn has_settings_backup(self) -> bool {
        self >= SdkVersion::Sdk15_2
    }

    /// Largest command object (init packet) SELECT reports: 256 B up to 15.2, 512 B from 15.3.
    pub fn max_init_packet_size(self) -> u32 {
        if self >= SdkVersion::Sdk15_3 {
            512
        } else {
            256
        }
    }

    /// Largest `sd_req` list the bootloader's nanopb decoder takes: 4 in SDK 12, 16 later.
    pub fn max_sd_req(self) -> usize {
        if self == SdkVersion::Sdk12 {
            4
        } else {
            16
        }
    }

    /// Boot validation entries in the init packet exist from 15.3 on (max 3).
    pub fn max_boot_validations(self) -> usize {
        if self >= SdkVersion::Sdk15_3 {
            3
        } else {
            0
        }
    }

    /// BLE ATT MTU the bootloader is built for: 23 in 12/14, 247 from 15.0.
    pub fn ble_max_mtu(self) -> u16 {
        if self >= SdkVersion::Sdk15_0 {
            247
        } else {
            23
        }
    }

    /// Short label used on the command line and in reports: "12", "14", "15.0", ... "17".
    pub fn label(self) -> &'static str {
        match self {
            SdkVersion::Sdk12 => "12",
            SdkVersion::Sdk14 => "14",
            SdkVersion::Sdk15_0 => "15.0",
            SdkVersion::Sdk15_2 => "15.2",
            SdkVersion::Sdk15_3 => "15.3",
            SdkVersion::Sdk16 => "16",
            SdkVersion::Sdk17 => "17",
        }
    }
}

impl fmt::Display for SdkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SDK {}", self.label())
    }
}

/// The text did not name a known SDK version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown nRF5 SDK version `{0}`: expected one of 12, 12.3, 13, 14, 15.0, 15.1, 15.2, 15.3, 16, 17, 17.0, 17.1")]
pub struct UnknownSdkVersion(pub String);

impl FromStr for SdkVersion {
    type Err = UnknownSdkVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s
            .trim()
            .trim_start_matches("sdk")
            .trim_start_matches("SDK")
            .trim();
        Ok(match t {
            "12" | "12.0" | "12.1" | "12.2" | "12.3" => SdkVersion::Sdk12,
            "13" | "13.0" | "13.1" | "14" | "14.0" | "14.1" | "14.2" => SdkVersion::Sdk14,
            "15.0" | "15.1" | "15" => SdkVersion::Sdk15_0,
            "15.2" => SdkVersion::Sdk15_2,
            "15.3" => SdkVersion::Sdk15_3,
            "16" | "16.0" => SdkVersion::Sdk16,
            "17" | "17.0" | "17.1" | "17.1.0" => SdkVersion::Sdk17,
            _ => return Err(UnknownSdkVersion(s.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_and_aliases() {
        for v in SdkVersion::ALL {
            assert_eq!(v.label().parse::<SdkVersion>().unwrap(), v);
        }
        assert_eq!("sdk17.1".parse::<SdkVersion>().unwrap(), SdkVersion::Sdk17);
        assert_eq!("12.3".parse::<SdkVersion>().unwrap(), SdkVersion::Sdk12);
        assert!("11".parse::<SdkVersion>().is_err());
    }

    #[test]
    fn version_rules() {
        assert_eq!(SdkVersion::Sdk15_2.settings_version(), 1);
        assert_eq!(SdkVersion::Sdk15_3.settings_version(), 2);
        assert!(!SdkVersion::Sdk15_0.has_settings_backup());
        assert!(SdkVersion::Sdk15_2.has_settings_backup());
        assert_eq!(SdkVersion::Sdk15_2.max_init_packet_size(), 256);
        assert_eq!(SdkVersion::Sdk15_3.max_init_packet_size(), 512);
        assert!(!SdkVersion::Sdk12.has_extended_errors());
    }
}
