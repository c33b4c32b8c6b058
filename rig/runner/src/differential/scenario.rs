//! The scenarios: what state both devices start from, which package the client sends, and
//! where it is interrupted.

use super::client::{Client, CutAt, Stop};
use super::images::{self, Preinstalled};
use super::points;
use super::report::ScenarioRun;
use super::session::{Interruption, Session};
use super::target::{Target, AFTER_UPDATE, SETTLE};
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput};
use nrf_dfu::settings::{self, BootValidationType};
use nrf_dfu::signing::SigningKey;
use virtual_nrf52::descriptor::BootloaderDescriptor;
use virtual_nrf52::Segment;

/// The scenario families, by the name `--scenario` takes.
pub const NAMES: [&str; 9] = [
    "update",
    "reset",
    "power-cut",
    "link-drop",
    "bad-signature",
    "downgrade",
    "downgrade-debug",
    "sd-req",
    "hw-version",
];

/// What one line of the comparison says about each family (for `--help` and the docs).
pub fn describe(name: &str) -> &'static str {
    match name {
        "update" => "a whole update of the application (version 2) from an empty device",
        "reset" => "the update reset through the debug port at seeded points, then resumed",
        "power-cut" => "the update's power cut (100 ms) at seeded points, then resumed",
        "link-drop" => "the host silent for 1 s at seeded points, then resumed",
        "bad-signature" => "the package signed with another key",
        "downgrade" => "version 1 over an installed version 5",
        "downgrade-debug" => "version 1 over version 5 with is_debug set in the init packet",
        "sd-req" => "a package requiring a SoftDevice (sd_req 0x0101) the device lacks",
        "hw-version" => "a package for hw_version 51 on a 52 bootloader",
        _ => "",
    }
}

/// The reference side: the genuine bootloader on the emulated core, or (to test the
/// comparison itself) another model.
#[derive(Clone)]
pub enum Reference {
    Genuine {
        mbr: Vec<Segment>,
        bootloader: Vec<Segment>,
    },
    Model(BootloaderDescriptor),
}

impl Reference {
    fn device(&self, extra: &Preinstalled, seed: u64) -> Result<virtual_nrf52::Device, String> {
        match self {
            Reference::Genuine { mbr, bootloader } => {
                images::genuine_device(mbr, bootloader, extra, seed)
            }
            Reference::Model(desc) => images::model_device(desc, extra, seed),
        }
    }
}

/// Everything a scenario needs.
pub struct Inputs {
    pub reference: Reference,
    pub model: BootloaderDescriptor,
    pub key: SigningKey,
    pub app: Vec<u8>,
    pub area_end: u32,
    pub seed: u64,
}

/// A package's init packet and firmware.
pub struct Package {
    pub init: Vec<u8>,
    pub firmware: Vec<u8>,
}

/// What `nrfutil pkg generate --application app.bin --application-version V --hw-version HW
/// --sd-req SD --key-file KEY [--debug-mode]` makes, as the run's client sends it.
pub struct PackageSpec {
    pub version: u32,
    pub hw_version: u32,
    pub sd_req: Vec<u32>,
    pub debug: bool,
}

impl PackageSpec {
    pub fn app(version: u32) -> PackageSpec {
        PackageSpec {
            version,
            hw_version: 52,
            // No SoftDevice: SD_REQ_APP_OVERWRITES_SD (SDK 17 nrf_dfu_ver_validation.c).
            sd_req: vec![0],
            debug: false,
        }
    }
}

pub fn package(key: &SigningKey, app: &[u8], spec: &PackageSpec) -> Result<Package, String> {
    let generated = generate_package(GenerateOptions {
        hw_version: Some(spec.hw_version),
        application: Some(ImageInput::file("app.bin", app.to_vec())),
        application_version: Some(spec.version),
        sd_req: Some(spec.sd_req.clone()),
        key: Some(key.clone()),
        debug_mode: spec.debug,
        ..Default::default()
    })
    .map_err(|e| format!("package: {e}"))?;
    let image = generated
        .package
        .images()
        .first()
        .ok_or("package: no image")?
        .clone();
    Ok(Package {
        init: image.init_packet.as_bytes().to_vec(),
        firmware: image.firmware,
    })
}

/// `app` installed in bank 0 as version `version`, with the settings page a factory writes
/// (`nrfutil settings generate --family NRF52 --application-version V --bootloader-version 1
/// --bl-settings-version 2 --app-boot-validation VALIDATE_GENERATED_CRC`) and its backup.
fn installed(app: &[u8], version: u32) -> Result<Preinstalled, String> {
    let settings = settings::generate(
        &settings::GenerateOptions {
            family: settings::Family::Nrf52,
            application: Some(app),
            application_version: Some(version),
            bootloader_version: 1,
            bl_settings_version: 2,
            start_address: None,
            backup: settings::BackupPlacement::BelowSettings,
            app_boot_validation: Some(BootValidationType::ValidateCrc),
            sd_boot_validation: None,
            softdevice: None,
        },
        None,
    )
    .map_err(|e| format!("factory settings: {e}"))?;
    let mut segments = vec![(nrf_dfu::memory_map::MBR_SIZE, app.to_vec())];
    segments.extend(settings.segments());
    Ok(Preinstalled { segments })
}

/// A scenario's devices, booted, their first state compared.
fn session(inputs: &Inputs, name: &str, extra: &Preinstalled) -> Result<Session, String> {
    let g = inputs
        .reference
        .device(extra, inputs.seed)
        .map_err(|e| format!("reference device: {e}"))?;
    let m = images::model_device(&inputs.model, extra, inputs.seed)
        .map_err(|e| format!("model device: {e}"))?;
    let mut s = Session::new(name, Target::new(g), Target::new(m), inputs.area_end);
    s.run_for(SETTLE, "the first boot");
    s.compare_state("after the first boot");
    Ok(s)
}

