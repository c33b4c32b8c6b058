//! `rig dfu PKG | --image FILE --version N|next`: a Secure DFU update, as `nrfutil dfu serial -p`
//! (`--port`) or `nrfutil dfu ble -a/-n` (`--address`/`--name`), or, with neither, on the
//! virtual DUT of the bench (simulated time: the update takes no wall time).

use super::bench::{BenchArgs, Opened};
use super::flash::load_image;
use anyhow::{bail, Context};
use clap::Args;
use indicatif::ProgressBar;
use nrf_dfu::client::{
    Control, DfuClient, DfuConfig, DfuError, DfuImage, FnSink, ImageReport, Phase, ProgressEvent,
};
use nrf_dfu::image::write_intel_hex;
use nrf_dfu::memory_map::{SoftDeviceInfo, SOFTDEVICE_START};
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput, Package};
use nrf_dfu::settings::{SettingsLayout, SettingsPage};
use nrf_dfu::SdkVersion;
use rig::drivers::probe::Probe;
use rig::inproc::virtual_dfu::{update_virtual, VirtualDfuOutcome};
use rig::inproc::BleLinkConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct DfuArgs {
    /// DFU package (.zip, as made by `rig pkg generate` or nrfutil).
    #[arg(required_unless_present = "image", conflicts_with = "image")]
    pub package: Option<PathBuf>,
    /// Build and sign an application package on the fly from this image (HEX, ELF,
    /// FILE.bin@ADDRESS, or a built-in stand-in such as standin:app-b).
    #[arg(long, requires = "version")]
    pub image: Option<String>,
    /// Application version of `--image`: a number, or `next` (the DUT's settings app_version + 1,
    /// read through its probe).
    #[arg(long)]
    pub version: Option<String>,
    /// Signing key (PEM) for `--image` [default: the bench file's key for the DUT, else the
    /// built-in test key (firmware/keys/rig-test-private.pem), which the stand-in bootloaders
    /// and a lab DUT built with it trust].
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// `--sd-req` of the package built for `--image` [default: the installed SoftDevice's FWID,
    /// read through the probe; 0x00 without one].
    #[arg(long, value_parser = parse_u32)]
    pub sd_req: Option<u32>,
    /// `--hw-version` of the package built for `--image`.
    #[arg(long, default_value_t = 52)]
    pub hw_version: u32,
    /// Serial port of a UART bootloader (nrfutil dfu serial -p).
    #[arg(short = 'p', long, conflicts_with_all = ["address", "name"])]
    pub port: Option<String>,
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// Disable RTS/CTS on --port.
    #[arg(long)]
    pub no_flow_control: bool,
    /// BLE address of the bootloader (nrfutil dfu ble -a).
    #[arg(short = 'a', long)]
    pub address: Option<String>,
    /// Advertised name of the bootloader (nrfutil dfu ble -n).
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// Packet receipt notification interval (0 = off, nrfutil's default).
    #[arg(long, default_value_t = 0)]
    pub prn: u16,
    /// Progress and result as JSON lines on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bench: BenchArgs,
}

fn parse_u32(s: &str) -> Result<u32, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("{s:?}: {e}"))
}

/// The installed SoftDevice's FWID and the settings page's app_version, through the probe.
fn read_device_facts(
    probe: &mut dyn Probe,
    chip: nrf_dfu::Chip,
) -> anyhow::Result<(Option<u16>, Option<u32>)> {
    let err = super::errors::probe;
    probe.attach().map_err(err)?;
    let head = probe
        .read_memory(0, SOFTDEVICE_START + 0x2100)
        .map_err(err)?;
    let fwid = SoftDeviceInfo::parse(&head, 0).map(|sd| sd.fwid);
    let page = probe
        .read_memory(chip.settings_address(), nrf_dfu::memory_map::PAGE_SIZE)
        .map_err(err)?;
    let version = SettingsLayout::detect(&page)
        .ok()
        .and_then(|l| SettingsPage::decode(&page, l).ok())
        .map(|s| s.app_version);
    Ok((fwid, version))
}

fn build_package(a: &DfuArgs, image: &str, opened: &Opened) -> anyhow::Result<Package> {
    let segs = load_image(image)?;
    // generate_package takes nrfutil's inputs: hand it the image as Intel HEX.
    let hex = write_intel_hex(&segs);
    let need_probe = a.sd_req.is_none() || a.version.as_deref() == Some("next");
    let (fwid, installed_version) = if need_probe {
        let mut probe = opened.probe(false)?;
        read_device_facts(&mut *probe, opened.dut.chip)
            .context("reading the installed SoftDevice and settings through the probe")?
    } else {
        (None, None)
    };
    let version = match a.version.as_deref() {
        Some("next") => match installed_version {
            Some(v) => v
                .checked_add(1)
                .context("app_version is already 0xFFFFFFFF")?,
            None => {
                bail!("--version next: the DUT's settings page cannot be decoded; give a number")
            }
        },
        Some(v) => parse_u32(v).map_err(anyhow::Error::msg)?,
        None => bail!("--image needs --version"),
    };
    let key_path = a
        .key
        .clone()
        .or_else(|| opened.dut.bootloader.as_ref().and_then(|b| b.key.clone()));
    let (key, key_name) = rig::builtin::keys::signing_key(key_path.as_deref())?;
    let sd_req = a.sd_req.unwrap_or(fwid.map_or(0, u32::from));
    let generated = generate_package(GenerateOptions {
        hw_version: Some(a.hw_version),
        application: Some(ImageInput::file("image.hex", hex.into_bytes())),
        application_version: Some(version),
        sd_req: Some(vec![sd_req]),
        key: Some(key),
        ..Default::default()
    })
    .context("building the package")?;
    if !a.json {
        eprintln!(
            "package: application version {version}, sd-req {sd_req:#06x}, signed with {key_name}"
        );
    }
    Ok(generated.package)
}

