mod codes;
mod device;
mod dialects;
mod props;
mod requests;
mod responses;

/// Hex with optional spaces, for byte tables that read like a protocol trace.
pub(super) fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("test hex")
}