fn finish(
    s: Session,
    name: &str,
    point: Option<String>,
    outcome: String,
    error: Option<String>,
) -> ScenarioRun {
    ScenarioRun {
        name: name.to_string(),
        point,
        requests: s.requests,
        states: s.states,
        outcome,
        differences: s.differences,
        error,
    }
}

/// The client's procedure to its end; a refusal ends the scenario normally (the devices are
/// then reset once and compared again: what a refusal leaves persists).
fn update_to_end(s: &mut Session, client: &mut Client, p: &Package) -> Result<String, String> {
    match client.update(s, &p.init, &p.firmware, None) {
        Ok(()) => {
            s.run_for(AFTER_UPDATE, "activation");
            s.compare_state("after activation");
            Ok("completed".into())
        }
        Err(Stop::Cut) => Err("internal: a cut without a cut point".into()),
        Err(stop) => {
            s.compare_state("after the refusal");
            s.reset("after a reset following the refusal")?;
            Ok(stop.text())
        }
    }
}

/// What a plain scenario starts from and sends: the flash besides the bootloader, the key
/// that signs, the package, and whether the device is first reset into DFU mode.
fn plan(
    inputs: &Inputs,
    name: &str,
) -> Result<(Preinstalled, SigningKey, PackageSpec, bool), String> {
    let fresh = Preinstalled::default;
    let key = inputs.key.clone();
    Ok(match name {
        "update" => (fresh(), key, PackageSpec::app(2), false),
        "bad-signature" => {
            let other = SigningKey::from_scalar_bytes(&[0x5A; 32])
                .map_err(|e| format!("other key: {e}"))?;
            (fresh(), other, PackageSpec::app(2), false)
        }
        "downgrade" => (installed(&inputs.app, 5)?, key, PackageSpec::app(1), true),
        "downgrade-debug" => (
            installed(&inputs.app, 5)?,
            key,
            PackageSpec {
                debug: true,
                ..PackageSpec::app(1)
            },
            true,
        ),
        "sd-req" => (
            fresh(),
            key,
            PackageSpec {
                sd_req: vec![0x0101],
                ..PackageSpec::app(2)
            },
            false,
        ),
        "hw-version" => (
            fresh(),
            key,
            PackageSpec {
                hw_version: 51,
                ..PackageSpec::app(2)
            },
            false,
        ),
        other => return Err(format!("unknown scenario `{other}`")),
    })
}

/// Run the plain scenarios (`update`, `bad-signature`, `downgrade`, `downgrade-debug`,
/// `sd-req`, `hw-version`).
pub fn run_plain(inputs: &Inputs, name: &str) -> ScenarioRun {
    let (extra, key, spec, into_dfu) = match plan(inputs, name) {
        Ok(p) => p,
        Err(e) => return error_run(name, None, e),
    };
    let pkg = match package(&key, &inputs.app, &spec) {
        Ok(p) => p,
        Err(e) => return error_run(name, None, e),
    };
    let mut s = match session(inputs, name, &extra) {
        Ok(s) => s,
        Err(e) => return error_run(name, None, e),
    };
    if into_dfu {
        if let Err(e) = s.reset_into_dfu() {
            return finish(s, name, None, "error".into(), Some(e));
        }
    }
    let mut client = Client::default();
    match update_to_end(&mut s, &mut client, &pkg) {
        Ok(outcome) => finish(s, name, None, outcome, None),
        Err(e) => finish(s, name, None, "error".into(), Some(e)),
    }
}

/// The update interrupted by `kind` at `cut`, then resumed to its end.
pub fn run_interrupted(
    inputs: &Inputs,
    kind: Interruption,
    cut: CutAt,
    label: String,
) -> ScenarioRun {
    let name = kind.name();
    let pkg = match package(&inputs.key, &inputs.app, &PackageSpec::app(2)) {
        Ok(p) => p,
        Err(e) => return error_run(name, Some(label), e),
    };
    let mut s = match session(inputs, name, &Preinstalled::default()) {
        Ok(s) => s,
        Err(e) => return error_run(name, Some(label), e),
    };
    let mut client = Client::default();
    let first = client.update(&mut s, &pkg.init, &pkg.firmware, Some(cut));
    let outcome = match first {
        Err(Stop::Cut) => {
            if let Err(e) = s.interrupt(kind) {
                return finish(s, name, Some(label), "error".into(), Some(e));
            }
            // The client starts over, recovering what the bootloader reports.
            match update_to_end(&mut s, &mut client, &pkg) {
                Ok(o) => o,
                Err(e) => return finish(s, name, Some(label), "error".into(), Some(e)),
            }
        }
        Ok(()) => "completed before the cut point".into(),
        Err(stop) => {
            s.compare_state("after the refusal");
            format!("before the cut: {}", stop.text())
        }
    };
    finish(s, name, Some(label), outcome, None)
}

fn error_run(name: &str, point: Option<String>, e: String) -> ScenarioRun {
    ScenarioRun {
        name: name.to_string(),
        point,
        requests: 0,
        states: 0,
        outcome: "error".into(),
        differences: Vec::new(),
        error: Some(e),
    }
}

/// The seeded points of `kind` for this run's package, with their labels.
pub fn cut_points(
    inputs: &Inputs,
    kind: Interruption,
    count: usize,
) -> Result<Vec<(CutAt, String)>, String> {
    let pkg = package(&inputs.key, &inputs.app, &PackageSpec::app(2))?;
    let (il, fl) = (pkg.init.len(), pkg.firmware.len());
    Ok(points::points(inputs.seed, count, kind, il, fl)
        .into_iter()
        .map(|c| (c, points::describe(kind, c, il, fl)))
        .collect())
}
