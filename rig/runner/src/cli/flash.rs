//! `rig flash [--erase-all] FILE...`: program HEX, ELF or BIN@ADDRESS images through the DUT's
//! probe, all in one flash loader, with verify.
//!
//! One loader, not one per file: probe-rs 0.32's `nrf52` algorithm treats the UICR as one
//! 4 KB sector (targets/nRF52_Series.yaml), erased whole whenever a segment touches it, and
//! `FlashLoader::commit` leaves bytes no segment names erased. Flashing a bootloader (with
//! NRFFW[0]) and then a UICR hex separately would wipe NRFFW[0] and the bootloader would never
//! start. Files may overlap only where they hold the same bytes.

use super::bench::{BenchArgs, Opened};
use anyhow::{bail, Context};
use clap::Args;
use nrf_dfu::image::{parse_elf, segments_from_bin};
use nrf_dfu::image::{parse_intel_hex, ImageFormat, Segments};
use rig::drivers::probe::{FlashEvent, FlashOptions};
use std::process::ExitCode;
use virtual_nrf52::Segment;

#[derive(Args, Debug)]
pub struct FlashArgs {
    /// Images: Intel HEX, ELF, a raw binary as FILE.bin@ADDRESS (hex address with 0x), or a
    /// built-in stand-in image as standin:NAME (e.g. standin:s132-7.2.0,
    /// standin:bootloader-17.1-ble, standin:app-a; `rig sim images` writes them all out).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Erase the whole chip first (flash and UICR). Needs --allow-erase-all.
    #[arg(long)]
    pub erase_all: bool,
    /// Permit erase-all, including APPROTECT recovery of a locked chip.
    #[arg(long)]
    pub allow_erase_all: bool,
    /// Skip the read-back verification.
    #[arg(long)]
    pub no_verify: bool,
    /// Progress as JSON lines on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bench: BenchArgs,
}

fn parse_address(s: &str) -> anyhow::Result<u32> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.with_context(|| format!("bad address {s:?}"))
}

/// Read one image argument into segments: a file, or `standin:NAME` (built in).
pub fn load_image(arg: &str) -> anyhow::Result<Segments> {
    if let Some(hex) = rig::builtin::images::hex_for(arg) {
        let hex = hex?;
        return parse_intel_hex(&hex).with_context(|| arg.to_string());
    }
    let (path, addr) = match arg.rsplit_once('@') {
        Some((p, a)) => (p, Some(parse_address(a)?)),
        None => (arg, None),
    };
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "reading {path} (give an Intel HEX or ELF file, FILE.bin@ADDRESS, or a built-in \
             stand-in image such as standin:app-b; `rig sim images --out DIR` lists and writes them)"
        )
    })?;
    let segs = match (ImageFormat::detect(path, &bytes), addr) {
        (ImageFormat::Bin, Some(a)) => {
            segments_from_bin(&bytes, a).with_context(|| path.to_string())?
        }
        (ImageFormat::Bin, None) => {
            bail!("{path}: a raw binary needs its address: {path}@0xADDRESS")
        }
        (_, Some(_)) => bail!("{path}: only raw .bin images take an @ADDRESS"),
        (ImageFormat::Elf, None) => parse_elf(&bytes).with_context(|| path.to_string())?,
        (ImageFormat::IntelHex, None) => {
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("{path}: Intel HEX is not text"))?;
            parse_intel_hex(text).with_context(|| path.to_string())?
        }
    };
    if segs.is_empty() {
        bail!("{path}: the image holds no data");
    }
    Ok(segs)
}

/// All files' segments, for one flash loader. Files may overlap where they hold the same bytes
/// (an MBR file beside a SoftDevice hex that carries the MBR too, as Nordic ships S132); bytes
/// that differ are an error naming both files and the first address.
pub fn merge_images(images: &[(String, Vec<Segment>)]) -> anyhow::Result<Vec<Segment>> {
    let mut bytes: std::collections::BTreeMap<u32, (u8, &str)> = std::collections::BTreeMap::new();
    for (name, segs) in images {
        for (start, data) in segs {
            for (i, &b) in data.iter().enumerate() {
                let addr = start + i as u32;
                match bytes.insert(addr, (b, name.as_str())) {
                    Some((old, other)) if old != b => bail!(
                        "{other} and {name} both write {addr:#010x} ({old:#04x} and {b:#04x}): \
                         flash one of them"
                    ),
                    _ => {}
                }
            }
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for (addr, (b, _)) in bytes {
        match out.last_mut() {
            Some((start, data)) if *start + data.len() as u32 == addr => data.push(b),
            _ => out.push((addr, vec![b])),
        }
    }
    Ok(out)
}

pub fn run(a: FlashArgs) -> anyhow::Result<ExitCode> {
    let images: Vec<(String, Vec<Segment>)> = a
        .files
        .iter()
        .map(|f| {
            Ok((
                f.clone(),
                load_image(f)?
                    .runs()
                    .map(|(ad, d)| (ad, d.to_vec()))
                    .collect(),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let bench = a.bench.load()?;
    let opened = Opened::new(&a.bench, &bench, a.bench.dut.as_deref())?;
    let mut probe = opened.probe(a.allow_erase_all)?;
    probe.attach().map_err(super::errors::probe)?;
    let segs = merge_images(&images)?;
    let name = a.files.join(" + ");
    let bar = super::progress::bar(a.json, "{msg:30} [{bar:40}] {bytes}/{total_bytes}");
    let options = FlashOptions {
        erase_all: a.erase_all,
        verify: !a.no_verify,
    };
    let mut on_event = |ev: FlashEvent| {
        if a.json {
            let line = serde_json::json!({ "file": name, "progress": ev });
            println!("{line}");
            return;
        }
        match ev {
            FlashEvent::Started { phase, total } => {
                bar.set_message(format!("{phase:?}"));
                bar.set_length(total);
                bar.set_position(0);
            }
            FlashEvent::Progress { done, .. } => bar.set_position(done),
            FlashEvent::Finished { .. } => {}
        }
    };
    let report = match probe.flash(&segs, options, &mut on_event) {
        Ok(r) => r,
        Err(e) => {
            opened.save()?;
            bail!("flashing {name}: {} [{}]", e.message, e.owner);
        }
    };
    if a.json {
        println!("{}", serde_json::json!({ "file": name, "done": report }));
    } else {
        bar.suspend(|| {
            for (file, segs) in &images {
                let bytes: usize = segs.iter().map(|s| s.1.len()).sum();
                println!("{file}: {bytes} bytes");
            }
            println!(
                "flashed in one pass: {} bytes, {} pages erased{}{}",
                report.bytes,
                report.pages_erased,
                if report.erased_all {
                    ", chip erased first"
                } else {
                    ""
                },
                if report.verified { ", verified" } else { "" }
            )
        });
    }
    bar.finish_and_clear();
    // Run what was flashed.
    probe
        .soft_reset()
        .map_err(|e| super::errors::probe(e).context("reset after flashing"))?;
    opened.save()?;
    Ok(ExitCode::SUCCESS)
}
