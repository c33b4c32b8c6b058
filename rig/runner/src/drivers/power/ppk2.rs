//! Nordic Power Profiler Kit II as the DUT's supply: source-meter mode at a set voltage, DUT
//! power on/off. Serial protocol as Nordic's pc-nrfconnect-ppk (src/device/serialDevice.ts,
//! abstractDevice.ts) and IRNAS/ppk2-api-python (src/ppk2_api/ppk2_api.py) speak it: one opcode byte and its arguments, no framing, no acknowledgement; metadata comes
//! back as text ending in "END".

use super::{PowerError, PowerSwitch};
use serialport::SerialPort;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Opcodes (`PPK2_Command`).
pub mod op {
    pub const DEVICE_RUNNING_SET: u8 = 0x0C;
    pub const REGULATOR_SET: u8 = 0x0D;
    pub const SET_POWER_MODE: u8 = 0x11;
    pub const GET_META_DATA: u8 = 0x19;
}

/// The PPK2's supply range, mV.
pub const VDD_MIN_MV: u32 = 800;
pub const VDD_MAX_MV: u32 = 5000;

/// How the PPK2 is wired to the DUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ppk2Mode {
    /// The PPK2 supplies the DUT (VOUT): switching really cuts power.
    Source { millivolts: u32 },
    /// The PPK2 sits in series with an external supply; its DUT switch still opens the path.
    Ampere,
}

/// `SET_POWER_MODE` argument: 1 ampere meter, 2 source meter.
pub fn power_mode_command(mode: Ppk2Mode) -> [u8; 2] {
    match mode {
        Ppk2Mode::Ampere => [op::SET_POWER_MODE, 1],
        Ppk2Mode::Source { .. } => [op::SET_POWER_MODE, 2],
    }
}

/// `REGULATOR_SET` for `mv` (clamped to 800..=5000): VDD in mV as a big-endian 16-bit number,
/// as Nordic's pc-nrfconnect-ppk sends it (src/device/abstractDevice.ts `ppkUpdateRegulator`:
/// `[RegulatorSet, vdd >> 8, vdd & 0xff]`). ppk2-api-python's `_convert_source_voltage` writes
/// the same bytes as 3 + (mV − 800 + 32) / 256 and (mV − 800 + 32) % 256, since 3·256 = 800 − 32.
pub fn regulator_command(mv: u32) -> [u8; 3] {
    let mv = mv.clamp(VDD_MIN_MV, VDD_MAX_MV);
    [op::REGULATOR_SET, (mv >> 8) as u8, (mv & 0xFF) as u8]
}

pub fn dut_power_command(on: bool) -> [u8; 2] {
    [op::DEVICE_RUNNING_SET, on as u8]
}

pub struct Ppk2Switch {
    path: String,
    mode: Ppk2Mode,
    port: Option<Box<dyn SerialPort>>,
    timeout: Duration,
}

impl Ppk2Switch {
    pub fn new(path: impl Into<String>, mode: Ppk2Mode, timeout: Duration) -> Ppk2Switch {
        Ppk2Switch {
            path: path.into(),
            mode,
            port: None,
            timeout,
        }
    }

    fn err(&self, m: String) -> PowerError {
        PowerError::new(self.describe(), m)
    }

    /// Open the port, check it is a PPK2 (metadata), set the mode and voltage.
    fn ensure_open(&mut self) -> Result<&mut Box<dyn SerialPort>, PowerError> {
        if self.port.is_none() {
            let mut port = serialport::new(&self.path, 9600)
                .timeout(Duration::from_millis(50))
                .open()
                .map_err(|e| self.err(format!("cannot open {}: {e}", self.path)))?;
            write_all(&mut port, &[op::GET_META_DATA]).map_err(|m| self.err(m))?;
            let meta = read_metadata(&mut port, self.timeout).map_err(|m| self.err(m))?;
            tracing::debug!("PPK2 metadata: {meta}");
            write_all(&mut port, &power_mode_command(self.mode)).map_err(|m| self.err(m))?;
            if let Ppk2Mode::Source { millivolts } = self.mode {
                write_all(&mut port, &regulator_command(millivolts)).map_err(|m| self.err(m))?;
            }
            self.port = Some(port);
        }
        Ok(self.port.as_mut().expect("opened above"))
    }

    fn set(&mut self, on: bool) -> Result<(), PowerError> {
        let port = self.ensure_open()?;
        let r = write_all(port, &dut_power_command(on));
        if let Err(m) = r {
            // Re-open on the next call: the PPK2 may have re-enumerated.
            self.port = None;
            return Err(self.err(m));
        }
        Ok(())
    }
}

fn write_all(port: &mut Box<dyn SerialPort>, bytes: &[u8]) -> Result<(), String> {
    port.write_all(bytes)
        .and_then(|_| port.flush())
        .map_err(|e| format!("writing {bytes:02x?}: {e}"))
}

/// Read until "END" (the metadata's last line) or the timeout.
fn read_metadata(port: &mut Box<dyn SerialPort>, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut text = Vec::new();
    let mut buf = [0u8; 256];
    while Instant::now() < deadline {
        match port.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => {
                text.extend_from_slice(&buf[..n]);
                if text.windows(3).any(|w| w == b"END") {
                    return Ok(String::from_utf8_lossy(&text).into_owned());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(format!("reading metadata: {e}")),
        }
    }
    Err(format!(
        "no PPK2 metadata within {timeout:?} (got {} bytes): is this the PPK2's serial port?",
        text.len()
    ))
}

impl PowerSwitch for Ppk2Switch {
    fn describe(&self) -> String {
        match self.mode {
            Ppk2Mode::Source { millivolts } => {
                format!("PPK2 {} (source {millivolts} mV)", self.path)
            }
            Ppk2Mode::Ampere => format!("PPK2 {} (ampere meter)", self.path),
        }
    }

    fn cuts_power(&self) -> bool {
        true
    }

    async fn on(&mut self) -> Result<(), PowerError> {
        self.set(true)
    }

    async fn off(&mut self) -> Result<(), PowerError> {
        self.set(false)
    }
}

#[cfg(test)]
#[path = "ppk2_tests.rs"]
mod tests;
