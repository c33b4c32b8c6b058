//! Power, resets and boot: what happens between "power applied / reset" and "firmware runs",
//! including the MBR's work (a pending bootloader copy) and the MBR commands firmware issues.

use crate::error::DeviceError;
use crate::hardware::{Hardware, RunState};
use crate::mbr::{self, BootTarget, CopyBlRecord, MbrCommand, NoHandover, NrfError};
use crate::nvmc::{pages_touched, FlashOp, FlashPath, NvmcConfig};
use crate::power::ResetKind;
use crate::uicr::Uicr;
use nrf_dfu::memory_map::PAGE_SIZE;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A bootloader copy the MBR performed during boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyReport {
    pub src: u32,
    pub dst: u32,
    pub bytes: u32,
    /// Whether the destination read back equal to the source.
    pub verified: bool,
}

/// One boot: why, what the MBR did, and what runs now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootRecord {
    pub reset: ResetKind,
    pub target: BootTarget,
    pub mbr_copy: Option<CopyReport>,
    /// Device time the MBR spent before handing over (flash work only).
    pub elapsed: Duration,
    /// 1 for the first boot of this device's life (counted across resets and power cycles).
    pub count: u64,
}

/// An MBR command did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MbrCallError {
    #[error("sd_mbr_command: {0}")]
    Nrf(#[from] NrfError),
    #[error("sd_mbr_command with no MBR in page 0 (the SVC call would fault)")]
    NoMbr,
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// What an MBR command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MbrOutcome {
    /// COPY_SD / COMPARE returned NRF_SUCCESS after `elapsed` of flash work.
    Done { elapsed: Duration },
    /// COPY_BL does not return: the chip reset and booted again.
    Reset(BootRecord),
}

impl Hardware {
    /// Apply power: a power-on reset (RESETREAS 0, GPREGRET 0, RAM undefined: seeded random
    /// bytes), then boot. On a device that is already powered nothing happens and the last boot
    /// record is returned.
    pub fn power_on(&mut self) -> Result<BootRecord, DeviceError> {
        if self.is_powered() {
            return Ok(self
                .last_boot
                .clone()
                .unwrap_or_else(|| self.placeholder_boot()));
        }
        let mut ram = std::mem::take(&mut self.ram);
        self.rng.fill(&mut ram);
        self.ram = ram;
        self.boot(ResetKind::PowerOn)
    }

    fn placeholder_boot(&self) -> BootRecord {
        BootRecord {
            reset: ResetKind::PowerOn,
            target: mbr::boot_target(&self.mem),
            mbr_copy: None,
            elapsed: Duration::ZERO,
            count: self.boot_count,
        }
    }

    /// Remove power (a power switch or a cut between flash operations).
    pub fn power_off(&mut self) {
        self.lose_power();
    }

    pub fn power_cycle(&mut self) -> Result<BootRecord, DeviceError> {
        self.power_off();
        self.power_on()
    }

    /// A reset of `kind` with power on (`PowerOn` = a power cycle). RAM and GPREGRET survive
    /// everything but power loss; RESETREAS gains the reset's bit.
    pub fn reset(&mut self, kind: ResetKind) -> Result<BootRecord, DeviceError> {
        if kind == ResetKind::PowerOn {
            return self.power_cycle();
        }
        if !self.is_powered() {
            return Err(DeviceError::Off);
        }
        self.boot(kind)
    }

    /// The pin reset acts only when UICR.PSELRESET\[0\] and \[1\] route the reset pin (P0.21 on
    /// nRF52832); otherwise the pin is a plain GPIO and nothing happens (`Ok(None)`).
    pub fn pin_reset(&mut self) -> Result<Option<BootRecord>, DeviceError> {
        if !self.is_powered() {
            return Err(DeviceError::Off);
        }
        if Uicr(&self.mem.uicr).reset_pin().is_none() {
            return Ok(None);
        }
        self.boot(ResetKind::PinReset).map(Some)
    }

    pub fn halt(&mut self) -> Result<(), DeviceError> {
        if !self.is_powered() {
            return Err(DeviceError::Off);
        }
        self.run = RunState::Halted;
        Ok(())
    }

    pub fn resume(&mut self) -> Result<(), DeviceError> {
        if !self.is_powered() {
            return Err(DeviceError::Off);
        }
        self.run = RunState::Running;
        Ok(())
    }

    /// The last boot (what is running now, if the device is powered).
    pub fn boot_record(&self) -> Option<&BootRecord> {
        self.last_boot.as_ref()
    }

    /// Whether the debug access port is locked (APPROTECT latched at the last reset).
    pub fn is_protected(&self) -> bool {
        self.approtect
    }

    fn boot(&mut self, kind: ResetKind) -> Result<BootRecord, DeviceError> {
        self.power.on_reset(kind);
        self.nvmc_config = NvmcConfig::default();
        self.approtect = Uicr(&self.mem.uicr).approtect_enabled();
        self.run = RunState::Running;
        self.boot_count += 1;
        let (_, busy_before) = self.flash_activity();
        let mut mbr_copy = None;
        if mbr::recognise(&self.mem).is_some() {
            if let Some((page, rec)) = CopyBlRecord::pending(&self.mem) {
                mbr_copy = Some(self.mbr_copy_bootloader(page, rec)?);
            }
        }
        let target = mbr::boot_target(&self.mem);
        if let BootTarget::Silent(NoHandover::ErasedVectorTable { .. }) = target {
            // The jump into erased flash locks the CPU up; the lock-up reset lands in the same place.
            self.power.on_reset(ResetKind::Lockup);
        }
        let record = BootRecord {
            reset: kind,
            target,
            mbr_copy,
            elapsed: self.flash_activity().1 - busy_before,
            count: self.boot_count,
        };
        self.last_boot = Some(record.clone());
        Ok(record)
    }

