//! How wide output may be: a terminal's width when the output goes to one (COLUMNS, when set,
//! wins: a caller's explicit choice); no limit for a pipe or a file, which get every column.

use std::io::IsTerminal;
use std::os::fd::AsFd;

pub use rig::campaign::summary::fit::wrap;

fn env_columns() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&n: &usize| n > 0)
}

fn columns_of(stream: impl AsFd + IsTerminal) -> Option<usize> {
    if let Some(n) = env_columns() {
        return Some(n);
    }
    if !stream.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(stream).map(|(w, _)| usize::from(w.0))
}

/// The width stdout's lines must fit, if any.
pub fn terminal_columns() -> Option<usize> {
    columns_of(std::io::stdout())
}

/// The width stderr's lines (progress, notes) must fit, if any.
pub fn stderr_columns() -> Option<usize> {
    columns_of(std::io::stderr())
}
