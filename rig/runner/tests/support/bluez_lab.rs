//! What the virtual BlueZ tests (tests/virtual_bluez_*.rs) share: a virtual BlueZ with virtual DUTs for the tests (taking turns on one shared bus), btleplug adapters opened through the
//! rig's own `find_for` on the bench's `ble.dbus`, and a raw D-Bus client for exact error names.
#![allow(dead_code)] // each test target uses a part

use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter};
use futures_util::StreamExt;
use rig::benchfile::schema::BleConfig;
use rig::drivers::ble::adapter::find_for;
use rig::drivers::ble::{CONTROL_POINT, PACKET};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::time::timeout;
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

pub const WAIT: Duration = Duration::from_secs(10);

/// Scan until a device with `name` shows up with advertising data; returns its peripheral.
pub async fn find_named(
    adapter: &btleplug::platform::Adapter,
    name: &str,
    filter: ScanFilter,
) -> btleplug::platform::Peripheral {
    let mut events = adapter.events().await.unwrap();
    adapter.start_scan(filter).await.unwrap();
    let found = timeout(WAIT, async {
        while let Some(ev) = events.next().await {
            let id = match ev {
                CentralEvent::DeviceDiscovered(id)
                | CentralEvent::DeviceUpdated(id)
                | CentralEvent::RssiUpdate { id, .. }
                | CentralEvent::ServicesAdvertisement { id, .. }
                | CentralEvent::ManufacturerDataAdvertisement { id, .. } => id,
                _ => continue,
            };
            let p = adapter.peripheral(&id).await.unwrap();
            if let Ok(Some(props)) = p.properties().await {
                if props.local_name.as_deref() == Some(name) && props.rssi.is_some() {
                    return p;
                }
            }
        }
        panic!("event stream ended")
    })
    .await
    .unwrap_or_else(|_| panic!("no advertisement from {name} within {WAIT:?}"));
    adapter.stop_scan().await.unwrap();
    found
}

/// A lab with one SDK 17.1 device running its application.
pub fn app_lab() -> Option<(Lab, usize)> {
    let mut l = default_lab()?;
    let r = l.add(crate::support::Bench::new(nrf_dfu::SdkVersion::Sdk17).build());
    Some((l, r))
}

/// Connect to the bootloader, discover, enable Control Point notifications.
pub async fn dfu_link(
    a: &btleplug::platform::Adapter,
) -> (
    btleplug::platform::Peripheral,
    btleplug::api::Characteristic,
    btleplug::api::Characteristic,
) {
    let bl = find_named(a, "DfuTarg", ScanFilter::default()).await;
    bl.connect().await.unwrap();
    bl.discover_services().await.unwrap();
    let chars = bl.characteristics();
    let cp = chars
        .iter()
        .find(|c| c.uuid == CONTROL_POINT)
        .unwrap()
        .clone();
    let pkt = chars.iter().find(|c| c.uuid == PACKET).unwrap().clone();
    bl.subscribe(&cp).await.unwrap();
    (bl, cp, pkt)
}

/// Device1.Disconnected signals on the raw bus, as (reason name, message).
pub fn watch_disconnects(
    c: &dbus::blocking::Connection,
) -> std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let rule = dbus::message::MatchRule::new_signal("org.bluez.Device1", "Disconnected");
    c.add_match(rule, move |_: (), _, m: &dbus::Message| {
        s2.lock()
            .unwrap()
            .push(m.read2::<String, String>().unwrap());
        true
    })
    .unwrap();
    seen
}

pub fn pump(c: &dbus::blocking::Connection, wall: Duration) {
    let end = std::time::Instant::now() + wall;
    while std::time::Instant::now() < end {
        c.process(Duration::from_millis(20)).unwrap();
    }
}

/// A bench file naming hci0 on the lab's bus.
pub fn bench_file(dir: &std::path::Path, l: &Lab) -> std::path::PathBuf {
    let p = dir.join("bench.yaml");
    std::fs::write(
        &p,
        format!(
            "duts:\n  lab-0:\n    chip: nRF52832_xxAA\n    ble: {{ adapter: hci0, dbus: \"{}\" }}\n",
            l.vb.address()
        ),
    )
    .unwrap();
    p
}

pub fn rig_cmd(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rig"))
        .args(args)
        .current_dir(dir)
        .env_remove("DBUS_SYSTEM_BUS_ADDRESS")
        .output()
        .expect("rig runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// `rig dfu --image` of application version 2 (0x3000 bytes, signed with the rig's test key)
/// to the application at `app_addr`, through `l`'s bench file: (succeeded, output, the image).
pub fn rig_dfu_app_v2(
    l: &Lab,
    bench: &crate::support::Bench,
    app_addr: &str,
) -> (bool, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let bf = bench_file(dir.path(), l);
    let app = bench.app_sized(2, 0x3000);
    let segs = nrf_dfu::image::Segments::from_runs([(bench.bank0(), app.as_slice())]).unwrap();
    let hex = dir.path().join("app-v2.hex");
    std::fs::write(&hex, nrf_dfu::image::write_intel_hex(&segs)).unwrap();
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware/keys/rig-test-private.pem");
    let sd_req = format!("{:#06x}", bench.softdevice().info.fwid);
    let (ok, out) = rig_cmd(
        dir.path(),
        &[
            "dfu",
            "--image",
            hex.to_str().unwrap(),
            "--version",
            "2",
            "--sd-req",
            &sd_req,
            "--key",
            key.to_str().unwrap(),
            "--address",
            app_addr,
            "--bench",
            bf.to_str().unwrap(),
        ],
    );
    (ok, out, app)
}
