//! Appending records: each one serialized whole, written with its newline, and flushed before
//! `write` returns, so a run killed at any moment leaves every finished record on disk and at
//! most one partial last line.

use super::record::Record;
use super::JournalError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct JournalWriter<W: Write> {
    out: BufWriter<W>,
    path: PathBuf,
    lines: u64,
}

/// A record as its journal line, newline included.
pub fn encode_line(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    Ok(line)
}

impl JournalWriter<File> {
    /// Create (or truncate) the journal file.
    pub fn create(path: &Path) -> Result<Self, JournalError> {
        let file = File::create(path).map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(JournalWriter::new(file, path))
    }
}

impl<W: Write> JournalWriter<W> {
    /// Write to any sink; `path` names it in errors.
    pub fn new(out: W, path: &Path) -> Self {
        JournalWriter {
            out: BufWriter::new(out),
            path: path.to_path_buf(),
            lines: 0,
        }
    }

    pub fn write(&mut self, record: &Record) -> Result<(), JournalError> {
        let line = encode_line(record).map_err(|e| JournalError::Encode {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        self.write_line(&line)
    }

    /// Write a line made by [`encode_line`] (on another thread, say).
    pub fn write_line(&mut self, line: &[u8]) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(line).map_err(io)?;
        self.out.flush().map_err(io)?;
        self.lines += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    pub fn into_inner(self) -> Result<W, JournalError> {
        let path = self.path;
        self.out.into_inner().map_err(|e| JournalError::Io {
            path,
            source: e.into_error(),
        })
    }
}
