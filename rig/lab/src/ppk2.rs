//! A virtual Power Profiler Kit II on a pseudo-terminal: the DUT's supply as the PPK2's serial
//! protocol switches it. The protocol (Nordic's pc-nrfconnect-ppk, src/device/serialDevice.ts and
//! abstractDevice.ts; IRNAS ppk2-api-python, src/ppk2_api/ppk2_api.py, class PPK2_Command) is an
//! opcode byte and its arguments, no framing and no acknowledgement; GET_META_DATA answers with
//! `key: value` lines ending in `END`.
//!
//! Modelled: GET_META_DATA, SET_POWER_MODE (1 ampere meter, 2 source meter), REGULATOR_SET (VDD
//! in mV, big-endian: `ppkUpdateRegulator` sends `vdd >> 8, vdd & 0xff`), DEVICE_RUNNING_SET (the
//! DUT switch), AVERAGE_START/STOP, spike filter, SET_USER_GAINS and RESET as accepted
//! commands. Not modelled: the measurement stream after AVERAGE_START (no samples are sent).

/// Opcodes (`PPK2_Command` / `PPKCmd`).
pub mod op {
    pub const AVERAGE_START: u8 = 0x06;
    pub const AVERAGE_STOP: u8 = 0x07;
    pub const DEVICE_RUNNING_SET: u8 = 0x0C;
    pub const REGULATOR_SET: u8 = 0x0D;
    pub const SET_POWER_MODE: u8 = 0x11;
    pub const SPIKE_FILTERING_ON: u8 = 0x15;
    pub const SPIKE_FILTERING_OFF: u8 = 0x16;
    pub const GET_META_DATA: u8 = 0x19;
    pub const RESET: u8 = 0x20;
    pub const SET_USER_GAINS: u8 = 0x25;
}

/// Argument bytes after each opcode the virtual PPK2 knows.
fn arg_len(opcode: u8) -> Option<usize> {
    Some(match opcode {
        op::AVERAGE_START
        | op::AVERAGE_STOP
        | op::SPIKE_FILTERING_ON
        | op::SPIKE_FILTERING_OFF
        | op::GET_META_DATA
        | op::RESET => 0,
        op::DEVICE_RUNNING_SET | op::SET_POWER_MODE => 1,
        op::REGULATOR_SET => 2,
        // range u8 + gain f32 (serialDevice.ts ppkSetUserGains).
        op::SET_USER_GAINS => 5,
        _ => return None,
    })
}

/// nRF52832 supply range (product specification 4.6, VDD 1.7 V .. 3.6 V).
pub const NRF52_VDD_MIN_MV: u32 = 1700;
pub const VDD_MIN_MV: u32 = 800;
pub const VDD_MAX_MV: u32 = 5000;

/// Calibration metadata as a PPK2 prints it (uncalibrated defaults of serialDevice.ts).
pub const METADATA: &str =
    "Calibrated: 0\nR0: 1031.64\nR1: 101.65\nR2: 10.15\nR3: 0.94\nR4: 0.043\n\
GS0: 1\nGS1: 1\nGS2: 1\nGS3: 1\nGS4: 1\nGI0: 1\nGI1: 1\nGI2: 1\nGI3: 1\nGI4: 1\n\
O0: 0\nO1: 0\nO2: 0\nO3: 0\nO4: 0\nS0: 0\nS1: 0\nS2: 0\nS3: 0\nS4: 0\n\
I0: 0\nI1: 0\nI2: 0\nI3: 0\nI4: 0\nUG0: 1\nUG1: 1\nUG2: 1\nUG3: 1\nUG4: 1\n\
HW: 9173\nIA: 56\nEND\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ampere,
    Source,
}

/// What the host's bytes did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes to send back.
    Reply(Vec<u8>),
    /// The DUT's supply is now on or off.
    Supply(bool),
    /// A byte that starts no known command (dropped).
    Unknown(u8),
    /// A command, for the log.
    Command(String),
}

#[derive(Debug, Clone)]
pub struct VirtualPpk2 {
    pending: Vec<u8>,
    pub mode: Mode,
    pub vdd_mv: u32,
    pub dut_on: bool,
    pub measuring: bool,
}

impl Default for VirtualPpk2 {
    fn default() -> VirtualPpk2 {
        VirtualPpk2::new(true)
    }
}

impl VirtualPpk2 {
    /// `dut_on`: the supply's state when the lab starts (the lab's switch is shared).
    pub fn new(dut_on: bool) -> VirtualPpk2 {
        VirtualPpk2 {
            pending: Vec::new(),
            mode: Mode::Source,
            vdd_mv: 3000,
            dut_on,
            measuring: false,
        }
    }

