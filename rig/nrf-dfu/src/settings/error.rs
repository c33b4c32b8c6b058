//! Errors of the settings page codec, checks and generator.

use super::check::CrcMismatch;
use super::SettingsLayout;

/// Something is wrong with a settings page or with a request to build one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The buffer ends before the struct does.
    #[error("{what} too short: {needed} bytes needed, {found} given")]
    TooShort {
        what: &'static str,
        needed: usize,
        found: usize,
    },

    /// The `settings_version` word names no known layout (0xFFFFFFFF: erased page).
    #[error("unknown settings_version {0:#010x} at offset 0x004: expected 1 (SDK 12 to 15.2) or 2 (SDK 15.3+)")]
    UnknownSettingsVersion(u32),

    /// One or more CRCs do not match the bytes they cover.
    #[error("settings page CRC check failed: {}", describe(.0))]
    Crc(Vec<CrcMismatch>),

    /// A layout was asked for something only another layout has.
    #[error("{layout} has no {field}")]
    NotInLayout {
        layout: SettingsLayout,
        field: &'static str,
    },
}

fn describe(mismatches: &[CrcMismatch]) -> String {
    mismatches
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