struct Progress {
    json: bool,
    bar: ProgressBar,
}

impl Progress {
    fn new(json: bool) -> Progress {
        let bar = super::progress::bar(
            json,
            "{msg:24} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec}",
        );
        Progress { json, bar }
    }

    fn event(&self, e: &ProgressEvent) -> Control {
        if !matches!(e.phase, Phase::Write) {
            rig::campaign::run::executor::trace_dfu_object(e);
        }
        if self.json {
            if !matches!(e.phase, Phase::Write) || e.offset == 0 {
                let line = serde_json::json!({"progress": {
                    "image": e.image_index, "images": e.image_count, "kind": e.image_kind.to_string(),
                    "phase": e.phase.label(), "object": e.object.map(|o| format!("{o:?}")),
                    "object_index": e.object_index, "objects": e.object_count, "attempt": e.attempt,
                    "offset": e.offset, "total": e.total, "bytes_per_second": e.bytes_per_second,
                }});
                println!("{line}");
            }
        } else if e.object == Some(nrf_dfu::wire::ObjectType::Data) {
            self.bar.set_message(format!(
                "{} {}/{}",
                e.image_kind,
                e.image_index + 1,
                e.image_count
            ));
            self.bar.set_length(u64::from(e.total));
            self.bar.set_position(u64::from(e.offset));
        }
        Control::Continue
    }
}

fn images_of(a: &DfuArgs, opened: &Opened) -> anyhow::Result<Vec<DfuImage>> {
    let package = match (&a.package, &a.image) {
        (Some(p), None) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Package::from_zip(&bytes).with_context(|| p.display().to_string())?
        }
        (None, Some(img)) => build_package(a, img, opened)?,
        _ => bail!("give a package or --image"),
    };
    Ok(DfuImage::from_package(&package))
}

fn config(a: &DfuArgs, sdk: Option<SdkVersion>) -> DfuConfig {
    DfuConfig {
        prn: a.prn,
        sdk,
        ..DfuConfig::default()
    }
}

pub fn run(a: DfuArgs) -> anyhow::Result<ExitCode> {
    let bench = a.bench.load()?;
    let opened = Opened::new(&a.bench, &bench, a.bench.dut.as_deref())?;
    let images = images_of(&a, &opened)?;
    let total: u64 = images.iter().map(|i| i.firmware.len() as u64).sum();
    let progress = Progress::new(a.json);
    let sink = FnSink(|e: &ProgressEvent| progress.event(e));
    let sdk = opened.dut.bootloader.as_ref().map(|b| b.sdk);
    let transport = match (&a.port, opened.virt.is_some()) {
        (Some(_), _) => "serial",
        (None, _) if a.address.is_some() || a.name.is_some() => "ble",
        (None, true) => "virtual ble",
        (None, false) => "none",
    };
    let span = tracing::info_span!("dfu", dut = %opened.name, transport, images = images.len());
    let _in_span = span.enter();
    tracing::info!(bytes = total, "update starts");
    if a.port.is_some() || a.address.is_some() || a.name.is_some() {
        let rt = super::bench::runtime()?;
        let started = std::time::Instant::now();
        let ble = opened.dut.ble.clone();
        let result = rt.block_on(real_update(&a, ble, config(&a, sdk), sink, &images))?;
        progress.bar.finish_and_clear();
        return report(&a, result, started.elapsed(), total, "wall");
    }
    let Some(v) = &opened.virt else {
        bail!(
            "DUT {} is not virtual: give --port, --address or --name",
            opened.name
        );
    };
    // Simulated time: a paused current-thread runtime (every wait advances device time only).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    let outcome: VirtualDfuOutcome = rt
        .block_on(update_virtual(
            &v.device,
            &images,
            config(&a, sdk),
            BleLinkConfig::default(),
            sink,
        ))
        .map_err(|e| {
            let tag = if matches!(e, rig::inproc::virtual_dfu::VirtualDfuError::Off) {
                "infra"
            } else {
                "dut"
            };
            super::errors::tagged(e, tag)
        })?;
    progress.bar.finish_and_clear();
    opened.save()?;
    if !a.json {
        println!(
            "virtual {:?} link: {} packets ({} dropped), {} requests; device after settling: {}",
            outcome.link,
            outcome.counters.packets,
            outcome.counters.dropped_packets,
            outcome.counters.requests,
            outcome.status
        );
    }
    report(&a, outcome.result, outcome.elapsed, total, "simulated")
}

