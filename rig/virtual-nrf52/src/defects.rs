//! The catalogue of injectable bootloader defects: field bugs and configuration mistakes that a
//! virtual bootloader can be built with, so a campaign can show that the rig detects them.
//!
//! This module names them and carries them (in the bootloader descriptor, and as a per-device
//! override); the bootloader model implements what each one does.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One defect. The order is the bit order in [`DefectSet`] and must never change (it is stored
/// in bootloader descriptors and state files); add new defects at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Defect {
    NoSettingsBackup,
    SkipHashCheck,
    AcceptDowngrade,
    ExecuteBeforeFlashDrain,
    DropPacketsAfterCreate,
    StuckAfterCreateFailure,
    GpregretLoop,
    LoseInitOnReset,
    CorruptResumeCrc,
}

impl Defect {
    pub const ALL: [Defect; 9] = [
        Defect::NoSettingsBackup,
        Defect::SkipHashCheck,
        Defect::AcceptDowngrade,
        Defect::ExecuteBeforeFlashDrain,
        Defect::DropPacketsAfterCreate,
        Defect::StuckAfterCreateFailure,
        Defect::GpregretLoop,
        Defect::LoseInitOnReset,
        Defect::CorruptResumeCrc,
    ];

    /// The kebab-case name used in suites, descriptors' text form and reports.
    pub fn name(self) -> &'static str {
        match self {
            Defect::NoSettingsBackup => "no-settings-backup",
            Defect::SkipHashCheck => "skip-hash-check",
            Defect::AcceptDowngrade => "accept-downgrade",
            Defect::ExecuteBeforeFlashDrain => "execute-before-flash-drain",
            Defect::DropPacketsAfterCreate => "drop-packets-after-create",
            Defect::StuckAfterCreateFailure => "stuck-after-create-failure",
            Defect::GpregretLoop => "gpregret-loop",
            Defect::LoseInitOnReset => "lose-init-on-reset",
            Defect::CorruptResumeCrc => "corrupt-resume-crc",
        }
    }

    /// One line: the field bug this models.
    pub fn description(self) -> &'static str {
        match self {
            Defect::NoSettingsBackup => "settings are written without the backup page, so a power cut between erase and write resets them to defaults (app invalid, versions 0, activation state lost)",
            Defect::SkipHashCheck => "postvalidation does not compare the image's SHA-256 with the init packet, so a corrupted transfer is activated",
            Defect::AcceptDowngrade => "fw_version is not checked against the stored app/bootloader version, so older firmware is accepted",
            Defect::ExecuteBeforeFlashDrain => "data EXECUTE is answered before queued flash writes finish; a reset right after loses the object though it was acknowledged",
            Defect::DropPacketsAfterCreate => "packets arriving while the CREATE page erase is still running are silently dropped (CRC_GET offset falls behind)",
            Defect::StuckAfterCreateFailure => "a data CREATE finding the flash busy fails (INVALID_OBJECT) and wedges the transport: no more responses and no advertising until a power cycle; intermittent, drawn from the device seed: p = 0.25 per data CREATE while writes are still queued, 0.01 on an idle SoftDevice flash path",
            Defect::GpregretLoop => "DFU entry tests any bit of 0xB1 in GPREGRET but clears only the 0xB0 pattern, so a stray bit sends every soft reset into DFU mode",
            Defect::LoseInitOnReset => "the stored init command is not re-executed at boot, so a resumed transfer is refused until the init packet is resent",
            Defect::CorruptResumeCrc => "after a resume SELECT/CRC_GET report a CRC that does not match the bytes in flash, so clients restart or fail the object",
        }
    }

    /// Where the defect comes from.
    pub fn source(self) -> &'static str {
        match self {
            Defect::NoSettingsBackup => "SDK 12.3 and 15.0 nrf_dfu_settings.c have no settings backup (a bad page becomes zeroed defaults); DevZone thread 67934 (power off during copy -> bricked)",
            Defect::SkipHashCheck => "synthetic (no field report): the final EXECUTE's postvalidation (SDK 17.1 nrf_dfu_validation.c, postvalidate) removed, to exercise the rig's dut.verify checks",
            Defect::AcceptDowngrade => "a build with NRF_DFU_APP_DOWNGRADE_PREVENTION=0 (SDK 17.1 nrf_dfu_ver_validation.c, fw_version_ok); on SDK 12-15.0 a settings reset also loses app_version (nrf_dfu_settings_init)",
            Defect::ExecuteBeforeFlashDrain => "SDK 15.0-15.2 on_data_obj_write_request computed the CRC after handing the buffer to fstorage (15.3 moved it before); SDK 17.1 on_data_obj_execute_request_sched waits for fstorage before answering",
            Defect::DropPacketsAfterCreate => "writes lost right after a data CREATE on SDK 15-17: Android-DFU-Library #208, IOS-DFU-Library PR #349/#377",
            Defect::StuckAfterCreateFailure => "DevZone thread 42186 (SDK 12.3, S132 3.0.0, QFAB: CREATE write failed at 21 %, then the target could not be scanned); SDK 12 answers INVALID_OBJECT when the erase cannot be queued (Android-DFU-Library #66/#86)",
            Defect::GpregretLoop => "SDK 15.3/16 nrf_bootloader.c: dfu_enter_check enters on any bit of 0xB1, dfu_enter_flags_clear clears only the 0xB0 pattern (fixed in 17)",
            Defect::LoseInitOnReset => "inverts SDK 17.1 nrf_dfu_validation_init (a stored init packet is re-executed at boot; docs/notes/interrupted-transfers.md); Android-DFU-Library #252 shows clients' resume assumptions",
            Defect::CorruptResumeCrc => "SDK 15.0-15.2 on_data_obj_write_request (CRC computed after the buffer was handed to fstorage) and Android-DFU-Library #44 (wrong CRC on resume)",
        }
    }

    /// Bit of this defect in [`DefectSet`].
    pub fn flag(self) -> DefectSet {
        DefectSet::from_bits_retain(1 << (self as u32))
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text did not name a defect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown defect `{name}`: expected one of {}", Defect::ALL.map(|d| d.name()).join(", "))]
pub struct UnknownDefect {
    pub name: String,
}

impl FromStr for Defect {
    type Err = UnknownDefect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Defect::ALL
            .into_iter()
            .find(|d| d.name() == t)
            .ok_or_else(|| UnknownDefect {
                name: t.to_string(),
            })
    }
}

