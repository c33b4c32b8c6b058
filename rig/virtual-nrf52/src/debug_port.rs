//! The SWD debug port surface the runner's virtual probe drives (what probe-rs gives it on a real
//! bench): memory access through the AHB-AP, flash programming, CTRL-AP ERASEALL, resets, halt,
//! and the bench's power switch.
//!
//! APPROTECT (UICR 0x10001208, latched at reset; see [`crate::uicr::Uicr::approtect_enabled`])
//! locks the AHB-AP: then reads, writes, programming and halt fail with
//! [`DebugError::Protected`], and only CTRL-AP operations work: ERASEALL (which clears flash,
//! UICR and RAM and so unlocks the port) and the CTRL-AP soft reset.

use crate::error::DeviceError;
use crate::flash::FlashError;
use crate::hardware::Hardware;
use crate::lifecycle::BootRecord;
use crate::nvmc::{pages_touched, FlashOp, FlashPath, NvmcConfig};
use crate::power::ResetKind;
use crate::Segment;
use nrf_dfu::memory_map::{PAGE_SIZE, UICR_BASE, UICR_SIZE};
use std::time::Duration;

/// A debug-port operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Deliberately exhaustive: the runner classifies every variant
// (drivers/virtual_probe.rs); a new one must fail its build, not fall into a wildcard.
pub enum DebugError {
    #[error("{op} refused: APPROTECT is enabled, the access port accepts only ERASEALL (recover with erase_all)")]
    Protected { op: &'static str },
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("segment at {addr:#010x} ({len} bytes) is not inside code flash (0..{flash_end:#x}) or the UICR")]
    SegmentOutside {
        addr: u32,
        len: usize,
        flash_end: u32,
    },
    #[error("segments at {first:#010x} and {second:#010x} overlap")]
    Overlap { first: u32, second: u32 },
    #[error("verify failed at {addr:#010x}: wrote {expected:#04x}, read back {found:#04x}")]
    Verify { addr: u32, expected: u8, found: u8 },
    #[error("pin reset had no effect: UICR.PSELRESET[0..1] do not route the reset pin")]
    PinResetDisabled,
    #[error("read of 4 bytes at {addr:#010x} returned {got}")]
    ShortRead { addr: u32, got: usize },
}

impl From<FlashError> for DebugError {
    fn from(e: FlashError) -> Self {
        DebugError::Device(e.into())
    }
}

/// How [`DebugPort::program`] treats the pages it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramOptions {
    /// Keep bytes of touched pages that no segment covers (probe-rs `--preverify`-less
    /// "restore unwritten bytes"); default false: they read 0xFF afterwards, as with probe-rs'
    /// default and nrfjprog `--sectorerase`.
    pub keep_unwritten_bytes: bool,
    /// Read everything back and compare (default true).
    pub verify: bool,
}

impl Default for ProgramOptions {
    fn default() -> Self {
        ProgramOptions {
            keep_unwritten_bytes: false,
            verify: true,
        }
    }
}

/// What [`DebugPort::program`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramReport {
    /// Code pages erased (start addresses, ascending).
    pub pages_erased: Vec<u32>,
    /// Bytes programmed (whole pages in code flash, segment words in the UICR).
    pub bytes_written: u64,
    /// Device time the NVMC work took.
    pub duration: Duration,
}

/// The probe's view of a target.
pub trait DebugPort {
    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, DebugError>;

    fn read_word(&mut self, addr: u32) -> Result<u32, DebugError> {
        let b = self.read_memory(addr, 4)?;
        let w: [u8; 4] = b
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .ok_or(DebugError::ShortRead { addr, got: b.len() })?;
        Ok(u32::from_le_bytes(w))
    }

    /// Write memory as a debugger's memory write does. RAM and registers take the bytes as they
    /// are; flash and UICR are programmed word by word through the NVMC (CONFIG = WEN), so bits
    /// can only be cleared and nothing is erased first. Returns the device time taken.
    fn write_memory_raw(&mut self, addr: u32, data: &[u8]) -> Result<Duration, DebugError>;

