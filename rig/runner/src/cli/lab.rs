//! `rig lab up|status|power|fault|down`: the virtual lab (crate rig-lab) as a background process, and
//! the bench file that points the rig's hardware backends at it.

use crate::sim::{lab_bench, lab_firmware};
use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use rig_lab::control::{self, ControlRequest, LabStatus};
use rig_lab::layout::{LabConfig, LabDir};
use rig_lab::protocol::PowerAction;
use rig_lab::ClientError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use virtual_nrf52::Segment;

/// The lab directory when --dir is not given.
pub const DEFAULT_DIR: &str = ".rig/lab";

#[derive(Subcommand, Debug)]
pub enum LabCmd {
    /// Start a lab of virtual nRF52832s (in the background unless --foreground) and write
    /// DIR/bench.yaml describing every DUT: its SWD socket (probe-rs through the lab's probe
    /// driver), its UART pseudo-terminal, its power switch (a virtual PPK2 for even-numbered
    /// DUTs, `rig lab power` as a command switch for odd ones). DUTs named with --ble are on
    /// the air instead of the UART: the lab runs a virtual BlueZ (its own dbus-daemon) and the
    /// bench file gives them `ble: { adapter: hci0, dbus: ... }`. A lab started again on the
    /// same DIR carries on with the devices as it left them (or as a power loss left them).
    Up(UpArgs),
    /// What every DUT of the lab does: supply, what runs, lab time, SWD transfers.
    Status(StatusArgs),
    /// Switch a DUT's supply (the bench file's `command` switch calls this).
    Power(PowerArgs),
    /// Switch a bench defect around a DUT on or off, to rehearse how the rig reports a bench
    /// that lies. `back-powered`: the supply switch cuts VDD but the chip stays powered through
    /// its UART or SWD lines, so a power cut resets nothing; the rig must report a bench fault.
    Fault(FaultArgs),
    /// Break a DUT's radio link (a DUT on the air), as interference would: the rig sees the
    /// link time out, the device sees its supervision timeout.
    LinkDrop(LinkDropArgs),
    /// Stop the lab: devices saved, sockets and pseudo-terminals removed, its dbus-daemon ended.
    Down(DirArg),
}

#[derive(Args, Debug)]
pub struct LinkDropArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The DUT (one started with --ble).
    pub dut: String,
}

#[derive(Args, Debug, Clone)]
pub struct DirArg {
    /// The lab directory (state, sockets, bench.yaml, lab.log).
    #[arg(long, env = "RIG_LAB_DIR", default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Fresh {
    /// Erased flash and UICR, as a chip from the reel.
    Blank,
    /// MBR and the SDK 17.1 UART bootloader (trusting the built-in test key): `rig dfu --port`
    /// works at once. DUTs on the air (--ble) get S132 7.2.0 and the SDK 17.1 BLE bootloader
    /// instead, waiting in DFU mode as "DfuTarg".
    #[value(alias = "bootloader")]
    UartBootloader,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Number of DUTs (dut-0, dut-1, ...) [default: 1, or what DIR/lab.json says].
    #[arg(long)]
    pub duts: Option<usize>,
    /// Chip of every DUT [default: nRF52832_xxAA, or what DIR/lab.json says].
    #[arg(long, value_parser = ["nRF52832_xxAA", "nRF52832_xxAB"])]
    pub chip: Option<String>,
    /// Part revision of every DUT: rev2 (APPROTECT from UICR only) or rev3 (hardware APPROTECT:
    /// a blank rev3 chip is locked; probe-rs needs --allow-erase-all to recover it)
    /// [default: rev2, or what DIR/lab.json says].
    #[arg(long, value_parser = ["rev2", "rev3"])]
    pub revision: Option<String>,
    /// What runs on the DUTs: `model` (the firmware models of MBR, bootloader and
    /// application) or `emulated` (an emulated Cortex-M4F executes the images flashed into it,
    /// e.g. Nordic's genuine MBR and bootloader; start it with --fresh blank and `rig flash`,
    /// or with --firmware). A bare KIND is for every DUT, NAME=KIND for one, comma-separated:
    /// `--cpu dut-1=emulated` serves a model DUT and an emulated one side by side
    /// [default: model, or what DIR/lab.json says].
    #[arg(long, value_delimiter = ',', value_name = "[NAME=]KIND")]
    pub cpu: Option<Vec<String>>,
    /// Intel HEX images (flash and UICR records) preloaded into fresh DUTs before their first
    /// boot, as `rig flash` of the files would leave them: `--firmware mbr.hex bootloader.hex`
    /// for every DUT, `--firmware dut-1=mbr.hex,bootloader.hex` for one. An emulated DUT
    /// starts running them at once. Only DUTs without saved state (the first `up` of DIR).
    #[arg(long, num_args = 1.., value_name = "[NAME=]HEX[,HEX...]")]
    pub firmware: Vec<String>,
    /// Simulated seconds per wall second (device-side durations scale; the rig's own
    /// timeouts stay real).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// What a DUT without saved state starts as.
    #[arg(long, value_enum, default_value = "blank")]
    pub fresh: Fresh,
    /// DUTs on the air (comma-separated names, e.g. `--ble dut-2`): served to the rig's BLE
    /// backend by the lab's virtual BlueZ (needs `dbus-daemon`, Debian package dbus-daemon)
    /// [default: none, or what DIR/lab.json says].
    #[arg(long, value_delimiter = ',')]
    pub ble: Option<Vec<String>>,
    /// Run in this process until SIGINT/SIGTERM or `rig lab down`, logging to stderr.
    #[arg(long)]
    pub foreground: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct PowerArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The DUT (dut-0, ...).
    pub dut: String,
    #[arg(value_parser = ["on", "off", "cycle"])]
    pub action: String,
}