impl From<Defect> for String {
    fn from(d: Defect) -> String {
        d.name().to_string()
    }
}

impl TryFrom<String> for Defect {
    type Error = UnknownDefect;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

bitflags::bitflags! {
    /// A set of defects, stored as a u32 bit mask (bit n = `Defect::ALL[n]`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DefectSet: u32 {
        const NO_SETTINGS_BACKUP = 1 << 0;
        const SKIP_HASH_CHECK = 1 << 1;
        const ACCEPT_DOWNGRADE = 1 << 2;
        const EXECUTE_BEFORE_FLASH_DRAIN = 1 << 3;
        const DROP_PACKETS_AFTER_CREATE = 1 << 4;
        const STUCK_AFTER_CREATE_FAILURE = 1 << 5;
        const GPREGRET_LOOP = 1 << 6;
        const LOSE_INIT_ON_RESET = 1 << 7;
        const CORRUPT_RESUME_CRC = 1 << 8;
    }
}

impl DefectSet {
    pub fn has(self, d: Defect) -> bool {
        self.contains(d.flag())
    }

    pub fn with(self, d: Defect) -> DefectSet {
        self | d.flag()
    }

    /// The defects in catalogue order.
    pub fn defects(self) -> impl Iterator<Item = Defect> {
        Defect::ALL.into_iter().filter(move |d| self.has(*d))
    }

