//! A virtual BlueZ with virtual DUTs for the tests (taking turns on one shared bus), btleplug adapters opened through the
//! rig's own `find_for` on the bench's `ble.dbus`, and a raw D-Bus client for exact error names.

use rig::benchfile::schema::BleConfig;
use rig::drivers::ble::adapter::find_for;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use virtual_bluez::{BluezConfig, DaemonError, ServerError, SyncDevice, VirtualBluez};
use virtual_nrf52::{Device, Status};

static TURN: Mutex<()> = Mutex::new(());
/// One virtual BlueZ for the whole test process: libdbus reads DBUS_SYSTEM_BUS_ADDRESS once per
/// process (dbus-bus.c `init_connections_unlocked` caches the address), so every test talks to
/// the same bus, reset to a fresh bluetoothd before each test. Its dbus-daemon dies with the
/// process (PR_SET_PDEATHSIG on the serving thread).
static SHARED: OnceLock<Result<VirtualBluez, String>> = OnceLock::new();

/// Lab seconds per wall second in these tests.
pub const SCALE: f64 = 10.0;

pub struct Lab {
    pub vb: &'static VirtualBluez,
    pub rt: tokio::runtime::Runtime,
    pub devices: Vec<SyncDevice>,
    _turn: MutexGuard<'static, ()>,
}

/// A lab, or None (with the reason on stderr) when dbus-daemon is not installed and the run does
/// not require it. `.ci/run` sets RIG_REQUIRE_DBUS=1, so there a missing daemon fails the test.
pub fn lab(temporary_timeout: Duration) -> Option<Lab> {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let shared = SHARED.get_or_init(|| {
        match VirtualBluez::start(BluezConfig {
            scale: SCALE,
            ..BluezConfig::default()
        }) {
            Ok(v) => Ok(v),
            Err(ServerError::Daemon(e @ DaemonError::Missing(_))) => Err(e.to_string()),
            Err(e) => panic!("virtual BlueZ: {e}"),
        }
    });
    let vb = match shared {
        Ok(v) => v,
        Err(e) => {
            if std::env::var("RIG_REQUIRE_DBUS").as_deref() == Ok("1") {
                panic!("RIG_REQUIRE_DBUS=1 but {e}");
            }
            eprintln!("SKIPPED: {e} (virtual BlueZ tests need dbus-daemon; .ci/run installs it)");
            return None;
        }
    };
    vb.reset(virtual_nrf52::SimTime::ZERO)
        .expect("virtual BlueZ running");
    vb.with(move |b, _| b.set_temporary_timeout(temporary_timeout))
        .expect("virtual BlueZ running");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Some(Lab {
        vb,
        rt,
        devices: Vec::new(),
        _turn: turn,
    })
}

pub fn default_lab() -> Option<Lab> {
    lab(virtual_bluez::bluez::TEMPORARY_TIMEOUT)
}

impl Lab {
    /// Put `dev` in range of hci0; returns its radio index.
    pub fn add(&mut self, dev: Device) -> usize {
        self.vb.clock_at_least(dev.now()).expect("clock");
        let shared = virtual_bluez::share_sync(dev);
        self.devices.push(shared.clone());
        self.vb
            .add_device(shared, 0, 7 + self.devices.len() as u64)
            .expect("add device")
    }

    /// The bench file's `ble` entry for hci0 on this lab's bus.
    pub fn ble_config(&self) -> BleConfig {
        BleConfig {
            adapter: Some("hci0".into()),
            address: None,
            name: None,
            packet_size: None,
            bonded: false,
            dbus: Some(self.vb.address().to_string()),
        }
    }

    /// hci0 through btleplug, opened as the rig opens it.
    pub async fn adapter(&self) -> btleplug::platform::Adapter {
        find_for(&self.ble_config())
            .await
            .expect("hci0 on the virtual BlueZ")
            .0
    }

    /// A plain D-Bus client on the lab's bus.
    pub fn raw(&self) -> dbus::blocking::Connection {
        let mut ch = dbus::channel::Channel::open_private(self.vb.address()).expect("bus");
        ch.register().expect("hello");
        dbus::blocking::Connection::from(ch)
    }

    /// Lab seconds as wall time.
    pub fn wall(&self, lab: Duration) -> Duration {
        lab.div_f64(SCALE)
    }
}

/// The address a device advertises with now, printed MSB first.
pub fn address_of(dev: &SyncDevice) -> String {
    let d = dev.lock().unwrap();
    let a = match d.status() {
        Status::App(a) => a.ble_address,
        Status::Bootloader(b) => b.ble_address,
        s => panic!("not advertising: {s:?}"),
    };
    a.iter()
        .rev()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
