//! Issue 10 benchmark: `rig flash` of the stand-in S132 SoftDevice (with its MBR) and the SDK 17.1
//! UART bootloader into a blank nRF52832 of the virtual lab, through probe-rs and the lab probe
//! driver: the same path as `rig flash --bench DIR/bench.yaml` (attach, erase, program through
//! probe-rs' flash loader running its nRF52 flash algorithm on the lab's core, verify).
//!
//! `cargo run --release -p rig --example lab_flash_bench -- [SPEED]` (lab speed K, default 1).
//!
//! Prints wall time, lab time, SWD transfers and core instructions of the flash, and of the
//! attach before it.

use nrf_dfu::{Chip, SdkVersion};
use rig::drivers::probe::{FlashOptions, Probe};
use rig::drivers::probe_rs::lab_probe::LabProbe;
use rig::drivers::probe_rs::{ProbeRsConfig, ProbeRsProbe};
use rig::sim::{device_setup, images, lab_bench};
use rig_lab::layout::{LabConfig, LabDir};
use std::sync::Arc;
use std::time::Instant;
use virtual_nrf52::descriptor::Transport;
use virtual_nrf52::softdevice::S132_7_2_0;
use virtual_nrf52::standin;

fn main() -> anyhow::Result<()> {
    let speed: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1.0);
    let tmp = tempfile::tempdir()?;
    let dir = LabDir::new(&tmp.path().join("lab"))?;
    let factory = lab_bench::Factory {
        chip: Chip::Nrf52832Qfaa,
        uart_bootloader: false,
        revision: virtual_nrf52::PartRevision::Rev2,
        emulated: Default::default(),
        firmware: Default::default(),
    };
    let lab = rig_lab::Lab::start(
        dir.clone(),
        LabConfig::new("nRF52832_xxAA", speed, 1),
        &factory,
        Arc::new(|_| {}),
    )?;
    let pk = device_setup::public_key(None)?;
    let bl = images::bootloader_descriptor(SdkVersion::Sdk17, Transport::Uart, pk);
    let mut segs = standin::softdevice_hex_segments(&S132_7_2_0);
    segs.extend(images::bootloader_segments(&bl)?);
    let bytes: usize = segs.iter().map(|(_, b)| b.len()).sum();

    let path = dir.swd("dut-0");
    let mut cfg = ProbeRsConfig::new(Some(format!("lab {}", path.display())), Chip::Nrf52832Qfaa);
    cfg.speed_khz = Some(1000);
    let mut probe = ProbeRsProbe::with_opener(
        cfg,
        Box::new(move || LabProbe::open(&path).map(LabProbe::into_probe_rs)),
    );
    let s0 = lab.status().duts[0].clone();
    let t0 = Instant::now();
    probe.attach().map_err(|e| anyhow::anyhow!("attach: {e}"))?;
    let s1 = lab.status().duts[0].clone();
    let t1 = Instant::now();
    let report = probe
        .flash(&segs, FlashOptions::default(), &mut |_| {})
        .map_err(|e| anyhow::anyhow!("flash: {e}"))?;
    let wall = t1.elapsed();
    let s2 = lab.status().duts[0].clone();
    drop(probe);
    lab.shutdown();

    println!(
        "lab speed {speed}x, {} image bytes ({} pages erased, verified {})",
        bytes, report.pages_erased, report.verified
    );
    println!(
        "attach: wall {:.3} s, lab {:.3} s, {} SWD transfers, {} instructions",
        (t1 - t0).as_secs_f64(),
        s1.lab_time_s - s0.lab_time_s,
        s1.swd_transfers - s0.swd_transfers,
        s1.instructions - s0.instructions
    );
    println!(
        "flash:  wall {:.3} s, lab {:.3} s, {} SWD transfers, {} instructions ({:.0} transfers/s wall)",
        wall.as_secs_f64(),
        s2.lab_time_s - s1.lab_time_s,
        s2.swd_transfers - s1.swd_transfers,
        s2.instructions - s1.instructions,
        (s2.swd_transfers - s1.swd_transfers) as f64 / wall.as_secs_f64()
    );
    Ok(())
}