    /// Check a raw mask (from a descriptor or state file): unknown bits are an error.
    pub fn from_mask(mask: u32) -> Option<DefectSet> {
        DefectSet::from_bits(mask)
    }
}

impl FromIterator<Defect> for DefectSet {
    fn from_iter<I: IntoIterator<Item = Defect>>(iter: I) -> Self {
        iter.into_iter().fold(DefectSet::empty(), DefectSet::with)
    }
}

/// Comma-separated kebab names; "none" for the empty set.
impl fmt::Display for DefectSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.defects().map(Defect::name).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for DefectSet {
    type Err = UnknownDefect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || t == "none" {
            return Ok(DefectSet::empty());
        }
        t.split(',').map(str::parse::<Defect>).collect()
    }
}

impl Serialize for DefectSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.defects())
    }
}

impl<'de> Deserialize<'de> for DefectSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Defect>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "no-settings-backup",
        Defect::NoSettingsBackup,
        DefectSet::NO_SETTINGS_BACKUP
    )]
    #[case("skip-hash-check", Defect::SkipHashCheck, DefectSet::SKIP_HASH_CHECK)]
    #[case(
        "accept-downgrade",
        Defect::AcceptDowngrade,
        DefectSet::ACCEPT_DOWNGRADE
    )]
    #[case(
        "execute-before-flash-drain",
        Defect::ExecuteBeforeFlashDrain,
        DefectSet::EXECUTE_BEFORE_FLASH_DRAIN
    )]
    #[case(
        "drop-packets-after-create",
        Defect::DropPacketsAfterCreate,
        DefectSet::DROP_PACKETS_AFTER_CREATE
    )]
    #[case(
        "stuck-after-create-failure",
        Defect::StuckAfterCreateFailure,
        DefectSet::STUCK_AFTER_CREATE_FAILURE
    )]
    #[case("gpregret-loop", Defect::GpregretLoop, DefectSet::GPREGRET_LOOP)]
    #[case(
        "lose-init-on-reset",
        Defect::LoseInitOnReset,
        DefectSet::LOSE_INIT_ON_RESET
    )]
    #[case(
        "corrupt-resume-crc",
        Defect::CorruptResumeCrc,
        DefectSet::CORRUPT_RESUME_CRC
    )]
    fn catalogue_entry(#[case] name: &str, #[case] d: Defect, #[case] flag: DefectSet) {
        assert_eq!(name.parse::<Defect>().unwrap(), d);
        assert_eq!(d.name(), name);
        assert_eq!(d.flag(), flag);
        assert!(!d.description().is_empty() && !d.source().is_empty());
        assert!(!d.description().contains('\n'));
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = "skip-crc".parse::<Defect>().unwrap_err();
        assert!(e.to_string().contains("skip-crc") && e.to_string().contains("gpregret-loop"));
        assert!("gpregret-loop,nope".parse::<DefectSet>().is_err());
        assert_eq!(DefectSet::from_mask(1 << 20), None);
    }

    #[test]
    fn set_text_form() {
        let s = DefectSet::empty()
            .with(Defect::GpregretLoop)
            .with(Defect::NoSettingsBackup);
        assert_eq!(s.to_string(), "no-settings-backup,gpregret-loop");
        assert_eq!(
            "no-settings-backup, gpregret-loop"
                .parse::<DefectSet>()
                .unwrap(),
            s
        );
        assert_eq!("none".parse::<DefectSet>().unwrap(), DefectSet::empty());
        assert_eq!(DefectSet::empty().to_string(), "none");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"["no-settings-backup","gpregret-loop"]"#);
        assert_eq!(serde_json::from_str::<DefectSet>(&json).unwrap(), s);
    }

    proptest! {
        #[test]
        fn text_round_trip(mask in 0u32..(1 << 9)) {
            let s = DefectSet::from_mask(mask).unwrap();
            let t = s.to_string();
            prop_assert_eq!(t.parse::<DefectSet>().unwrap(), s);
            prop_assert_eq!(s.defects().count() as u32, mask.count_ones());
        }
    }
}
