//! The lab process: N DUTs, each on its host thread, and the control socket on the calling
//! thread. [`Lab::start`] takes the directory's lock, clears what a dead lab left (sockets,
//! pseudo-terminal links), brings every device back from its state file (or makes a fresh one)
//! and opens its endpoints; [`Lab::serve`] answers the control socket until `down` or a stop
//! signal; [`Lab::shutdown`] stops the hosts, saves every device and removes the runtime files.

use crate::air::{DutAir, LabTime, OnAir};
use crate::clock::LabClock;
use crate::control::{ControlReply, ControlRequest, LabStatus};
use crate::dut::{Dut, Endpoints};
use crate::host::{Host, HostIo, UartStats, Waker};
use crate::layout::{remove_if_present, LabConfig, LabDir, LayoutError, SwitchKind};
use crate::lock::{acquire, LabLock, LockError};
use crate::persist::{read_power, Persister};
use crate::pty::{Pty, PtyError};
use crate::target::Target;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use virtual_nrf52::Device;

/// Longest lab time a clean stop spends finishing queued flash work before saving.
pub const SETTLE_BEFORE_SAVE: Duration = Duration::from_secs(10);

/// The lab's log: one line per call (stderr of the lab process, DIR/lab.log in the background).
pub type Logger = Arc<dyn Fn(String) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("{dut}: {source}")]
    Pty { dut: String, source: PtyError },
    #[error("{path}: {source}")]
    Socket {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    State {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{0}")]
    Device(String),
    #[error("the virtual BlueZ for the DUTs on the air: {0}")]
    Bluez(String),
}

/// How the caller makes and configures devices (the runner's stand-in firmware lives there).
pub trait DeviceFactory {
    /// A DUT that has no state file yet.
    fn fresh(&self, dut: &str, index: usize) -> Result<Device, String>;
    /// A DUT on the air (`ble`) that has no state file yet.
    fn fresh_on_air(&self, dut: &str, index: usize) -> Result<Device, String> {
        self.fresh(dut, index)
    }
    /// Every device before it is served (loaded or fresh): timing, fallback bootloader, what
    /// runs on it (DUT `dut`).
    fn configure(&self, _dut: &str, _dev: &mut Device) {}
}

struct Hosted {
    dut: Arc<Mutex<Dut>>,
    waker: Waker,
    thread: Option<JoinHandle<UartStats>>,
}

pub struct Lab {
    pub dir: LabDir,
    pub config: LabConfig,
    duts: Vec<Hosted>,
    /// The virtual BlueZ and each DUT on the air's radio index in it.
    bluez: Option<(virtual_bluez::VirtualBluez, Vec<(String, usize)>)>,
    control: UnixListener,
    started: Instant,
    log: Logger,
    _lock: LabLock,
}

fn lock_dut(d: &Mutex<Dut>) -> std::sync::MutexGuard<'_, Dut> {
    d.lock().unwrap_or_else(|p| p.into_inner())
}

fn bind(path: &std::path::Path) -> Result<UnixListener, LabError> {
    UnixListener::bind(path).map_err(|source| LabError::Socket {
        path: path.into(),
        source,
    })
}