#[derive(Args, Debug)]
pub struct FaultArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The DUT (dut-0, ...).
    pub dut: String,
    #[arg(value_parser = ["back-powered"])]
    pub fault: String,
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
}

pub fn run(cmd: LabCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        LabCmd::Up(a) => up(a),
        LabCmd::Status(a) => status(a),
        LabCmd::Power(a) => power(a),
        LabCmd::Fault(a) => fault(a),
        LabCmd::LinkDrop(a) => link_drop(a),
        LabCmd::Down(a) => down(a),
    }
}

/// The lab's answer, or an error that says what to do.
fn call(dir: &LabDir, req: &ControlRequest) -> anyhow::Result<control::ControlReply> {
    match control::call(&dir.control(), req) {
        Ok(r) if r.ok => Ok(r),
        Ok(r) => bail!("{}", r.error.unwrap_or_else(|| "the lab refused".into())),
        Err(ClientError::NotRunning { .. }) => bail!(
            "no lab is running in {d} (no {s}): start one with `rig lab up --dir {d}`",
            d = dir.dir.display(),
            s = dir.control().display()
        ),
        Err(ClientError::Stale { .. }) => bail!(
            "the lab in {d} is not running any more (stale socket {s}, the lab was killed): \
             start it again with `rig lab up --dir {d}`, which carries on from its saved state",
            d = dir.dir.display(),
            s = dir.control().display()
        ),
        Err(e) => Err(e.into()),
    }
}

