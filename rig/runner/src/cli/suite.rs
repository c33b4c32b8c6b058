//! `rig suite check FILE...` and `rig suite schema`.

use clap::Subcommand;
use rig::campaign::suite::{check_file, schema};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SuiteCmd {
    /// Check suite files: every problem, as FILE:LINE:COLUMN: error: MESSAGE. Exits non-zero when
    /// any file has a problem.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of suite files (for editors' completion and validation).
    Schema,
}

pub fn run(cmd: SuiteCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SuiteCmd::Schema => {
            print_out(&schema::suite_schema_json())?;
            Ok(ExitCode::SUCCESS)
        }
        SuiteCmd::Check { files } => {
            let mut total = 0;
            for file in &files {
                let (loaded, problems) = check_file(file);
                total += problems.len();
                for p in &problems {
                    print_out(&format!(
                        "{}:{}:{}: error: {}",
                        p.file.display(),
                        p.line,
                        p.column,
                        p.message
                    ))?;
                }
                if let (Some(s), true) = (loaded, problems.is_empty()) {
                    print_out(&format!("{}: ok: {}", file.display(), plan(&s.suite)))?;
                }
            }
            if total > 0 {
                eprintln!(
                    "{total} problem{} in {} file{}",
                    if total == 1 { "" } else { "s" },
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                );
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// One line to stdout; a closed pipe (`rig suite schema | head`) ends quietly.
fn print_out(line: &str) -> anyhow::Result<()> {
    match writeln!(std::io::stdout().lock(), "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// `3 cases, 10 sub-cases, 820 iterations per DUT` (or what only a run can count).
fn plan(suite: &rig::campaign::suite::Suite) -> String {
    let mut sub_cases = 0u64;
    let mut iterations = 0u64;
    let mut deferred = Vec::new();
    for c in &suite.cases {
        match c.sweep.as_ref().map_or(Some(1), |s| s.count()) {
            Some(n) => {
                sub_cases += n;
                iterations += n * u64::from(c.iterations);
            }
            None => deferred.push(c.name.as_str()),
        }
    }
    let mut text = format!(
        "{} case{}: {sub_cases} sub-case{} with {iterations} iteration{} per DUT",
        suite.cases.len(),
        if suite.cases.len() == 1 { "" } else { "s" },
        if sub_cases == 1 { "" } else { "s" },
        if iterations == 1 { "" } else { "s" },
    );
    if !deferred.is_empty() {
        text.push_str(&format!(
            "; and {} with one sub-case per flash operation of an update, counted at run time",
            deferred.join(", ")
        ));
    }
    text
}
