//! The nRF5 Master Boot Record as the model runs it (`nrf_mbr.h` of S132 7.x; the bootloader's
//! side: 17.1 `nrf_dfu_mbr.c`, `nrf_bootloader_info.c` `nrf_bootloader_mbr_addrs_populate`).
//!
//! At reset the MBR finishes a pending bootloader copy (stored in its parameter page), then
//! starts the bootloader whose address is in flash slot 0xFF8 or UICR.NRFFW\[0\] — the header says
//! "If both addresses are set, the MBR will prioritize MBR_BOOTLOADER_ADDR" (0xFF8) — else the
//! SoftDevice at 0x1000, which starts the application at its end address. The parameter page
//! likewise comes from slot 0xFFC first, else UICR.NRFFW\[1\].
//!
//! The layout of the command record the MBR keeps in its parameter page is not public; the
//! model's own is documented at [`CopyBlRecord`].

use crate::descriptor::{self, Kind, MbrDescriptor, DESCRIPTOR_OFFSET};
use crate::nvmc::FlashMemory;
use crate::uicr::{Uicr, UNSET};
use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::{
    SoftDeviceInfo, MBR_BOOTLOADER_ADDR_SLOT, MBR_PARAMS_PAGE_ADDR_SLOT, PAGE_SIZE, RAM_START,
    SOFTDEVICE_START,
};
use serde::{Deserialize, Serialize};

/// `NRF_ERROR_*` codes the MBR returns (nrf_error.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum NrfError {
    #[error("NRF_ERROR_INTERNAL (3)")]
    Internal,
    #[error("NRF_ERROR_NO_MEM (4): no MBR parameter page (0xFFC and UICR.NRFFW[1] both erased)")]
    NoMem,
    #[error("NRF_ERROR_INVALID_PARAM (7)")]
    InvalidParam,
    #[error("NRF_ERROR_INVALID_LENGTH (9): source or destination outside flash")]
    InvalidLength,
    #[error("NRF_ERROR_NULL (14): memory differs")]
    Null,
    #[error(
        "NRF_ERROR_FORBIDDEN (15): no bootloader address (0xFF8 and UICR.NRFFW[0] both erased)"
    )]
    Forbidden,
}

impl NrfError {
    pub fn code(self) -> u32 {
        match self {
            NrfError::Internal => 3,
            NrfError::NoMem => 4,
            NrfError::InvalidParam => 7,
            NrfError::InvalidLength => 9,
            NrfError::Null => 14,
            NrfError::Forbidden => 15,
        }
    }
}

/// `sd_mbr_command` requests the model implements (`NRF_MBR_COMMANDS`). Lengths are in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MbrCommand {
    /// SD_MBR_COMMAND_COPY_BL (0): store the request in the parameter page, reset, copy at boot.
    CopyBl { src: u32, len_words: u32 },
    /// SD_MBR_COMMAND_COPY_SD (1): erase the destination pages, copy, verify; returns. Not power
    /// safe (SDK 12 copies a SoftDevice through it in chunks: 12.3 `nrf_dfu_utils.c`,
    /// `nrf_dfu_sd_continue_impl`).
    CopySd { src: u32, dst: u32, len_words: u32 },
    /// SD_MBR_COMMAND_COMPARE (3): memcmp in words.
    Compare {
        ptr1: u32,
        ptr2: u32,
        len_words: u32,
    },
}

/// What the MBR found in page 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MbrKind {
    /// A stand-in MBR carrying its descriptor.
    StandIn(MbrDescriptor),
    /// No descriptor, but page 0 starts with an MBR-shaped vector table (stack pointer in RAM,
    /// reset handler inside page 0), as Nordic's MBR from a real SoftDevice hex does.
    Nordic,
}

/// Recognise the MBR in page 0. `None` = no MBR: the chip runs whatever vector table is at 0,
/// which the model treats as "nothing runs".
pub fn recognise(mem: &FlashMemory) -> Option<MbrKind> {
    let page = mem.code.read(0, PAGE_SIZE).ok()?;
    if page.iter().all(|&b| b == 0xFF) {
        return None;
    }
    let at = DESCRIPTOR_OFFSET as usize;
    if descriptor::has_magic(Kind::Mbr, &page[at..]) {
        return MbrDescriptor::decode(&page[at..])
            .ok()
            .map(MbrKind::StandIn);
    }
    let sp = u32::from_le_bytes([page[0], page[1], page[2], page[3]]);
    let reset = u32::from_le_bytes([page[4], page[5], page[6], page[7]]);
    let sp_in_ram = (RAM_START..=RAM_START + 0x1_0000).contains(&sp);
    let reset_in_mbr = reset & 1 == 1 && reset < PAGE_SIZE;
    (sp_in_ram && reset_in_mbr).then_some(MbrKind::Nordic)
}

fn slot(mem: &FlashMemory, addr: u32) -> Option<u32> {
    mem.code.read_word(addr).ok().filter(|&w| w != UNSET)
}

