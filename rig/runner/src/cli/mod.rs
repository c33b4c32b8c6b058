//! Command-line interface. Subcommands mirror nrfutil's where one exists, so scripts move over by
//! changing the program name.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod dfu;
pub mod diff;
pub mod errors;
pub mod flash;
pub mod inspect;
pub mod keys;
pub mod lab;
pub mod logging;
pub mod pkg;
pub mod power;
pub mod progress;
pub mod report;
pub mod reset;
pub mod run;
pub mod settings;
pub mod sim;
pub mod suite;
pub mod width;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rig",
    version,
    about = "Hardware-in-the-loop test rig for nRF52832 boards with the nRF5 SDK Secure DFU bootloader",
    long_about = "Hardware-in-the-loop test rig for nRF52832 boards with the nRF5 SDK Secure DFU bootloader.\n\n\
        Builds and inspects DFU packages, keys and bootloader settings pages exactly as nrfutil 6.1.7 does \
        (`rig pkg`, `rig keys`, `rig settings` take nrfutil's options)."
)]
pub struct Cli {
    /// Log what the rig does on stderr: -v its debug events (campaign, DUT, case, step, DFU
    /// transport), -vv everything it traces (DFU objects, probe calls) and other crates' info,
    /// -vvv their debug too. RUST_LOG (e.g. `rig=debug,probe_rs=info`) replaces the -v filter.
    /// Goes before the subcommand: `rig -v run ...`.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate, display and verify DFU packages (as `nrfutil pkg`).
    #[command(subcommand)]
    Pkg(pkg::PkgCmd),
    /// Generate and display signing keys (as `nrfutil keys`).
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// Generate and display bootloader settings pages (as `nrfutil settings`).
    #[command(subcommand)]
    Settings(settings::SettingsCmd),
    /// Serve, inspect and build images for the virtual nRF52832.
    #[command(subcommand)]
    Sim(sim::SimCmd),
    /// Program HEX, ELF or BIN@ADDRESS images through the DUT's debug probe.
    Flash(flash::FlashArgs),
    /// Reset the DUT through its probe (soft, pin, or into DFU mode).
    Reset(reset::ResetArgs),
    /// Switch the DUT's power.
    Power(power::PowerArgs),
    /// Update the DUT over Secure DFU (as `nrfutil dfu serial -p` / `dfu ble -a`), on the
    /// virtual bench when neither --port nor --address/--name is given.
    Dfu(dfu::DfuArgs),
    /// Compare the behavioural bootloader model with your genuine SDK 17 UART bootloader (run
    /// on the emulated Cortex-M4) on the same DFU traffic, and report every difference.
    #[command(long_about = diff::LONG_ABOUT)]
    Diff(diff::DiffArgs),
    /// Decode what the DUT holds (settings, UICR, SoftDevice, bootloader, app CRC, GPREGRET,
    /// RESETREAS) and what it does on its next boot, read through its probe.
    Inspect(inspect::InspectArgs),
    /// Check the bench's hardware.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// The virtual lab: virtual nRF52832s served on an SWD socket, a UART pseudo-terminal and
    /// a power switch each, for the hardware backends (`--bench DIR/bench.yaml`).
    #[command(subcommand)]
    Lab(lab::LabCmd),
    /// Check suite files and print their JSON Schema.
    #[command(subcommand)]
    Suite(suite::SuiteCmd),
    /// Run a campaign: every case of a suite on every DUT of a bench (the virtual bench without
    /// --bench), with faults, read-back and verdicts; writes journal, JUnit, summary and HTML.
    Run(run::RunArgs),
    /// Rebuild junit.xml, summary.txt/.json and report.html from campaign journals (merging
    /// benches and nights; --history adds a trend over earlier nights).
    Report(report::ReportArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Pkg(c) => pkg::run(c),
        Command::Keys(c) => keys::run(c),
        Command::Settings(c) => settings::run(c),
        Command::Sim(c) => sim::run(c),
        Command::Flash(c) => flash::run(c),
        Command::Reset(c) => reset::run(c),
        Command::Power(c) => power::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Suite(c) => suite::run(c),
        Command::Lab(c) => lab::run(c),
        Command::Report(a) => report::run(a),
        Command::Run(a) => run::run(a),
        Command::Dfu(c) => dfu::run(c),
        Command::Diff(c) => diff::run(c),
        Command::Inspect(c) => inspect::run(c),
    }
}
