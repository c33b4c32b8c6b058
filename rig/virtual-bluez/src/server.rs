//! The serving thread: one private bus connection owning `org.bluez`, the virtual bluetoothd
//! and the lab clock. It sleeps until a message arrives or until the next thing is due in lab
//! time, handles, ticks, sends. Method calls are dispatched by hand from the raw `dbus`
//! messages (the workspace's `dbus` crate with vendored libdbus): bluetoothd answers many calls
//! later in lab time (Connect, write requests, StartNotify), and the object tree changes with
//! every connection, both of which a plain message loop expresses directly.

use crate::bluez::{AdapterConfig, Bluez, BluezStats};
use crate::clock::{LabClock, TimeSource};
use crate::daemon::{BusDaemon, DaemonError};
use crate::names::BLUEZ;
use crate::radio::{Air, Radio, SharedAir, SyncDevice};
use dbus::channel::Channel;
use dbus::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use virtual_nrf52::{ResetKind, SimTime};

/// Longest wall-time sleep between looks at the control channel.
const MAX_SLEEP: Duration = Duration::from_millis(10);
/// Bound on the daemon's answer to RequestName.
const NAME_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error("connecting to the private bus {address}: {message}")]
    Connect { address: String, message: String },
    #[error("could not own org.bluez on {0} (RequestName answered {1}); is another virtual BlueZ on this bus?")]
    Name(String, u32),
    #[error("the virtual BlueZ thread has stopped")]
    Stopped,
}

/// What the lab configures.
#[derive(Debug, Clone)]
pub struct BluezConfig {
    pub adapters: Vec<AdapterConfig>,
    /// Lab seconds per wall second.
    pub scale: f64,
    /// Lab time when the server starts (the devices' current time).
    pub lab_origin: SimTime,
    /// bluetoothd's TemporaryTimeout (30 s by default).
    pub temporary_timeout: Duration,
}

impl Default for BluezConfig {
    fn default() -> BluezConfig {
        BluezConfig {
            adapters: vec![AdapterConfig::new(0)],
            scale: 1.0,
            lab_origin: SimTime::ZERO,
            temporary_timeout: crate::bluez::TEMPORARY_TIMEOUT,
        }
    }
}

/// A fault as the lab injects it into a virtual device's radio or power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The radio link breaks (both ends time out, reason 0x08).
    LinkDrop,
    /// The device resets (pin reset): its link dies with it; the central notices after the
    /// supervision timeout.
    Reset,
    /// Power off for `off_for` lab time, then on again.
    PowerCut { off_for: Duration },
}

type Job = Box<dyn FnOnce(&mut Bluez, SimTime) + Send>;

enum Control {
    Job(Job),
    /// Move the lab clock forward to at least this time.
    ClockAtLeast(SimTime),
    /// Forget every device and start lab time again at this time.
    Reset(SimTime),
}

/// The serving thread's clock: its own scaled wall clock, or the lab's.
#[derive(Clone)]
enum Clock {
    Own(LabClock),
    Lab(Arc<dyn TimeSource>),
}

impl Clock {
    fn now(&self) -> SimTime {
        match self {
            Clock::Own(c) => c.now(),
            Clock::Lab(s) => s.now(),
        }
    }
    fn wall_until(&self, t: SimTime) -> Duration {
        match self {
            Clock::Own(c) => c.wall_until(t),
            Clock::Lab(s) => s.wall_until(t),
        }
    }
}

/// A running virtual BlueZ: its serving thread and the bus daemon that thread started.
/// Dropping it stops both.
pub struct VirtualBluez {
    ctl: mpsc::Sender<Control>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<Mutex<BluezStats>>,
    clock: Arc<Mutex<Clock>>,
    address: String,
    daemon_pid: Option<u32>,
}

impl VirtualBluez {
    /// Start a private dbus-daemon and serve `org.bluez` on it. The daemon is started from the
    /// serving thread and dies with it (and with the process, `PR_SET_PDEATHSIG`).
    pub fn start(config: BluezConfig) -> Result<VirtualBluez, ServerError> {
        VirtualBluez::spawn(None, config, None)
    }

    /// Serve `org.bluez` on an existing bus at `address`.
    pub fn serve_on(address: &str, config: BluezConfig) -> Result<VirtualBluez, ServerError> {
        VirtualBluez::spawn(Some(address.to_string()), config, None)
    }

