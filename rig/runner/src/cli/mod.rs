//! Command-line interface. Subcommands mirror nrfutil's where one exists, so scripts move over by
//! changing the program name.

use clap::{Parser, Subcommand};
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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {}
}
