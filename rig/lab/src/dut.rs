//! One hosted DUT: its device, the supply switch, the probe connection's claim, persistence;
//! and the answers to its socket's requests. Shared between the DUT's host thread and the lab's
//! control socket behind a mutex; every request first brings the device to lab time.

use crate::clock::LabClock;
use crate::persist::Persister;
use crate::ppk2::VirtualPpk2;
use crate::protocol::{Ack, BatchReply, DutStatus, Op, PowerAction, Reply, Request, VERSION};
use crate::target::Target;
use std::time::Duration;
use virtual_nrf52::events::SimTime;

/// How long a power cycle keeps the supply off, in lab time (supply capacitors discharge; the
/// rig's own switches wait 0.5-1 s on a DK).
pub const CYCLE_OFF: Duration = Duration::from_millis(500);

/// Lab time a running core is advanced by at a time (6 400 cycles at 64 MHz).
pub const CATCH_UP_SLICE: Duration = Duration::from_micros(100);
/// Wall time one catch-up may take before the host looks at its sockets again (probe-rs gives
/// up on a reply after 100 ms to 1 s).
pub const CATCH_UP_BUDGET: Duration = Duration::from_millis(2);

/// Where a DUT is served (for status and the bench file).
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub swd: String,
    pub uart: String,
    pub ppk2: String,
}

pub struct Dut {
    pub name: String,
    pub dev: Box<dyn Target>,
    pub clock: LabClock,
    pub supply_on: bool,
    pub ppk2: VirtualPpk2,
    pub persist: Option<Persister>,
    pub endpoints: Endpoints,
    /// The connection that said Hello (it owns the probe), by connection id and client pid.
    pub owner: Option<(u64, u32)>,
    /// Something went wrong writing the state (reported in status and the log).
    pub persist_error: Option<String>,
    /// A bench defect: the chip is fed through its I/O lines while the supply is off
    /// (`rig lab fault DUT back-powered on`, see [`Dut::set_supply`]).
    pub back_powered: bool,
    /// The device-model hooks the control socket arms ([`crate::hooks`]).
    pub hooks: crate::hooks::Hooks,
    /// Lab time gained over the scaled wall clock (see [`Dut::lab_now`]).
    ahead: Duration,
    log: Box<dyn FnMut(String) + Send>,
}

impl std::fmt::Debug for Dut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dut").field("name", &self.name).finish()
    }
}

impl Dut {
    pub fn new(
        name: &str,
        dev: Box<dyn Target>,
        clock: LabClock,
        supply_on: bool,
        persist: Option<Persister>,
        endpoints: Endpoints,
        log: Box<dyn FnMut(String) + Send>,
    ) -> Dut {
        Dut {
            name: name.into(),
            dev,
            clock,
            supply_on,
            ppk2: VirtualPpk2::new(supply_on),
            persist,
            endpoints,
            owner: None,
            persist_error: None,
            back_powered: false,
            hooks: Default::default(),
            ahead: Duration::ZERO,
            log,
        }
    }

    pub fn log(&mut self, line: String) {
        let t = self.lab_now();
        (self.log)(format!(
            "{:>12.6} s  {}: {line}",
            t.as_secs_f64(),
            self.name
        ));
    }

    /// This DUT's lab time: the scaled wall clock plus the time the device has run ahead of
    /// it. SWD transfers cost lab time at once (a busy probe-rs loop can spend seconds of it);
    /// lab time then carries on from the device's time at wall speed, rather than standing
    /// still until the wall clock catches up, which would hold back every UART byte the
    /// device sends meanwhile.
    pub fn lab_now(&mut self) -> SimTime {
        let scaled = self.clock.scaled();
        let dev = self.dev.now();
        if dev > scaled + self.ahead {
            self.ahead = dev - scaled;
        }
        scaled + self.ahead
    }

    /// Bring the device to lab time (its own events due by then happen). While its core runs
    /// code, in [`CATCH_UP_SLICE`]s for at most [`CATCH_UP_BUDGET`] of wall time per call:
    /// emulating the core is slower than 64 MHz, and a request must never wait for the device
    /// to catch up with the wall clock (probe-rs gives up after 100 ms to 1 s); the host keeps
    /// catching up between requests instead.
    pub fn sync(&mut self) -> SimTime {
        let t = self.lab_now();
        if !self.dev.core_running() {
            self.advance(t);
            return self.dev.now();
        }
        // Slices until lab time or the wall budget: a core asleep in WFE costs next to nothing
        // per slice, so it reaches lab time at once and the host can sleep; one slice per call
        // left a sleeping core "behind" forever and the host spinning a whole CPU on it.
        let started = std::time::Instant::now();
        loop {
            self.advance(t.min(self.dev.now() + CATCH_UP_SLICE));
            if self.dev.now() >= t || started.elapsed() >= CATCH_UP_BUDGET {
                return self.dev.now();
            }
        }
    }

    fn advance(&mut self, t: SimTime) {
        if self.hooks.armed.is_some() {
            self.advance_watched(t);
        } else {
            self.dev.advance_to(t);
        }
    }