/// The configuration of this `up`: DIR/lab.json's, checked against the options.
fn config_for(dir: &LabDir, a: &UpArgs) -> anyhow::Result<LabConfig> {
    if !(a.speed > 0.0 && a.speed.is_finite()) {
        bail!(
            "--speed {}: must be a positive number of simulated seconds per wall second",
            a.speed
        );
    }
    Ok(match dir.read_config()? {
        Some(mut c) => {
            if let Some(n) = a.duts.filter(|n| *n != c.duts.len()) {
                bail!(
                    "{} holds a lab of {} DUTs, not {n}: drop --duts, or use another --dir",
                    dir.dir.display(),
                    c.duts.len()
                );
            }
            if let Some(chip) = a.chip.as_ref().filter(|ch| **ch != c.chip) {
                bail!(
                    "{} holds a lab of {} DUTs, not {chip}: drop --chip, or use another --dir",
                    dir.dir.display(),
                    c.chip
                );
            }
            if let Some(r) = a.revision.as_ref().filter(|r| **r != c.revision) {
                bail!(
                    "{} holds a lab of {} parts, not {r}: drop --revision, or use another --dir",
                    dir.dir.display(),
                    c.revision
                );
            }
            if let Some(ble) = &a.ble {
                let have: Vec<&str> = c
                    .duts
                    .iter()
                    .filter(|d| d.ble)
                    .map(|d| d.name.as_str())
                    .collect();
                let mut want: Vec<&str> = ble.iter().map(String::as_str).collect();
                want.sort();
                let mut have_sorted = have.clone();
                have_sorted.sort();
                if want != have_sorted {
                    bail!(
                        "{} holds a lab whose DUTs on the air are [{}], not [{}]: drop --ble, or use another --dir",
                        dir.dir.display(),
                        have.join(","),
                        ble.join(",")
                    );
                }
            }
            if let Some(values) = &a.cpu {
                let names: Vec<String> = c.duts.iter().map(|d| d.name.clone()).collect();
                let want = lab_bench::parse_cpu(values, &names, |n| {
                    c.duts
                        .iter()
                        .find(|d| d.name == n)
                        .map_or(c.cpu.clone(), |d| c.cpu_of(d).to_string())
                })?;
                for (d, w) in c.duts.iter().zip(&want) {
                    if c.cpu_of(d) != w {
                        bail!(
                            "{} holds a lab whose {} runs --cpu {}, not {w}: drop --cpu, or use another --dir",
                            dir.dir.display(),
                            d.name,
                            c.cpu_of(d)
                        );
                    }
                }
            }
            c.speed = a.speed;
            c
        }
        None => {
            let n = a.duts.unwrap_or(1);
            if n == 0 || n > 64 {
                bail!("--duts {n}: a lab hosts 1 to 64 DUTs");
            }
            let mut c = LabConfig::new(a.chip.as_deref().unwrap_or("nRF52832_xxAA"), a.speed, n);
            if let Some(r) = &a.revision {
                c.revision = r.clone();
            }
            for name in a.ble.iter().flatten() {
                let Some(d) = c.duts.iter_mut().find(|d| d.name == *name) else {
                    bail!(
                        "--ble {name}: no such DUT in a lab of {n} (dut-0 … dut-{})",
                        n - 1
                    );
                };
                d.ble = true;
            }
            if let Some(values) = &a.cpu {
                let names: Vec<String> = c.duts.iter().map(|d| d.name.clone()).collect();
                let cpus = lab_bench::parse_cpu(values, &names, |_| "model".into())?;
                // The lab's `cpu` is what most DUTs run; the others say their own.
                let emulated = cpus.iter().filter(|k| *k == "emulated").count();
                c.cpu = if 2 * emulated > cpus.len() {
                    "emulated"
                } else {
                    "model"
                }
                .into();
                for (d, k) in c.duts.iter_mut().zip(cpus) {
                    d.cpu = (k != c.cpu).then_some(k);
                }
            }
            c
        }
    })
}