    /// As [`VirtualBluez::start`], on the lab's clock (`config.scale` and `lab_origin` unused):
    /// one lab time for the devices' radios, their debug ports and their UARTs.
    pub fn start_on(
        config: BluezConfig,
        time: Arc<dyn TimeSource>,
    ) -> Result<VirtualBluez, ServerError> {
        VirtualBluez::spawn(None, config, Some(time))
    }

    fn spawn(
        bus: Option<String>,
        config: BluezConfig,
        time: Option<Arc<dyn TimeSource>>,
    ) -> Result<VirtualBluez, ServerError> {
        let clock = Arc::new(Mutex::new(match time {
            Some(t) => Clock::Lab(t),
            None => Clock::Own(LabClock::new(config.lab_origin, config.scale)),
        }));
        let clock2 = clock.clone();
        let (tx, rx) = mpsc::channel::<Control>();
        type Ready = Result<(String, Option<u32>), ServerError>;
        let (ready_tx, ready_rx) = mpsc::channel::<Ready>();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(BluezStats::default()));
        let (stop2, stats2) = (stop.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name("virtual-bluez".into())
            .spawn(move || {
                let (daemon, address) = match bus {
                    Some(a) => (None, a),
                    None => match BusDaemon::start() {
                        Ok(d) => {
                            let a = d.address().to_string();
                            (Some(d), a)
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    },
                };
                let ch = match open(&address) {
                    Ok(ch) => ch,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok((address, daemon.as_ref().map(|d| d.pid()))));
                let mut bluez = Bluez::new(config.adapters);
                bluez.set_temporary_timeout(config.temporary_timeout);
                run(ch, bluez, clock2, rx, stop2, stats2);
                drop(daemon);
            })
            .map_err(|e| ServerError::Connect {
                address: "(private bus)".into(),
                message: e.to_string(),
            })?;
        let (address, daemon_pid) = match ready_rx.recv_timeout(NAME_TIMEOUT * 3) {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => return Err(ServerError::Stopped),
        };
        Ok(VirtualBluez {
            ctl: tx,
            stop,
            thread: Some(thread),
            stats,
            clock,
            address,
            daemon_pid,
        })
    }

    /// The bus address (`unix:path=...`), for `DBUS_SYSTEM_BUS_ADDRESS` or a bench file's
    /// `ble: { dbus: ... }`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Lab time now.
    pub fn lab_now(&self) -> SimTime {
        let c = self.clock.lock().unwrap_or_else(|e| e.into_inner()).clone();
        c.now()
    }

    /// A fresh bluetoothd (no devices, no sessions, default timers) with lab time starting
    /// again at `lab_origin` (on its own clock; the lab's clock is the lab's).
    pub fn reset(&self, lab_origin: SimTime) -> Result<(), ServerError> {
        self.ctl
            .send(Control::Reset(lab_origin))
            .map_err(|_| ServerError::Stopped)?;
        self.with(|_, _| ())
    }

    /// Lab time is never behind a device's own time (a device the lab advanced on its own,
    /// e.g. through its debug port, or one built before it was added): move the clock forward
    /// to `t` if it is earlier. Returns once done.
    pub fn clock_at_least(&self, t: SimTime) -> Result<(), ServerError> {
        self.ctl
            .send(Control::ClockAtLeast(t))
            .map_err(|_| ServerError::Stopped)?;
        self.with(|_, _| ())
    }

    /// The pid of the private dbus-daemon, if this server started one.
    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon_pid
    }

