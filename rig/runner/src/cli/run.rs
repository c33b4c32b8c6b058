//! `rig run SUITE`: run a campaign and write journal.jsonl, junit.xml, summary.txt,
//! summary.json and report.html into the output directory.

use clap::Args;
use indicatif::ProgressBar;
use rig::benchfile::virtual_bench::{VirtualDut, DEFAULT_VIRTUAL_DIR};
use rig::builtin::{keys, suites};
use rig::campaign::journal::{BenchInfo, BenchKind};
use rig::campaign::outcome::Verdict;
use rig::campaign::run::dut::BenchDut;
use rig::campaign::run::hardware_dut::HardwareDut;
use rig::campaign::run::virtual_dut::{paused_runtime, run_on_virtual_bench, VirtualBenchDut};
use rig::campaign::run::{run_campaign, CampaignOptions, RunError, RunEvent, StopFlag};
use rig::campaign::seed::parse_replay;
use std::cell::Cell;
use std::path::PathBuf;
use std::process::ExitCode;
use virtual_nrf52::defects::Defect;

#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 when every iteration passed (flaky ones are reported but pass), \
1 when an iteration failed or errored or a DUT was quarantined, 2 on bad input (suite, bench, \
images), 130 when interrupted (the reports are still written).\n\n\
Examples:\n  rig run smoke\n  rig run nightly-soak --seed 20261204 --out out/\n  \
rig run interrupt-recovery --seed 7 --replay 'sdk17.1[fault_action=reset]:41'\n  \
rig run seed-sdk12-qfab --virtual-duts 8\n  rig run my-suite.yaml --bench bench.yaml"
)]
pub struct RunArgs {
    /// The suite: a file (YAML; see `rig suite check` and `rig suite schema`) or the name of a
    /// built-in suite (`rig suite list`). A file wins over a built-in name.
    pub suite: PathBuf,
    /// Bench file (YAML). Without it the campaign runs on in-memory virtual nRF52832s in
    /// simulated time.
    #[arg(long)]
    pub bench: Option<PathBuf>,
    /// Run on these DUTs of the bench only (default: all of them, concurrently).
    #[arg(long = "dut")]
    pub duts: Vec<String>,
    /// Without --bench: how many virtual DUTs run the campaign side by side.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub virtual_duts: u32,
    /// Campaign seed: every iteration's fault point and the virtual devices' randomness derive
    /// from it. Default: a fresh one, printed so the run can be repeated.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run this many iterations of every case instead of the suite's counts.
    #[arg(long)]
    pub iterations: Option<u32>,
    /// Output directory (default: rig-runs/<suite>-<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Re-run one iteration exactly: SUB_CASE:ITERATION, with the run's --seed and options (the
    /// summary prints the whole command for each failure).
    #[arg(long)]
    pub replay: Option<String>,
    /// Switch on a defect of the virtual bootloader in every case (repeatable): no-settings-backup,
    /// skip-hash-check, accept-downgrade, execute-before-flash-drain, drop-packets-after-create,
    /// stuck-after-create-failure, gpregret-loop, lose-init-on-reset, corrupt-resume-crc.
    #[arg(long = "defect")]
    pub defects: Vec<String>,
    /// Private key that signs the packages (PEM). Default: the bench file's key, else the
    /// rig's built-in test key (firmware/keys/rig-test-private.pem), which the stand-in
    /// bootloaders trust.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Where virtual DUTs of a bench file keep their state.
    #[arg(long, default_value = DEFAULT_VIRTUAL_DIR)]
    pub virtual_dir: PathBuf,
    /// Print the summary as JSON (one object on one line) and no live display.
    #[arg(long)]
    pub json: bool,
    /// Print the summary tables with every column even on a narrow terminal (summary.txt
    /// always has them all).
    #[arg(long)]
    pub wide: bool,
}

fn fresh_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (t ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000
}

/// Bad input on the command line or in a file: say what and exit 2.
fn bad(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(2))
}

/// Bad input exits 2, as `rig suite check` does.
fn input_error(e: RunError) -> anyhow::Result<ExitCode> {
    match e {
        RunError::Image { .. }
        | RunError::Key { .. }
        | RunError::Suite(_)
        | RunError::NoSuchIteration(_)
        | RunError::Bench(_) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
    }
}

struct Display {
    bar: ProgressBar,
    passed: Cell<u64>,
    failed: Cell<u64>,
    /// stderr's width on a terminal: lines printed above the bar wrap to it.
    width: Option<usize>,
}

impl Display {
    fn new(quiet: bool) -> Display {
        // `wide_msg` is cut to what the terminal has left, so the bar is one line.
        let bar = super::progress::bar(
            quiet,
            "{elapsed_precise} [{bar:20}] {pos}/{len}  {prefix}  {wide_msg}",
        );
        Display {
            bar,
            passed: Cell::new(0),
            failed: Cell::new(0),
            width: super::width::stderr_columns(),
        }
    }