impl Lab {
    /// Start a lab in `dir` with `config` (taken from DIR/lab.json by the caller when present).
    pub fn start(
        dir: LabDir,
        config: LabConfig,
        factory: &dyn DeviceFactory,
        log: Logger,
    ) -> Result<Lab, LabError> {
        std::fs::create_dir_all(&dir.dir).map_err(|source| LayoutError::Io {
            path: dir.dir.clone(),
            source,
        })?;
        dir.check_socket_paths(&config)?;
        let lock = acquire(&dir.lock(), &dir.dir, &dir.pid())?;
        // A lab killed with -9 leaves its sockets and links: the lock says nobody uses them.
        for p in dir.runtime_files(&config) {
            if remove_if_present(&p).map_err(|source| LayoutError::Io {
                path: p.clone(),
                source,
            })? {
                log(format!(
                    "removed {} left by a lab that did not stop cleanly",
                    p.display()
                ));
            }
        }
        crate::layout::write_atomic(&dir.pid(), format!("{}\n", std::process::id()).as_bytes())?;
        dir.write_config(&config)?;
        let clock = LabClock::new(config.speed);
        let mut duts = Vec::new();
        for (i, dc) in config.duts.iter().enumerate() {
            let name = dc.name.clone();
            let state = dir.state(&name);
            let mut dev = match std::fs::read(&state) {
                Ok(bytes) => {
                    let d = Device::from_state_bytes(&bytes).map_err(|e| LabError::State {
                        path: state.clone(),
                        message: format!(
                            "{e} (move the file away to start this DUT as a blank chip)"
                        ),
                    })?;
                    if d.chip().probe_rs_name() != config.chip {
                        return Err(LabError::State {
                            path: state.clone(),
                            message: format!(
                                "holds an {} but the lab is an {} lab",
                                d.chip().probe_rs_name(),
                                config.chip
                            ),
                        });
                    }
                    log(format!("{name}: carrying on from {}", state.display()));
                    d
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    log(format!("{name}: a fresh device"));
                    if dc.ble {
                        factory.fresh_on_air(&name, i)
                    } else {
                        factory.fresh(&name, i)
                    }
                    .map_err(LabError::Device)?
                }
                Err(source) => {
                    return Err(LayoutError::Io {
                        path: state,
                        source,
                    }
                    .into())
                }
            };
            factory.configure(&name, &mut dev);
            let supply = read_power(&dir.power(&name));
            if supply {
                dev.power_on(dev.now());
            } else {
                dev.power_off(dev.now());
            }
            let swd_path = dir.swd(&name);
            let swd = bind(&swd_path)?;
            let uart = Pty::open(&dir.uart(&name)).map_err(|source| LabError::Pty {
                dut: name.clone(),
                source,
            })?;
            let ppk2 = match dc.switch {
                SwitchKind::Ppk2 => {
                    Some(Pty::open(&dir.ppk2(&name)).map_err(|source| LabError::Pty {
                        dut: name.clone(),
                        source,
                    })?)
                }
                SwitchKind::Command => None,
            };
            let endpoints = Endpoints {
                swd: swd_path.display().to_string(),
                uart: dir.uart(&name).display().to_string(),
                ppk2: ppk2
                    .as_ref()
                    .map(|_| dir.ppk2(&name).display().to_string())
                    .unwrap_or_default(),
            };
            let persist = Persister::new(dir.state(&name), Some(dir.power(&name)));
            let l = log.clone();
            let target: Box<dyn Target> = if dc.ble {
                Box::new(OnAir::new(dev))
            } else {
                Box::new(dev)
            };
            let mut dut = Dut::new(
                &name,
                target,
                clock,
                supply,
                Some(persist),
                endpoints,
                Box::new(move |s| l(s)),
            );
            dut.checkpoint();
            if let Some(p) = &dut.persist {
                p.write_power(supply)?;
            }
            let dut = Arc::new(Mutex::new(dut));
            let (host, waker) = Host::new(
                dut.clone(),
                HostIo {
                    swd: Some(swd),
                    uart: Some(uart),
                    ppk2,
                    uart_log: None,
                },
            )
            .map_err(|source| LabError::Socket {
                path: swd_path.clone(),
                source,
            })?;
            let thread = std::thread::Builder::new()
                .name(format!("lab-{name}"))
                .spawn(move || host.run())
                .map_err(|source| LabError::Socket {
                    path: swd_path,
                    source,
                })?;
            duts.push(Hosted {
                dut,
                waker,
                thread: Some(thread),
            });
        }
        let bluez = match start_bluez(&config, &duts) {
            Ok(b) => b,
            Err(e) => {
                stop_hosts(&mut duts);
                return Err(e);
            }
        };
        if let Some((vb, _)) = &bluez {
            log(format!("virtual BlueZ on {} (hci0)", vb.address()));
        }
        let control = bind(&dir.control())?;
        Ok(Lab {
            dir,
            config,
            duts,
            bluez,
            control,
            started: Instant::now(),
            log,
            _lock: lock,
        })
    }

    /// The D-Bus address of the virtual BlueZ (`unix:path=...`), when DUTs are on the air.
    pub fn bluez_address(&self) -> Option<&str> {
        self.bluez.as_ref().map(|(vb, _)| vb.address())
    }

    /// D-Bus traffic of the virtual BlueZ so far.
    pub fn bluez_stats(&self) -> Option<virtual_bluez::BluezStats> {
        self.bluez.as_ref().map(|(vb, _)| vb.stats())
    }

    pub fn status(&self) -> LabStatus {
        LabStatus {
            dir: self.dir.dir.display().to_string(),
            pid: std::process::id(),
            speed: self.config.speed,
            uptime_s: self.started.elapsed().as_secs_f64(),
            bench: self.dir.bench().display().to_string(),
            bluez: self.bluez_address().map(str::to_string),
            bluez_messages: self
                .bluez_stats()
                .map(|s| s.method_calls + s.replies + s.signals),
            duts: self
                .duts
                .iter()
                .map(|h| lock_dut(&h.dut).status())
                .collect(),
        }
    }

