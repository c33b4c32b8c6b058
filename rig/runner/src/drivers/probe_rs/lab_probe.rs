//! A probe-rs debug probe driver for the virtual lab: DP/AP transfers go over the lab's DUT
//! socket (`rig_lab::protocol`) instead of USB. Above this driver everything is probe-rs' own
//! code: its ARM communication interface, Nordic's debug sequences, the flash loader.
//!
//! The seam, in probe-rs 0.32.0 (pinned exactly in the workspace Cargo.toml):
//! - `DebugProbe` (src/probe.rs ~669): `has_arm_interface`, `try_get_arm_debug_interface`,
//!   `try_as_dap_probe`;
//! - `RawDapAccess` (src/architecture/arm/traits.rs ~215): register reads return the register's
//!   value, so a posted AP read is followed by DP RDBUFF here, as a CMSIS-DAP probe's firmware
//!   does; WAIT is retried by the lab (the `wait_retry` of DAP_TransferConfigure, which the
//!   CMSIS-DAP driver sets to 0xFFFF in probe/cmsisdap/mod.rs `attach`);
//! - `DapProbe` (src/architecture/arm/communication_interface.rs ~240), and
//!   `ArmCommunicationInterface::create` (~319) as the CMSIS-DAP driver calls it
//!   (probe/cmsisdap/mod.rs ~1045);
//! - handed to probe-rs with `Probe::from_specific_probe` (src/probe.rs ~333).
//!
//! Writes are queued and sent with the next read or flush, as the CMSIS-DAP driver batches them;
//! an error from a queued write surfaces there, which probe-rs allows for (`raw_flush`).

use probe_rs::architecture::arm::sequences::ArmDebugSequence;
use probe_rs::architecture::arm::{
    ArmCommunicationInterface, ArmDebugInterface, ArmError, DapError, DapProbe, RawDapAccess,
    RegisterAddress,
};
use probe_rs::probe::{DebugProbe, DebugProbeError, Probe, WireProtocol};
use probe_rs::CoreStatus;
use rig_lab::client::{ClientError, DutClient};
use rig_lab::protocol::{Ack, Op, Port};
use std::path::Path;
use std::sync::Arc;

/// DP RDBUFF (ADIv5 B2.2.6): the result of the last posted AP read.
const DP_RDBUFF: u8 = 0x0C;
/// WAIT retries per transfer (CMSIS-DAP driver: 0xFFFF).
const WAIT_RETRIES: u16 = 0xFFFF;
/// Queued writes sent at once at most (keeps a frame well under the protocol's limit).
const MAX_QUEUED: usize = 4096;
/// CMSIS-DAP `DAP_SWJ_Pins` bit of nRESET (probe-rs `RawDapAccess::swj_pins` docs: bit 7).
const PIN_NRESET: u32 = 1 << 7;
/// How long `target_reset` holds nRESET (nRF52832 needs > 0.2 µs).
const RESET_HOLD: std::time::Duration = std::time::Duration::from_millis(1);

/// A lab DUT's SWD socket as a probe-rs probe.
#[derive(Debug)]
pub struct LabProbe {
    client: DutClient,
    name: String,
    speed_khz: u32,
    queued: Vec<Op>,
}

fn probe_err(e: ClientError) -> DebugProbeError {
    DebugProbeError::Other(e.to_string())
}

fn port(a: RegisterAddress) -> Port {
    if a.is_ap() {
        Port::Ap
    } else {
        Port::Dp
    }
}

fn ack_err(a: Ack) -> ArmError {
    ArmError::Dap(match a {
        Ack::Wait => DapError::WaitResponse,
        Ack::Fault => DapError::FaultResponse,
        Ack::NoResponse | Ack::Ok => DapError::NoAcknowledge,
    })
}

impl LabProbe {
    /// Connect to the DUT socket at `path` (the bench file's `probe: { lab: PATH }`).
    pub fn open(path: &Path) -> Result<LabProbe, DebugProbeError> {
        let client = DutClient::connect(path).map_err(probe_err)?;
        let name = format!("rig lab {} ({})", client.dut, path.display());
        Ok(LabProbe {
            client,
            name,
            speed_khz: 1000,
            queued: Vec::new(),
        })
    }

    /// The probe-rs `Probe` for it.
    pub fn into_probe_rs(self) -> Probe {
        Probe::from_specific_probe(Box::new(self))
    }

    /// Send queued writes then `ops`; the reads' values.
    fn run(&mut self, ops: Vec<Op>) -> Result<Vec<u32>, ArmError> {
        let mut all = std::mem::take(&mut self.queued);
        all.extend(ops);
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let r = self
            .client
            .batch(WAIT_RETRIES, all)
            .map_err(|e| ArmError::Probe(probe_err(e)))?;
        if r.ack != Ack::Ok {
            return Err(ack_err(r.ack));
        }
        Ok(r.reads)
    }

    fn queue(&mut self, op: Op) -> Result<(), ArmError> {
        self.queued.push(op);
        if self.queued.len() >= MAX_QUEUED {
            self.run(Vec::new())?;
        }
        Ok(())
    }

    fn flush_probe(&mut self) -> Result<(), DebugProbeError> {
        self.run(Vec::new()).map(|_| ()).map_err(|e| match e {
            ArmError::Probe(p) => p,
            other => DebugProbeError::Other(other.to_string()),
        })
    }
}

impl DebugProbe for LabProbe {
    fn get_name(&self) -> &str {
        &self.name
    }

    fn speed_khz(&self) -> u32 {
        self.speed_khz
    }

    fn set_speed(&mut self, speed_khz: u32) -> Result<u32, DebugProbeError> {
        if speed_khz == 0 {
            return Err(DebugProbeError::UnsupportedSpeed(0));
        }
        self.client.set_clock(speed_khz).map_err(probe_err)?;
        self.speed_khz = speed_khz;
        Ok(speed_khz)
    }

