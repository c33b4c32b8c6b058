//! `rig suite check` on arbitrary text: never panics, every problem has a position inside the
//! file, and a suite that loads can be written back and read again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rig::campaign::suite::{check_text, yaml};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (loaded, problems) = check_text(Path::new("/nonexistent/fuzz.yaml"), text);
    // Every kind of YAML line break counts (CRLF counted twice is still an upper bound).
    let lines = text.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']).count().max(1);
    for p in &problems {
        assert!(p.line >= 1 && p.line <= lines + 1, "{p} beyond {lines} lines");
        assert!(p.column >= 1);
    }
    if let Some(s) = loaded {
        let written = yaml::to_string(&s.suite).unwrap();
        let back: rig::campaign::suite::Suite = yaml::from_str(&written).unwrap();
        assert_eq!(back, s.suite);
        let _ = s.suite.sub_cases(Some(3));
    }
});
