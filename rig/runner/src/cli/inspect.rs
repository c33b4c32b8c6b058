//! `rig inspect [--json]`: what the DUT holds and what it will do, read through its probe (so a
//! real board and the virtual one are inspected the same way): the flash and UICR are read out,
//! decoded by the same code as `rig sim inspect` (settings page and backup, SoftDevice,
//! bootloader descriptor, app CRC against bank_0, next power-on), plus the live GPREGRET /
//! GPREGRET2 / RESETREAS and what the next *reset* does with that GPREGRET.

use super::bench::{BenchArgs, Opened};
use crate::sim::inspect::{inspect, InspectReport};
use anyhow::Context;
use clap::Args;
use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_GPREGRET2, POWER_RESETREAS, UICR_BASE, UICR_SIZE};
use rig::drivers::probe::{Probe, ProbeError};
use serde::Serialize;
use std::process::ExitCode;
use virtual_nrf52::boot_decision::{self, BootInputs, NextBoot};
use virtual_nrf52::power::ResetKind;
use virtual_nrf52::{DebugPort, Hardware, ProgramOptions};

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// One JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bench: BenchArgs,
}

/// The retained POWER registers as read now.
#[derive(Debug, Serialize)]
pub struct Registers {
    pub gpregret: u8,
    pub gpregret2: u8,
    pub resetreas: u32,
}

#[derive(Debug, Serialize)]
pub struct ProbeInspect {
    #[serde(flatten)]
    pub report: InspectReport,
    pub registers: Registers,
    /// What a reset now (GPREGRET kept) does.
    pub next_reset: NextBoot,
}

fn probe_err(e: ProbeError) -> anyhow::Error {
    anyhow::anyhow!("{} [{}]", e.message, e.owner)
}

/// Read the chip's non-volatile content through `probe` into a hardware model for decoding.
pub fn read_out(probe: &mut dyn Probe, chip: nrf_dfu::Chip) -> anyhow::Result<Hardware> {
    let flash = probe.read_memory(0, chip.flash_size()).map_err(probe_err)?;
    let uicr = probe.read_memory(UICR_BASE, UICR_SIZE).map_err(probe_err)?;
    let mut hw = Hardware::new(chip, 0);
    hw.power_on().context("powering the decoding model")?;
    // Only what is not erased: the model's pages start erased.
    let mut segments = Vec::new();
    for (base, bytes) in [(0u32, &flash), (UICR_BASE, &uicr)] {
        let step = if base == 0 {
            nrf_dfu::memory_map::PAGE_SIZE as usize
        } else {
            bytes.len()
        };
        for (i, chunk) in bytes.chunks(step).enumerate() {
            if chunk.iter().any(|&b| b != 0xFF) {
                segments.push((base + (i * step) as u32, chunk.to_vec()));
            }
        }
    }
    let opts = ProgramOptions {
        keep_unwritten_bytes: false,
        verify: true,
    };
    hw.program(&segments, opts)
        .context("copying the read-out into the decoding model")?;
    // Unpowered, as a state file is: the boot simulation powers it on from scratch.
    DebugPort::power_off(&mut hw);
    Ok(hw)
}

pub fn run(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let bench = a.bench.load()?;
    let opened = Opened::new(&a.bench, &bench, a.bench.dut.as_deref())?;
    let chip = opened.dut.chip;
    let mut probe = opened.probe(false)?;
    probe.attach().map_err(probe_err)?;
    let hw = read_out(&mut *probe, chip)?;
    let word = |p: &mut Box<dyn Probe>, a: u32| -> anyhow::Result<u32> {
        let b = p.read_memory(a, 4).map_err(probe_err)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let registers = Registers {
        gpregret: word(&mut probe, POWER_GPREGRET)? as u8,
        gpregret2: word(&mut probe, POWER_GPREGRET2)? as u8,
        resetreas: word(&mut probe, POWER_RESETREAS)?,
    };
    let report = inspect(&hw).context("decoding the settings page")?;
    let inputs = BootInputs {
        reset: ResetKind::SoftReset,
        gpregret: registers.gpregret,
        gpregret2: registers.gpregret2,
    };
    let next_reset = boot_decision::decide(hw.memory(), chip, &inputs)
        .context("deciding the next reset")?
        .next;
    opened.save()?;
    if a.json {
        let out = ProbeInspect {
            report,
            registers,
            next_reset,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print!("{}", report.text());
        println!(
            "GPREGRET {:#04x}, GPREGRET2 {:#04x}, RESETREAS {:#010x}",
            registers.gpregret, registers.gpregret2, registers.resetreas
        );
        println!("next reset (GPREGRET kept): {next_reset}");
    }
    Ok(ExitCode::SUCCESS)
}