    fn handle(&self, req: ControlRequest) -> (ControlReply, bool) {
        match req {
            ControlRequest::Status => (
                ControlReply {
                    status: Some(self.status()),
                    ..ControlReply::ok()
                },
                false,
            ),
            ControlRequest::Power { dut, action } => {
                let Some(h) = self.duts.iter().find(|h| lock_dut(&h.dut).name == dut) else {
                    let have: Vec<String> =
                        self.config.duts.iter().map(|d| d.name.clone()).collect();
                    return (
                        ControlReply::error(format!(
                            "no DUT named {dut:?} in the lab in {} (it has: {})",
                            self.dir.dir.display(),
                            have.join(", ")
                        )),
                        false,
                    );
                };
                lock_dut(&h.dut).power(action);
                h.waker.wake();
                (ControlReply::ok(), false)
            }
            ControlRequest::Fault { dut, fault, on } => {
                let Some(h) = self.duts.iter().find(|h| lock_dut(&h.dut).name == dut) else {
                    return (
                        ControlReply::error(format!("no DUT named {dut:?} in the lab")),
                        false,
                    );
                };
                let mut d = lock_dut(&h.dut);
                match fault {
                    crate::control::BenchFault::BackPowered => d.back_powered = on,
                }
                d.log(format!(
                    "bench fault {fault:?} {}",
                    if on { "on" } else { "off" }
                ));
                (ControlReply::ok(), false)
            }
            ControlRequest::LinkDrop { dut } => {
                let radio = self.bluez.as_ref().and_then(|(vb, radios)| {
                    radios
                        .iter()
                        .find(|(n, _)| *n == dut)
                        .map(|(_, r)| (vb, *r))
                });
                let Some((vb, radio)) = radio else {
                    return (
                        ControlReply::error(format!(
                            "{dut:?} is not on the air in the lab in {} (start DUTs with `rig lab up --ble NAME`)",
                            self.dir.dir.display()
                        )),
                        false,
                    );
                };
                match vb.fault(radio, virtual_bluez::Fault::LinkDrop) {
                    Ok(true) => {
                        (self.log)(format!("{dut}: radio link dropped"));
                        (ControlReply::ok(), false)
                    }
                    Ok(false) => (
                        ControlReply::error(format!("{dut} has no radio link to drop")),
                        false,
                    ),
                    Err(e) => (ControlReply::error(e.to_string()), false),
                }
            }
            ControlRequest::Defects { dut, defects } => {
                self.on_device(&dut, |d| d.set_defects(defects).then(ControlReply::ok))
            }
            ControlRequest::FlashOps { dut, on } => self.on_device(&dut, |d| {
                d.count_flash_ops(on).map(|n| ControlReply {
                    flash_ops: (!on).then_some(n),
                    ..ControlReply::ok()
                })
            }),
            ControlRequest::ArmFlashOp { dut, n, action } => self.on_device(&dut, |d| {
                d.arm_flash_op(action.map(|a| (n, a)))
                    .then(ControlReply::ok)
            }),
            ControlRequest::FlashOpCut { dut } => self.on_device(&dut, |d| {
                d.sync();
                let journaled = d.dev.device_mut()?.flash_op_journal().len() as u32;
                Some(ControlReply {
                    cut: d.hooks.cut.clone(),
                    // While armed: how far the device has come (the watcher's "still busy").
                    flash_ops: d.hooks.armed.is_some().then_some(journaled),
                    ..ControlReply::ok()
                })
            }),
            ControlRequest::Down => (ControlReply::ok(), true),
        }
    }

    /// A device-model hook on DUT `dut` ([`crate::hooks`]); `f` says `None` when the DUT's
    /// target has no device model.
    fn on_device(
        &self,
        dut: &str,
        f: impl FnOnce(&mut Dut) -> Option<ControlReply>,
    ) -> (ControlReply, bool) {
        let Some(h) = self.duts.iter().find(|h| lock_dut(&h.dut).name == dut) else {
            return (
                ControlReply::error(format!(
                    "no DUT named {dut:?} in the lab in {}",
                    self.dir.dir.display()
                )),
                false,
            );
        };
        let r = f(&mut lock_dut(&h.dut));
        h.waker.wake();
        (
            r.unwrap_or_else(|| ControlReply::error(format!("{dut} has no device model to ask"))),
            false,
        )
    }

