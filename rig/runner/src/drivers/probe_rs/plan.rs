//! Dry-run flash planning against probe-rs' own description of the chip (its built-in target
//! memory map), without a probe: catches images that do not fit before anything is erased.

use super::errors::classify_flash;
use crate::drivers::probe::{ProbeError, ProbeErrorKind};
use nrf_dfu::memory_map::{FICR_BASE, PAGE_SIZE, UICR_BASE};
use nrf_dfu::Chip;
use probe_rs::config::Registry;
use probe_rs::Target;
use virtual_nrf52::Segment;

/// What flashing `segments` will touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashPlan {
    /// Image bytes.
    pub bytes: u64,
    /// Code-flash pages that will be erased (start addresses, ascending).
    pub pages: Vec<u32>,
    /// Bytes that go to the UICR.
    pub uicr_bytes: u64,
}

/// probe-rs' built-in target for the chip.
pub fn target(chip: Chip) -> Result<Target, ProbeError> {
    Registry::from_builtin_families()
        .get_target_by_name(chip.probe_rs_name())
        .map_err(|e| {
            ProbeError::infra(
                ProbeErrorKind::Config,
                format!("probe-rs has no target {}: {e}", chip.probe_rs_name()),
            )
        })
}

/// Stage `segments` in a probe-rs flash loader for `chip` (memory map and overlap checks) and
/// list the pages they touch.
pub fn plan(chip: Chip, segments: &[Segment]) -> Result<FlashPlan, ProbeError> {
    // probe-rs 0.32 describes nRF52832_xxAB with 1 MB of flash (it has 256 KB): check the
    // chip's real size first.
    let flash_end = chip.flash_size() as u64;
    for (addr, bytes) in segments {
        let (start, end) = (*addr as u64, *addr as u64 + bytes.len() as u64);
        if start < FICR_BASE as u64 && end > flash_end {
            return Err(ProbeError::infra(
                ProbeErrorKind::Flash,
                format!(
                    "image data at {start:#010x}..{end:#010x} is beyond the {} KB flash of {chip}",
                    flash_end / 1024
                ),
            ));
        }
    }
    let target = target(chip)?;
    let mut loader = target.flash_loader();
    for (addr, bytes) in segments {
        loader
            .add_data(*addr as u64, bytes)
            .map_err(|e| classify_flash(&e, "(plan)"))?;
    }
    let mut pages = Vec::new();
    let mut uicr_bytes = 0;
    let mut bytes = 0;
    for (addr, data) in loader.data() {
        bytes += data.len() as u64;
        if addr >= UICR_BASE as u64 {
            uicr_bytes += data.len() as u64;
            continue;
        }
        let first = addr / PAGE_SIZE as u64;
        let last = (addr + data.len() as u64 - 1) / PAGE_SIZE as u64;
        for p in first..=last {
            let page = (p * PAGE_SIZE as u64) as u32;
            if pages.last() != Some(&page) {
                pages.push(page);
            }
        }
    }
    Ok(FlashPlan {
        bytes,
        pages,
        uicr_bytes,
    })
}
