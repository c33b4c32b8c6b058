//! The lab's SWD wire protocol: what a debug probe does, as messages over a Unix socket, one
//! socket per DUT. A request is answered before the next is read, so the lab answers every
//! transaction synchronously (probe-rs has wall-clock timeouts of 100 ms to 1 s).
//!
//! Framing: `u32` little-endian payload length, then the payload: a tag byte and its body.
//! Strings are `u16` length + UTF-8; integers little-endian.
//!
//! | Request | Tag | Body | Reply |
//! |---|---|---|---|
//! | Hello | 0x01 | version u16, client pid u32 | HelloReply (or Error: busy) |
//! | Batch | 0x02 | WAIT retries u16, op count u32, ops | BatchReply |
//! | LineReset | 0x03 | - | Done |
//! | Nreset | 0x04 | asserted u8 | Done |
//! | SetClock | 0x05 | kHz u32 | Done |
//! | Status | 0x06 | - | Status (JSON) |
//! | Power | 0x07 | 0 off, 1 on, 2 cycle | Done |
//!
//! An op is a kind byte (bit 0: write, bit 1: AP) and the register address A[3:2] as a byte
//! offset (0x0, 0x4, 0x8, 0xC), then the value (u32) for a write. AP reads are posted as on the
//! wire (ADIv5: the value comes with the next AP read or DP RDBUFF); the probe side turns that
//! into register values, as a CMSIS-DAP probe's firmware does.
//!
//! The lab runs a batch in order and stops at the first transfer not acknowledged OK after the
//! WAIT retries (DAP_TransferConfigure's wait retry count plays the same part on a USB probe).

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// Protocol version; a Hello with another is refused.
pub const VERSION: u16 = 1;
/// Longest payload either side accepts.
pub const MAX_FRAME: usize = 1 << 20;

/// DP or AP (the APnDP bit of an SWD request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Port {
    Dp,
    Ap,
}

/// One transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read { port: Port, addr: u8 },
    Write { port: Port, addr: u8, value: u32 },
}

/// A transfer's acknowledgement (ADIv5 ACK, plus the probe's "nothing answered").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ack {
    Ok,
    Wait,
    Fault,
    NoResponse,
}

impl Ack {
    fn code(self) -> u8 {
        match self {
            Ack::Ok => 0,
            Ack::Wait => 1,
            Ack::Fault => 2,
            Ack::NoResponse => 3,
        }
    }
    fn from_code(c: u8) -> Result<Ack, ProtocolError> {
        Ok(match c {
            0 => Ack::Ok,
            1 => Ack::Wait,
            2 => Ack::Fault,
            3 => Ack::NoResponse,
            _ => return Err(ProtocolError::Malformed(format!("ack code {c}"))),
        })
    }
}

/// What `Power` does to the DUT's supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerAction {
    Off,
    On,
    Cycle,
}

impl std::str::FromStr for PowerAction {
    type Err = String;
    fn from_str(s: &str) -> Result<PowerAction, String> {
        match s {
            "on" => Ok(PowerAction::On),
            "off" => Ok(PowerAction::Off),
            "cycle" => Ok(PowerAction::Cycle),
            _ => Err(format!("power action {s:?}: expected on, off or cycle")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Hello { version: u16, pid: u32 },
    Batch { wait_retries: u16, ops: Vec<Op> },
    LineReset,
    Nreset { asserted: bool },
    SetClock { khz: u32 },
    Status,
    Power(PowerAction),
}

/// The outcome of a batch: `done` transfers acknowledged OK (the values of the reads among
/// them, in order), then `ack` for the transfer that stopped it (`Ack::Ok` when all ran).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReply {
    pub done: u32,
    pub reads: Vec<u32>,
    pub ack: Ack,
}

/// One DUT as the lab reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DutStatus {
    pub name: String,
    pub chip: String,
    /// The lab's supply switch (PPK2 or `rig lab power`).
    pub supply_on: bool,
    /// What runs ("off", "DFU mode, SDK 17.1 UART bootloader listening", ...).
    pub runs: String,
    /// What executes it: `model` (the firmware models) or `emulated` (the emulated Cortex-M4F
    /// runs what is in flash).
    #[serde(default)]
    pub cpu: String,
    /// Lab time of this DUT, seconds.
    pub lab_time_s: f64,
    pub swd_socket: String,
    pub uart: String,
    pub ppk2: String,
    /// SWD transfers the device has answered (all sessions of this lab process).
    pub swd_transfers: u64,
    /// Instructions its core has executed (the flash algorithm, for one).
    pub instructions: u64,
    /// A probe connection is open.
    pub probe_connected: bool,
    /// The bench defect `rig lab fault back-powered` is on: the supply switch no longer takes
    /// the chip's power away (see `Dut::set_supply`).
    #[serde(default)]
    pub back_powered: bool,
    /// On the air: the application's BLE address (FICR DEVICEADDR, most significant byte
    /// first); the unbonded bootloader advertises at this address + 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ble_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Hello {
        version: u16,
        dut: String,
        chip: String,
    },
    Batch(BatchReply),
    Done,
    Status(Box<DutStatus>),
    Error(String),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("frame of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    TooLong(usize),
    #[error("the other side closed the connection")]
    Closed,
}

// --- encoding -----------------------------------------------------------------------------

struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
        self.u16(b.len() as u16);
        self.0.extend_from_slice(b);
        self
    }
}

