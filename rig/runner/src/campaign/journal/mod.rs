//! The journal: JSON Lines, one record per line, flushed as it goes. It is the source of truth
//! of a campaign; JUnit, the summary and reports are derived from it and can be rebuilt (and
//! merged across benches and nights) with `rig report`.

pub mod evidence;
pub mod reader;
pub mod record;
pub mod writer;

pub use evidence::{Evidence, Line};
pub use reader::{Journal, Truncated};
pub use record::*;
pub use writer::JournalWriter;

use std::path::PathBuf;

/// The journal's file name in a campaign's output directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot encode a record: {message}", path.display())]
    Encode { path: PathBuf, message: String },
    #[error("{}: empty journal (no header line)", path.display())]
    Empty { path: PathBuf },
    #[error("{}:{line}: corrupt journal line: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// A journal line with every `wall_*` field removed (at any depth), as canonical JSON: two runs
/// of the same suite, seed and bench give equal results line by line.
pub fn without_wall_fields(line: &str) -> Result<String, serde_json::Error> {
    let mut v: serde_json::Value = serde_json::from_str(line)?;
    strip(&mut v);
    serde_json::to_string(&v)
}

fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| !k.starts_with("wall_"));
            m.values_mut().for_each(strip);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
