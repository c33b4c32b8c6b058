//! `rig bench check`, and the bench options every hardware command takes.

use anyhow::Context;
use clap::{Args, Subcommand};
use rig::benchfile::open::{self, AnySwitch};
use rig::benchfile::virtual_bench::{settle, VirtualDut, DEFAULT_VIRTUAL_DIR};
use rig::benchfile::{self, BenchFile, Dut, DEFAULT_VIRTUAL_DUT};
use rig::drivers::power::probe_reset::SharedProbe;
use rig::drivers::power::PowerSwitch;
use rig::drivers::probe::Probe;
use rig::drivers::Owner;
use serde::Serialize;
use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;
use virtual_nrf52::{Device, Status};

/// Which bench and DUT a command works on.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Bench file (YAML). Without it: the virtual bench with one device, `virtual-0`.
    #[arg(long, global = true)]
    pub bench: Option<PathBuf>,
    /// The DUT to use (needed when the bench has several).
    #[arg(long, global = true)]
    pub dut: Option<String>,
    /// Where virtual DUTs keep their state.
    #[arg(long, global = true, default_value = DEFAULT_VIRTUAL_DIR)]
    pub virtual_dir: PathBuf,
}

impl BenchArgs {
    pub fn load(&self) -> anyhow::Result<BenchFile> {
        Ok(match &self.bench {
            Some(p) => benchfile::load(p)?,
            None => benchfile::virtual_bench(self.dut.as_deref().unwrap_or(DEFAULT_VIRTUAL_DUT)),
        })
    }
}

/// One DUT with its (virtual) device loaded.
pub struct Opened {
    pub name: String,
    pub dut: Dut,
    pub virt: Option<VirtualDut>,
}

impl Opened {
    pub fn new(args: &BenchArgs, bench: &BenchFile, name: Option<&str>) -> anyhow::Result<Opened> {
        let (name, dut) = bench.dut(name)?;
        let virt = if dut.is_virtual {
            Some(VirtualDut::load(&args.virtual_dir, name, dut.chip)?)
        } else {
            None
        };
        Ok(Opened {
            name: name.to_string(),
            dut: dut.clone(),
            virt,
        })
    }

    pub fn probe(&self, allow_erase_all: bool) -> anyhow::Result<Box<dyn Probe>> {
        Ok(open::probe(&self.dut, self.virt.as_ref(), allow_erase_all)?)
    }

    pub fn power(&self) -> anyhow::Result<AnySwitch> {
        Ok(open::power(&self.dut, self.virt.as_ref(), || {
            let p = open::probe(&self.dut, self.virt.as_ref(), false)?;
            Ok::<SharedProbe, _>(Rc::new(RefCell::new(p)))
        })?)
    }

    /// Persist a virtual device.
    pub fn save(&self) -> anyhow::Result<()> {
        if let Some(v) = &self.virt {
            v.save()
                .with_context(|| format!("saving virtual DUT {}", self.name))?;
        }
        Ok(())
    }
}

/// A runtime for the backends' async calls (power switches, links).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // IO too: btleplug's D-Bus connection (dbus-tokio) registers its socket with the reactor.
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Check every DUT: probe attaches and reads the FICR, BLE adapter present, power switch
    /// toggles, device answers. Failures are classed infra (the bench) or dut (the device).
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub bench: BenchArgs,
    /// One JSON object per check, one per line.
    #[arg(long)]
    pub json: bool,
    /// Power-cycle off time during the check.
    #[arg(long, default_value_t = 200)]
    pub off_time: u64,
}

#[derive(Debug, Serialize)]
struct Check {
    dut: String,
    check: &'static str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<Owner>,
    detail: String,
}

pub fn run(cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCmd::Check(a) => check(a),
    }
}

fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let bench = a.bench.load()?;
    let rt = runtime()?;
    let mut results = Vec::new();
    let names: Vec<String> = match &a.bench.dut {
        Some(d) => vec![d.clone()],
        None => bench.duts.keys().cloned().collect(),
    };
    for name in names {
        let opened = Opened::new(&a.bench, &bench, Some(&name))?;
        results.extend(check_dut(&opened, &rt, Duration::from_millis(a.off_time)));
        opened.save()?;
    }
    for r in &results {
        if a.json {
            println!("{}", serde_json::to_string(r)?);
        } else {
            let status = match (r.ok, r.class) {
                (true, _) => "ok".to_string(),
                (false, Some(c)) => format!("FAIL ({c})"),
                (false, None) => "FAIL".to_string(),
            };
            println!("{:<12} {:<10} {:<12} {}", r.dut, r.check, status, r.detail);
        }
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    if !a.json {
        println!("{} passed, {} failed", results.len() - failed, failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn check_dut(o: &Opened, rt: &tokio::runtime::Runtime, off_time: Duration) -> Vec<Check> {
    let mk = |check, r: Result<String, (Owner, String)>| match r {
        Ok(detail) => Check {
            dut: o.name.clone(),
            check,
            ok: true,
            class: None,
            detail,
        },
        Err((c, detail)) => Check {
            dut: o.name.clone(),
            check,
            ok: false,
            class: Some(c),
            detail,
        },
    };
    let mut out = Vec::new();
    // Power first: the probe needs a powered target.
    let power = o
        .power()
        .map_err(|e| (Owner::Infrastructure, format!("{e:#}")));
    let r = power.and_then(|mut sw| {
        let what = sw.describe();
        let cuts = sw.cuts_power();
        rt.block_on(async {
            sw.on().await?;
            sw.cycle(off_time).await
        })
        .map(|_| {
            format!(
                "{what} ({})",
                if cuts { "cuts power" } else { "reset only" }
            )
        })
        .map_err(|e| (e.owner(), e.to_string()))
    });
    out.push(mk("power", r));
    let probe = o
        .probe(false)
        .map_err(|e| (Owner::Infrastructure, format!("{e:#}")))
        .and_then(|mut p| {
            p.attach().map_err(|e| (e.owner, e.message.clone()))?;
            let f = p.read_ficr().map_err(|e| (e.owner, e.message.clone()))?;
            Ok(format!(
                "{}: part {:X} variant {} flash {} KB ram {} KB, BLE address {}",
                p.describe(),
                f.part,
                f.variant,
                f.flash_kb,
                f.ram_kb,
                f.ble_address
            ))
        });
    out.push(mk("probe", probe));
    out.push(mk("adapter", check_adapter(o, rt)));
    out.push(mk("device", check_device(o, rt)));
    out
}

fn check_adapter(o: &Opened, rt: &tokio::runtime::Runtime) -> Result<String, (Owner, String)> {
    let Some(ble) = &o.dut.ble else {
        return Ok(if o.virt.is_some() {
            "virtual DUT: no host adapter needed".into()
        } else {
            "no BLE configured".into()
        });
    };
    rt.block_on(rig::drivers::ble::adapter::find_for(ble))
        .map(|(_, info)| format!("BLE adapter {info}"))
        .map_err(|e| (Owner::Infrastructure, e.to_string()))
}

fn check_device(o: &Opened, rt: &tokio::runtime::Runtime) -> Result<String, (Owner, String)> {
    if let Some(v) = &o.virt {
        // As a real board would have by now: let the device finish booting.
        let mut d = v.device.borrow_mut();
        settle(&mut d);
        return device_status(&d);
    }
    if let Some(s) = &o.dut.serial {
        use rig::drivers::serial::{SerialOptions, SerialTransport};
        let settings = s.port_settings();
        let opts = SerialOptions {
            ping: s.ping,
            connect_timeout: Duration::from_secs(5),
            ..SerialOptions::default()
        };
        return rt
            .block_on(SerialTransport::connect(settings, opts))
            .map(|t| format!("bootloader answers PING on {} (MTU {:?})", s.port, t.mtu()))
            .map_err(|e| {
                let class = if e.kind.is_infrastructure() {
                    Owner::Infrastructure
                } else {
                    Owner::Device
                };
                (class, e.to_string())
            });
    }
    if let Some(b) = &o.dut.ble {
        return rt
            .block_on(rig::drivers::ble::scan::seen_advertising(
                b,
                Duration::from_secs(5),
            ))
            .map_err(|e| (e.owner(), e.to_string()));
    }
    Ok("no serial or BLE link configured".into())
}

/// What a virtual device shows: bootloader advertising, app running, or silent with the reason.
fn device_status(d: &Device) -> Result<String, (Owner, String)> {
    let addr = |a: [u8; 6]| {
        a.iter()
            .rev()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    match d.status() {
        Status::Bootloader(b) => Ok(format!(
            "bootloader (SDK {:?}, {:?}) in DFU mode, advertising {:?} at {}",
            b.sdk,
            b.transport,
            b.adv_name,
            addr(b.ble_address)
        )),
        Status::App(a) => Ok(format!(
            "application {:?} version {} running, at {}",
            a.name,
            a.version,
            addr(a.ble_address)
        )),
        Status::Off => Err((
            Owner::Infrastructure,
            "virtual device has no power (run `rig power on`)".into(),
        )),
        Status::Silent => Err((
            Owner::Device,
            match d.silent_reason() {
                Some(r) => {
                    format!("virtual device is silent: {r:?} (flash a bootloader with `rig flash`)")
                }
                None => "virtual device is silent".into(),
            },
        )),
    }
}
