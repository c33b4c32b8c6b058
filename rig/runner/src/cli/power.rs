//! `rig power on|off|cycle [--off-time MS]`: the DUT's power switch.

use super::bench::{runtime, BenchArgs, Opened};
use clap::{Args, ValueEnum};
use rig::drivers::power::PowerSwitch;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PowerAction {
    On,
    Off,
    Cycle,
}

#[derive(Args, Debug)]
pub struct PowerArgs {
    pub action: PowerAction,
    /// How long power stays off during a cycle.
    #[arg(long, default_value_t = 500)]
    pub off_time: u64,
    #[command(flatten)]
    pub bench: BenchArgs,
}

pub fn run(a: PowerArgs) -> anyhow::Result<ExitCode> {
    let bench = a.bench.load()?;
    let opened = Opened::new(&a.bench, &bench, a.bench.dut.as_deref())?;
    let mut sw = opened.power()?;
    let rt = runtime()?;
    let r = rt.block_on(async {
        match a.action {
            PowerAction::On => sw.on().await,
            PowerAction::Off => sw.off().await,
            PowerAction::Cycle => sw.cycle(Duration::from_millis(a.off_time)).await,
        }
    });
    opened.save()?;
    r.map_err(|e| anyhow::anyhow!("{e} [{}]", e.owner()))?;
    println!(
        "{}: power {:?} via {}{}",
        opened.name,
        a.action,
        sw.describe(),
        if sw.cuts_power() {
            ""
        } else {
            " (reset only, power not cut)"
        }
    );
    Ok(ExitCode::SUCCESS)
}