    /// Whether the device is behind lab time (the host should not sleep).
    pub fn behind(&self) -> bool {
        self.dev.now() < self.clock.scaled() + self.ahead
    }

    /// Persist if something that survives a power loss changed.
    pub fn checkpoint(&mut self) {
        let t = self.dev.now();
        if let Some(p) = &mut self.persist {
            match p.checkpoint(self.dev.as_ref(), t) {
                Ok(_) => self.persist_error = None,
                Err(e) => {
                    let m = e.to_string();
                    if self.persist_error.as_deref() != Some(&m) {
                        self.persist_error = Some(m.clone());
                        (self.log)(format!("{}: cannot save the device state: {m}", self.name));
                    }
                }
            }
        }
    }

    /// Switch the supply (PPK2, `rig lab power`, the DUT socket).
    ///
    /// Back-powered (a bench defect), switching the supply off leaves the chip running: a host
    /// UART adapter's TX idles high and an SWD probe drives its lines, and through the pins'
    /// ESD protection diodes either can hold VDD above the power-on reset threshold of an
    /// nRF52832 that draws a few milliamperes (nRF52832 PS v1.4, "Power-on reset" and "Pin
    /// electrical specification"). Nothing resets, so RESETREAS and GPREGRET keep what they
    /// held, which is how the rig tells such a cut from a real one.
    pub fn set_supply(&mut self, on: bool) {
        let t = self.sync();
        if on {
            self.dev.power_on(t);
        } else if self.back_powered {
            self.log(
                "supply off, but the chip stays powered through its I/O lines (back-powered)"
                    .into(),
            );
        } else {
            self.dev.power_off(t);
        }
        if self.supply_on != on {
            self.supply_on = on;
            self.log(format!("supply {}", if on { "on" } else { "off" }));
        }
        if let Some(p) = &self.persist {
            if let Err(e) = p.write_power(on) {
                self.persist_error = Some(e.to_string());
            }
        }
        self.checkpoint();
    }

    /// The lab's switch (`rig lab power`, the DUT socket); the PPK2's DUT switch follows it.
    pub fn power(&mut self, action: PowerAction) {
        self.ppk2.dut_on = action != PowerAction::Off;
        match action {
            PowerAction::On => self.set_supply(true),
            PowerAction::Off => self.set_supply(false),
            PowerAction::Cycle => {
                self.set_supply(false);
                // The off time passes in lab time: the device's clock moves, nobody waits.
                let t = self.dev.now() + CYCLE_OFF;
                self.dev.advance_to(t);
                self.set_supply(true);
            }
        }
    }

    pub fn status(&mut self) -> DutStatus {
        self.sync();
        let c = self.dev.swd_counters();
        DutStatus {
            name: self.name.clone(),
            chip: self.dev.chip_name(),
            supply_on: self.supply_on,
            runs: self.dev.describe(),
            cpu: match self.dev.device_mut().map(|d| d.emulated_cpu()) {
                Some(true) => "emulated",
                _ => "model",
            }
            .into(),
            lab_time_s: self.dev.now().as_secs_f64(),
            swd_socket: self.endpoints.swd.clone(),
            uart: self.endpoints.uart.clone(),
            ppk2: self.endpoints.ppk2.clone(),
            swd_transfers: c.transfers,
            instructions: c.instructions,
            probe_connected: self.owner.is_some(),
            back_powered: self.back_powered,
            ble_address: self.dev.on_air().map(|(_, d)| {
                let a = d.hardware().ficr().ble_address();
                a.iter()
                    .rev()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(":")
            }),
        }
    }

