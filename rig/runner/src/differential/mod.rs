//! The differential run (issue 17): the same client traffic against the behavioural model of
//! the SDK 17 UART Secure DFU bootloader and against the genuine bootloader the user gives
//! (Nordic's MBR and the bootloader HEX on the emulated Cortex-M4), in process and in virtual
//! time. After each request the responses are compared byte for byte; after each reset and
//! at the end of each scenario the settings page, its backup and the application area (bank 0,
//! bank 1) are compared field by field. Every difference is reported with scenario, step, what,
//! the model's value and the genuine one; those explained in [`explained`] carry the reason.
//!
//! Deterministic: the devices run in virtual time, the interruption points come from a seed.

mod client;
mod explained;
mod images;
mod points;
mod report;
mod scenario;
mod session;
mod snapshot;
mod target;

pub use client::{CutAt, Phase};
pub use explained::{explain, Explained, EXPLAINED};
pub use images::{hex_segments, model_descriptor, trusting, ImageError, KeyPatch, CHIP};
pub use points::points;
pub use report::{DiffReport, Difference, ScenarioRun};
pub use scenario::{describe, Reference, NAMES as SCENARIOS};
pub use session::Interruption;

use nrf_dfu::memory_map::UICR_NRFFW0;
use nrf_dfu::signing::SigningKey;
use virtual_nrf52::descriptor::BootloaderDescriptor;

/// What a run compares.
pub struct DiffConfig {
    pub reference: Reference,
    /// How the genuine bootloader came to trust `key` (reported).
    pub key_patch: KeyPatch,
    /// The model's bootloader ([`model_descriptor`], possibly with defects).
    pub model: BootloaderDescriptor,
    /// Signs every package but the bad-signature one.
    pub key: SigningKey,
    /// The application the packages carry.
    pub app: Vec<u8>,
    pub seed: u64,
    /// Interruption points per interruption kind.
    pub points: usize,
    /// Scenario families to run ([`SCENARIOS`] names).
    pub scenarios: Vec<String>,
}

/// An application image of `len` bytes (at least 0x200) that boots quietly on the emulated
/// core: a vector table (initial SP at the top of RAM, reset handler at +0x100), a `b .` loop
/// there, and a counting pattern after it.
pub fn generated_app(len: usize) -> Vec<u8> {
    let len = len.max(0x200);
    let mut out: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 8) as u8)
        .collect();
    let base = nrf_dfu::memory_map::MBR_SIZE;
    out[0..4].copy_from_slice(&0x2001_0000u32.to_le_bytes());
    for v in 1..16 {
        // Reset and every exception: the loop (Thumb bit set).
        out[v * 4..v * 4 + 4].copy_from_slice(&(base + 0x101).to_le_bytes());
    }
    out[0x100..0x102].copy_from_slice(&0xE7FEu16.to_le_bytes());
    out
}

/// Where the bootloader of `reference`/`model` starts (UICR.NRFFW\[0\] after flashing).
fn bootloader_start(dev: &virtual_nrf52::Device) -> u32 {
    dev.read_u32(UICR_NRFFW0)
        .ok()
        .filter(|&a| a != 0xFFFF_FFFF && a != 0)
        .unwrap_or(CHIP.bootloader_address())
}

/// Run every selected scenario; `progress` hears a line per scenario run as it starts.
pub fn run(config: &DiffConfig, progress: &mut dyn FnMut(&str)) -> Result<DiffReport, String> {
    for s in &config.scenarios {
        if !SCENARIOS.contains(&s.as_str()) {
            return Err(format!(
                "unknown scenario `{s}`: expected one of {}",
                SCENARIOS.join(", ")
            ));
        }
    }
    let none = images::Preinstalled::default();
    let area_end = {
        let r = match &config.reference {
            Reference::Genuine { mbr, bootloader } => {
                images::genuine_device(mbr, bootloader, &none, config.seed)
                    .map_err(|e| format!("the genuine MBR and bootloader: {e}"))?
            }
            Reference::Model(d) => images::model_device(d, &none, config.seed)
                .map_err(|e| format!("the reference model: {e}"))?,
        };
        let m = images::model_device(&config.model, &none, config.seed)
            .map_err(|e| format!("the model: {e}"))?;
        snapshot::app_area_end([bootloader_start(&r), bootloader_start(&m)])
    };
    let inputs = scenario::Inputs {
        reference: config.reference.clone(),
        model: config.model.clone(),
        key: config.key.clone(),
        app: config.app.clone(),
        area_end,
        seed: config.seed,
    };
    let mut runs = Vec::new();
    for name in SCENARIOS {
        if !config.scenarios.iter().any(|s| s == name) {
            continue;
        }
        let kind = Interruption::ALL.into_iter().find(|k| k.name() == name);
        match kind {
            Some(kind) => {
                for (cut, label) in scenario::cut_points(&inputs, kind, config.points)? {
                    progress(&format!("{name}: {label}"));
                    runs.push(scenario::run_interrupted(&inputs, kind, cut, label));
                }
            }
            None => {
                progress(name);
                runs.push(scenario::run_plain(&inputs, name));
            }
        }
    }
    for run in &mut runs {
        for d in &mut run.differences {
            d.explained = explain(d).map(str::to_string);
        }
    }
    Ok(DiffReport::new(
        config.seed,
        config.points,
        config.key_patch.clone(),
        config.app.len(),
        runs,
    ))
}
