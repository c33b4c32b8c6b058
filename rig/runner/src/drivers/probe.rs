//! The debug probe as the rig needs it: attach, memory, flashing with verify, erase-all and
//! APPROTECT recovery behind an explicit permission, resets, halt/resume, DFU entry through
//! GPREGRET, RTT and the FICR.

use super::owner::Owner;
use nrf_dfu::memory_map::{
    FICR_BASE, FICR_CODEPAGESIZE, FICR_CODESIZE, FICR_INFO_FLASH, FICR_INFO_PART, FICR_INFO_RAM,
    FICR_INFO_VARIANT, POWER_GPREGRET,
};
use serde::Serialize;
use std::time::Duration;
use virtual_nrf52::Segment;

/// GPREGRET value the nRF5 SDK bootloader reads as "stay in DFU mode"
/// (`BOOTLOADER_DFU_START`, nrf_bootloader_info.h, SDK 12-17).
pub const BOOTLOADER_DFU_START: u32 = 0xB1;

/// FICR DEVICEID\[0\] and DEVICEADDR\[0\] (nRF52832 product spec, FICR).
const FICR_DEVICEID0: u32 = FICR_BASE + 0x060;
const FICR_DEVICEADDR0: u32 = FICR_BASE + 0x0A4;

/// What went wrong, in a bench engineer's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeErrorKind {
    /// The selector is malformed or the chip name unknown.
    Config,
    /// No probe matches the selector (unplugged, or no permission to see it).
    NotFound,
    /// The probe is there but could not be opened or spoken to over USB.
    Open,
    /// The probe answered but the target did not (no power, wiring, debug port disabled).
    Attach,
    /// APPROTECT is enabled: only ERASEALL works.
    Locked,
    /// An erase-all (or APPROTECT recovery) was needed but not allowed.
    EraseNotAllowed,
    /// A probe call did not return within its time bound; the probe is no longer used.
    Timeout,
    /// Memory access failed.
    Memory,
    /// Flashing failed (erase or program).
    Flash,
    /// Flash content read back differs from what was written.
    Verify,
    /// A reset did not work (e.g. pin reset not routed by PSELRESET).
    Reset,
    /// The target has no power (bench power switch is off).
    NoPower,
    /// No RTT control block, or reading it failed.
    Rtt,
}

/// A probe operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProbeError {
    pub owner: Owner,
    pub kind: ProbeErrorKind,
    /// What happened and what to do about it.
    pub message: String,
}

impl ProbeError {
    pub fn infra(kind: ProbeErrorKind, message: impl Into<String>) -> ProbeError {
        ProbeError {
            owner: Owner::Infrastructure,
            kind,
            message: message.into(),
        }
    }

    pub fn device(kind: ProbeErrorKind, message: impl Into<String>) -> ProbeError {
        ProbeError {
            owner: Owner::Device,
            kind,
            message: message.into(),
        }
    }

    /// The error for a locked chip, naming the CLI switch that recovers it.
    pub fn locked() -> ProbeError {
        ProbeError::device(
            ProbeErrorKind::Locked,
            "APPROTECT is enabled; recover the chip with `rig flash --allow-erase-all FILE...` (this erases it), or re-run a flash with --allow-erase-all",
        )
    }

    pub fn erase_not_allowed(what: &str) -> ProbeError {
        ProbeError::infra(
            ProbeErrorKind::EraseNotAllowed,
            format!("{what} erases the whole chip (flash, UICR, RAM); re-run with --allow-erase-all to permit it"),
        )
    }
}

/// How to flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashOptions {
    /// ERASEALL before programming (needs the probe's erase-all permission).
    pub erase_all: bool,
    /// Read everything back and compare.
    pub verify: bool,
}

impl Default for FlashOptions {
    fn default() -> Self {
        FlashOptions {
            erase_all: false,
            verify: true,
        }
    }
}

/// Progress of a flash operation (bytes of the current phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum FlashEvent {
    /// A phase starts; `total` bytes will be handled.
    Started {
        phase: FlashPhase,
        total: u64,
    },
    /// `done` of the phase's bytes are handled so far.
    Progress {
        phase: FlashPhase,
        done: u64,
    },
    Finished {
        phase: FlashPhase,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlashPhase {
    EraseAll,
    Erase,
    Program,
    Verify,
}

/// What a flash operation did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FlashReport {
    /// Bytes of image data handed to the probe.
    pub bytes: u64,
    /// Flash pages erased (4 KB each).
    pub pages_erased: u64,
    pub erased_all: bool,
    pub verified: bool,
}

/// Factory information that identifies a chip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FicrInfo {
    /// INFO.PART, e.g. 0x52832.
    pub part: u32,
    /// INFO.VARIANT as its four ASCII characters, e.g. "AAB0".
    pub variant: String,
    /// Code flash in KB (INFO.FLASH).
    pub flash_kb: u32,
    /// RAM in KB (INFO.RAM).
    pub ram_kb: u32,
    /// CODEPAGESIZE × CODESIZE in bytes.
    pub code_bytes: u64,
    /// DEVICEID\[0..1\] as 16 hex digits (DEVICEID1 first, as nrfjprog prints it).
    pub device_id: String,
    /// DEVICEADDR as a BLE address string (MSB first, random static bits set as the SoftDevice
    /// does).
    pub ble_address: String,
}