    /// Run a batch: in order, each transfer retried on WAIT up to `wait_retries` times, stopping
    /// at the first one not acknowledged OK.
    pub fn batch(&mut self, wait_retries: u16, ops: &[Op]) -> BatchReply {
        let mut reads = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let mut tries = 0u32;
            let ack = loop {
                let r = match *op {
                    Op::Read { port, addr } => self.dev.swd_read(port, addr).map(Some),
                    Op::Write { port, addr, value } => {
                        self.dev.swd_write(port, addr, value).map(|_| None)
                    }
                };
                match r {
                    Ok(v) => {
                        reads.extend(v);
                        break Ack::Ok;
                    }
                    Err(Ack::Wait) if tries < wait_retries as u32 => tries += 1,
                    Err(a) => break a,
                }
            };
            if ack != Ack::Ok {
                return BatchReply {
                    done: i as u32,
                    reads,
                    ack,
                };
            }
        }
        BatchReply {
            done: ops.len() as u32,
            reads,
            ack: Ack::Ok,
        }
    }

    /// Answer one request of connection `conn`.
    pub fn handle(&mut self, conn: u64, req: Request) -> Reply {
        self.sync();
        let claimed = self.owner.map(|(c, _)| c) == Some(conn);
        let reply = match req {
            Request::Hello { version, pid } => {
                if version != VERSION {
                    Reply::Error(format!(
                        "protocol version {version} is not supported (this lab speaks {VERSION}): use the rig binary that started the lab"
                    ))
                } else if let Some((_, owner)) = self.owner.filter(|(c, _)| *c != conn) {
                    Reply::Error(format!(
                        "{}'s probe is in use by process {owner}: one debugger at a time, as with a USB probe",
                        self.name
                    ))
                } else {
                    self.owner = Some((conn, pid));
                    Reply::Hello {
                        version: VERSION,
                        dut: self.name.clone(),
                        chip: self.dev.chip_name(),
                    }
                }
            }
            Request::Status => Reply::Status(Box::new(self.status())),
            Request::Power(a) => {
                self.power(a);
                Reply::Done
            }
            _ if !claimed => Reply::Error(
                "say Hello first: SWD requests need the probe (the lab serves one debugger per DUT)"
                    .into(),
            ),
            Request::Batch { wait_retries, ops } => Reply::Batch(self.batch(wait_retries, &ops)),
            Request::LineReset => {
                self.dev.swd_line_reset();
                Reply::Done
            }
            Request::Nreset { asserted } => {
                self.dev.swd_set_nreset(asserted);
                Reply::Done
            }
            Request::SetClock { khz } => {
                if khz == 0 {
                    Reply::Error("SWD clock of 0 kHz".into())
                } else {
                    self.dev.set_swd_clock_khz(khz);
                    Reply::Done
                }
            }
        };
        self.checkpoint();
        reply
    }

    /// The connection closed: a probe going away releases nRESET, as its pins float.
    pub fn disconnect(&mut self, conn: u64) {
        if self.owner.map(|(c, _)| c) == Some(conn) {
            self.owner = None;
            self.sync();
            self.dev.swd_set_nreset(false);
            self.checkpoint();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use virtual_nrf52::{Chip, Device};

    /// A DUT whose emulated core sleeps in `wfi; b.n` at 0x8.
    fn sleeping_core() -> Dut {
        use virtual_nrf52::{DebugPort, ProgramOptions};
        let mut dev = Device::new(Chip::Nrf52832Qfaa, 1);
        dev.set_emulated_cpu(true);
        let image = vec![
            0x00, 0x00, 0x01, 0x20, // initial SP 0x20010000
            0x09, 0x00, 0x00, 0x00, // reset handler 0x8, Thumb
            0x30, 0xBF, // wfi
            0xFD, 0xE7, // b.n 0x8
        ];
        dev.program(&[(0, image)], ProgramOptions::default())
            .unwrap();
        dev.soft_reset().unwrap();
        dut(dev)
    }

    fn dut(dev: Device) -> Dut {
        Dut::new(
            "dut-0",
            Box::new(dev),
            LabClock::new(1.0),
            true,
            None,
            Endpoints::default(),
            Box::new(|_| {}),
        )
    }

    #[test]
    fn a_core_asleep_catches_up_with_lab_time_in_one_sync() {
        let mut d = sleeping_core();
        d.sync();
        assert!(d.dev.core_asleep(), "the core sleeps in its WFI");
        std::thread::sleep(Duration::from_millis(30));
        let lab = d.lab_now();
        let t = d.sync();
        // One slice per call (100 us) left it behind for ever, and the host spinning on it.
        assert!(
            t >= lab,
            "a sleeping core costs nothing to advance: {t:?} < {lab:?}"
        );
        assert!(d.dev.core_asleep());
    }

    #[test]
    fn a_core_running_code_catches_up_within_the_wall_budget() {
        let mut d = sleeping_core();
        // A core that never sleeps: `b.n .` at the reset handler.
        if let Some(dev) = d.dev.device_mut() {
            use virtual_nrf52::{DebugPort, ProgramOptions};
            dev.program(&[(8, vec![0xFE, 0xE7])], ProgramOptions::default())
                .unwrap();
            dev.soft_reset().unwrap();
        }
        d.sync();
        assert!(d.dev.core_running() && !d.dev.core_asleep());
        // Far behind: a minute of lab time cannot be emulated within one call's budget.
        d.ahead = Duration::from_secs(60);
        let before = d.dev.now();
        let t = d.sync();
        assert!(t > before, "it made progress");
        assert!(
            t < d.lab_now(),
            "and came back to the host at its budget, not at lab time"
        );
    }

    #[test]
    fn lab_time_runs_on_from_a_device_that_swd_put_ahead_of_the_wall_clock() {
        let dev = Device::new(Chip::Nrf52832Qfaa, 1);
        let mut d = dut(dev);
        // Seconds of SWD transfers spent at once put the device ahead of the wall clock.
        let ahead = d.clock.scaled() + Duration::from_secs(5);
        d.dev.advance_to(ahead);
        let t1 = d.sync();
        assert!(t1 >= ahead);
        std::thread::sleep(Duration::from_millis(30));
        let t2 = d.sync();
        assert!(
            t2 >= t1 + Duration::from_millis(30),
            "lab time moves on at wall speed from the device's time: {t1:?} -> {t2:?}"
        );
    }
}