    /// Power-on for an emulated CPU: the chip resets and nothing of the firmware is modelled
    /// (the core runs the MBR that is in flash). False if it was already powered.
    pub(crate) fn power_on_bare(&mut self) -> bool {
        if self.is_powered() {
            return false;
        }
        let mut ram = std::mem::take(&mut self.ram);
        self.rng.fill(&mut ram);
        self.ram = ram;
        self.boot_bare(ResetKind::PowerOn);
        true
    }

    /// A reset for an emulated CPU (see [`Hardware::power_on_bare`]).
    pub(crate) fn reset_bare(&mut self, kind: ResetKind) -> bool {
        if kind == ResetKind::PowerOn {
            self.power_off();
            return self.power_on_bare();
        }
        if !self.is_powered() {
            return false;
        }
        self.boot_bare(kind);
        true
    }

    fn boot_bare(&mut self, kind: ResetKind) {
        self.power.on_reset(kind);
        self.nvmc_config = NvmcConfig::default();
        self.approtect = Uicr(&self.mem.uicr).approtect_enabled();
        self.run = RunState::Running;
        self.boot_count += 1;
    }

    /// The MBR's boot-time half of COPY_BL: erase the destination pages, copy page by page,
    /// verify, then clear the parameter page. A power cut anywhere leaves the record (or a torn
    /// record that fails its CRC only once the final erase has begun), so the next boot redoes it.
    fn mbr_copy_bootloader(
        &mut self,
        params_page: u32,
        rec: CopyBlRecord,
    ) -> Result<CopyReport, DeviceError> {
        let len = rec.len_words * 4;
        for page in pages_touched(rec.dst, len) {
            self.flash_op(&FlashOp::ErasePage { addr: page }, FlashPath::Nvmc)?;
        }
        let mut off = 0;
        while off < len {
            let n = (PAGE_SIZE - (rec.dst + off) % PAGE_SIZE).min(len - off);
            let chunk = self.mem.code.read(rec.src + off, n)?.to_vec();
            self.flash_op(
                &FlashOp::write_bytes(rec.dst + off, &chunk)?,
                FlashPath::Nvmc,
            )?;
            off += n;
        }
        let verified = self.mem.code.read(rec.src, len)? == self.mem.code.read(rec.dst, len)?;
        self.flash_op(&FlashOp::ErasePage { addr: params_page }, FlashPath::Nvmc)?;
        Ok(CopyReport {
            src: rec.src,
            dst: rec.dst,
            bytes: len,
            verified,
        })
    }

    /// `sd_mbr_command` issued by running firmware.
    pub fn mbr_command(&mut self, cmd: MbrCommand) -> Result<MbrOutcome, MbrCallError> {
        if !self.is_powered() {
            return Err(DeviceError::Off.into());
        }
        if mbr::recognise(&self.mem).is_none() {
            return Err(MbrCallError::NoMbr);
        }
        let start = self.flash_activity().1;
        match cmd {
            MbrCommand::CopyBl { src, len_words } => {
                let (page, rec) = CopyBlRecord::validate(&self.mem, src, len_words)?;
                // The parameter page is cleared and the request stored before the reset.
                self.flash_op(&FlashOp::ErasePage { addr: page }, FlashPath::Nvmc)?;
                self.flash_op(
                    &FlashOp::write_bytes(page, &rec.encode()).map_err(DeviceError::from)?,
                    FlashPath::Nvmc,
                )?;
                Ok(MbrOutcome::Reset(self.boot(ResetKind::SoftReset)?))
            }
            MbrCommand::CopySd {
                src,
                dst,
                len_words,
            } => {
                let len = len_words as u64 * 4;
                let end = self.mem.code.end() as u64;
                if len_words % (PAGE_SIZE / 4) != 0
                    || src as u64 + len > end
                    || dst as u64 + len > end
                {
                    return Err(NrfError::InvalidLength.into());
                }
                let len = len as u32;
                for page in pages_touched(dst, len) {
                    self.flash_op(&FlashOp::ErasePage { addr: page }, FlashPath::Nvmc)?;
                }
                for off in (0..len).step_by(PAGE_SIZE as usize) {
                    let chunk = self
                        .mem
                        .code
                        .read(src + off, PAGE_SIZE.min(len - off))
                        .map_err(DeviceError::from)?
                        .to_vec();
                    self.flash_op(
                        &FlashOp::write_bytes(dst + off, &chunk).map_err(DeviceError::from)?,
                        FlashPath::Nvmc,
                    )?;
                }
                let same = self.mem.code.read(src, len).map_err(DeviceError::from)?
                    == self.mem.code.read(dst, len).map_err(DeviceError::from)?;
                if !same {
                    return Err(NrfError::Internal.into());
                }
                Ok(MbrOutcome::Done {
                    elapsed: self.flash_activity().1 - start,
                })
            }
            MbrCommand::Compare {
                ptr1,
                ptr2,
                len_words,
            } => {
                let len = len_words.checked_mul(4).ok_or(NrfError::InvalidLength)?;
                let a = self
                    .mem
                    .code
                    .read(ptr1, len)
                    .map_err(|_| NrfError::InvalidLength)?;
                let b = self
                    .mem
                    .code
                    .read(ptr2, len)
                    .map_err(|_| NrfError::InvalidLength)?;
                if a == b {
                    Ok(MbrOutcome::Done {
                        elapsed: Duration::ZERO,
                    })
                } else {
                    Err(NrfError::Null.into())
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