struct In<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ProtocolError> {
        let s = self.b.get(self.at..self.at + n).ok_or_else(|| {
            ProtocolError::Malformed(format!(
                "{what}: needs {n} bytes at offset {}, message has {}",
                self.at,
                self.b.len()
            ))
        })?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, ProtocolError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, ProtocolError> {
        let s = self.take(2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, ProtocolError> {
        let s = self.take(4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn str(&mut self, what: &str) -> Result<String, ProtocolError> {
        let n = self.u16(what)? as usize;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec())
            .map_err(|_| ProtocolError::Malformed(format!("{what}: not UTF-8")))
    }
    fn end(&self) -> Result<(), ProtocolError> {
        if self.at == self.b.len() {
            Ok(())
        } else {
            Err(ProtocolError::Malformed(format!(
                "{} bytes after the message",
                self.b.len() - self.at
            )))
        }
    }
}

fn check_addr(addr: u8) -> Result<u8, ProtocolError> {
    if addr & !0x0C == 0 {
        Ok(addr)
    } else {
        Err(ProtocolError::Malformed(format!(
            "register address {addr:#04x}: only A[3:2] (0x0, 0x4, 0x8, 0xC) travel on SWD"
        )))
    }
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out(Vec::new());
        match self {
            Request::Hello { version, pid } => {
                o.u8(0x01).u16(*version).u32(*pid);
            }
            Request::Batch { wait_retries, ops } => {
                o.u8(0x02).u16(*wait_retries).u32(ops.len() as u32);
                for op in ops {
                    match *op {
                        Op::Read { port, addr } => {
                            o.u8(((port == Port::Ap) as u8) << 1).u8(addr);
                        }
                        Op::Write { port, addr, value } => {
                            o.u8(1 | ((port == Port::Ap) as u8) << 1)
                                .u8(addr)
                                .u32(value);
                        }
                    }
                }
            }
            Request::LineReset => {
                o.u8(0x03);
            }
            Request::Nreset { asserted } => {
                o.u8(0x04).u8(*asserted as u8);
            }
            Request::SetClock { khz } => {
                o.u8(0x05).u32(*khz);
            }
            Request::Status => {
                o.u8(0x06);
            }
            Request::Power(a) => {
                o.u8(0x07).u8(match a {
                    PowerAction::Off => 0,
                    PowerAction::On => 1,
                    PowerAction::Cycle => 2,
                });
            }
        }
        o.0
    }

    pub fn decode(b: &[u8]) -> Result<Request, ProtocolError> {
        let mut i = In { b, at: 0 };
        let r = match i.u8("tag")? {
            0x01 => Request::Hello {
                version: i.u16("version")?,
                pid: i.u32("pid")?,
            },
            0x02 => {
                let wait_retries = i.u16("wait retries")?;
                let n = i.u32("op count")? as usize;
                // Each op is at least 2 bytes: a count beyond that is a lie, not an allocation.
                if n > (b.len() - i.at) / 2 {
                    return Err(ProtocolError::Malformed(format!(
                        "{n} ops announced in {} bytes",
                        b.len() - i.at
                    )));
                }
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    let kind = i.u8("op kind")?;
                    if kind & !3 != 0 {
                        return Err(ProtocolError::Malformed(format!("op kind {kind:#04x}")));
                    }
                    let port = if kind & 2 != 0 { Port::Ap } else { Port::Dp };
                    let addr = check_addr(i.u8("register address")?)?;
                    ops.push(if kind & 1 != 0 {
                        Op::Write {
                            port,
                            addr,
                            value: i.u32("write value")?,
                        }
                    } else {
                        Op::Read { port, addr }
                    });
                }
                Request::Batch { wait_retries, ops }
            }
            0x03 => Request::LineReset,
            0x04 => Request::Nreset {
                asserted: i.u8("nRESET")? != 0,
            },
            0x05 => Request::SetClock {
                khz: i.u32("clock")?,
            },
            0x06 => Request::Status,
            0x07 => Request::Power(match i.u8("power action")? {
                0 => PowerAction::Off,
                1 => PowerAction::On,
                2 => PowerAction::Cycle,
                a => return Err(ProtocolError::Malformed(format!("power action {a}"))),
            }),
            t => return Err(ProtocolError::Malformed(format!("request tag {t:#04x}"))),
        };
        i.end()?;
        Ok(r)
    }
}

impl Reply {
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out(Vec::new());
        match self {
            Reply::Hello { version, dut, chip } => {
                o.u8(0x81).u16(*version).str(dut).str(chip);
            }
            Reply::Batch(r) => {
                o.u8(0x82)
                    .u32(r.done)
                    .u8(r.ack.code())
                    .u32(r.reads.len() as u32);
                for v in &r.reads {
                    o.u32(*v);
                }
            }
            Reply::Done => {
                o.u8(0x80);
            }
            Reply::Status(s) => {
                let json = serde_json::to_vec(s).unwrap_or_default();
                o.u8(0x86).u32(json.len() as u32);
                o.0.extend_from_slice(&json);
            }
            Reply::Error(m) => {
                o.u8(0xFF).str(m);
            }
        }
        o.0
    }