impl FicrInfo {
    /// Whether the chip is the one the bench file names: an nRF52832 (INFO.PART) with the
    /// variant's flash and RAM (QFAA 512/64 KB, QFAB 256/32 KB; nRF52832 PS v1.4, FICR
    /// INFO.FLASH / INFO.RAM). A QFAB on a QFAA entry would take images placed beyond its
    /// flash and RAM: an infrastructure error, found before anything is flashed.
    pub fn check_chip(&self, chip: nrf_dfu::Chip) -> Result<(), ProbeError> {
        let (flash_kb, ram_kb) = (chip.flash_size() / 1024, chip.ram_size() / 1024);
        if self.part == 0x52832 && self.flash_kb == flash_kb && self.ram_kb == ram_kb {
            return Ok(());
        }
        Err(ProbeError::infra(
            ProbeErrorKind::Config,
            format!(
                "the bench file says {chip} ({flash_kb} KB flash, {ram_kb} KB RAM) but the chip's FICR reads part {:#x} variant {} with {} KB flash and {} KB RAM: fix `chip:` in the bench file or the wiring",
                self.part, self.variant, self.flash_kb, self.ram_kb
            ),
        ))
    }

    /// Decode the FICR words read from a chip.
    pub fn from_words(
        read: &mut dyn FnMut(u32) -> Result<u32, ProbeError>,
    ) -> Result<FicrInfo, ProbeError> {
        let part = read(FICR_INFO_PART)?;
        let variant_word = read(FICR_INFO_VARIANT)?;
        let variant = variant_word
            .to_be_bytes()
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
            .collect();
        let page = read(FICR_CODEPAGESIZE)? as u64;
        let pages = read(FICR_CODESIZE)? as u64;
        let id0 = read(FICR_DEVICEID0)?;
        let id1 = read(FICR_DEVICEID0 + 4)?;
        let a0 = read(FICR_DEVICEADDR0)?;
        let a1 = read(FICR_DEVICEADDR0 + 4)?;
        let mut addr = [0u8; 6];
        addr[..4].copy_from_slice(&a0.to_le_bytes());
        addr[4..].copy_from_slice(&a1.to_le_bytes()[..2]);
        // A random static address has its two most significant bits set.
        addr[5] |= 0xC0;
        Ok(FicrInfo {
            part,
            variant,
            flash_kb: read(FICR_INFO_FLASH)?,
            ram_kb: read(FICR_INFO_RAM)?,
            code_bytes: page * pages,
            device_id: format!("{id1:08X}{id0:08X}"),
            ble_address: addr
                .iter()
                .rev()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
        })
    }
}

/// A debug probe attached (or attachable) to one nRF52832.
///
/// Calls are synchronous (probe-rs is); each real call is bounded by a timeout. Errors carry a
/// [`Owner`].
pub trait Probe {
    /// One line naming the probe and target, for logs.
    fn describe(&self) -> String;

    /// Connect to the target (again). Implementations fall back to attach-under-reset.
    fn attach(&mut self) -> Result<(), ProbeError>;

    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ProbeError>;

    fn read_word(&mut self, addr: u32) -> Result<u32, ProbeError> {
        let b = self.read_memory(addr, 4)?;
        let w: [u8; 4] = b.get(..4).and_then(|s| s.try_into().ok()).ok_or_else(|| {
            ProbeError::device(
                ProbeErrorKind::Memory,
                format!("read of 4 bytes at {addr:#010x} returned {}", b.len()),
            )
        })?;
        Ok(u32::from_le_bytes(w))
    }

    /// A debugger memory write (RAM and registers; flash only through [`Probe::flash`]).
    fn write_memory(&mut self, addr: u32, data: &[u8]) -> Result<(), ProbeError>;

    /// Program segments (code flash and UICR) in one go, erasing the pages they touch, optionally
    /// after an erase-all, and verify. Leaves the core halted; reset to run.
    fn flash(
        &mut self,
        segments: &[Segment],
        options: FlashOptions,
        progress: &mut dyn FnMut(FlashEvent),
    ) -> Result<FlashReport, ProbeError>;

    /// CTRL-AP ERASEALL (also the APPROTECT recovery). Refused unless the probe was opened with
    /// erase-all permission.
    fn erase_all(&mut self) -> Result<(), ProbeError>;

    /// AIRCR.SYSRESETREQ: RESETREAS.SREQ, GPREGRET kept.
    fn soft_reset(&mut self) -> Result<(), ProbeError>;

    /// Pull nRESET: RESETREAS.RESETPIN (needs PSELRESET routed).
    fn pin_reset(&mut self) -> Result<(), ProbeError>;

    fn halt(&mut self) -> Result<(), ProbeError>;

    fn resume(&mut self) -> Result<(), ProbeError>;

    /// Make the bootloader stay in DFU mode: GPREGRET = 0xB1, then a soft reset (what the
    /// buttonless service does from the application).
    fn enter_dfu(&mut self) -> Result<(), ProbeError> {
        self.write_memory(POWER_GPREGRET, &BOOTLOADER_DFU_START.to_le_bytes())?;
        // Read back: a write the register did not take would reset into the app, not DFU.
        let got = self.read_word(POWER_GPREGRET)?;
        if got & 0xFF != BOOTLOADER_DFU_START {
            return Err(ProbeError::device(
                ProbeErrorKind::Memory,
                format!(
                    "GPREGRET reads {got:#010x} after writing {:#04x}: the register did not take the write",
                    BOOTLOADER_DFU_START
                ),
            ));
        }
        self.soft_reset()
    }

    /// Lines the firmware wrote to RTT up channel 0, waiting up to `wait` for at least one
    /// complete line.
    fn read_rtt_lines(&mut self, wait: Duration) -> Result<Vec<String>, ProbeError>;

    /// Read and decode the FICR.
    fn read_ficr(&mut self) -> Result<FicrInfo, ProbeError> {
        FicrInfo::from_words(&mut |a| self.read_word(a))
    }
}
