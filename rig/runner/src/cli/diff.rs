//! `rig diff`: the differential run (issue 17). The same client traffic against the behavioural
//! model of the SDK 17 UART bootloader and against the user's genuine bootloader on the
//! emulated Cortex-M4; every difference in responses, settings and banks is reported.

use anyhow::{bail, Context};
use clap::Args;
use rig::builtin::keys::signing_key;
use rig::differential::{self, DiffConfig, Reference};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `rig diff --help`: what the run does, its scenarios, the key and the exit status.
pub const LONG_ABOUT: &str = "Run the same DFU client traffic against the behavioural model of the nRF5 SDK 17 \
UART Secure DFU bootloader and against your genuine bootloader (Nordic's MBR + your bootloader HEX, \
run on the emulated Cortex-M4), in process and in virtual time, and report every difference.\n\n\
After each request the two responses are compared byte for byte; after each reset and at the end \
of each scenario the settings page and its backup (field by field) and the application area \
(bank 0, bank 1, the rest) are compared. Each difference names the scenario, the client's step, \
what differs, the model's value and the genuine one.\n\n\
Scenarios (--scenario, repeatable; default all): update (a whole update), reset, power-cut and \
link-drop (the update interrupted at --points seeded random points in the init packet and in the \
data, then resumed as nrfutil resumes), bad-signature (signed with another key), downgrade and \
downgrade-debug (version 1 over an installed version 5, without and with is_debug), sd-req (a \
SoftDevice the device lacks), hw-version (51 on a 52 bootloader).\n\n\
Packages are signed with --key. The bootloader must trust it: if its pk[64] (dfu_public_key.c) \
is another key, the one P-256 key in the image is replaced in memory (as \
scripts/bootloader-with-key.py does on disk); a build trusting --key runs unchanged.\n\n\
Differences the project has explained (docs/ARCHITECTURE.md, \"The differential run\") are shown \
with their reason. Exit status: 0 when every difference is explained and every scenario ran to \
its end; 1 when a difference is unexplained, a scenario could not run, or an input is bad (the \
error names the file and what is wrong).\n\n\
Example: rig diff --mbr mbr.hex --bootloader bootloader_secure_uart_debug_without_bonds_mbr.hex \
--debug-build --seed 7 --points 3";

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Nordic's MBR (Intel HEX), e.g. the SDK's components/softdevice/mbr/hex/mbr_nrf52_2.4.1_mbr.hex.
    #[arg(long, value_name = "MBR.hex")]
    pub mbr: PathBuf,
    /// The genuine UART Secure DFU bootloader (Intel HEX) of nRF5 SDK 17, built for nRF52832.
    #[arg(long, value_name = "BL.hex")]
    pub bootloader: PathBuf,
    /// Private key (PEM) that signs the packages [default: the rig's test key,
    /// firmware/keys/rig-test-private.pem].
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The application the packages carry (HEX, ELF or BIN, as `rig pkg generate` reads it)
    /// [default: a generated image of --app-size bytes that idles in a loop].
    #[arg(long, value_name = "IMAGE")]
    pub app: Option<PathBuf>,
    /// Size of the generated application (bytes; at least 512).
    #[arg(long, default_value_t = 5000, value_name = "BYTES")]
    pub app_size: usize,
    /// Seed of the interruption points (same seed, same points).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Interruption points per kind (reset, power cut, link drop).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub points: usize,
    /// Scenario families to run (repeatable or comma-separated) [default: all].
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub scenario: Vec<String>,
    /// The genuine bootloader is a debug build (NRF_DFU_DEBUG_VERSION, as the SDK's *_debug
    /// Makefiles and Nordic's test images are): the model is built the same way, so an init
    /// packet with is_debug skips the hw_version, sd_req and fw_version checks on both.
    #[arg(long)]
    pub debug_build: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{what} {}", path.display()))
}

pub fn run(a: DiffArgs) -> anyhow::Result<ExitCode> {
    for s in &a.scenario {
        if !differential::SCENARIOS.contains(&s.as_str()) {
            bail!(
                "--scenario {s}: unknown; expected one of {}",
                differential::SCENARIOS.join(", ")
            );
        }
    }
    let mbr_name = a.mbr.display().to_string();
    let bl_name = a.bootloader.display().to_string();
    let mbr = differential::hex_segments(&mbr_name, &read_text(&a.mbr, "MBR")?)?;
    let bl = differential::hex_segments(&bl_name, &read_text(&a.bootloader, "bootloader")?)?;
    let (key, key_name) = signing_key(a.key.as_deref())?;
    let (bl, key_patch) = differential::trusting(&bl_name, bl, &key.public_key())?;
    let app = match &a.app {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("application {}", p.display()))?;
            let name = p.display().to_string();
            nrf_dfu::image::load_firmware(&name, &bytes, nrf_dfu::memory_map::MBR_SIZE)
                .with_context(|| format!("application {name}"))?
                .bin
        }
        None => differential::generated_app(a.app_size),
    };
    let scenarios = if a.scenario.is_empty() {
        differential::SCENARIOS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        a.scenario.clone()
    };
    eprintln!(
        "rig diff: model vs {bl_name} ({}), packages signed with {key_name}, {} application bytes",
        match key_patch {
            differential::KeyPatch::AlreadyTrusted { address } =>
                format!("trusts the key at {address:#x}"),
            differential::KeyPatch::Replaced { address } =>
                format!("pk[64] at {address:#x} replaced by the key"),
        },
        app.len()
    );
    let config = DiffConfig {
        reference: Reference::Genuine {
            mbr,
            bootloader: bl,
        },
        key_patch,
        model: {
            let mut m = differential::model_descriptor(&key.public_key());
            m.debug_version = a.debug_build;
            m
        },
        key,
        app,
        seed: a.seed,
        points: a.points,
        scenarios,
    };
    let started = std::time::Instant::now();
    let report = differential::run(&config, &mut |line| eprintln!("  {line}"))
        .map_err(|e| anyhow::anyhow!(e))?;
    eprintln!("  ({:.1} s)", started.elapsed().as_secs_f64());
    let debug_differs = report
        .scenarios
        .iter()
        .any(|s| s.name == "downgrade-debug" && !s.differences.is_empty());
    if debug_differs && !a.debug_build {
        eprintln!(
            "hint: downgrade-debug differs; if the genuine bootloader is a debug build (Nordic's \
             *_debug images are), run again with --debug-build"
        );
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