    /// Run `f` on the serving thread at the current lab time and return its result.
    pub fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Bluez, SimTime) -> R + Send + 'static,
    ) -> Result<R, ServerError> {
        let (tx, rx) = mpsc::channel();
        self.ctl
            .send(Control::Job(Box::new(move |b, now| {
                let _ = tx.send(f(b, now));
            })))
            .map_err(|_| ServerError::Stopped)?;
        rx.recv_timeout(Duration::from_secs(10))
            .map_err(|_| ServerError::Stopped)
    }

    /// Put a virtual device in range of adapter `adapter`. Returns its radio index.
    pub fn add_device(
        &self,
        device: SyncDevice,
        adapter: usize,
        seed: u64,
    ) -> Result<usize, ServerError> {
        self.add_air(Arc::new(SharedAir::new(device)), adapter, seed)
    }

    /// Put a device kept elsewhere (the lab's) in range of adapter `adapter`. Returns its
    /// radio index.
    pub fn add_air(
        &self,
        air: Arc<dyn Air>,
        adapter: usize,
        seed: u64,
    ) -> Result<usize, ServerError> {
        self.with(move |b, _| b.add_radio(Radio::new(air, adapter, seed)))
    }

    /// Inject a fault into radio `radio` now.
    pub fn fault(&self, radio: usize, fault: Fault) -> Result<bool, ServerError> {
        self.with(move |b, now| apply_fault(b, radio, fault, now))
    }

    /// Counters so far (D-Bus messages, notifications, write commands). Read on the serving
    /// thread, so everything it did before this call is counted (the shared copy lags by up to
    /// one wait for the bus); the last copy once it stopped.
    pub fn stats(&self) -> BluezStats {
        self.with(|b, _| b.stats)
            .unwrap_or_else(|_| *self.stats.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Stop serving and kill the daemon.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualBluez {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn apply_fault(b: &mut Bluez, radio: usize, fault: Fault, now: SimTime) -> bool {
    // Bring the device and its link to `now` first, so the fault lands at `now`.
    b.tick(now);
    let Some(r) = b.radio_mut(radio) else {
        return false;
    };
    let done = r.with(|ble, d| match fault {
        Fault::LinkDrop => ble.link_lost(d, now).is_ok(),
        Fault::Reset => {
            ble.sync(d, now);
            d.reset(now, ResetKind::PinReset)
        }
        Fault::PowerCut { .. } => {
            ble.sync(d, now);
            d.power_off(now);
            true
        }
    });
    if let (Fault::PowerCut { off_for }, Some(true)) = (fault, done) {
        b.schedule(
            now + off_for,
            Box::new(move |b: &mut Bluez, t| {
                if let Some(r) = b.radio_mut(radio) {
                    r.with(|ble, d| {
                        ble.sync(d, t);
                        d.power_on(t);
                    });
                }
            }),
        );
    }
    done == Some(true)
}

fn open(address: &str) -> Result<Channel, ServerError> {
    let err = |message: String| ServerError::Connect {
        address: address.to_string(),
        message,
    };
    let mut ch = Channel::open_private(address).map_err(|e| err(e.to_string()))?;
    ch.register().map_err(|e| err(e.to_string()))?;
    // DBUS_NAME_FLAG_DO_NOT_QUEUE: fail rather than wait behind another owner.
    let m = Message::new_method_call(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "RequestName",
    )
    .map_err(err)?
    .append2(BLUEZ, 4u32);
    let r = ch
        .send_with_reply_and_block(m, NAME_TIMEOUT)
        .map_err(|e| err(e.to_string()))?;
    let code: u32 = r.read1().map_err(|e| err(e.to_string()))?;
    // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
    if code != 1 {
        return Err(ServerError::Name(address.to_string(), code));
    }
    Ok(ch)
}

fn run(
    ch: Channel,
    mut bluez: Bluez,
    shared_clock: Arc<Mutex<Clock>>,
    rx: mpsc::Receiver<Control>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<BluezStats>>,
) {
    let send = |ch: &Channel, b: &mut Bluez| {
        for m in b.take_outbox() {
            let _ = ch.send(m);
        }
        ch.flush();
    };
    let mut clock = shared_clock
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    while !stop.load(Ordering::SeqCst) {
        while let Ok(c) = rx.try_recv() {
            match c {
                Control::Job(f) => {
                    let now = clock.now();
                    f(&mut bluez, now);
                }
                Control::Reset(t) => {
                    bluez.reset();
                    if let Clock::Own(c) = &clock {
                        clock = Clock::Own(LabClock::new(t, c.scale()));
                        *shared_clock.lock().unwrap_or_else(|e| e.into_inner()) = clock.clone();
                    }
                }
                Control::ClockAtLeast(t) => {
                    if let Clock::Own(c) = &clock {
                        if c.now() < t {
                            clock = Clock::Own(LabClock::new(t, c.scale()));
                            *shared_clock.lock().unwrap_or_else(|e| e.into_inner()) = clock.clone();
                        }
                    }
                }
            }
        }
        let now = clock.now();
        bluez.tick(now);
        send(&ch, &mut bluez);
        let wait = bluez
            .next_due()
            .map_or(MAX_SLEEP, |t| clock.wall_until(t).min(MAX_SLEEP));
        if ch.read_write(Some(wait)).is_err() {
            // The bus is gone (daemon killed): nothing more to serve.
            break;
        }
        while let Some(m) = ch.pop_message() {
            let now = clock.now();
            bluez.tick(now);
            bluez.handle(m, now);
            send(&ch, &mut bluez);
        }
        *stats.lock().unwrap_or_else(|e| e.into_inner()) = bluez.stats;
    }
    *stats.lock().unwrap_or_else(|e| e.into_inner()) = bluez.stats;
}
