//! One side of a differential run: a virtual nRF52832 (the behavioural model, or the emulated
//! core running the genuine bootloader) driven through its UART surface in virtual time, with
//! the three interruptions a client meets (reset, power cut, link drop).

use nrf_dfu::slip;
use std::time::Duration;
use virtual_nrf52::{DebugPort, Device, SimTime};

/// How long the host waits for a response, in virtual time (the genuine signature check takes
/// about 0.1 s of device time at 64 MHz).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a device runs after a reset or power-on before the client talks to it (the
/// genuine bootloader reaches its main loop in about 3 ms; activation copies take longer).
pub const SETTLE: Duration = Duration::from_millis(300);
/// Power stays off this long in a power cut.
pub const POWER_OFF: Duration = Duration::from_millis(100);
/// The host stays silent this long in a link drop (far below the SDK's 120 s inactivity timeout).
pub const LINK_DROP: Duration = Duration::from_secs(1);
/// Time the device runs after the final EXECUTE (activation, reset, the new application).
pub const AFTER_UPDATE: Duration = Duration::from_secs(2);

/// What the host got back for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A complete SLIP frame, decoded.
    Frame(Vec<u8>),
    /// Nothing within [`RESPONSE_TIMEOUT`] (the bytes that did arrive, raw).
    Silent(Vec<u8>),
    /// Bytes that do not decode as a SLIP frame.
    Garbled(Vec<u8>),
}

impl Answer {
    /// The response payload when it is one.
    pub fn frame(&self) -> Option<&[u8]> {
        match self {
            Answer::Frame(f) => Some(f),
            _ => None,
        }
    }

    /// As a report shows it: the frame's bytes in hex, or what went wrong.
    pub fn text(&self) -> String {
        match self {
            Answer::Frame(f) => hex::encode(f),
            Answer::Silent(raw) if raw.is_empty() => "no response".into(),
            Answer::Silent(raw) => format!("no complete frame (got {})", hex::encode(raw)),
            Answer::Garbled(raw) => format!("not a SLIP frame: {}", hex::encode(raw)),
        }
    }
}

/// A device and its serial line, as one side of the comparison.
pub struct Target {
    pub device: Device,
}

impl Target {
    pub fn new(device: Device) -> Target {
        Target { device }
    }

    /// Run the device until `until`, dropping what it sends (the host is not reading).
    pub fn run_until(&mut self, until: SimTime) {
        let mut t = self.device.now();
        while t < until {
            t = (t + Duration::from_millis(1)).min(until);
            self.device.advance_to(t);
            let _ = self.device.uart_tx(t);
        }
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let t = self.device.now() + d;
        self.run_until(t);
    }

    /// One SLIP-framed request and the first complete frame back.
    pub fn request(&mut self, payload: &[u8]) -> Answer {
        let t = self.device.now();
        self.device.uart_rx(t, &slip::encode(payload));
        let mut out = Vec::new();
        let deadline = t + RESPONSE_TIMEOUT;
        let mut last_done = t;
        while self.device.now() < deadline {
            let t = self.device.now() + Duration::from_micros(500);
            self.device.advance_to(t);
            for (done, bytes) in self.device.uart_tx(t) {
                out.extend_from_slice(&bytes);
                // The host has the bytes once they are on the wire.
                last_done = last_done.max(done);
            }
            // A frame ends at its second END (a leading END only flushes the decoder).
            let body = out.iter().position(|&b| b != slip::END);
            if let Some(start) = body {
                if let Some(len) = out[start..].iter().position(|&b| b == slip::END) {
                    let end = start + len;
                    self.device.advance_to(last_done);
                    return match slip::decode_frame(&out[..=end]) {
                        Ok(f) => Answer::Frame(f),
                        Err(_) => Answer::Garbled(out[..=end].to_vec()),
                    };
                }
            }
        }
        Answer::Silent(out)
    }

    /// A request the SDK answers with nothing (WRITE with PRN off): the bytes go on the line
    /// and the host moves on.
    pub fn send(&mut self, payload: &[u8]) {
        let t = self.device.now();
        self.device.uart_rx(t, &slip::encode(payload));
    }

    /// Let everything sent so far arrive and be handled: 10 bit times per byte on the line,
    /// then `extra` for the flash writes behind it.
    pub fn drain(&mut self, bytes_sent: usize, extra: Duration) {
        let bt = self.device.timing().uart.byte_time();
        let t = self.device.now() + bt * bytes_sent as u32 + extra;
        self.run_until(t);
    }

    /// A reset through the debug port (SREQ), then [`SETTLE`].
    pub fn reset(&mut self) -> Result<(), String> {
        self.device
            .soft_reset()
            .map_err(|e| format!("soft reset: {e}"))?;
        self.run_for(SETTLE);
        Ok(())
    }

    /// Power off for [`POWER_OFF`], on again, then [`SETTLE`].
    pub fn power_cut(&mut self) {
        let t = self.device.now();
        self.device.power_off(t);
        self.device.power_on(t + POWER_OFF);
        self.run_for(SETTLE);
    }

    /// The host goes quiet for [`LINK_DROP`] and comes back (no reset).
    pub fn link_drop(&mut self) {
        self.run_for(LINK_DROP);
    }

    /// GPREGRET = 0xB1 (`BOOTLOADER_DFU_START`) through the debug port and a reset: the
    /// bootloader stays in DFU mode whatever bank 0 holds (SDK 17 `nrf_bootloader.c`,
    /// `dfu_enter_check`).
    pub fn reset_into_dfu(&mut self) -> Result<(), String> {
        self.device
            .write_memory_raw(nrf_dfu::memory_map::POWER_GPREGRET, &[0xB1, 0, 0, 0])
            .map_err(|e| format!("GPREGRET write: {e}"))?;
        self.reset()
    }

    /// Flash bytes as the debug port reads them.
    pub fn read_flash(&self, addr: u32, len: u32) -> Vec<u8> {
        self.device.read_flash(addr, len)
    }
}
