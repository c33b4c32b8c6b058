//! SoftDevice recognition and the stand-in S132 catalogue.
//!
//! A SoftDevice is recognised only through its info struct (magic 0x51B1E5DB at 0x3004:
//! `SD_MAGIC_NUMBER` in SDK 17.1 `nrf_bootloader_info.h`) via [`SoftDeviceInfo::parse`], so a real
//! S132 hex and a stand-in look the same to the device. The stand-ins carry the real info-struct
//! values and the real binary sizes where they were measured from the SoftDevice hex shipped in
//! an SDK (`components/softdevice/s132/hex/`).

use crate::flash::FlashArray;
use nrf_dfu::memory_map::{s132_by_fwid, SoftDeviceInfo, SOFTDEVICE_START};

/// A stand-in S132 release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandInSoftDevice {
    /// "s132_nrf52_7.2.0", as pc-nrfutil names it.
    pub name: &'static str,
    /// Short version label used on the command line: "7.2.0".
    pub version_label: &'static str,
    pub info: SoftDeviceInfo,
    /// Length of the `.bin` nrfutil makes from the SoftDevice hex (starts at 0x1000).
    pub bin_size: u32,
    /// Whether `bin_size` is the size measured from the real SoftDevice hex.
    pub bin_size_verified: bool,
}

/// S132 3.0.0 (SDK 12): FWID 0x8C, end 0x1F000, info size 0x18, version 3000000, bin 120 640 B.
pub const S132_3_0_0: StandInSoftDevice = StandInSoftDevice {
    name: "s132_nrf52_3.0.0",
    version_label: "3.0.0",
    info: SoftDeviceInfo {
        info_size: 0x18,
        end_address: 0x1F000,
        fwid: 0x8C,
        sd_id: 132,
        version: 3_000_000,
    },
    bin_size: 120_640,
    bin_size_verified: true,
};

/// S132 6.1.1 (SDK 15.2/15.3): FWID 0xB7, end 0x26000. Its binary size was not measured,
/// so the stand-in fills the whole region up to its end address (0x25000 bytes).
pub const S132_6_1_1: StandInSoftDevice = StandInSoftDevice {
    name: "s132_nrf52_6.1.1",
    version_label: "6.1.1",
    info: SoftDeviceInfo {
        info_size: 0x2C,
        end_address: 0x26000,
        fwid: 0xB7,
        sd_id: 132,
        version: 6_001_001,
    },
    bin_size: 0x26000 - SOFTDEVICE_START,
    bin_size_verified: false,
};

/// S132 7.2.0 (SDK 17.0/17.1): FWID 0x101, end 0x26000, version 7002000, bin 149 868 B.
pub const S132_7_2_0: StandInSoftDevice = StandInSoftDevice {
    name: "s132_nrf52_7.2.0",
    version_label: "7.2.0",
    info: SoftDeviceInfo {
        info_size: 0x2C,
        end_address: 0x26000,
        fwid: 0x101,
        sd_id: 132,
        version: 7_002_000,
    },
    bin_size: 149_868,
    bin_size_verified: true,
};

pub const STAND_IN_SOFTDEVICES: [StandInSoftDevice; 3] = [S132_3_0_0, S132_6_1_1, S132_7_2_0];

/// A stand-in by "7.2.0", "s132_nrf52_7.2.0" or "s132-7.2.0".
pub fn stand_in_by_name(name: &str) -> Option<StandInSoftDevice> {
    let t = name.trim().to_ascii_lowercase();
    STAND_IN_SOFTDEVICES
        .into_iter()
        .find(|s| t == s.version_label || t == s.name || t == format!("s132-{}", s.version_label))
}

/// The SoftDevice installed in `code` flash, if its info struct is there.
pub fn installed(code: &FlashArray) -> Option<SoftDeviceInfo> {
    SoftDeviceInfo::parse(code.bytes(), code.base())
}

/// "s132_nrf52_7.2.0" for a known FWID, else "unknown SoftDevice (FWID 0x…)".
pub fn describe(info: &SoftDeviceInfo) -> String {
    match s132_by_fwid(info.fwid) {
        Some(f) => f.name.to_string(),
        None => format!("unknown SoftDevice (FWID {:#06x})", info.fwid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("3.0.0", 0x8C, 0x1F000, 3_000_000, 0x18)]
    #[case("6.1.1", 0xB7, 0x26000, 6_001_001, 0x2C)]
    #[case("7.2.0", 0x101, 0x26000, 7_002_000, 0x2C)]
    fn catalogue_values(
        #[case] label: &str,
        #[case] fwid: u16,
        #[case] end: u32,
        #[case] version: u32,
        #[case] size: u8,
    ) {
        let sd = stand_in_by_name(label).unwrap();
        assert_eq!(sd.info.fwid, fwid);
        assert_eq!(sd.info.end_address, end);
        assert_eq!(sd.info.version, version);
        assert_eq!(sd.info.info_size, size);
        assert_eq!(sd.info.sd_id, 132);
        assert!(
            SOFTDEVICE_START + sd.bin_size <= end,
            "fits below its end address"
        );
        assert_eq!(s132_by_fwid(fwid).unwrap().name, sd.name);
        assert_eq!(stand_in_by_name(sd.name), Some(sd));
    }

    #[test]
    fn unknown_names() {
        assert_eq!(stand_in_by_name("5.0.0"), None);
        let info = SoftDeviceInfo {
            info_size: 0x2C,
            end_address: 0x26000,
            fwid: 0x1234,
            sd_id: 132,
            version: 1,
        };
        assert_eq!(describe(&info), "unknown SoftDevice (FWID 0x1234)");
        assert_eq!(describe(&S132_7_2_0.info), "s132_nrf52_7.2.0");
    }
}
