//! A DUT on the air: its device with the BLE surface the virtual BlueZ reaches it through
//! ([`OnAir`], a [`Target`]), and how the virtual BlueZ finds it inside the lab: [`DutAir`] locks
//! the DUT itself, [`LabTime`] is the DUT's lab time. So the radio, the debug port, the UART and
//! the power switch act on one device on one clock, and every time the lab moves the device on
//! it does so through the peripheral, which sees each boot, reset and power cut when it happens
//! (a link to a device that reset or lost power ends after the supervision timeout, as on air).

use crate::dut::Dut;
use crate::protocol::{Ack, Port};
use crate::target::{Fingerprint, SwdCounters, Target};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use virtual_bluez::{Air, AirGuard, TimeSource};
use virtual_nrf52::ble::BlePeripheral;
use virtual_nrf52::events::SimTime;
use virtual_nrf52::Device;

/// A device with its BLE surface.
pub struct OnAir {
    pub dev: Device,
    pub ble: BlePeripheral,
}

impl OnAir {
    pub fn new(dev: Device) -> OnAir {
        OnAir {
            dev,
            ble: BlePeripheral::new(),
        }
    }
}

impl Target for OnAir {
    fn chip_name(&self) -> String {
        self.dev.chip_name()
    }
    fn now(&self) -> SimTime {
        Target::now(&self.dev)
    }
    fn advance_to(&mut self, t: SimTime) {
        self.ble.sync(&mut self.dev, t);
    }
    fn next_event_time(&self) -> Option<SimTime> {
        let own = Target::next_event_time(&self.dev);
        let air = self.ble.next_event_time(&self.dev);
        match (own, air) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    fn settle(&mut self, limit: SimTime) -> SimTime {
        Target::settle(&mut self.dev, limit)
    }
    fn uart_rx(&mut self, t: SimTime, bytes: &[u8]) {
        self.ble.sync(&mut self.dev, t);
        Target::uart_rx(&mut self.dev, t, bytes)
    }
    fn uart_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)> {
        Target::uart_tx(&mut self.dev, t)
    }
    fn describe(&self) -> String {
        self.dev.describe()
    }
    fn swd_line_reset(&mut self) {
        self.dev.swd_line_reset()
    }
    fn swd_read(&mut self, port: Port, addr: u8) -> Result<u32, Ack> {
        Target::swd_read(&mut self.dev, port, addr)
    }
    fn swd_write(&mut self, port: Port, addr: u8, value: u32) -> Result<(), Ack> {
        Target::swd_write(&mut self.dev, port, addr, value)
    }
    fn swd_set_nreset(&mut self, asserted: bool) {
        Target::swd_set_nreset(&mut self.dev, asserted)
    }
    fn set_swd_clock_khz(&mut self, khz: u32) {
        Target::set_swd_clock_khz(&mut self.dev, khz)
    }
    fn swd_counters(&self) -> SwdCounters {
        self.dev.swd_counters()
    }
    fn core_running(&self) -> bool {
        self.dev.core_running()
    }
    fn core_asleep(&self) -> bool {
        self.dev.core_asleep()
    }
    fn is_powered(&self) -> bool {
        Target::is_powered(&self.dev)
    }
    fn power_on(&mut self, t: SimTime) {
        self.ble.sync(&mut self.dev, t);
        Target::power_on(&mut self.dev, t)
    }
    fn power_off(&mut self, t: SimTime) {
        self.ble.sync(&mut self.dev, t);
        Target::power_off(&mut self.dev, t)
    }
    fn fingerprint(&self) -> Fingerprint {
        self.dev.fingerprint()
    }
    fn state_bytes(&self) -> Vec<u8> {
        self.dev.state_bytes()
    }
    fn power_loss_state(&self, t: SimTime) -> Vec<u8> {
        self.dev.power_loss_state(t)
    }
    fn on_air(&mut self) -> Option<(&mut BlePeripheral, &mut Device)> {
        Some((&mut self.ble, &mut self.dev))
    }
    fn device_mut(&mut self) -> Option<&mut Device> {
        Some(&mut self.dev)
    }
}

fn lock(d: &Mutex<Dut>) -> MutexGuard<'_, Dut> {
    d.lock().unwrap_or_else(|p| p.into_inner())
}

/// A hosted DUT as the virtual BlueZ reaches it.
pub struct DutAir(pub Arc<Mutex<Dut>>);

struct DutGuard<'a>(MutexGuard<'a, Dut>);

impl AirGuard for DutGuard<'_> {
    fn parts(&mut self) -> Option<(&mut BlePeripheral, &mut Device)> {
        self.0.dev.on_air()
    }
}

impl Air for DutAir {
    fn lock(&self) -> Box<dyn AirGuard + '_> {
        Box::new(DutGuard(lock(&self.0)))
    }
}

/// The lab time of the DUTs on the air: each brought to its own lab time first (as a request
/// on its SWD socket would), the latest of them. With one DUT on the air (the usual lab) it is
/// exactly that DUT's lab time.
pub struct LabTime {
    pub duts: Vec<Arc<Mutex<Dut>>>,
}

impl TimeSource for LabTime {
    fn now(&self) -> SimTime {
        // `Dut::sync` catches a core that runs debugger code up in slices, so the radio's
        // thread never emulates seconds of the flash algorithm while holding the DUT.
        self.duts
            .iter()
            .map(|d| lock(d).sync())
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    fn wall_until(&self, t: SimTime) -> Duration {
        self.duts
            .iter()
            .map(|d| {
                let mut d = lock(d);
                let now = d.lab_now();
                d.clock.wall_until(t, now)
            })
            .min()
            .unwrap_or(Duration::ZERO)
    }
}
