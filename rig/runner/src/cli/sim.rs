//! `rig sim` (being written).

use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum SimCmd {}

pub fn run(cmd: SimCmd) -> anyhow::Result<ExitCode> {
    match cmd {}
}