    pub fn decode(b: &[u8]) -> Result<Reply, ProtocolError> {
        let mut i = In { b, at: 0 };
        let r = match i.u8("tag")? {
            0x81 => Reply::Hello {
                version: i.u16("version")?,
                dut: i.str("DUT name")?,
                chip: i.str("chip")?,
            },
            0x82 => {
                let done = i.u32("done")?;
                let ack = Ack::from_code(i.u8("ack")?)?;
                let n = i.u32("read count")? as usize;
                if n > (b.len() - i.at) / 4 {
                    return Err(ProtocolError::Malformed(format!("{n} reads announced")));
                }
                let mut reads = Vec::with_capacity(n);
                for _ in 0..n {
                    reads.push(i.u32("read value")?);
                }
                Reply::Batch(BatchReply { done, reads, ack })
            }
            0x80 => Reply::Done,
            0x86 => {
                let n = i.u32("status length")? as usize;
                let json = i.take(n, "status")?;
                Reply::Status(Box::new(
                    serde_json::from_slice(json)
                        .map_err(|e| ProtocolError::Malformed(format!("status JSON: {e}")))?,
                ))
            }
            0xFF => Reply::Error(i.str("error")?),
            t => return Err(ProtocolError::Malformed(format!("reply tag {t:#04x}"))),
        };
        i.end()?;
        Ok(r)
    }
}

/// Write one frame.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> Result<(), ProtocolError> {
    if payload.len() > MAX_FRAME {
        return Err(ProtocolError::TooLong(payload.len()));
    }
    let mut buf = Vec::with_capacity(4 + payload.len());
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(payload);
    w.write_all(&buf)?;
    Ok(())
}

/// Read one frame (blocking; the stream's read timeout bounds it).
pub fn read_frame(r: &mut impl Read) -> Result<Vec<u8>, ProtocolError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(ProtocolError::Closed)
        }
        Err(e) => return Err(e.into()),
    }
    let n = u32::from_le_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(ProtocolError::TooLong(n));
    }
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Split complete frames off the front of `buf` (the lab reads without blocking).
pub fn take_frame(buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, ProtocolError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let n = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if n > MAX_FRAME {
        return Err(ProtocolError::TooLong(n));
    }
    if buf.len() < 4 + n {
        return Ok(None);
    }
    let frame = buf[4..4 + n].to_vec();
    buf.drain(..4 + n);
    Ok(Some(frame))
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
