//! The bootloader settings page (`nrf_dfu_settings_t`, `nrf_dfu_types.h`): codec for the SDK 12, v1
//! and v2 layouts, its CRCs, the boot-time choice between main page and backup per SDK, and
//! generation equivalent to `nrfutil settings generate`.

mod bank;
mod boot_validation;
mod check;
mod error;
mod generate;
mod hex_serde;
mod layout;
mod merge;
mod page;
mod peer;
mod report;
mod report_text;

pub use bank::{Bank, BankCode};
pub use boot_validation::{BootValidation, BootValidationType, UnknownBootValidation};
pub use check::{
    boot_validation_crc, boot_validation_crc_ok, crc_ok, settings_crc, CrcCheck, CrcField,
    CrcMismatch, CrcReport, CrcStatus,
};
pub use error::SettingsError;
pub use generate::{
    generate, BackupPlacement, Family, FirmwareSigner, GenerateError, GenerateOptions,
    GeneratedSettings, NrfutilSummary, UnsupportedFamily,
};
pub use layout::{offset, SettingsLayout, BOOT_VALIDATION_CRC_RANGE, CRC_RANGE};
pub use merge::{settings_init, InitOutcome, RestoreReason, SettingsInit};
pub use page::{LayoutTail, Progress, SettingsPage, TailV2};
pub use peer::{AdvName, AreaStatus, PeerData};
pub use report::{
    locate_settings, BackupReport, BootConclusion, LocateError, SettingsPages, SettingsReport,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_merge;
