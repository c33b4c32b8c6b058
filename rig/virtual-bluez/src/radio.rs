//! One virtual device on the air: where the device lives ([`Air`]: shared with whoever else
//! drives it, the lab's probe and power switch), its BLE surface ([`BlePeripheral`], the same
//! one the in-process bench's tests use), plus what a scanner's radio adds: an RSSI per report.

use std::sync::{Arc, Mutex, MutexGuard};
use virtual_nrf52::ble::{Advertisement, BlePeripheral};
use virtual_nrf52::{Device, SimTime};

/// Where a radio's device is kept: the device and its BLE surface, locked together, so that
/// whoever else moves the device on (the lab's host thread, serving SWD and the UART) moves it
/// through the same peripheral, and every change (a boot, a reset, a power cut) is seen at the
/// time it happens.
pub trait Air: Send + Sync {
    fn lock(&self) -> Box<dyn AirGuard + '_>;
}

/// A locked [`Air`].
pub trait AirGuard {
    /// The peripheral and its device; None when the device is no longer on the air (the lab
    /// replaced it with something that has no radio).
    fn parts(&mut self) -> Option<(&mut BlePeripheral, &mut Device)>;
}

/// A device shared between the virtual BlueZ's thread and a test or benchmark (thread-safe;
/// not the runner's single-thread `SharedDevice`, an `Rc<RefCell<Device>>`).
pub type SyncDevice = Arc<Mutex<Device>>;

pub fn share_sync(device: Device) -> SyncDevice {
    Arc::new(Mutex::new(device))
}

/// [`Air`] for a [`SyncDevice`]: the peripheral kept beside it. Others holding the device act
/// on it without the peripheral; it notices their changes at the device's time.
pub struct SharedAir {
    device: SyncDevice,
    ble: Mutex<BlePeripheral>,
}

impl SharedAir {
    pub fn new(device: SyncDevice) -> SharedAir {
        SharedAir {
            device,
            ble: Mutex::new(BlePeripheral::new()),
        }
    }
}

struct SharedGuard<'a> {
    ble: MutexGuard<'a, BlePeripheral>,
    dev: MutexGuard<'a, Device>,
}

impl AirGuard for SharedGuard<'_> {
    fn parts(&mut self) -> Option<(&mut BlePeripheral, &mut Device)> {
        Some((&mut self.ble, &mut self.dev))
    }
}

impl Air for SharedAir {
    fn lock(&self) -> Box<dyn AirGuard + '_> {
        // A poisoned lock means a panic elsewhere already failed the test; the state inside
        // is still the last consistent one. Always peripheral first, then device.
        let ble = self.ble.lock().unwrap_or_else(|e| e.into_inner());
        let dev = self.device.lock().unwrap_or_else(|e| e.into_inner());
        Box::new(SharedGuard { ble, dev })
    }
}

pub struct Radio {
    pub air: Arc<dyn Air>,
    /// The adapter (index) in whose range the device is.
    pub adapter: usize,
    /// The time of the last advertising event reported to the host.
    pub last_report: Option<SimTime>,
    rssi_base: i16,
    rng: u64,
}

impl Radio {
    pub fn new(air: Arc<dyn Air>, adapter: usize, seed: u64) -> Radio {
        Radio {
            air,
            adapter,
            last_report: None,
            rssi_base: -52,
            rng: seed | 1,
        }
    }

    /// Run `f` on the peripheral and its device, locked; None if the device is off the air.
    pub fn with<R>(&self, f: impl FnOnce(&mut BlePeripheral, &mut Device) -> R) -> Option<R> {
        let mut g = self.air.lock();
        let (ble, dev) = g.parts()?;
        Some(f(ble, dev))
    }

    /// A new advertising event since the last report, if the device advertises.
    pub fn new_advertisement(&mut self, now: SimTime) -> Option<Advertisement> {
        let a = self.with(|ble, d| ble.scan(d, now))??;
        if self.last_report.is_some_and(|l| a.at <= l) {
            return None;
        }
        self.last_report = Some(a.at);
        Some(a)
    }

    /// The RSSI of the next report: the base level plus a deterministic wobble of ±12 dB
    /// (xorshift on the seed), so some reports cross bluetoothd's 8 dB threshold and some not.
    pub fn next_rssi(&mut self) -> i16 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        self.rssi_base + (x % 25) as i16 - 12
    }
}
