//! `rig report`: rebuild JUnit, the summary and the HTML report from one or more journals (a
//! campaign directory or a journal file each), e.g. several benches or nights merged into one
//! report; earlier nights' journals, when given, add the trend to the HTML report.

use super::html;
use super::journal::{Journal, JournalError, JOURNAL_FILE};
use super::junit;
use super::summary::Summary;
use super::trend::{Night, Trend};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

pub const JUNIT_FILE: &str = "junit.xml";
pub const SUMMARY_TEXT_FILE: &str = "summary.txt";
pub const SUMMARY_JSON_FILE: &str = "summary.json";
pub const REPORT_HTML_FILE: &str = "report.html";

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
    /// report.html
    pub html: String,
    /// Earlier nights and this run, when history was given.
    pub trend: Option<Trend>,
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
    rebuild_with_history(inputs, &[])
}

/// As [`rebuild`], with earlier nights' campaign directories or journals for the trend.
pub fn rebuild_with_history(
    inputs: &[PathBuf],
    history: &[PathBuf],
) -> Result<Rebuilt, ReportError> {
    let mut journals = Vec::new();
    let mut notes = Vec::new();
    for input in inputs {
        let j = Journal::read_for_reports(&journal_path(input)?)?;
        notes.extend(journal_notes(&j, ""));
        journals.push(j);
    }
    let summary = Summary::of(&journals);
    let junit_xml = junit::to_xml(&journals).map_err(|e| ReportError::Junit(e.to_string()))?;
    let trend = if history.is_empty() {
        None
    } else {
        let mut nights = Vec::new();
        for input in history {
            // One night at a time: only its summary is kept, not its records.
            let j = Journal::read_for_reports(&journal_path(input)?)?;
            notes.extend(journal_notes(&j, "history: "));
            nights.push(Night {
                label: date(&j.header.wall_start),
                wall_start: j.header.wall_start.clone(),
                summary: Summary::of(std::slice::from_ref(&j)),
            });
        }
        let current = Night {
            label: "this run".into(),
            wall_start: journals
                .first()
                .map(|j| j.header.wall_start.clone())
                .unwrap_or_default(),
            summary: summary.clone(),
        };
        Some(Trend::new(nights, current))
    };
    let html = html::render(&html::Page {
        summary: &summary,
        journals: &journals,
        trend: trend.as_ref(),
        notes: &notes,
    });
    Ok(Rebuilt {
        journals,
        summary,
        junit_xml,
        html,
        trend,
        notes,
    })
}

fn journal_notes(j: &Journal, prefix: &str) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(t) = j.truncated {
        notes.push(format!(
            "{prefix}{}:{}: dropped a partial last line ({} bytes): the run was killed while writing it",
            j.path.display(),
            t.line,
            t.bytes
        ));
    }
    if j.footer.is_none() {
        notes.push(format!(
            "{prefix}{}: no footer: the campaign did not finish",
            j.path.display()
        ));
    }
    notes
}

/// `2026-09-01` from an RFC 3339 time (the whole text if it is shorter).
fn date(wall_start: &str) -> String {
    wall_start.get(..10).unwrap_or(wall_start).to_string()
}

impl Rebuilt {
    /// Write junit.xml, summary.txt, summary.json and report.html into `dir` (created if
    /// needed).
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let files: [(&str, Cow<str>); 4] = [
            (JUNIT_FILE, Cow::Borrowed(&self.junit_xml)),
            (SUMMARY_TEXT_FILE, Cow::Owned(self.summary.to_text())),
            (SUMMARY_JSON_FILE, Cow::Owned(self.summary.to_json() + "\n")),
            (REPORT_HTML_FILE, Cow::Borrowed(&self.html)),
        ];
        let mut written = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text.as_bytes()).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }
}
