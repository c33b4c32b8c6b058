//! `rig sim`: the virtual nRF52832 outside a campaign: build its stand-in images, inspect a saved
//! device state, serve a UART bootloader on a pseudo-terminal.

use crate::sim::{device_setup, images, inspect, state_file};
use anyhow::Context;
use clap::{Args, Subcommand};
use rig_lab::pty::Pty;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Write the stand-in image set (MBR, S132, bootloaders per SDK profile and transport, sample
    /// apps) as Intel HEX files, with a README.txt listing them.
    Images(ImagesArgs),
    /// Decode a saved device state (`rig sim serve --state FILE`): UICR, MBR, SoftDevice,
    /// bootloader descriptor, settings page and backup, the application's CRC against bank_0, and
    /// what the next power-on does.
    Inspect(InspectArgs),
    /// Serve a virtual device on the real clock until SIGINT/SIGTERM: with --serial its UART
    /// Secure DFU bootloader on a pseudo-terminal (then save its flash and UICR to --state); with
    /// --ble ADAPTER a BLE DUT (application with the buttonless service, then its bootloader)
    /// published through bluetoothd's peripheral API on that adapter, so a phone (nRF Connect,
    /// nRF Toolbox) or another adapter's central can update it.
    Serve(ServeArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("transport").required(true).args(["serial", "ble"])))]
pub struct ServeArgs {
    /// Serve over a serial port (a pseudo-terminal at --link).
    #[arg(long, requires = "link")]
    pub serial: bool,
    /// Path of the symlink to the pseudo-terminal (give it to nrfutil as `-p PATH`).
    #[arg(long)]
    pub link: Option<PathBuf>,
    /// Publish a BLE DUT on this bluetoothd adapter (hci0) through GattManager1 and
    /// LEAdvertisingManager1, on the system bus (DBUS_SYSTEM_BUS_ADDRESS if set). The device
    /// shows at the adapter's address.
    #[arg(long, value_name = "ADAPTER", conflicts_with_all = ["serial", "link", "baud"])]
    pub ble: Option<String>,
    /// Publish the bootloader on this adapter instead (with --ble). An unbonded bootloader
    /// advertises at the application's address + 1, which a central looks for after the
    /// buttonless jump: give an adapter with that address. Without it the bootloader appears
    /// at the same address (a central that finds it by name, e.g. DfuTarg, still works).
    #[arg(long, value_name = "ADAPTER", requires = "ble")]
    pub ble_bootloader: Option<String>,
    /// With --ble: advertise without the application's manufacturer data (its version). For
    /// BlueZoo 1.0.2, which types ManufacturerData `a{sv}` instead of BlueZ's `a{qv}` and then
    /// fails every GetManagedObjects of the central.
    #[arg(long, requires = "ble")]
    pub no_manufacturer_data: bool,
    /// With --ble: flash no application, so the bootloader waits in DFU mode from the start.
    #[arg(long, requires = "ble")]
    pub no_app: bool,
    /// Device state file: loaded if it exists, written on exit. Without it the device starts
    /// fresh and is not saved.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Bootloader profile of a fresh device, and of a device whose bootloader has no stand-in
    /// descriptor: sdk14, sdk15.0, sdk15.2, sdk15.3, sdk16, sdk17.1.
    #[arg(long, default_value = "sdk17.1")]
    pub profile: String,
    /// Key (PEM, private or public) the bootloader trusts [default: firmware/keys/rig-test-private.pem, built in].
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// UART baud rate the device's timing uses.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// Identity seed of a fresh device (FICR address and id).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print every chunk of bytes in and out.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The device state file.
    #[arg(long)]
    pub state: PathBuf,
    /// Print JSON (settings fields named as in nrf_dfu_settings_t) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Directory to write into (created if missing; existing files of the set are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Build the stand-in bootloaders with an sdk_config.h option, e.g.
    /// `--option NRF_DFU_SAVE_PROGRESS_IN_FLASH=1` (repeatable). Then only bootloaders are
    /// written, one per SDK and transport that has every option, named after the options
    /// (`bootloader-17.1-ble-save-progress-in-flash.hex`). Options: NRF_DFU_SAVE_PROGRESS_IN_FLASH,
    /// NRF_BL_DFU_INACTIVITY_TIMEOUT_MS, NRF_DFU_APP_DOWNGRADE_PREVENTION,
    /// NRF_DFU_APP_ACCEPT_SAME_VERSION, NRF_DFU_REQUIRE_SIGNED_APP_UPDATE,
    /// NRF_DFU_SINGLE_BANK_APP_UPDATES, NRF_DFU_BLE_REQUIRES_BONDS.
    #[arg(long = "option", value_name = "NAME=VALUE", value_parser = parse_option)]
    pub options: Vec<(String, u32)>,
}

