mod codes;
mod device;
mod dialects;
mod props;
mod requests;
mod responses;

/// Hex with optional spaces, for byte tables that read like the facts sheet.
pub(super) fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("test hex")
}
