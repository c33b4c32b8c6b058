//! The device's surfaces: what it shows ([`Device::status`]) and the DFU calls of the BLE
//! and UART transports (docs/DEVICE-CONTRACT.md).

use crate::bootloader::profile::Profile;
use crate::bootloader::Dfu;
use crate::bootloader::{DfuState, EnterReason};
use crate::descriptor::Transport;
use crate::events::{DropReason, PacketOutcome, Reply, SimTime};
use crate::status::{BootloaderStatus, SilentReason, Status};
use crate::virtual_device::{Device, Run};
use nrf_dfu::settings::AreaStatus;

impl Device {
    // --- what it shows ----------------------------------------------------------------------

    pub fn status(&self) -> Status {
        if !self.core.hw.is_powered() {
            return Status::Off;
        }
        if self.halted_at.is_some() {
            return Status::Silent;
        }
        match &self.run {
            Run::Off => Status::Off,
            Run::Silent(_) | Run::Booting(_) => Status::Silent,
            Run::App(a) => a.status(&self.core),
            Run::Dfu(d) if d.is_open() => Status::Bootloader(self.bootloader_status(d)),
            Run::Dfu(_) => Status::Silent,
            Run::Cpu => Status::Silent,
        }
    }

    fn bootloader_status(&self, d: &Dfu) -> BootloaderStatus {
        let p = &d.profile;
        let mut ble_address = self.core.hw.ficr().ble_address();
        if !p.requires_bonds {
            ble_address[0] = ble_address[0].wrapping_add(1);
        }
        let custom =
            d.s.adv_name()
                .filter(|a| a.status() == AreaStatus::Valid && !p.requires_bonds);
        let adv_name = custom.map_or_else(
            || p.adv_name.clone(),
            |a| String::from_utf8_lossy(a.name_bytes()).into_owned(),
        );
        BootloaderStatus {
            sdk: p.sdk,
            transport: p.transport,
            adv_name,
            ble_address,
            requires_bonds: p.requires_bonds,
            max_att_mtu: p.max_att_mtu(),
            init_valid: d.init.is_some(),
            peer: d
                .s
                .peer_data()
                .filter(|peer| p.requires_bonds && peer.status() == AreaStatus::Valid)
                .copied(),
        }
    }

    /// Why [`Status::Silent`], when it is.
    pub fn silent_reason(&self) -> Option<SilentReason> {
        if !self.core.hw.is_powered() {
            return None;
        }
        if self.halted_at.is_some() {
            return Some(SilentReason::Halted);
        }
        match &self.run {
            Run::Off => None,
            Run::Silent(r) => Some(r.clone()),
            Run::Booting(_) => Some(SilentReason::Booting),
            Run::Cpu => Some(SilentReason::DebuggerCode),
            Run::App(a) => a.silent_reason(),
            Run::Dfu(d) => match d.state {
                DfuState::Open => None,
                DfuState::Closing => Some(SilentReason::Resetting),
                DfuState::Stuck => Some(SilentReason::Stuck),
            },
        }
    }

    /// Why the bootloader is in DFU mode, if it is.
    pub fn dfu_enter_reason(&self) -> Option<EnterReason> {
        match &self.run {
            Run::Dfu(d) => Some(d.reason),
            _ => None,
        }
    }

    /// The bootloader build in DFU mode, if it is.
    pub fn dfu_profile(&self) -> Option<&Profile> {
        match &self.run {
            Run::Dfu(d) => Some(&d.profile),
            _ => None,
        }
    }

    // --- DFU, transport-neutral ---------------------------------------------------------------

    /// A control-point request (BLE CP write, or a serial frame's bytes). `None`: no reply.
    pub fn dfu_control(&mut self, t: SimTime, request: &[u8]) -> Option<Reply> {
        self.advance_to(t);
        if self.halted_at.is_some() {
            return None;
        }
        match &mut self.run {
            Run::Dfu(d) => d.control(&mut self.core, request),
            _ => None,
        }
    }

    /// A BLE Packet characteristic write (write without response).
    pub fn dfu_packet(&mut self, t: SimTime, data: &[u8]) -> PacketOutcome {
        self.advance_to(t);
        match &mut self.run {
            Run::Dfu(d) if self.halted_at.is_none() => d.packet(&mut self.core, data),
            _ => PacketOutcome::dropped(DropReason::NotListening),
        }
    }

    /// The BLE link dropped (disconnect, supervision timeout): table 8.8.
    pub fn dfu_link_lost(&mut self, t: SimTime) {
        self.advance_to(t);
        if let Run::Dfu(d) = &mut self.run {
            d.link_lost(&self.core);
        }
    }

    // --- UART --------------------------------------------------------------------------------

    /// SLIP bytes from the host, starting to arrive at `t` (one byte per 10 bit times).
    pub fn uart_rx(&mut self, t: SimTime, bytes: &[u8]) {
        self.advance_to(t);
        let uart = self.timing().uart;
        if self.emulated {
            let now = self.core.now;
            self.si
                .soc
                .periph
                .uarte
                .host_rx(now, bytes, uart.byte_time());
            self.si.periph_dirty = true;
            return;
        }
        self.uart.receive(self.core.now, bytes, uart);
    }

    /// SLIP-encoded responses that have started going out by `t`, each with the time it is
    /// fully transmitted.
    pub fn uart_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)> {
        self.advance_to(t);
        if self.emulated {
            return self.si.soc.periph.uarte.take_tx(self.core.now);
        }
        self.uart.take_tx(self.core.now)
    }

    /// Whether the serial decoder is wedged by an oversized frame (until the next reset).
    pub fn uart_wedged(&self) -> bool {
        self.uart.is_wedged()
    }

    pub(crate) fn uart_frame(&mut self, frame: &[u8]) {
        let Run::Dfu(d) = &mut self.run else { return };
        if d.transport() != Transport::Uart {
            return;
        }
        let reply = match frame.split_first() {
            Some((&0x08, payload)) => d.serial_write(&mut self.core, payload),
            _ => d.control(&mut self.core, frame),
        };
        if let Some(r) = reply {
            // Synchronous flash work: the reply goes out when the request's work is done
            // (the frame was handled with nothing else pending, so all queued work is its
            // own). A closing bootloader's reset work does not hold the reply back.
            let ready = match &self.run {
                Run::Dfu(d) if d.is_open() => self.core.queue.drained_at(r.ready_at),
                _ => r.ready_at,
            };
            let uart = self.core.hw.timing().uart;
            self.uart.send(ready, &r.bytes, uart);
        }
    }
}