    /// Program segments as probe-rs' flasher does: erase every code page a segment touches,
    /// write the pages, write UICR words without erasing (UICR bits can only be cleared, so a
    /// UICR word that is already programmed differently fails verification), verify. Halts the
    /// core; call [`DebugPort::soft_reset`] to run the new firmware.
    fn program(
        &mut self,
        segments: &[Segment],
        options: ProgramOptions,
    ) -> Result<ProgramReport, DebugError>;

    /// CTRL-AP ERASEALL: code flash, UICR (so APPROTECT too) and RAM. Works while protected.
    fn erase_all(&mut self) -> Result<Duration, DebugError>;

    /// AIRCR.SYSRESETREQ through the AHB-AP, or the CTRL-AP reset while protected: RESETREAS.SREQ.
    fn soft_reset(&mut self) -> Result<BootRecord, DebugError>;

    /// Pull the nRESET line: RESETREAS.RESETPIN, if PSELRESET routes the pin.
    fn pin_reset(&mut self) -> Result<BootRecord, DebugError>;

    fn halt(&mut self) -> Result<(), DebugError>;

    fn resume(&mut self) -> Result<(), DebugError>;

    /// The bench power switch.
    fn power_off(&mut self);

    fn power_on(&mut self) -> Result<BootRecord, DebugError>;

    /// APPROTECT as latched at the last reset.
    fn is_protected(&self) -> bool;
}

impl Hardware {
    fn unprotected(&self, op: &'static str) -> Result<(), DebugError> {
        if !self.is_powered() {
            return Err(DeviceError::Off.into());
        }
        if self.is_protected() {
            return Err(DebugError::Protected { op });
        }
        Ok(())
    }

    fn check_segments(&self, segments: &[Segment]) -> Result<Vec<(u32, Vec<u8>)>, DebugError> {
        let flash_end = self.chip.flash_size();
        let mut segs: Vec<(u32, Vec<u8>)> = Vec::with_capacity(segments.len());
        for (addr, bytes) in segments {
            let len = bytes.len();
            let end = *addr as u64 + len as u64;
            let in_flash = end <= flash_end as u64;
            let in_uicr = *addr >= UICR_BASE && end <= (UICR_BASE + UICR_SIZE) as u64;
            if !(in_flash || in_uicr) {
                return Err(DebugError::SegmentOutside {
                    addr: *addr,
                    len,
                    flash_end,
                });
            }
            if len > 0 {
                segs.push((*addr, bytes.clone()));
            }
        }
        segs.sort_by_key(|s| s.0);
        for w in segs.windows(2) {
            if w[0].0 as u64 + w[0].1.len() as u64 > w[1].0 as u64 {
                return Err(DebugError::Overlap {
                    first: w[0].0,
                    second: w[1].0,
                });
            }
        }
        Ok(segs)
    }