async fn real_update<S: nrf_dfu::client::ProgressSink>(
    a: &DfuArgs,
    ble: Option<rig::benchfile::schema::BleConfig>,
    config: DfuConfig,
    sink: S,
    images: &[DfuImage],
) -> anyhow::Result<Result<Vec<ImageReport>, DfuError>> {
    use rig::drivers::ble::freshness::Wanted;
    use rig::drivers::serial::{PortSettings, SerialOptions, SerialTransport};
    if let Some(port) = &a.port {
        let settings = PortSettings {
            path: port.clone(),
            baud: a.baud,
            flow_control: !a.no_flow_control,
        };
        let t = SerialTransport::connect(settings, SerialOptions::default())
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{port}: {e} [{}]",
                    if e.kind.is_infrastructure() {
                        "infra"
                    } else {
                        "dut"
                    }
                )
            })?;
        let config = DfuConfig {
            timeouts: nrf_dfu::client::Timeouts::for_hardware(nrf_dfu::client::Transport::Uart),
            ..config
        };
        let mut client = DfuClient::with_sink(t, config, sink);
        return Ok(client.update(images).await);
    }
    let addresses = match &a.address {
        Some(s) => vec![s
            .parse()
            .map_err(|e| anyhow::anyhow!("--address {s}: {e:?}"))?],
        None => vec![],
    };
    let mut wanted = Wanted {
        addresses,
        name: a.name.clone(),
        service: None,
    };
    // The bench file's DUT names the adapter and the bus BlueZ is on (a lab's virtual BlueZ).
    let (adapter, _) = match &ble {
        Some(cfg) => rig::drivers::ble::adapter::find_for(cfg).await,
        None => rig::drivers::ble::adapter::find(None).await,
    }
    .map_err(|e| super::errors::tagged(e, "infra"))?;
    if a.address.is_some() {
        // As nrfutil: an address may name the application; buttonless entry first.
        let name = ble.as_ref().and_then(|b| b.name.clone());
        wanted = rig::drivers::ble::buttonless::enter_if_app(
            &adapter,
            wanted,
            name,
            Duration::from_secs(10),
        )
        .await
        .map_err(|e| {
            let tag = if e.owner() == rig::drivers::owner::Owner::Infrastructure {
                "infra"
            } else {
                "dut"
            };
            super::errors::tagged(e, tag).context("entering the bootloader")
        })?;
        if !a.json {
            eprintln!(
                "bootloader expected at {}",
                wanted
                    .addresses
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
        }
    }
    let t = rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, None, None)
        .await
        .map_err(|e| {
            let tag = if e.kind.is_infrastructure() {
                "infra"
            } else {
                "dut"
            };
            super::errors::tagged(e, tag).context("connecting")
        })?;
    let config = DfuConfig {
        timeouts: nrf_dfu::client::Timeouts::for_hardware(nrf_dfu::client::Transport::Ble),
        ..config
    };
    let mut client = DfuClient::with_sink(t, config, sink);
    Ok(client.update(images).await)
}

fn report(
    a: &DfuArgs,
    result: Result<Vec<ImageReport>, DfuError>,
    elapsed: Duration,
    total: u64,
    clock: &str,
) -> anyhow::Result<ExitCode> {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
    match result {
        Ok(reports) => {
            if a.json {
                let images: Vec<_> = reports.iter().map(|r| serde_json::json!({
                    "kind": r.kind.to_string(), "write_len": r.write_len, "bytes_written": r.stats.bytes_written,
                    "seconds": r.elapsed.as_secs_f64(), "activation_observed": r.activation_observed,
                })).collect();
                println!(
                    "{}",
                    serde_json::json!({"done": {"images": images, "bytes": total, "seconds": secs, "clock": clock, "bytes_per_second": rate}})
                );
            } else {
                println!(
                    "DFU done: {} image(s), {total} bytes in {secs:.3} s ({clock}), {:.0} B/s",
                    reports.len(),
                    rate
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let class = if e.is_infrastructure() {
                "infra"
            } else {
                "dut"
            };
            let (op, result, ext) = match &e {
                DfuError::Rejected {
                    op, result, ext, ..
                } => (
                    Some(op.to_string()),
                    Some(result.to_string()),
                    ext.map(|x| x.to_string()),
                ),
                _ => (None, None, None),
            };
            let phase = e.location().map(|l| l.phase.label());
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"error": {"message": e.to_string(), "class": class,
                    "failure_class": e.failure_class(), "phase": phase, "opcode": op, "result": result, "ext": ext}})
                );
            } else {
                eprintln!("DFU failed [{class}] ({}): {e}", e.failure_class());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
