//! Failure class names: parsing never panics, and whatever parses prints back as the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rig::campaign::FailureClass;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = text.parse::<FailureClass>() {
        assert_eq!(c.to_string(), text);
    }
});
