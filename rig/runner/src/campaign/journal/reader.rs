//! Reading a journal back. A run killed mid-write leaves a partial last line without its
//! newline: that is tolerated and reported ([`Journal::truncated`]). Anything else that does
//! not parse is corruption and an error naming the line.

use super::record::{Footer, Header, IterationRecord, Record, FORMAT};
use super::JournalError;
use std::path::{Path, PathBuf};

/// A journal as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Journal {
    pub path: PathBuf,
    pub header: Header,
    /// Records after the header, footer excluded, in file order.
    pub records: Vec<Record>,
    pub footer: Option<Footer>,
    /// A partial last line that was dropped.
    pub truncated: Option<Truncated>,
}

/// The dropped partial last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    /// 1-based line number.
    pub line: usize,
    pub bytes: usize,
}

impl Journal {
    pub fn read(path: &Path) -> Result<Journal, JournalError> {
        let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Journal::parse(path, &bytes)
    }

    /// Read a journal for reports: line by line, dropping the evidence of iterations that passed
    /// on the first attempt (reports show evidence of failures only), so a night of many
    /// thousand iterations is rebuilt in memory that grows by a few hundred bytes an iteration.
    pub fn read_for_reports(path: &Path) -> Result<Journal, JournalError> {
        use std::io::BufRead;
        let file = std::fs::File::open(path).map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = std::io::BufReader::new(file);
        let mut lines: Vec<(usize, Record)> = Vec::new();
        let mut buf = Vec::new();
        let mut n = 0;
        let mut tail = Vec::new();
        loop {
            buf.clear();
            let got = reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| JournalError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            if got == 0 {
                break;
            }
            n += 1;
            if buf.last() != Some(&b'\n') {
                tail = std::mem::take(&mut buf);
                break;
            }
            buf.pop();
            let mut r = parse_line(&buf).map_err(|m| JournalError::Corrupt {
                path: path.to_path_buf(),
                line: n,
                message: m,
            })?;
            drop_pass_evidence(&mut r);
            lines.push((n, r));
        }
        let mut j = Journal::assemble(path, lines, &tail, n.max(1))?;
        // A last line without its newline that still parses whole is kept by `assemble`.
        if let Some(r) = j.records.last_mut() {
            drop_pass_evidence(r);
        }
        Ok(j)
    }

    /// Parse journal bytes; `path` names the journal in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Journal, JournalError> {
        let corrupt = |line: usize, message: String| JournalError::Corrupt {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut pieces: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        // After the last newline: empty for a complete file, else an unterminated last line.
        let tail = pieces.pop().unwrap_or_default();
        let mut parsed: Vec<(usize, Record)> = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            parsed.push((i + 1, parse_line(piece).map_err(|m| corrupt(i + 1, m))?));
        }
        Journal::assemble(path, parsed, tail, pieces.len() + 1)
    }

    /// Header, records and footer from parsed lines, and what to make of an unterminated
    /// `tail` (line `tail_line`): a record if it parses, else a line cut by a kill.
    fn assemble(
        path: &Path,
        mut parsed: Vec<(usize, Record)>,
        tail: &[u8],
        tail_line: usize,
    ) -> Result<Journal, JournalError> {
        let corrupt = |line: usize, message: String| JournalError::Corrupt {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut truncated = None;
        // NUL padding is what some file systems leave after a crash.
        if !tail.is_empty() && !tail.iter().all(|b| *b == 0) {
            match parse_line(tail) {
                Ok(r) => parsed.push((tail_line, r)),
                Err(_) => {
                    truncated = Some(Truncated {
                        line: tail_line,
                        bytes: tail.len(),
                    })
                }
            }
        } else if !tail.is_empty() {
            truncated = Some(Truncated {
                line: tail_line,
                bytes: tail.len(),
            });
        }

        let mut it = parsed.into_iter();
        let header = match it.next() {
            Some((_, Record::Header(h))) => h,
            Some((line, _)) => {
                return Err(corrupt(line, "the first record is not a header".into()))
            }
            None => {
                return Err(JournalError::Empty {
                    path: path.to_path_buf(),
                })
            }
        };
        if header.format > FORMAT {
            return Err(corrupt(
                1,
                format!(
                    "journal format {} is newer than this rig reads ({FORMAT})",
                    header.format
                ),
            ));
        }
        let mut records = Vec::new();
        let mut footer = None;
        for (line, r) in it {
            if footer.is_some() {
                return Err(corrupt(line, "record after the footer".into()));
            }
            match r {
                Record::Header(_) => return Err(corrupt(line, "a second header".into())),
                Record::Footer(f) => footer = Some(f),
                other => records.push(other),
            }
        }
        Ok(Journal {
            path: path.to_path_buf(),
            header,
            records,
            footer,
            truncated,
        })
    }

    pub fn iterations(&self) -> impl Iterator<Item = &IterationRecord> {
        self.records.iter().filter_map(|r| match r {
            Record::Iteration(i) => Some(i),
            _ => None,
        })
    }
}

fn parse_line(bytes: &[u8]) -> Result<Record, String> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.is_empty() {
        return Err("empty line".into());
    }
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Reports show no evidence for an iteration that passed at once; dropping it as the journal is
/// read keeps their memory flat however long the run.
fn drop_pass_evidence(r: &mut Record) {
    if let Record::Iteration(it) = r {
        if it.verdict == crate::campaign::outcome::Verdict::Pass {
            it.evidence = Default::default();
        }
    }
}
