//! `rig report DIR... [--out DIR] [--history DIR...] [--json]`: rebuild junit.xml, summary.txt,
//! summary.json and report.html from campaign journals.

use anyhow::bail;
use clap::Args;
use rig::campaign::report::rebuild_with_history;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Campaign directories (each with a journal.jsonl) or journal files; several are merged
    /// (benches and nights), keeping benches and DUTs apart.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write junit.xml, summary.txt, summary.json and report.html (default: the only
    /// input directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Earlier nights' campaign directories or journal files: report.html then shows each
    /// sub-case's failure rate night by night and flags a regression where tonight's 95 %
    /// interval lies entirely above the previous night's. Takes every following path, so give
    /// it after the inputs (or repeat it: --history N1 --history N2).
    #[arg(long, num_args = 1.., value_name = "DIR")]
    pub history: Vec<PathBuf>,
    /// Print the summary as JSON (one object on one line) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print the summary tables with every column even on a narrow terminal (summary.txt
    /// always has them all).
    #[arg(long)]
    pub wide: bool,
}

pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let out = match (&a.out, a.inputs.as_slice()) {
        (Some(o), _) => o.clone(),
        (None, [only]) if only.is_dir() => only.clone(),
        (None, [only]) => only.parent().map(PathBuf::from).unwrap_or_default(),
        (None, _) => bail!("several journals are merged into one report: give --out DIR"),
    };
    let rebuilt = rebuild_with_history(&a.inputs, &a.history)?;
    for note in &rebuilt.notes {
        eprintln!("note: {note}");
    }
    if let Some(trend) = &rebuilt.trend {
        for s in trend.regressions() {
            eprintln!(
                "regression: {} on {}/{}: failure rate above the previous night's (95 % intervals apart)",
                s.sub_case, s.bench, s.dut
            );
        }
    }
    let written = rebuilt.write(&out)?;
    if a.json {
        println!("{}", rebuilt.summary.to_json_line());
    } else {
        match super::width::terminal_columns().filter(|_| !a.wide) {
            Some(w) => print!("{}", rebuilt.summary.to_text_fitted(w)),
            None => print!("{}", rebuilt.summary.to_text()),
        }
    }
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!("wrote {}", names.join(", "));
    Ok(ExitCode::SUCCESS)
}
