//! A lab DUT's device-model hooks through the lab's control socket (rig_lab::hooks): defects,
//! flash-operation counts and cuts at a flash operation. The lab's device model sees those
//! flash operations, not the rig's backends; a real bench has no such socket, so a
//! [`super::hardware_dut::HardwareDut`] there keeps refusing what needs them.

use crate::benchfile::Dut;
use crate::campaign::suite::FaultAction;
use rig_lab::control::{self, ControlReply, ControlRequest};
use rig_lab::hooks::CutAction;
use std::path::PathBuf;
use std::time::Duration;
use virtual_nrf52::defects::Defect;

/// How often the watcher asks the lab whether the armed cut has landed (wall time).
const CUT_POLL: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub struct LabHooks {
    /// The lab's control socket.
    sock: PathBuf,
    /// The DUT's name in the lab.
    dut: String,
}

impl LabHooks {
    /// The hooks of a DUT whose probe is a lab's SWD socket (DIR/NAME.swd, next to DIR/lab.sock).
    pub fn for_dut(dut: &Dut) -> Option<LabHooks> {
        let swd = dut.probe.as_ref()?.lab.as_ref()?;
        let name = swd.file_stem()?.to_str()?.to_string();
        let dir = swd.parent()?;
        let dir = rig_lab::LabDir::new(dir).ok()?;
        Some(LabHooks {
            sock: dir.control(),
            dut: name,
        })
    }

    fn call(&self, req: ControlRequest) -> Result<ControlReply, String> {
        let r = control::call(&self.sock, &req).map_err(|e| e.to_string())?;
        if r.ok {
            Ok(r)
        } else {
            Err(r.error.unwrap_or_else(|| "the lab refused".into()))
        }
    }

    pub fn set_defects(&self, defects: Option<&[Defect]>) -> Result<(), String> {
        self.call(ControlRequest::Defects {
            dut: self.dut.clone(),
            defects: defects.map(<[Defect]>::to_vec),
        })
        .map(|_| ())
    }

    pub fn count_flash_ops(&self, on: bool) -> Result<Option<u32>, String> {
        self.call(ControlRequest::FlashOps {
            dut: self.dut.clone(),
            on,
        })
        .map(|r| r.flash_ops)
    }

    /// Arm a cut at flash operation `n` and wait until the lab has carried it out; a
    /// description of where it landed (the in-process watcher's wording).
    pub async fn fault_flash_op(&self, n: u32, action: FaultAction) -> Option<String> {
        let cut = match action {
            FaultAction::Reset => CutAction::Reset,
            FaultAction::PowerCut { off_ms } => CutAction::PowerCut { off_ms },
            FaultAction::LinkDrop => return None,
        };
        self.call(ControlRequest::ArmFlashOp {
            dut: self.dut.clone(),
            n,
            action: Some(cut),
        })
        .ok()?;
        loop {
            tokio::time::sleep(CUT_POLL).await;
            let r = self
                .call(ControlRequest::FlashOpCut {
                    dut: self.dut.clone(),
                })
                .ok()?;
            if let Some(c) = r.cut {
                return Some(format!(
                    "{action} inside flash operation {n} ({}, {:.3} ms into it){}",
                    c.what,
                    c.into_ms,
                    if c.late {
                        " - landed after it ended"
                    } else {
                        ""
                    }
                ));
            }
        }
    }

    /// Flash operations the lab's device has journaled since the armed cut was armed.
    pub fn flash_ops_since_armed(&self) -> Option<u32> {
        self.call(ControlRequest::FlashOpCut {
            dut: self.dut.clone(),
        })
        .ok()?
        .flash_ops
    }

    /// The update is over: a cut that has not landed is disarmed.
    pub fn disarm(&self) {
        let _ = self.call(ControlRequest::ArmFlashOp {
            dut: self.dut.clone(),
            n: 0,
            action: None,
        });
    }
}