fn parse_option(s: &str) -> Result<(String, u32), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| {
        format!("`{s}`: expected NAME=VALUE, e.g. NRF_DFU_SAVE_PROGRESS_IN_FLASH=1")
    })?;
    let v = v
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("`{s}`: the value must be a number (0 or 1 for switches)"))?;
    virtual_nrf52::descriptor::BuildOption::from_name(k).map_err(|e| e.to_string())?;
    Ok((k.trim().to_string(), v))
}

pub fn run(cmd: SimCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SimCmd::Images(a) => run_images(a),
        SimCmd::Inspect(a) => run_inspect(a),
        SimCmd::Serve(a) if a.ble.is_some() => run_serve_ble(a),
        SimCmd::Serve(a) => run_serve(a),
    }
}

fn run_images(a: ImagesArgs) -> anyhow::Result<ExitCode> {
    let set = if a.options.is_empty() {
        images::image_set()?
    } else {
        images::bootloaders_with(&a.options.iter().cloned().collect())?
    };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    for f in &set {
        let path = a.out.join(&f.name);
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let dev = state_file::load_hardware(&a.state)?;
    let report = inspect::inspect(&dev)
        .with_context(|| format!("{}: reading the settings page", a.state.display()))?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(ExitCode::SUCCESS)
}

/// `rig sim serve` is a one-DUT lab: the lab's host loop serves the device's UART on the
/// pseudo-terminal, on the real clock, and (with --state) keeps the state file as a power loss
/// would leave it, so even a killed `serve` leaves a usable file.
fn run_serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    use rig_lab::host::{Host, HostIo};
    use std::sync::{Arc, Mutex};
    let sdk: nrf_dfu::SdkVersion = a
        .profile
        .parse()
        .with_context(|| format!("--profile {}", a.profile))?;
    let pk = device_setup::public_key(a.key.as_deref())?;
    let bl = device_setup::uart_bootloader(sdk, pk)?;
    let (dev, origin) = device_setup::prepare(a.state.as_deref(), &bl, a.baud, a.seed)?;
    let mut stop =
        rig_lab::signal::StopSignal::install().context("installing the SIGINT/SIGTERM handlers")?;
    let link = a.link.clone().context("--serial needs --link PATH")?;
    let pty = Pty::open(&link)?;
    let from = match (origin, &a.state) {
        (device_setup::Origin::StateFile, Some(p)) => format!("state {}", p.display()),
        _ => format!(
            "a fresh device: stand-in MBR + SDK {} UART bootloader",
            images::profile_file_label(sdk)
        ),
    };
    eprintln!(
        "serving {from} on {} -> {} at {} baud; Ctrl-C to stop",
        link.display(),
        pty.slave_path().display(),
        a.baud
    );
    let endpoints = rig_lab::dut::Endpoints {
        uart: link.display().to_string(),
        ..Default::default()
    };
    let dut = Arc::new(Mutex::new(rig_lab::dut::Dut::new(
        "device",
        Box::new(dev),
        rig_lab::clock::LabClock::new(1.0),
        true,
        a.state
            .clone()
            .map(|p| rig_lab::persist::Persister::new(p, None)),
        endpoints,
        Box::new(|line| eprintln!("{line}")),
    )));
    let uart_log: Option<Box<dyn FnMut(String) + Send>> = if a.verbose {
        Some(Box::new(|line| eprintln!("{line}")))
    } else {
        None
    };
    let (host, waker) = Host::new(
        dut.clone(),
        HostIo {
            uart: Some(pty),
            uart_log,
            ..Default::default()
        },
    )?;
    let thread = std::thread::spawn(move || host.run());
    // Sleep until SIGINT/SIGTERM.
    loop {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(stop.reader()),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE);
        if stop.fired() {
            break;
        }
    }
    waker.stop();
    let stats = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the serve loop panicked"))?;
    let mut d = dut.lock().unwrap_or_else(|p| p.into_inner());
    let end = d.sync();
    eprintln!(
        "stopped after {:.3} s: {} bytes in, {} out{}",
        end.as_secs_f64(),
        stats.bytes_in,
        stats.bytes_out,
        if stats.bytes_lost > 0 {
            format!(", {} lost (nobody reading)", stats.bytes_lost)
        } else {
            String::new()
        }
    );
    if let Some(p) = &a.state {
        // Flash work already started (a settings write, an erase) completes first, as on a
        // device left powered for a moment: the file never holds half of a boot's writes.
        let settled = d.dev.settle(end + rig_lab::lab::SETTLE_BEFORE_SAVE);
        if settled > end {
            eprintln!(
                "finished {:.3} s of pending flash work",
                (settled - end).as_secs_f64()
            );
        }
        let mut persist = d.persist.take().context("the state file's writer")?;
        persist.save(d.dev.as_ref())?;
        eprintln!("device state written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `rig sim serve --ble`: the peripheral mode of the virtual BlueZ crate (virtual_bluez::
/// peripheral) publishes the device on a bluetoothd adapter until SIGINT/SIGTERM.
fn run_serve_ble(a: ServeArgs) -> anyhow::Result<ExitCode> {
    use crate::sim::ble_device;
    use virtual_bluez::peripheral::{PeripheralConfig, PeripheralServer};
    let adapter = a.ble.clone().context("--ble ADAPTER")?;
    let sdk: nrf_dfu::SdkVersion = a
        .profile
        .parse()
        .with_context(|| format!("--profile {}", a.profile))?;
    if a.state.is_some() {
        anyhow::bail!("--state is not supported with --ble yet: a BLE DUT starts fresh each time");
    }
    let pk = device_setup::public_key(a.key.as_deref())?;
    let dev = ble_device::fresh(sdk, pk, a.seed, a.no_app)?;
    let device = virtual_bluez::share_sync(dev);
    let mut stop =
        rig_lab::signal::StopSignal::install().context("installing the SIGINT/SIGTERM handlers")?;
    let bus = std::env::var("DBUS_SYSTEM_BUS_ADDRESS").ok();
    eprintln!(
        "publishing a virtual nRF52832 (SDK {} BLE bootloader{}) on {adapter}{} via {}; Ctrl-C to stop",
        images::profile_file_label(sdk),
        if a.no_app { ", no application" } else { ", application with buttonless DFU" },
        a.ble_bootloader
            .as_deref()
            .map(|b| format!(", its bootloader on {b}"))
            .unwrap_or_default(),
        bus.as_deref().unwrap_or("the system bus"),
    );
    let server = PeripheralServer::start(
        PeripheralConfig {
            bus,
            adapter,
            bootloader_adapter: a.ble_bootloader.clone(),
            manufacturer_data: !a.no_manufacturer_data,
        },
        device.clone(),
        Box::new(|line| eprintln!("{line}")),
    )
    .context("publishing through bluetoothd")?;
    while !stop.fired() && !server.is_finished() {
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(stop.reader()),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(200u16));
    }
    let stats = server.stop().context("publishing through bluetoothd")?;
    let d = device.lock().unwrap_or_else(|p| p.into_inner());
    eprintln!(
        "stopped: {} publication(s), {} connection(s), {} write(s), {} notification(s); the device runs {:?}",
        stats.publications,
        stats.connections,
        stats.writes,
        stats.notifications,
        d.status(),
    );
    Ok(ExitCode::SUCCESS)
}
