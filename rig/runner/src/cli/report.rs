//! `rig report DIR... [--out DIR] [--json]`: rebuild junit.xml and summary.txt (and
//! summary.json) from campaign journals.

use anyhow::bail;
use clap::Args;
use rig::campaign::report::rebuild;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Campaign directories (each with a journal.jsonl) or journal files; several are merged
    /// (benches and nights), keeping benches and DUTs apart.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write junit.xml, summary.txt and summary.json (default: the only input
    /// directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let out = match (&a.out, a.inputs.as_slice()) {
        (Some(o), _) => o.clone(),
        (None, [only]) if only.is_dir() => only.clone(),
        (None, [only]) => only.parent().map(PathBuf::from).unwrap_or_default(),
        (None, _) => bail!("several journals are merged into one report: give --out DIR"),
    };
    let rebuilt = rebuild(&a.inputs)?;
    for note in &rebuilt.notes {
        eprintln!("note: {note}");
    }
    let written = rebuilt.write(&out)?;
    if a.json {
        println!("{}", rebuilt.summary.to_json());
    } else {
        print!("{}", rebuilt.summary.to_text());
    }
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!("wrote {}", names.join(", "));
    Ok(ExitCode::SUCCESS)
}
