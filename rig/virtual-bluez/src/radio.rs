//! One virtual device on the air: the device model (shared with whoever else drives it: the
//! lab's probe and power switch) and its BLE surface ([`BlePeripheral`], the same one the
//! in-process bench's tests use), plus what a scanner's radio adds: an RSSI per report.

use std::sync::{Arc, Mutex, MutexGuard};
use virtual_nrf52::ble::{Advertisement, BlePeripheral};
use virtual_nrf52::{Device, SimTime};

/// A device shared between the virtual BlueZ's thread and the lab's other surfaces (thread-safe;
/// not the runner's single-thread `SharedDevice`, an `Rc<RefCell<Device>>`).
pub type SyncDevice = Arc<Mutex<Device>>;

pub fn share_sync(device: Device) -> SyncDevice {
    Arc::new(Mutex::new(device))
}

pub struct Radio {
    pub device: SyncDevice,
    pub ble: BlePeripheral,
    /// The adapter (index) in whose range the device is.
    pub adapter: usize,
    /// The time of the last advertising event reported to the host.
    pub last_report: Option<SimTime>,
    rssi_base: i16,
    rng: u64,
}

impl Radio {
    pub fn new(device: SyncDevice, adapter: usize, seed: u64) -> Radio {
        Radio {
            device,
            ble: BlePeripheral::new(),
            adapter,
            last_report: None,
            rssi_base: -52,
            rng: seed | 1,
        }
    }

    /// The device, locked. A poisoned lock means a panic elsewhere already failed the lab;
    /// the state inside is still the last consistent one.
    pub fn dev(&self) -> MutexGuard<'_, Device> {
        self.device.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new advertising event since the last report, if the device advertises.
    pub fn new_advertisement(&mut self, now: SimTime) -> Option<Advertisement> {
        let dev = self.device.clone();
        let mut d = dev.lock().unwrap_or_else(|e| e.into_inner());
        let a = self.ble.scan(&mut d, now)?;
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
