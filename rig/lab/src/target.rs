//! What the lab needs of a hosted device: time, UART, the SWD port, the supply and its state
//! bytes. [`virtual_nrf52::Device`] is the device the lab hosts; the trait keeps the lab's loops
//! testable on their own.

use crate::protocol::{Ack, Port};
use virtual_nrf52::ble::BlePeripheral;
use virtual_nrf52::descriptor::Transport;
use virtual_nrf52::events::SimTime;
use virtual_nrf52::status::Status;
use virtual_nrf52::{Device, SwdAck, SwdPort};

/// SWD counters (tests show probe-rs' transfers reached the device and the core ran code).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwdCounters {
    pub transfers: u64,
    pub instructions: u64,
}

/// Whatever may have changed what survives a power loss: when it differs from the last one
/// persisted, the lab writes the state again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub flash_ops: u64,
    pub powered: bool,
    /// When the device's next own event is due (queued flash work starting or ending moves it).
    pub next_event: Option<SimTime>,
    /// The end of a register-level NVMC operation in flight (one the flash algorithm started).
    pub nvmc_busy_until: Option<SimTime>,
}

pub trait Target: Send + 'static {
    fn chip_name(&self) -> String;
    fn now(&self) -> SimTime;
    fn advance_to(&mut self, t: SimTime);
    fn next_event_time(&self) -> Option<SimTime>;
    /// Finish queued flash work (at most until `limit`); the time reached.
    fn settle(&mut self, limit: SimTime) -> SimTime;
    fn uart_rx(&mut self, t: SimTime, bytes: &[u8]);
    fn uart_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)>;
    /// One line saying what runs.
    fn describe(&self) -> String;

    fn swd_line_reset(&mut self);
    fn swd_read(&mut self, port: Port, addr: u8) -> Result<u32, Ack>;
    fn swd_write(&mut self, port: Port, addr: u8, value: u32) -> Result<(), Ack>;
    fn swd_set_nreset(&mut self, asserted: bool);
    fn set_swd_clock_khz(&mut self, khz: u32);
    fn swd_counters(&self) -> SwdCounters;

    /// The core executes instructions (debugger-loaded code such as the flash algorithm):
    /// catching up with lab time costs emulation time then.
    fn core_running(&self) -> bool;
    /// The core is asleep (WFE/WFI): nothing changes before [`Target::next_event_time`] unless
    /// the host acts.
    fn core_asleep(&self) -> bool {
        false
    }

    fn is_powered(&self) -> bool;
    fn power_on(&mut self, t: SimTime);
    fn power_off(&mut self, t: SimTime);

    fn fingerprint(&self) -> Fingerprint;
    /// State bytes as they are now (what a clean stop keeps).
    fn state_bytes(&self) -> Vec<u8>;
    /// State bytes of this device had it lost power at `t` (a flash operation in flight torn).
    fn power_loss_state(&self, t: SimTime) -> Vec<u8>;

    /// The device and its BLE surface, when it is on the air ([`crate::air::OnAir`]).
    fn on_air(&mut self) -> Option<(&mut BlePeripheral, &mut Device)> {
        None
    }

    /// The device model itself, for what only a virtual device offers ([`crate::hooks`]).
    fn device_mut(&mut self) -> Option<&mut Device> {
        None
    }
}

fn swd_port(p: Port) -> SwdPort {
    match p {
        Port::Dp => SwdPort::Dp,
        Port::Ap => SwdPort::Ap,
    }
}

fn ack(a: SwdAck) -> Ack {
    match a {
        SwdAck::Wait => Ack::Wait,
        SwdAck::Fault => Ack::Fault,
        SwdAck::NoResponse => Ack::NoResponse,
    }
}

