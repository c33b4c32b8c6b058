//! `rig keys` (being written).

use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum KeysCmd {}

pub fn run(cmd: KeysCmd) -> anyhow::Result<ExitCode> {
    match cmd {}
}
