//! Journal reader on arbitrary bytes: never panics; what it accepts re-encodes to a journal it
//! reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rig::campaign::journal::{Journal, JournalWriter, Record};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(j) = Journal::parse(Path::new("fuzz"), data) else { return };
    let mut w = JournalWriter::new(Vec::new(), Path::new("fuzz"));
    w.write(&Record::Header(j.header.clone())).unwrap();
    for r in &j.records {
        w.write(r).unwrap();
    }
    if let Some(f) = &j.footer {
        w.write(&Record::Footer(f.clone())).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let again = Journal::parse(Path::new("fuzz"), &bytes).unwrap();
    assert_eq!(again.header, j.header);
    assert_eq!(again.records, j.records);
    assert_eq!(again.footer, j.footer);
    assert_eq!(again.truncated, None);
});