/// Bootloader start address: slot 0xFF8 first, else UICR.NRFFW\[0\].
pub fn bootloader_address(mem: &FlashMemory) -> Option<u32> {
    slot(mem, MBR_BOOTLOADER_ADDR_SLOT).or_else(|| Uicr(&mem.uicr).bootloader_address())
}

/// MBR parameter page: slot 0xFFC first, else UICR.NRFFW\[1\].
pub fn params_page(mem: &FlashMemory) -> Option<u32> {
    slot(mem, MBR_PARAMS_PAGE_ADDR_SLOT).or_else(|| Uicr(&mem.uicr).mbr_params_page())
}

/// Why the MBR hands over to nothing. Not the device's [`crate::status::SilentReason`]: that
/// says why the device is silent at a given moment (booting, halted, stuck...), and reads
/// `NothingToRun` for both of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoHandover {
    /// Page 0 holds no MBR: the vector table at 0 is erased or not an MBR's.
    NoMbr,
    /// The MBR (or SoftDevice) jumped to a reset vector in erased flash: the CPU locks up and
    /// the chip resets into the same lock-up, over and over.
    ErasedVectorTable { address: u32 },
}

/// What runs after the MBR is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BootTarget {
    /// Nothing: the device is silent until it is reflashed.
    Silent(NoHandover),
    /// The bootloader at `address`.
    Bootloader { address: u32 },
    /// The application at `address`, started by the SoftDevice when one is installed.
    Application {
        address: u32,
        softdevice: Option<SoftDeviceInfo>,
    },
}

impl BootTarget {
    pub fn is_silent(&self) -> bool {
        matches!(self, BootTarget::Silent(_))
    }
}

fn vector_erased(mem: &FlashMemory, address: u32) -> bool {
    // The reset vector (second word); outside flash counts as erased (the fetch faults).
    mem.code
        .read_word(address.wrapping_add(4))
        .map_or(true, |w| w == UNSET)
}

/// Where the MBR hands over, given the flash content (after any pending copy is done).
pub fn boot_target(mem: &FlashMemory) -> BootTarget {
    if recognise(mem).is_none() {
        return BootTarget::Silent(NoHandover::NoMbr);
    }
    if let Some(address) = bootloader_address(mem) {
        if vector_erased(mem, address) {
            return BootTarget::Silent(NoHandover::ErasedVectorTable { address });
        }
        return BootTarget::Bootloader { address };
    }
    let softdevice = SoftDeviceInfo::parse(mem.code.bytes(), 0);
    let address = softdevice.map_or(SOFTDEVICE_START, |sd| sd.end_address);
    if vector_erased(mem, address) {
        return BootTarget::Silent(NoHandover::ErasedVectorTable { address });
    }
    BootTarget::Application {
        address,
        softdevice,
    }
}

/// The COPY_BL request as the model's MBR stores it at the start of the parameter page
/// (6 words, little-endian): magic `"MBRc"`, command 0 (COPY_BL), source address, length in
/// words, destination address, CRC-32 of the first 20 bytes. A torn or erased record fails the
/// magic or CRC check and is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyBlRecord {
    pub src: u32,
    pub len_words: u32,
    pub dst: u32,
}

impl CopyBlRecord {
    pub const MAGIC: [u8; 4] = *b"MBRc";
    pub const LEN: usize = 24;

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(Self::LEN);
        b.extend_from_slice(&Self::MAGIC);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&self.src.to_le_bytes());
        b.extend_from_slice(&self.len_words.to_le_bytes());
        b.extend_from_slice(&self.dst.to_le_bytes());
        let crc = crc32(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<CopyBlRecord> {
        let b = b.get(..Self::LEN)?;
        let w = |i: usize| u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        if b[..4] != Self::MAGIC || w(1) != 0 || crc32(&b[..20]) != w(5) {
            return None;
        }
        Some(CopyBlRecord {
            src: w(2),
            len_words: w(3),
            dst: w(4),
        })
    }

    /// The record pending in the parameter page, if any.
    pub fn pending(mem: &FlashMemory) -> Option<(u32, CopyBlRecord)> {
        let page = params_page(mem)?;
        let rec = CopyBlRecord::decode(mem.code.read(page, Self::LEN as u32).ok()?)?;
        Some((page, rec))
    }

    /// Check a COPY_BL request against the flash content: the command's error returns.
    pub fn validate(
        mem: &FlashMemory,
        src: u32,
        len_words: u32,
    ) -> Result<(u32, CopyBlRecord), NrfError> {
        let page = params_page(mem).ok_or(NrfError::NoMem)?;
        let dst = bootloader_address(mem).ok_or(NrfError::Forbidden)?;
        let len = (len_words as u64) * 4;
        let end = mem.code.end() as u64;
        if len == 0 || src as u64 + len > end || dst as u64 + len > end || !src.is_multiple_of(4) {
            return Err(NrfError::InvalidLength);
        }
        Ok((
            page,
            CopyBlRecord {
                src,
                len_words,
                dst,
            },
        ))
    }
}

#[cfg(test)]
#[path = "mbr_tests.rs"]
mod tests;