    /// Whether the DUT gets a supply it runs on.
    pub fn supplies(&self) -> bool {
        self.dut_on && (self.mode == Mode::Ampere || self.vdd_mv >= NRF52_VDD_MIN_MV)
    }

    /// Feed bytes from the host; complete commands take effect in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(&opcode) = self.pending.first() {
            let Some(n) = arg_len(opcode) else {
                self.pending.remove(0);
                out.push(Event::Unknown(opcode));
                continue;
            };
            if self.pending.len() < 1 + n {
                break;
            }
            let args: Vec<u8> = self.pending.drain(..1 + n).skip(1).collect();
            let before = self.supplies();
            match opcode {
                op::GET_META_DATA => out.push(Event::Reply(METADATA.as_bytes().to_vec())),
                op::SET_POWER_MODE => {
                    self.mode = if args[0] == 1 {
                        Mode::Ampere
                    } else {
                        Mode::Source
                    };
                    out.push(Event::Command(format!("power mode {:?}", self.mode)));
                }
                op::REGULATOR_SET => {
                    let mv = (args[0] as u32) << 8 | args[1] as u32;
                    self.vdd_mv = mv.clamp(VDD_MIN_MV, VDD_MAX_MV);
                    out.push(Event::Command(format!("VDD {} mV", self.vdd_mv)));
                }
                op::DEVICE_RUNNING_SET => {
                    self.dut_on = args[0] != 0;
                    out.push(Event::Command(format!(
                        "DUT power {}",
                        if self.dut_on { "on" } else { "off" }
                    )));
                }
                op::AVERAGE_START => self.measuring = true,
                op::AVERAGE_STOP => self.measuring = false,
                op::RESET => {
                    // The PPK2 reboots: the DUT switch opens.
                    *self = VirtualPpk2::new(false);
                    out.push(Event::Command("reset".into()));
                }
                _ => {}
            }
            let after = self.supplies();
            if after != before {
                out.push(Event::Supply(after));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rig_driver_sequence_switches_the_supply() {
        let mut p = VirtualPpk2::new(false);
        let ev = p.feed(&[op::GET_META_DATA]);
        assert!(matches!(&ev[0], Event::Reply(m) if m.ends_with(b"END\n")));
        // Source mode, 3000 mV (0x0BB8), on, off: split across reads.
        assert!(p
            .feed(&[0x11, 2, 0x0D, 0x0B])
            .iter()
            .all(|e| !matches!(e, Event::Supply(_))));
        p.feed(&[0xB8]);
        assert_eq!(p.vdd_mv, 3000);
        assert!(p.feed(&[0x0C, 1]).contains(&Event::Supply(true)));
        assert!(p.feed(&[0x0C, 0]).contains(&Event::Supply(false)));
    }

    #[test]
    fn a_supply_below_the_chips_minimum_does_not_power_it() {
        let mut p = VirtualPpk2::new(false);
        // 1200 mV = 0x04B0, then DUT on: no supply change (the chip stays in brown-out).
        let ev = p.feed(&[0x11, 2, 0x0D, 0x04, 0xB0, 0x0C, 1]);
        assert!(!ev.contains(&Event::Supply(true)));
        assert!(p.dut_on && !p.supplies());
        // Raising VDD powers it.
        assert!(p.feed(&[0x0D, 0x0C, 0xE4]).contains(&Event::Supply(true)));
        // Ampere mode passes an external supply through the switch whatever VDD says.
        let mut a = VirtualPpk2::new(false);
        assert!(a
            .feed(&[0x11, 1, 0x0D, 0x03, 0x20, 0x0C, 1])
            .contains(&Event::Supply(true)));
    }

    #[test]
    fn unknown_bytes_are_reported_and_skipped() {
        let mut p = VirtualPpk2::new(true);
        let ev = p.feed(&[0xEE, 0x0C, 0]);
        assert_eq!(ev[0], Event::Unknown(0xEE));
        assert!(ev.contains(&Event::Supply(false)));
    }

    #[test]
    fn metadata_parses_as_nordics_app_parses_it() {
        // serialDevice.ts getMetadata: drop END, lower-case, turn lines into JSON members.
        let body = METADATA.replace("END", "").trim().to_lowercase();
        let json = format!(
            "{{\"{}}}",
            body.replace('\n', ",\n\"").replace(": ", "\": ")
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["r0"], 1031.64);
        assert_eq!(v["hw"], 9173);
    }
}
