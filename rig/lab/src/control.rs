//! The lab's control socket (DIR/lab.sock): JSON lines for `rig lab status`, `rig lab power`,
//! `rig lab fault` and `rig lab down`. One request per connection.

use crate::client::{connect, ClientError};
use crate::hooks::{CutAction, FlashOpCut};
use crate::protocol::{DutStatus, PowerAction};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum ControlRequest {
    Status,
    Power {
        dut: String,
        action: PowerAction,
    },
    /// Switch a bench defect of one DUT on or off.
    Fault {
        dut: String,
        fault: BenchFault,
        on: bool,
    },
    /// Break a DUT's radio link, as interference would: both ends see the supervision timeout.
    #[serde(rename = "link-drop")]
    LinkDrop {
        dut: String,
    },
    /// Switch the DUT's device-model defects (`None`: its bootloader's own) from its next boot.
    Defects {
        dut: String,
        defects: Option<Vec<virtual_nrf52::defects::Defect>>,
    },
    /// Start (`on`) or stop counting the DUT's flash operations; stopping answers `flash_ops`.
    #[serde(rename = "flash-ops")]
    FlashOps {
        dut: String,
        on: bool,
    },
    /// Arm a cut at the DUT's `n`th flash operation from now, carried out by the lab at that
    /// instant of lab time (`action: None` disarms).
    #[serde(rename = "arm-flash-op")]
    ArmFlashOp {
        dut: String,
        n: u32,
        action: Option<CutAction>,
    },
    /// Where the armed cut landed (`cut`), if it has; while it is armed, `flash_ops` says how
    /// many flash operations the device has made since it was armed.
    #[serde(rename = "flash-op-cut")]
    FlashOpCut {
        dut: String,
    },
    Down,
}

/// Defects of the bench around a DUT (not of the DUT itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchFault {
    /// The supply switch cuts VDD but the chip stays powered through its UART or SWD lines.
    BackPowered,
}

/// The whole lab as `rig lab status --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabStatus {
    pub dir: String,
    pub pid: u32,
    /// Simulated seconds per wall second.
    pub speed: f64,
    pub uptime_s: f64,
    pub bench: String,
    /// The D-Bus address of the lab's virtual BlueZ, when DUTs are on the air.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bluez: Option<String>,
    /// D-Bus messages the virtual BlueZ has answered or sent (method calls, replies, signals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bluez_messages: Option<u64>,
    pub duts: Vec<DutStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlReply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LabStatus>,
    /// Flash operations counted (`flash-ops` with `on: false`), or made since the cut was
    /// armed (`flash-op-cut` while it is armed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_ops: Option<u32>,
    /// Where an armed cut landed (`flash-op-cut`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<FlashOpCut>,
}

impl ControlReply {
    pub fn ok() -> ControlReply {
        ControlReply {
            ok: true,
            error: None,
            status: None,
            flash_ops: None,
            cut: None,
        }
    }
    pub fn error(m: impl Into<String>) -> ControlReply {
        ControlReply {
            ok: false,
            error: Some(m.into()),
            status: None,
            flash_ops: None,
            cut: None,
        }
    }
}

/// Send one request to the lab whose control socket is `sock`.
pub fn call(sock: &Path, req: &ControlRequest) -> Result<ControlReply, ClientError> {
    let s = connect(sock)?;
    let perr = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            ClientError::Timeout { path: sock.into() }
        } else {
            ClientError::Connect {
                path: sock.into(),
                source: e,
            }
        }
    };
    let mut line = serde_json::to_string(req).unwrap_or_default();
    line.push('\n');
    (&s).write_all(line.as_bytes()).map_err(perr)?;
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).map_err(perr)?;
    serde_json::from_str(&answer).map_err(|e| ClientError::Unexpected {
        path: sock.into(),
        reply: format!("{answer:?} ({e})"),
    })
}