    /// A line above the bar, wrapped to the terminal.
    fn line(&self, text: &str) {
        let lines = rig::campaign::summary::fit::wrap_with(text, self.width, "", "    ");
        self.bar.suspend(|| {
            for l in &lines {
                eprintln!("{l}");
            }
        });
    }

    fn event(&self, e: RunEvent<'_>) {
        match e {
            RunEvent::Planned { total, duts } => {
                self.bar.set_length(total);
                self.bar.set_prefix(format!("{duts} DUT(s)"));
            }
            RunEvent::Started {
                dut,
                sub_case,
                iteration,
            } => self
                .bar
                .set_message(format!("{dut}: {sub_case} #{iteration}")),
            RunEvent::Phase {
                dut,
                phase,
                percent,
            } => self.bar.set_message(format!("{dut}: {phase} {percent}%")),
            RunEvent::Finished(r) => {
                match r.verdict {
                    Verdict::Pass | Verdict::Flaky => self.passed.set(self.passed.get() + 1),
                    Verdict::Fail | Verdict::Error => {
                        self.failed.set(self.failed.get() + 1);
                        self.line(&format!(
                            "{} {} #{}: {} {}",
                            r.verdict,
                            r.sub_case,
                            r.iteration,
                            r.failure_class.map(|c| c.to_string()).unwrap_or_default(),
                            r.message.as_deref().unwrap_or("")
                        ));
                    }
                }
                self.bar.set_prefix(format!(
                    "{} passed, {} failed",
                    self.passed.get(),
                    self.failed.get()
                ));
                self.bar.inc(1);
            }
            RunEvent::Healing(h) => self.line(&format!(
                "healing {}: {} ({}) {}",
                h.dut,
                rig::campaign::summary::healing_label(h.action),
                if h.ok { "ok" } else { "FAILED" },
                h.reason
            )),
            RunEvent::Quarantined(q) => self.line(&format!(
                "QUARANTINED {}: {} [{}]",
                q.dut, q.reason, q.failure_class
            )),
            RunEvent::Stopping => self.bar.set_message("stopping after the current step"),
        }
    }
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let suite_arg = match suites::resolve(&a.suite) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let suite = match suite_arg.load() {
        Ok(s) => s,
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            eprintln!(
                "the suite has problems: fix them (`rig suite check {}`)",
                suite_arg.shown()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let replay = match &a.replay {
        Some(r) => match parse_replay(r) {
            Some((c, i)) => Some((c.to_string(), i)),
            None => {
                return bad(format!(
                    "--replay {r:?}: expected SUB_CASE:ITERATION, e.g. 'update:3'"
                ))
            }
        },
        None => None,
    };
    let defects = match a
        .defects
        .iter()
        .map(|d| {
            d.parse::<Defect>()
                .map_err(|e| format!("--defect {d}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(d) => d,
        Err(e) => return bad(e),
    };
    let seed = a.seed.unwrap_or_else(fresh_seed);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("rig-runs").join(format!("{}-{seed}", suite.suite.name)));
    let bench_file = match &a.bench {
        Some(p) => match rig::benchfile::load(p) {
            Ok(b) => Some(b),
            Err(e) => {
                return bad(format!(
                    "{e}\n(check it with `rig bench check --bench {}`)",
                    p.display()
                ))
            }
        },
        None => None,
    };
    let key_path = a.key.clone().or_else(|| {
        bench_file.as_ref().and_then(|b| {
            b.duts
                .values()
                .find_map(|d| d.bootloader.as_ref().and_then(|bl| bl.key.clone()))
        })
    });
    let key = match keys::signing_key(key_path.as_deref()) {
        Ok((k, _)) => k,
        Err(e) => return bad(e),
    };
    let stop = StopFlag::default();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal ends the process at once; the first asks for a clean stop.
        signal_hook::flag::register_conditional_shutdown(sig, 130, stop.handle())?;
        signal_hook::flag::register(sig, stop.handle())?;
    }
    let display = Display::new(a.json);
    let observer = |e: RunEvent<'_>| display.event(e);
    let mut opts = CampaignOptions {
        seed,
        iterations: a.iterations,
        replay,
        out_dir: out.clone(),
        defects,
        bench: BenchInfo {
            file: a.bench.as_ref().map(|p| p.display().to_string()),
            host: hostname(),
            ..BenchInfo::virtual_bench()
        },
        stop: stop.clone(),
        key,
        suite_path: suite_arg.shown(),
        replay_args: replay_args(&a),
    };
    if !a.json {
        display.line(&format!(
            "campaign {} seed {seed} -> {}",
            suite.suite.name,
            out.display()
        ));
    }
    let result = match &bench_file {
        None => run_on_virtual_bench(&suite, a.virtual_duts, &opts, &observer),
        Some(bench) => {
            let selected: Vec<(&String, &rig::benchfile::Dut)> = bench
                .duts
                .iter()
                .filter(|(n, _)| a.duts.is_empty() || a.duts.contains(n))
                .collect();
            if selected.is_empty() {
                return bad(format!("no DUT of the bench matches --dut {:?}", a.duts));
            }
            if let Some(req) = &suite.suite.dut {
                for (n, d) in &selected {
                    if let Some(why) = rig::campaign::run::fits::unmet(&suite.suite.name, req, n, d)
                    {
                        return bad(why);
                    }
                }
            }
            let virtuals = selected.iter().filter(|(_, d)| d.is_virtual).count();
            opts.bench.name = a
                .bench
                .as_ref()
                .and_then(|p| p.file_stem())
                .map_or("bench".into(), |s| s.to_string_lossy().into_owned());
            if virtuals == selected.len() {
                let rt = paused_runtime()?;
                let loaded: Vec<VirtualDut> = selected
                    .iter()
                    .map(|(n, d)| VirtualDut::load(&a.virtual_dir, n, d.chip))
                    .collect::<Result<_, _>>()?;
                let declared: Vec<_> = selected
                    .iter()
                    .map(|(_, d)| {
                        d.bootloader
                            .as_ref()
                            .map(|b| b.options.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                let r = rt.block_on(async {
                    let duts = loaded
                        .iter()
                        .zip(declared)
                        .map(|(v, o)| {
                            let mut d = VirtualBenchDut::new(v.name.clone(), v.device.clone());
                            d.declare_options(o);
                            d
                        })
                        .collect();
                    run_campaign(&suite, duts, &opts, &observer).await
                });
                for v in &loaded {
                    v.save()?;
                }
                r
            } else if virtuals == 0 {
                if bench.lab.is_none() {
                    if let Some(why) = needs_device_model(&suite, !opts.defects.is_empty()) {
                        return bad(format!(
                            "{why}: only a virtual DUT's device model has that, on the virtual \
                             bench or a lab (`rig lab up`); a real bench cannot switch a \
                             bootloader's defects or see its flash operations"
                        ));
                    }
                }
                opts.bench.kind = if bench.lab.is_some() {
                    BenchKind::Lab
                } else {
                    BenchKind::Hardware
                };
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let duts = selected
                    .iter()
                    .map(|(n, d)| HardwareDut::open(n, d))
                    .collect::<Result<Vec<_>, _>>()?;
                rt.block_on(run_campaign(&suite, duts, &opts, &observer))
            } else {
                return bad("the bench mixes virtual and real DUTs: run them as two benches (--dut selects)");
            }
        }
    };
    display.bar.finish_and_clear();
    let result = match result {
        Ok(r) => r,
        Err(e) => return input_error(e),
    };
    for note in &result.rebuilt.notes {
        display.line(&format!("note: {note}"));
    }
    let summary = &result.rebuilt.summary;
    if a.json {
        println!("{}", summary.to_json_line());
    } else {
        match super::width::terminal_columns().filter(|_| !a.wide) {
            Some(w) => print!("{}", summary.to_text_fitted(w)),
            None => print!("{}", summary.to_text()),
        }
        display.line(&format!("wrote {}", out.display()));
    }
    Ok(if result.interrupted {
        ExitCode::from(130)
    } else if result.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// What a replay of this run must repeat besides suite, seed and bench.
fn replay_args(a: &RunArgs) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = a.iterations {
        out.extend(["--iterations".to_string(), n.to_string()]);
    }
    for d in &a.defects {
        out.extend(["--defect".to_string(), d.clone()]);
    }
    if a.bench.is_none() && a.virtual_duts > 1 {
        out.extend(["--virtual-duts".to_string(), a.virtual_duts.to_string()]);
    }
    for d in &a.duts {
        out.extend(["--dut".to_string(), d.clone()]);
    }
    if let Some(k) = &a.key {
        out.extend(["--key".to_string(), k.display().to_string()]);
    }
    out
}

/// What in the suite (or `--defect`) needs the device model: defects, a sweep over flash
/// operations, a fault at a flash operation. A lab offers them through its control socket.
fn needs_device_model(
    suite: &rig::campaign::suite::LoadedSuite,
    cli_defects: bool,
) -> Option<String> {
    use rig::campaign::suite::{FaultAt, Step};
    if cli_defects {
        return Some("--defect".into());
    }
    for c in &suite.suite.cases {
        if !c.defects.is_empty() {
            return Some(format!("case {}: `defects`", c.name));
        }
        if c.sweep.as_ref().is_some_and(|s| s.flash_op.is_some()) {
            return Some(format!("case {}: sweep `flash_op`", c.name));
        }
        let at_op = c.steps.iter().chain(&c.setup).any(|s| {
            matches!(s, Step::Dfu(d) if d.fault.as_ref().is_some_and(|f| matches!(f.at, FaultAt::FlashOp(_))))
        });
        if at_op {
            return Some(format!("case {}: a fault `at: {{ flash-op: N }}`", c.name));
        }
    }
    None
}