    fn attach(&mut self) -> Result<(), DebugProbeError> {
        // The line reset and JTAG-to-SWD switch come from probe-rs' debug sequences
        // (swj_sequence below); the socket is open already.
        self.client.set_clock(self.speed_khz).map_err(probe_err)
    }

    fn detach(&mut self) -> Result<(), probe_rs::Error> {
        self.flush_probe()?;
        Ok(())
    }

    fn target_reset(&mut self) -> Result<(), DebugProbeError> {
        self.target_reset_assert()?;
        std::thread::sleep(RESET_HOLD);
        self.target_reset_deassert()
    }

    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> {
        self.flush_probe()?;
        self.client.set_nreset(true).map_err(probe_err)
    }

    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> {
        self.flush_probe()?;
        self.client.set_nreset(false).map_err(probe_err)
    }

    fn select_protocol(&mut self, protocol: WireProtocol) -> Result<(), DebugProbeError> {
        match protocol {
            WireProtocol::Swd => Ok(()),
            other => Err(DebugProbeError::UnsupportedProtocol(other)),
        }
    }

    fn active_protocol(&self) -> Option<WireProtocol> {
        Some(WireProtocol::Swd)
    }

    fn has_arm_interface(&self) -> bool {
        true
    }

    fn try_get_arm_debug_interface<'probe>(
        self: Box<Self>,
        sequence: Arc<dyn ArmDebugSequence>,
    ) -> Result<Box<dyn ArmDebugInterface + 'probe>, (Box<dyn DebugProbe>, ArmError)> {
        Ok(ArmCommunicationInterface::create(self, sequence, false))
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }

    fn try_as_dap_probe(&mut self) -> Option<&mut dyn DapProbe> {
        Some(self)
    }
}

impl RawDapAccess for LabProbe {
    fn raw_read_register(&mut self, address: RegisterAddress) -> Result<u32, ArmError> {
        let a = address.a2_and_3();
        let ops = match port(address) {
            // Posted: the AP read returns the previous result; RDBUFF returns this one.
            Port::Ap => vec![
                Op::Read {
                    port: Port::Ap,
                    addr: a,
                },
                Op::Read {
                    port: Port::Dp,
                    addr: DP_RDBUFF,
                },
            ],
            Port::Dp => vec![Op::Read {
                port: Port::Dp,
                addr: a,
            }],
        };
        let reads = self.run(ops)?;
        reads
            .last()
            .copied()
            .ok_or(ArmError::Dap(DapError::NoAcknowledge))
    }

    fn raw_read_block(
        &mut self,
        address: RegisterAddress,
        values: &mut [u32],
    ) -> Result<(), ArmError> {
        if values.is_empty() {
            return Ok(());
        }
        let a = address.a2_and_3();
        let p = port(address);
        let mut ops: Vec<Op> = (0..values.len())
            .map(|_| Op::Read { port: p, addr: a })
            .collect();
        if p == Port::Ap {
            ops.push(Op::Read {
                port: Port::Dp,
                addr: DP_RDBUFF,
            });
        }
        let reads = self.run(ops)?;
        // For an AP the first read returns a stale value: the block is the rest.
        let skip = (p == Port::Ap) as usize;
        let got = reads.get(skip..).unwrap_or(&[]);
        if got.len() != values.len() {
            return Err(ArmError::Dap(DapError::NoAcknowledge));
        }
        values.copy_from_slice(got);
        Ok(())
    }

    fn raw_write_register(&mut self, address: RegisterAddress, value: u32) -> Result<(), ArmError> {
        self.queue(Op::Write {
            port: port(address),
            addr: address.a2_and_3(),
            value,
        })
    }

    fn raw_write_block(
        &mut self,
        address: RegisterAddress,
        values: &[u32],
    ) -> Result<(), ArmError> {
        for v in values {
            self.raw_write_register(address, *v)?;
        }
        Ok(())
    }

    fn raw_flush(&mut self) -> Result<(), ArmError> {
        self.run(Vec::new()).map(|_| ())
    }

    fn jtag_sequence(&mut self, _cycles: u8, _tms: bool, _tdi: u64) -> Result<(), DebugProbeError> {
        Err(DebugProbeError::UnsupportedProtocol(WireProtocol::Jtag))
    }

    /// The lab speaks SWD transactions, not bits: a sequence with 50 or more clocks of SWDIO
    /// high is the line reset (ADIv5 B4.3.3); the JTAG-to-SWD select code and idle cycles
    /// between them change nothing on an SWD-only port such as the nRF52832's SW-DP.
    fn swj_sequence(&mut self, bit_len: u8, bits: u64) -> Result<(), DebugProbeError> {
        self.flush_probe()?;
        let (mut run, mut longest) = (0u32, 0u32);
        for i in 0..bit_len.min(64) {
            if bits >> i & 1 == 1 {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        if longest >= 50 {
            self.client.line_reset().map_err(probe_err)?;
        }
        Ok(())
    }

    fn swj_pins(
        &mut self,
        pin_out: u32,
        pin_select: u32,
        _pin_wait: u32,
    ) -> Result<u32, DebugProbeError> {
        self.flush_probe()?;
        if pin_select & PIN_NRESET != 0 {
            // nRESET is active low: a 0 in pin_out asserts it.
            self.client
                .set_nreset(pin_out & PIN_NRESET == 0)
                .map_err(probe_err)?;
        }
        Ok(pin_out)
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }

    fn core_status_notification(&mut self, _state: CoreStatus) -> Result<(), DebugProbeError> {
        Ok(())
    }
}

impl DapProbe for LabProbe {}
