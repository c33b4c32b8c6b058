//! `rig reset [--pin]`: soft reset (AIRCR.SYSRESETREQ) or pin reset through the DUT's probe.

use super::bench::{BenchArgs, Opened};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Pull nRESET instead of a soft reset (needs PSELRESET routed to P0.21).
    #[arg(long)]
    pub pin: bool,
    /// Make the bootloader stay in DFU mode: GPREGRET = 0xB1, then a soft reset.
    #[arg(long, conflicts_with = "pin")]
    pub dfu: bool,
    #[command(flatten)]
    pub bench: BenchArgs,
}

pub fn run(a: ResetArgs) -> anyhow::Result<ExitCode> {
    let bench = a.bench.load()?;
    let opened = Opened::new(&a.bench, &bench, a.bench.dut.as_deref())?;
    let mut probe = opened.probe(false)?;
    let r = probe.attach().and_then(|_| {
        if a.pin {
            probe.pin_reset()
        } else if a.dfu {
            probe.enter_dfu()
        } else {
            probe.soft_reset()
        }
    });
    opened.save()?;
    r.map_err(|e| anyhow::anyhow!("{} [{}]", e.message, e.owner))?;
    println!(
        "{}: {} reset",
        opened.name,
        if a.pin {
            "pin"
        } else if a.dfu {
            "DFU (GPREGRET 0xB1) soft"
        } else {
            "soft"
        }
    );
    Ok(ExitCode::SUCCESS)
}