    fn program_segments(
        &mut self,
        segments: &[Segment],
        options: ProgramOptions,
    ) -> Result<ProgramReport, DebugError> {
        self.unprotected("program")?;
        let segs = self.check_segments(segments)?;
        Hardware::halt(self)?;
        let start = self.flash_activity().1;
        let mut report = ProgramReport::default();
        let flash_end = self.chip.flash_size();
        // Code flash: page images built from the segments.
        let mut pages: Vec<u32> = segs
            .iter()
            .filter(|(a, _)| *a < flash_end)
            .flat_map(|(a, b)| pages_touched(*a, b.len() as u32))
            .collect();
        pages.dedup();
        for page in pages {
            let mut image = if options.keep_unwritten_bytes {
                self.mem.code.read(page, PAGE_SIZE)?.to_vec()
            } else {
                vec![0xFF; PAGE_SIZE as usize]
            };
            for (a, b) in segs
                .iter()
                .filter(|(a, b)| *a < page + PAGE_SIZE && *a as u64 + b.len() as u64 > page as u64)
            {
                let from = page.max(*a);
                let to = (page + PAGE_SIZE).min(*a + b.len() as u32);
                image[(from - page) as usize..(to - page) as usize]
                    .copy_from_slice(&b[(from - a) as usize..(to - a) as usize]);
            }
            self.flash_op(&FlashOp::ErasePage { addr: page }, FlashPath::Nvmc)?;
            self.flash_op(&FlashOp::write_bytes(page, &image)?, FlashPath::Nvmc)?;
            report.pages_erased.push(page);
            report.bytes_written += PAGE_SIZE as u64;
        }
        // UICR: probe-rs 0.32's `nrf52` algorithm (targets/nRF52_Series.yaml) covers
        // 0x0..0x10002000 in 4 KB sectors, so the UICR is one sector: touching it erases all of
        // it (the algorithm's EraseSector issues ERASEUICR), and bytes no segment names stay
        // 0xFF unless `keep_unwritten_bytes` restores them. A UICR-only image programmed after a
        // bootloader therefore wipes NRFFW[0].
        let uicr_segs: Vec<&Segment> = segs.iter().filter(|(a, _)| *a >= UICR_BASE).collect();
        if !uicr_segs.is_empty() {
            let mut image = if options.keep_unwritten_bytes {
                self.mem.read(UICR_BASE, UICR_SIZE)?.to_vec()
            } else {
                vec![0xFF; UICR_SIZE as usize]
            };
            for (a, b) in &uicr_segs {
                let at = (a - UICR_BASE) as usize;
                image[at..at + b.len()].copy_from_slice(b);
            }
            self.flash_op(&FlashOp::EraseUicr, FlashPath::Nvmc)?;
            // Word writes of what is not blank (writing 0xFF words is a no-op on NOR flash).
            for (i, w) in image.chunks(4).enumerate() {
                if w != [0xFF; 4] {
                    let addr = UICR_BASE + 4 * i as u32;
                    self.flash_op(&FlashOp::write_bytes(addr, w)?, FlashPath::Nvmc)?;
                    report.bytes_written += 4;
                }
            }
        }
        if options.verify {
            for (a, b) in &segs {
                let got = self.mem.read(*a, b.len() as u32)?;
                if let Some(i) = (0..b.len()).find(|&i| got[i] != b[i]) {
                    return Err(DebugError::Verify {
                        addr: a + i as u32,
                        expected: b[i],
                        found: got[i],
                    });
                }
            }
        }
        report.duration = self.flash_activity().1 - start;
        Ok(report)
    }
}

impl DebugPort for Hardware {
    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, DebugError> {
        self.unprotected("memory read")?;
        Ok(self.read_bytes(addr, len)?)
    }

    fn write_memory_raw(&mut self, addr: u32, data: &[u8]) -> Result<Duration, DebugError> {
        self.unprotected("memory write")?;
        let start = self.flash_activity().1;
        // As a probe does: enable NVMC writes around the transfer, restore CONFIG after.
        let saved = self.nvmc_config;
        self.nvmc_config = NvmcConfig::WriteEnabled;
        let r = self.write_bytes(addr, data);
        if self.is_powered() {
            self.nvmc_config = saved;
        }
        r?;
        Ok(self.flash_activity().1 - start)
    }

    fn program(
        &mut self,
        segments: &[Segment],
        options: ProgramOptions,
    ) -> Result<ProgramReport, DebugError> {
        self.program_segments(segments, options)
    }

    fn erase_all(&mut self) -> Result<Duration, DebugError> {
        if !self.is_powered() {
            return Err(DeviceError::Off.into());
        }
        let r = self.flash_op(&FlashOp::EraseAll, FlashPath::Nvmc)?;
        self.ram.fill(0);
        self.approtect = false;
        Ok(r.elapsed)
    }

    fn soft_reset(&mut self) -> Result<BootRecord, DebugError> {
        Ok(self.reset(ResetKind::SoftReset)?)
    }

    fn pin_reset(&mut self) -> Result<BootRecord, DebugError> {
        Hardware::pin_reset(self)?.ok_or(DebugError::PinResetDisabled)
    }

    fn halt(&mut self) -> Result<(), DebugError> {
        self.unprotected("halt")?;
        Ok(Hardware::halt(self)?)
    }

    fn resume(&mut self) -> Result<(), DebugError> {
        self.unprotected("resume")?;
        Ok(Hardware::resume(self)?)
    }

    fn power_off(&mut self) {
        Hardware::power_off(self)
    }

    fn power_on(&mut self) -> Result<BootRecord, DebugError> {
        Ok(Hardware::power_on(self)?)
    }

    fn is_protected(&self) -> bool {
        Hardware::is_protected(self)
    }
}

#[cfg(test)]
#[path = "debug_port_tests.rs"]
mod tests;
