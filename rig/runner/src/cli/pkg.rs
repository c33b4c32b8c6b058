//! `rig pkg` (being written).

use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum PkgCmd {}

pub fn run(cmd: PkgCmd) -> anyhow::Result<ExitCode> {
    match cmd {}
}
