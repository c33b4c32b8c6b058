//! `rig settings` (being written).

use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum SettingsCmd {}

pub fn run(cmd: SettingsCmd) -> anyhow::Result<ExitCode> {
    match cmd {}
}
