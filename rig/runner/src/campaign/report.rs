//! `rig report`: rebuild JUnit and the summary from one or more journals (a campaign directory
//! or a journal file each), e.g. several benches or nights merged into one report.

use super::journal::{Journal, JournalError, JOURNAL_FILE};
use super::junit;
use super::summary::Summary;
use std::path::{Path, PathBuf};

pub const JUNIT_FILE: &str = "junit.xml";
pub const SUMMARY_TEXT_FILE: &str = "summary.txt";
pub const SUMMARY_JSON_FILE: &str = "summary.json";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: no {JOURNAL_FILE} in this directory", path.display())]
    NoJournal { path: PathBuf },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("JUnit: {0}")]
    Junit(String),
}

/// Everything derived from the journals.
#[derive(Debug)]
pub struct Rebuilt {
    pub journals: Vec<Journal>,
    pub summary: Summary,
    pub junit_xml: String,
    /// Things a reader should know: dropped partial lines, runs without a footer.
    pub notes: Vec<String>,
}

/// The journal of a campaign directory, or the file itself.
pub fn journal_path(input: &Path) -> Result<PathBuf, ReportError> {
    if input.is_dir() {
        let p = input.join(JOURNAL_FILE);
        if p.is_file() {
            Ok(p)
        } else {
            Err(ReportError::NoJournal {
                path: input.to_path_buf(),
            })
        }
    } else {
        Ok(input.to_path_buf())
    }
}

pub fn rebuild(inputs: &[PathBuf]) -> Result<Rebuilt, ReportError> {
    let mut journals = Vec::new();
    let mut notes = Vec::new();
    for input in inputs {
        let j = Journal::read(&journal_path(input)?)?;
        if let Some(t) = j.truncated {
            notes.push(format!(
                "{}:{}: dropped a partial last line ({} bytes): the run was killed while writing it",
                j.path.display(),
                t.line,
                t.bytes
            ));
        }
        if j.footer.is_none() {
            notes.push(format!(
                "{}: no footer: the campaign did not finish",
                j.path.display()
            ));
        }
        journals.push(j);
    }
    let summary = Summary::of(&journals);
    let junit_xml = junit::to_xml(&journals).map_err(|e| ReportError::Junit(e.to_string()))?;
    Ok(Rebuilt {
        journals,
        summary,
        junit_xml,
        notes,
    })
}

impl Rebuilt {
    /// Write junit.xml, summary.txt and summary.json into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let files = [
            (JUNIT_FILE, self.junit_xml.clone()),
            (SUMMARY_TEXT_FILE, self.summary.to_text()),
            (SUMMARY_JSON_FILE, self.summary.to_json() + "\n"),
        ];
        let mut written = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }
}