impl Target for Device {
    fn chip_name(&self) -> String {
        self.chip().probe_rs_name().to_string()
    }
    fn now(&self) -> SimTime {
        Device::now(self)
    }
    fn advance_to(&mut self, t: SimTime) {
        Device::advance_to(self, t)
    }
    fn next_event_time(&self) -> Option<SimTime> {
        Device::next_event_time(self)
    }
    fn settle(&mut self, limit: SimTime) -> SimTime {
        Device::settle(self, limit)
    }
    fn uart_rx(&mut self, t: SimTime, bytes: &[u8]) {
        Device::uart_rx(self, t, bytes)
    }
    fn uart_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)> {
        Device::uart_tx(self, t)
    }
    fn describe(&self) -> String {
        if self.emulated_cpu() {
            // Stable between state changes: the host logs every change of this line.
            let u = self.unmodelled_accesses();
            // The registers too: which peripheral the firmware needs that reads as zero here.
            let unmodelled = u.summary(6);
            return match self.cpu_state() {
                "locked up" => {
                    let fault = self
                        .cpu_fault()
                        .map(|f| format!(" after {:?} at {:#010x} ({})", f.kind, f.pc, f.name))
                        .unwrap_or_default();
                    format!("emulated Cortex-M4F locked up{fault}; {unmodelled}")
                }
                "running" | "sleeping" => {
                    format!("emulated Cortex-M4F runs the firmware in flash; {unmodelled}")
                }
                state => format!("emulated Cortex-M4F {state}; {unmodelled}"),
            };
        }
        match self.status() {
            Status::Off => "off".into(),
            Status::Silent => self
                .silent_reason()
                .map_or_else(|| "silent".into(), |r| format!("silent ({r:?})")),
            Status::Bootloader(b) if b.transport == Transport::Uart => {
                format!("DFU mode, {} UART bootloader listening", b.sdk)
            }
            Status::Bootloader(b) => format!(
                "DFU mode, {} BLE bootloader: nothing listens on the UART",
                b.sdk
            ),
            Status::App(a) => format!(
                "runs application \"{}\" version {} (no serial DFU)",
                a.name, a.version
            ),
        }
    }

    fn swd_line_reset(&mut self) {
        Device::swd_line_reset(self)
    }
    fn swd_read(&mut self, port: Port, addr: u8) -> Result<u32, Ack> {
        Device::swd_read(self, swd_port(port), addr).map_err(ack)
    }
    fn swd_write(&mut self, port: Port, addr: u8, value: u32) -> Result<(), Ack> {
        Device::swd_write(self, swd_port(port), addr, value).map_err(ack)
    }
    fn swd_set_nreset(&mut self, asserted: bool) {
        Device::swd_set_nreset(self, asserted)
    }
    fn set_swd_clock_khz(&mut self, khz: u32) {
        Device::set_swd_clock_khz(self, khz)
    }
    fn swd_counters(&self) -> SwdCounters {
        let s = self.swd_stats();
        SwdCounters {
            transfers: s.transfers,
            instructions: s.instructions,
        }
    }

    fn core_running(&self) -> bool {
        self.silent_reason() == Some(virtual_nrf52::status::SilentReason::DebuggerCode)
    }
    fn core_asleep(&self) -> bool {
        self.cpu_sleeping()
    }

    fn is_powered(&self) -> bool {
        Device::is_powered(self)
    }
    fn power_on(&mut self, t: SimTime) {
        Device::power_on(self, t)
    }
    fn power_off(&mut self, t: SimTime) {
        Device::power_off(self, t)
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            flash_ops: self.hardware().flash_activity().0,
            powered: self.is_powered(),
            next_event: self.next_event_time(),
            nvmc_busy_until: self.nvmc_busy_until(),
        }
    }
    fn state_bytes(&self) -> Vec<u8> {
        self.to_state_bytes()
    }
    fn power_loss_state(&self, t: SimTime) -> Vec<u8> {
        let mut c = self.clone();
        c.power_off(t);
        c.to_state_bytes()
    }
    fn device_mut(&mut self) -> Option<&mut Device> {
        Some(self)
    }
}