fn up(a: UpArgs) -> anyhow::Result<ExitCode> {
    let dir = LabDir::new(&a.dir.dir)?;
    let cfg = config_for(&dir, &a)?;
    let firmware = preload(&dir, &cfg, &a)?;
    let emulated: Vec<&str> = cfg
        .duts
        .iter()
        .filter(|d| cfg.cpu_of(d) == "emulated" && !firmware.contains_key(&d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !emulated.is_empty() && a.fresh == Fresh::UartBootloader {
        bail!(
            "--fresh uart-bootloader starts DUTs with the bootloader model's stand-in image, which \
             is not code the emulated core can run ({} runs --cpu emulated): use --fresh blank \
             and `rig flash` genuine images (Nordic's MBR and bootloader HEX files), or --firmware",
            emulated.join(", ")
        );
    }
    if a.foreground {
        return foreground(dir, cfg, a.fresh, firmware);
    }
    std::fs::create_dir_all(&dir.dir).with_context(|| format!("creating {}", dir.dir.display()))?;
    if rig_lab::lock::is_held(&dir.lock()) {
        bail!(
            "a lab is already running in {d}: stop it with `rig lab down --dir {d}`, or use another --dir",
            d = dir.dir.display()
        );
    }
    let child = daemonize(&dir, &cfg, a.fresh, &a.firmware)?;
    wait_until_up(&dir, child)?;
    print_usage(&dir, &cfg);
    Ok(ExitCode::SUCCESS)
}

/// Re-run `rig lab up --foreground` in a process group of its own, its output in DIR/lab.log.
fn daemonize(
    dir: &LabDir,
    cfg: &LabConfig,
    fresh: Fresh,
    firmware: &[String],
) -> anyhow::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().context("finding the rig binary to start the lab with")?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.log())
        .with_context(|| format!("opening {}", dir.log().display()))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["lab", "up", "--foreground", "--dir"])
        .arg(&dir.dir)
        .args(["--duts", &cfg.duts.len().to_string(), "--chip", &cfg.chip])
        .args([
            "--speed",
            &cfg.speed.to_string(),
            "--revision",
            &cfg.revision,
            "--cpu",
            &cpu_arg(cfg),
        ])
        .args([
            "--fresh",
            fresh
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
                .as_str(),
        ]);
    let on_air: Vec<&str> = cfg
        .duts
        .iter()
        .filter(|d| d.ble)
        .map(|d| d.name.as_str())
        .collect();
    if !on_air.is_empty() {
        cmd.args(["--ble", &on_air.join(",")]);
    }
    // Paths as the caller gave them: the lab starts in the same working directory.
    if !firmware.is_empty() {
        cmd.arg("--firmware").args(firmware);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // A process group of its own: the terminal's Ctrl-C and hang-up reach only the foreground
    // group, so the lab outlives the shell that started it (as setsid in the child did, without
    // unsafe code; not being a session leader, it can never take a pseudo-terminal as its own).
    cmd.process_group(0);
    cmd.spawn().context("starting the lab process")
}

