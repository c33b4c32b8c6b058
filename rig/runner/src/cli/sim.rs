//! `rig sim`: the virtual nRF52832 outside a campaign: build its stand-in images, inspect a saved
//! device state, serve a UART bootloader on a pseudo-terminal.

use crate::sim::{images, inspect};
use virtual_nrf52::Hardware;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Write the stand-in image set (MBR, S132, bootloaders per SDK profile and transport, sample
    /// apps) as Intel HEX files, with a README.txt listing them.
    Images(ImagesArgs),
    /// Decode a saved device state (`rig sim serve --state FILE`): UICR, MBR, SoftDevice,
    /// bootloader descriptor, settings page and backup, the application's CRC against bank_0, and
    /// what the next power-on does.
    Inspect(InspectArgs),
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The device state file.
    #[arg(long)]
    pub state: PathBuf,
    /// Print JSON (settings fields named as in nrf_dfu_settings_t) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Directory to write into (created if missing; existing files of the set are replaced).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(cmd: SimCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SimCmd::Images(a) => run_images(a),
        SimCmd::Inspect(a) => run_inspect(a),
    }
}

fn run_images(a: ImagesArgs) -> anyhow::Result<ExitCode> {
    let set = images::image_set()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    for f in &set {
        let path = a.out.join(&f.name);
        std::fs::write(&path, &f.contents).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let dev = Hardware::load_state(&a.state)?;
    let report = inspect::inspect(&dev).with_context(|| format!("{}: reading the settings page", a.state.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(ExitCode::SUCCESS)
}
