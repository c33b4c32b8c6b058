//! Nordic's CTRL-AP (AP 1; nRF52832 product spec v1.4, "CTRL-AP - Control access port"):
//! RESET (0x000), ERASEALL (0x004), ERASEALLSTATUS (0x008), APPROTECTSTATUS (0x00C) and IDR
//! (0x0FC). It works whatever APPROTECT says: it is how a locked chip is recovered. probe-rs's
//! unlock (vendor/nordicsemi/sequences/nrf52.rs, debug_device_unlock) reads APPROTECTSTATUS,
//! pulses RESET, writes ERASEALL = 1, polls ERASEALLSTATUS until 0 (without a timeout: the
//! lab's clock must move, which every SWD packet makes it do), pulses RESET again and expects
//! APPROTECTSTATUS != 0.

use crate::nvmc::{self, FlashOp, FlashPath};
use crate::power::ResetKind;
use crate::sysbus::NvmcBusy;
use crate::Device;

pub const CTRL_AP_IDR: u32 = 0x0288_0000;

impl Device {
    pub(crate) fn ctrl_ap_read(&mut self, reg: u8) -> u32 {
        match reg {
            0x00 => self.si.ctrl_ap_reset as u32,
            0x08 => self.si.soc.nvmc.as_ref().is_some_and(|b| b.ctrl_ap) as u32,
            // 1: the AHB-AP is open; 0: APPROTECT is in effect.
            0x0C => !self.ap_locked() as u32,
            0xFC => CTRL_AP_IDR,
            _ => 0,
        }
    }

    pub(crate) fn ctrl_ap_write(&mut self, reg: u8, value: u32) {
        match reg {
            0x00 => {
                let hold = value & 1 == 1;
                if self.si.ctrl_ap_reset && !hold {
                    self.si.ctrl_ap_reset = false;
                    // A CTRL-AP reset is a soft reset (RESETREAS.SREQ); after ERASEALL it does
                    // not close the port again (probe-rs checks APPROTECTSTATUS right after it).
                    let t = self.now();
                    self.ctrl_ap_reset_release(t);
                } else {
                    self.si.ctrl_ap_reset = hold;
                }
            }
            0x04 if value & 1 == 1 => {
                if !self.core.hw.is_powered() || self.si.soc.nvmc.is_some() {
                    return;
                }
                let op = FlashOp::EraseAll;
                let d = nvmc::cost(&op, FlashPath::Nvmc, self.core.hw.timing());
                let now = self.now();
                self.si.soc.nvmc = Some(NvmcBusy {
                    op,
                    start: now,
                    end: now + d,
                    ctrl_ap: true,
                });
            }
            _ => {}
        }
    }

    fn ctrl_ap_reset_release(&mut self, t: crate::events::SimTime) {
        self.si.ctrl_ap_reset_pending = true;
        self.reset(t, ResetKind::SoftReset);
        self.si.ctrl_ap_reset_pending = false;
    }
}