/// Wait for the lab's control socket to answer (or the lab to fail and say why).
fn wait_until_up(dir: &LabDir, mut child: std::process::Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait()? {
            let log = std::fs::read_to_string(dir.log()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            bail!(
                "the lab exited at start ({st}); {}:\n{}",
                dir.log().display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        if control::call(&dir.control(), &ControlRequest::Status).is_ok_and(|r| r.ok) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the lab did not answer on {} within 30 s; see {}",
                dir.control().display(),
                dir.log().display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `--cpu` as lab.json says it: the lab's kind, then each DUT that runs another.
fn cpu_arg(cfg: &LabConfig) -> String {
    let mut v = vec![cfg.cpu.clone()];
    v.extend(
        cfg.duts
            .iter()
            .filter_map(|d| Some(format!("{}={}", d.name, d.cpu.as_ref()?))),
    );
    v.join(",")
}

/// `--firmware`: each named DUT's images, read, checked and merged now, so a bad file is
/// reported here and not in the background lab's log.
fn preload(
    dir: &LabDir,
    cfg: &LabConfig,
    a: &UpArgs,
) -> anyhow::Result<BTreeMap<String, Vec<Segment>>> {
    let names: Vec<String> = cfg.duts.iter().map(|d| d.name.clone()).collect();
    let chip = lab_bench::chip(&cfg.chip)?;
    let mut out = BTreeMap::new();
    for (dut, files) in lab_firmware::parse_spec(&a.firmware, &names)? {
        let state = dir.state(&dut);
        if state.exists() {
            bail!(
                "--firmware: {dut} carries on from {} and a preload is for a fresh DUT: flash it \
                 with `rig flash --bench {} --dut {dut} FILE...`, or remove that file to start \
                 {dut} blank",
                state.display(),
                dir.bench().display()
            );
        }
        if a.fresh == Fresh::UartBootloader {
            bail!(
                "--firmware and --fresh uart-bootloader both say what {dut} starts with: drop one"
            );
        }
        let images: Vec<(String, Vec<Segment>)> = files
            .iter()
            .map(|f| Ok((f.display().to_string(), lab_firmware::load_hex(f, chip)?)))
            .collect::<anyhow::Result<_>>()?;
        let merged = super::flash::merge_images(&images).context("--firmware")?;
        out.insert(dut, merged);
    }
    Ok(out)
}

fn print_usage(dir: &LabDir, cfg: &LabConfig) {
    let d = dir.dir.display();
    eprintln!(
        "lab up in {d}: {} × {} ({}) at {}× speed (log: {})",
        cfg.duts.len(),
        cfg.chip,
        cfg.revision,
        cfg.speed,
        dir.log().display()
    );
    for c in &cfg.duts {
        eprintln!(
            "  {} ({} CPU): SWD {}, {}, power {}",
            c.name,
            cfg.cpu_of(c),
            dir.swd(&c.name).display(),
            if c.ble {
                "BLE on the lab's virtual BlueZ (hci0)".to_string()
            } else {
                format!("UART {}", dir.uart(&c.name).display())
            },
            match c.switch {
                rig_lab::SwitchKind::Ppk2 =>
                    format!("virtual PPK2 {}", dir.ppk2(&c.name).display()),
                rig_lab::SwitchKind::Command =>
                    format!("`rig lab power --dir {d} {} on|off|cycle`", c.name),
            }
        );
    }
    let bench = dir.bench();
    let b = bench.display();
    eprintln!(
        "use it with --bench {b} --dut NAME, e.g.\n  rig flash --bench {b} --dut dut-0 IMAGE.hex\n  \
         rig inspect --bench {b} --dut dut-0\n  rig dfu --bench {b} --dut dut-0 --port {} -pkg PKG.zip\n\
         rig lab status --dir {d}; rig lab down --dir {d}",
        dir.uart("dut-0").display()
    );
    println!("{b}");
}

fn foreground(
    dir: LabDir,
    cfg: LabConfig,
    fresh: Fresh,
    firmware: BTreeMap<String, Vec<Segment>>,
) -> anyhow::Result<ExitCode> {
    let log: rig_lab::Logger = std::sync::Arc::new(|line: String| eprintln!("{line}"));
    let stop =
        rig_lab::signal::StopSignal::install().context("installing the SIGINT/SIGTERM handlers")?;
    let factory = lab_bench::Factory {
        chip: lab_bench::chip(&cfg.chip)?,
        uart_bootloader: fresh == Fresh::UartBootloader,
        revision: lab_bench::revision(&cfg.revision)?,
        emulated: cfg
            .duts
            .iter()
            .filter(|d| cfg.cpu_of(d) == "emulated")
            .map(|d| d.name.clone())
            .collect(),
        firmware,
    };
    let lab = rig_lab::Lab::start(dir.clone(), cfg.clone(), &factory, log.clone())?;
    let rig = std::env::current_exe().context("finding the rig binary for the bench file")?;
    let st = lab.status();
    let air = lab_bench::Air {
        dbus: st.bluez.clone(),
        addresses: st
            .duts
            .iter()
            .filter_map(|d| Some((d.name.clone(), d.ble_address.clone()?)))
            .collect(),
    };
    let bench = lab_bench::bench_yaml(&dir, &cfg, &rig, &air);
    if let Err(e) = rig_lab::layout::write_atomic(&dir.bench(), bench.as_bytes()) {
        lab.shutdown();
        return Err(e.into());
    }
    log(format!(
        "lab up in {} (pid {}): {} DUTs, bench file {}",
        dir.dir.display(),
        std::process::id(),
        cfg.duts.len(),
        dir.bench().display()
    ));
    let r = lab.serve(stop.reader());
    lab.shutdown();
    r.context("serving the control socket")?;
    Ok(ExitCode::SUCCESS)
}

fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let dir = LabDir::new(&a.dir.dir)?;
    let r = call(&dir, &ControlRequest::Status)?;
    let s: LabStatus = r.status.context("the lab sent no status")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "lab in {} (pid {}), {}× speed, up {:.1} s; bench file {}",
        s.dir, s.pid, s.speed, s.uptime_s, s.bench
    );
    if let Some(b) = &s.bluez {
        println!(
            "  virtual BlueZ (hci0) on {b}, {} D-Bus messages",
            s.bluez_messages.unwrap_or(0)
        );
    }
    for d in &s.duts {
        println!(
            "  {}: {} ({} CPU) supply {}, {}; lab time {:.3} s, {} SWD transfers, {} instructions{}{}",
            d.name,
            d.chip,
            d.cpu,
            if d.supply_on { "on" } else { "off" },
            d.runs,
            d.lab_time_s,
            d.swd_transfers,
            d.instructions,
            if d.probe_connected {
                ", probe connected"
            } else {
                ""
            },
            d.ble_address
                .as_ref()
                .map(|a| format!(", on the air at {a}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn power(a: PowerArgs) -> anyhow::Result<ExitCode> {
    let dir = LabDir::new(&a.dir.dir)?;
    let action: PowerAction = a.action.parse().map_err(anyhow::Error::msg)?;
    call(
        &dir,
        &ControlRequest::Power {
            dut: a.dut.clone(),
            action,
        },
    )?;
    eprintln!("{}: supply {}", a.dut, a.action);
    Ok(ExitCode::SUCCESS)
}

fn fault(a: FaultArgs) -> anyhow::Result<ExitCode> {
    let dir = LabDir::new(&a.dir.dir)?;
    let fault = match a.fault.as_str() {
        "back-powered" => control::BenchFault::BackPowered,
        other => bail!("unknown bench fault {other:?} (known: back-powered)"),
    };
    call(
        &dir,
        &ControlRequest::Fault {
            dut: a.dut.clone(),
            fault,
            on: a.state == "on",
        },
    )?;
    eprintln!("{}: {} {}", a.dut, a.fault, a.state);
    Ok(ExitCode::SUCCESS)
}

fn link_drop(a: LinkDropArgs) -> anyhow::Result<ExitCode> {
    let dir = LabDir::new(&a.dir.dir)?;
    call(&dir, &ControlRequest::LinkDrop { dut: a.dut.clone() })?;
    eprintln!("{}: radio link dropped", a.dut);
    Ok(ExitCode::SUCCESS)
}

fn pid_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

fn down(a: DirArg) -> anyhow::Result<ExitCode> {
    let dir = LabDir::new(&a.dir)?;
    let pid: Option<i32> = std::fs::read_to_string(dir.pid())
        .ok()
        .and_then(|s| s.trim().parse().ok());
    match control::call(&dir.control(), &ControlRequest::Down) {
        Ok(_) => {}
        Err(ClientError::NotRunning { .. } | ClientError::Stale { .. })
            if !rig_lab::lock::is_held(&dir.lock()) =>
        {
            let removed = clean_stale(&dir)?;
            if removed.is_empty() {
                bail!(
                    "no lab is running in {d}: nothing to stop (start one with `rig lab up --dir {d}`)",
                    d = dir.dir.display()
                );
            }
            eprintln!(
                "the lab in {} was not running (killed?); removed what it left: {}",
                dir.dir.display(),
                removed.join(", ")
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    }
    // The lab saves its devices and removes its files before it exits.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rig_lab::lock::is_held(&dir.lock()) || pid.is_some_and(pid_alive) {
        if Instant::now() > deadline {
            bail!(
                "the lab in {} did not stop within 30 s (pid {}); see {}",
                dir.dir.display(),
                pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                dir.log().display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "lab in {} stopped; device state kept there",
        dir.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Remove the sockets, links and pid file of a lab that died (the lock is free).
fn clean_stale(dir: &LabDir) -> anyhow::Result<Vec<String>> {
    let Some(cfg) = dir.read_config()? else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for p in dir.runtime_files(&cfg) {
        if rig_lab::layout::remove_if_present(&p)
            .with_context(|| format!("removing {}", p.display()))?
        {
            removed.push(file_name(&p));
        }
    }
    Ok(removed)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