    /// Answer the control socket until `down` or until `stop` (a signal pipe) is readable.
    pub fn serve(&self, stop: &UnixStream) -> std::io::Result<()> {
        loop {
            let (ctl, sig) = {
                let mut fds = [
                    PollFd::new(self.control.as_fd(), PollFlags::POLLIN),
                    PollFd::new(stop.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::from(1000u16)) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
                let r = |f: &PollFd| f.revents().is_some_and(|r| r.intersects(PollFlags::POLLIN));
                (r(&fds[0]), r(&fds[1]))
            };
            if sig {
                let mut b = [0u8; 16];
                if matches!((&*stop).read(&mut b), Ok(n) if n > 0) {
                    (self.log)("stop signal: shutting down".into());
                    return Ok(());
                }
            }
            if ctl {
                let Ok((s, _)) = self.control.accept() else {
                    continue;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
                let mut line = String::new();
                if BufReader::new(&s).read_line(&mut line).is_err() {
                    continue;
                }
                let (reply, down) = match serde_json::from_str::<ControlRequest>(&line) {
                    Ok(req) => self.handle(req),
                    Err(e) => (
                        ControlReply::error(format!("bad request {line:?}: {e}")),
                        false,
                    ),
                };
                let mut out = serde_json::to_string(&reply).unwrap_or_default();
                out.push('\n');
                let _ = (&s).write_all(out.as_bytes());
                if down {
                    (self.log)("`rig lab down`: shutting down".into());
                    return Ok(());
                }
            }
        }
    }

    /// Stop every host, let queued flash work finish, save each device, remove the runtime
    /// files. The lock goes with `self`.
    pub fn shutdown(mut self) {
        // The radio first: its thread and dbus-daemon end, no client sees a half-stopped lab.
        if let Some((vb, _)) = self.bluez.take() {
            vb.stop();
        }
        stop_hosts(&mut self.duts);
        for h in &mut self.duts {
            let mut d = lock_dut(&h.dut);
            let now = d.sync();
            d.dev.settle(now + SETTLE_BEFORE_SAVE);
            if let Some(mut p) = d.persist.take() {
                if let Err(e) = p.save(d.dev.as_ref()) {
                    d.log(format!("cannot save the device state: {e}"));
                }
                d.log(format!("state saved to {}", p.state.display()));
            }
        }
        let _ = std::fs::remove_file(self.dir.control());
        for p in self.dir.runtime_files(&self.config) {
            let _ = remove_if_present(&p);
        }
        (self.log)("lab stopped".into());
    }
}

/// Stop every host thread.
fn stop_hosts(duts: &mut [Hosted]) {
    for h in duts.iter() {
        h.waker.stop();
    }
    for h in duts.iter_mut() {
        if let Some(t) = h.thread.take() {
            let _ = t.join();
        }
    }
}

/// The virtual BlueZ (its own dbus-daemon, hci0) serving the DUTs on the air, on their lab
/// time; none when no DUT is on the air.
type Bluez = Option<(virtual_bluez::VirtualBluez, Vec<(String, usize)>)>;

fn start_bluez(config: &LabConfig, duts: &[Hosted]) -> Result<Bluez, LabError> {
    let on_air: Vec<(String, std::sync::Arc<Mutex<Dut>>)> = config
        .duts
        .iter()
        .zip(duts)
        .filter(|(c, _)| c.ble)
        .map(|(c, h)| (c.name.clone(), h.dut.clone()))
        .collect();
    if on_air.is_empty() {
        return Ok(None);
    }
    let time = Arc::new(LabTime {
        duts: on_air.iter().map(|(_, d)| d.clone()).collect(),
    });
    let vb = virtual_bluez::VirtualBluez::start_on(virtual_bluez::BluezConfig::default(), time)
        .map_err(|e| LabError::Bluez(e.to_string()))?;
    let mut radios = Vec::new();
    for (i, (name, dut)) in on_air.into_iter().enumerate() {
        // Each radio its own RSSI wobble, the same on every run.
        let r = vb
            .add_air(Arc::new(DutAir(dut)), 0, 0x5EED + i as u64)
            .map_err(|e| LabError::Bluez(e.to_string()))?;
        radios.push((name, r));
    }
    Ok(Some((vb, radios)))
}

/// A `Target` for tests and `rig sim serve`: any boxed device.
pub fn boxed(dev: Device) -> Box<dyn Target> {
    Box::new(dev)
}
