//! `rig suite check FILE...`, `rig suite schema`, and the built-in suites: `rig suite list`,
//! `rig suite export NAME [DIR]`.

use clap::Subcommand;
use rig::builtin::suites::{self, SuiteArg};
use rig::campaign::suite::{check_file, schema};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SuiteCmd {
    /// Check suite files: every problem, as FILE:LINE:COLUMN: error: MESSAGE. Exits non-zero when
    /// any file has a problem. A name of a built-in suite checks that suite (a file wins).
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of suite files (for editors' completion and validation).
    Schema,
    /// The suites built into rig (`rig run NAME` runs one from any directory), with what each
    /// proves.
    List {
        /// One JSON object per suite and line: name, description, plan.
        #[arg(long)]
        json: bool,
    },
    /// Write a built-in suite out as NAME.yaml, to read or edit (its images are stand-ins:
    /// put your own files' paths, relative to the suite file, in their place).
    Export {
        /// The built-in suite (`rig suite list`).
        name: String,
        /// Directory to write NAME.yaml into (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Replace NAME.yaml when it exists.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cmd: SuiteCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SuiteCmd::Schema => {
            print_out(&schema::suite_schema_json())?;
            Ok(ExitCode::SUCCESS)
        }
        SuiteCmd::List { json } => list(json),
        SuiteCmd::Export { name, dir, force } => export(&name, &dir, force),
        SuiteCmd::Check { files } => {
            let mut total = 0;
            for file in &files {
                let (loaded, problems) = match suites::resolve(file) {
                    Ok(SuiteArg::BuiltIn(s)) => s.check(),
                    // A missing file is reported by check_file, at the file, as before.
                    Ok(SuiteArg::File(_)) | Err(_) => check_file(file),
                };
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

fn list(json: bool) -> anyhow::Result<ExitCode> {
    let width = super::width::terminal_columns();
    let name_width = suites::SUITES
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    for s in &suites::SUITES {
        let plan = s.load().map(|l| plan(&l.suite)).unwrap_or_default();
        if json {
            print_out(
                &serde_json::json!({"name": s.name, "description": s.description(), "plan": plan})
                    .to_string(),
            )?;
            continue;
        }
        let indent = name_width + 2;
        let body = super::width::wrap(&s.description(), width.map(|w| w.saturating_sub(indent)));
        for (i, line) in body.iter().enumerate() {
            let head = if i == 0 { s.name } else { "" };
            print_out(&format!("{head:name_width$}  {line}"))?;
        }
    }
    if !json {
        eprintln!(
            "run one with `rig run NAME`; `rig suite export NAME [DIR]` writes it out to edit"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export(name: &str, dir: &std::path::Path, force: bool) -> anyhow::Result<ExitCode> {
    let Some(s) = suites::find(name) else {
        eprintln!(
            "error: no built-in suite `{name}`; built-in suites: {}",
            suites::names()
        );
        return Ok(ExitCode::from(2));
    };
    let path = dir.join(format!("{}.yaml", s.name));
    if path.exists() && !force {
        eprintln!(
            "error: {} exists; give --force to replace it, or another DIR",
            path.display()
        );
        return Ok(ExitCode::from(2));
    }
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    std::fs::write(&path, s.text)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    print_out(&path.display().to_string())?;
    eprintln!("run it with `rig run {}`", path.display());
    Ok(ExitCode::SUCCESS)
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
