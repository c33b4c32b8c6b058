//! A flash array with nRF52 NVMC semantics: 4 KB pages that erase to 0xFF, 32-bit word writes that
//! can only clear bits, and the wear limits of the product spec (docs/notes/flash-timing.md,
//! section "NVMC figures").
//!
//! The same type backs the code flash (128 or 64 pages at 0) and the UICR (one page at
//! 0x10001000, which only ERASEALL / ERASEUICR can erase).

use crate::rng::DeviceRng;
use crate::torn;
use nrf_dfu::memory_map::PAGE_SIZE;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A 512-byte block: the unit of the nWRITE limit (8 blocks per page).
pub const BLOCK_SIZE: u32 = 512;
/// nWRITE,BLOCK: word writes allowed in one 512-byte block between erases (nRF52832 product spec).
pub const NWRITE_BLOCK: u32 = 181;
/// Endurance: erase cycles per page (nRF52832 product spec).
pub const ENDURANCE_CYCLES: u32 = 10_000;

/// A flash access the NVMC cannot do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlashError {
    #[error("{what} at {addr:#010x} is not {align}-byte aligned")]
    Unaligned {
        what: &'static str,
        addr: u32,
        align: u32,
    },
    #[error(
        "{what} of {len} bytes at {addr:#010x} is outside {region} ({base:#010x}..{end:#010x})"
    )]
    OutOfRange {
        what: &'static str,
        addr: u32,
        len: u32,
        region: &'static str,
        base: u32,
        end: u32,
    },
    #[error("{what} of {len} bytes at {addr:#010x}: flash is written in whole 32-bit words")]
    PartialWord {
        what: &'static str,
        addr: u32,
        len: u32,
    },
    #[error("page erase at {addr:#010x}: the UICR can only be erased by ERASEALL or ERASEUICR")]
    UicrPageErase { addr: u32 },
}

/// Wear findings for one array (what a run report shows under "flash health").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlashHealth {
    /// Pages erased more than `ENDURANCE_CYCLES` (10 000) times: (page address, erase count).
    /// The model keeps working past endurance but reports it.
    pub worn_pages: Vec<(u32, u32)>,
    /// Blocks that took more than `NWRITE_BLOCK` (181) word writes between two erases: (block
    /// address, most writes seen). Sticky: an erase does not clear the record.
    pub nwrite_violations: Vec<(u32, u32)>,
    /// The highest erase count of any page.
    pub max_erase_count: u32,
}

impl FlashHealth {
    pub fn is_clean(&self) -> bool {
        self.worn_pages.is_empty() && self.nwrite_violations.is_empty()
    }
}

/// One flash-like array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashArray {
    region: &'static str,
    base: u32,
    data: Vec<u8>,
    erase_counts: Vec<u32>,
    block_writes: Vec<u32>,
    nwrite_violations: BTreeMap<u32, u32>,
}

impl FlashArray {
    /// An erased array of `pages` pages starting at `base`.
    pub fn new(region: &'static str, base: u32, pages: u32) -> FlashArray {
        let size = (pages * PAGE_SIZE) as usize;
        FlashArray {
            region,
            base,
            data: vec![0xFF; size],
            erase_counts: vec![0; pages as usize],
            block_writes: vec![0; size / BLOCK_SIZE as usize],
            nwrite_violations: BTreeMap::new(),
        }
    }

    pub fn region(&self) -> &'static str {
        self.region
    }

    pub fn base(&self) -> u32 {
        self.base
    }

    pub fn size(&self) -> u32 {
        self.data.len() as u32
    }

    pub fn end(&self) -> u32 {
        self.base + self.size()
    }

    pub fn page_count(&self) -> u32 {
        self.erase_counts.len() as u32
    }

    /// True when `addr..addr+len` lies inside the array.
    pub fn contains(&self, addr: u32, len: u32) -> bool {
        addr >= self.base && (addr as u64 + len as u64) <= self.end() as u64
    }

    fn offset(&self, what: &'static str, addr: u32, len: u32) -> Result<usize, FlashError> {
        if !self.contains(addr, len) {
            return Err(FlashError::OutOfRange {
                what,
                addr,
                len,
                region: self.region,
                base: self.base,
                end: self.end(),
            });
        }
        Ok((addr - self.base) as usize)
    }

    /// The whole content.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn read(&self, addr: u32, len: u32) -> Result<&[u8], FlashError> {
        let off = self.offset("read", addr, len)?;
        Ok(&self.data[off..off + len as usize])
    }

    pub fn read_word(&self, addr: u32) -> Result<u32, FlashError> {
        if !addr.is_multiple_of(4) {
            return Err(FlashError::Unaligned {
                what: "word read",
                addr,
                align: 4,
            });
        }
        let b = self.read(addr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// True when every byte of the page holding `addr` is 0xFF.
    pub fn page_is_erased(&self, addr: u32) -> Result<bool, FlashError> {
        let page = self.page_start(addr)?;
        Ok(self.read(page, PAGE_SIZE)?.iter().all(|&b| b == 0xFF))
    }

    fn page_start(&self, addr: u32) -> Result<u32, FlashError> {
        self.offset("page access", addr, 1)?;
        Ok(addr - (addr - self.base) % PAGE_SIZE)
    }

    /// Check a page-erase address: must be the first word of a page in this array.
    pub fn check_page_erase(&self, addr: u32) -> Result<usize, FlashError> {
        let off = self.offset("page erase", addr, PAGE_SIZE)?;
        if !(off as u32).is_multiple_of(PAGE_SIZE) {
            return Err(FlashError::Unaligned {
                what: "page erase",
                addr,
                align: PAGE_SIZE,
            });
        }
        Ok(off / PAGE_SIZE as usize)
    }

    /// Check a word write at `addr`.
    pub fn check_word_write(&self, addr: u32) -> Result<usize, FlashError> {
        if !addr.is_multiple_of(4) {
            return Err(FlashError::Unaligned {
                what: "word write",
                addr,
                align: 4,
            });
        }
        self.offset("word write", addr, 4)
    }

    /// ERASEPAGE: the page reads 0xFF afterwards; its erase counter goes up and its blocks' write
    /// counters restart.
    pub fn erase_page(&mut self, addr: u32) -> Result<(), FlashError> {
        let page = self.check_page_erase(addr)?;
        let start = page * PAGE_SIZE as usize;
        self.data[start..start + PAGE_SIZE as usize].fill(0xFF);
        self.note_erase(page);
        Ok(())
    }

    /// ERASEALL as seen by this array: every page erased once.
    pub fn erase_all(&mut self) {
        self.data.fill(0xFF);
        for page in 0..self.erase_counts.len() {
            self.note_erase(page);
        }
    }

    /// A word write: `new = old AND value` (programming only clears bits).
    pub fn write_word(&mut self, addr: u32, value: u32) -> Result<(), FlashError> {
        let off = self.check_word_write(addr)?;
        let old = self.word_at(off);
        self.set_word(off, old & value);
        self.note_write(off);
        Ok(())
    }

    /// `write_word` for consecutive words from `addr`, the whole range checked once.
    pub fn write_words(&mut self, addr: u32, words: &[u32]) -> Result<(), FlashError> {
        if !addr.is_multiple_of(4) {
            return Err(FlashError::Unaligned {
                what: "word write",
                addr,
                align: 4,
            });
        }
        let len = u32::try_from(words.len() * 4).unwrap_or(u32::MAX);
        let start = self.offset("word write", addr, len)?;
        let end = start + words.len() * 4;
        for (cell, value) in self.data[start..end].chunks_exact_mut(4).zip(words) {
            let old = u32::from_le_bytes([cell[0], cell[1], cell[2], cell[3]]);
            cell.copy_from_slice(&(old & value).to_le_bytes());
        }
        // The write counters block by block: as `note_write` per word would count them.
        let mut off = start;
        while off < end {
            let block = off / BLOCK_SIZE as usize;
            let block_end = ((block + 1) * BLOCK_SIZE as usize).min(end);
            let n = ((block_end - off) / 4) as u32;
            let total = self.block_writes[block].saturating_add(n);
            self.block_writes[block] = total;
            if total > NWRITE_BLOCK {
                let addr = self.base + (block as u32) * BLOCK_SIZE;
                let worst = self.nwrite_violations.entry(addr).or_insert(0);
                *worst = (*worst).max(total);
            }
            off = block_end;
        }
        Ok(())
    }

    /// Power lost during ERASEPAGE at `progress` (0..1) of its duration: the page is undefined
    /// (see the torn-content model in `torn.rs`). It still counts as an erase cycle.
    pub fn erase_page_torn(
        &mut self,
        addr: u32,
        progress: f64,
        rng: &mut DeviceRng,
    ) -> Result<(), FlashError> {
        let page = self.check_page_erase(addr)?;
        self.tear_page(page, progress, rng);
        Ok(())
    }

    /// Power lost during ERASEALL: every page of the array is torn at the same progress.
    pub fn erase_all_torn(&mut self, progress: f64, rng: &mut DeviceRng) {
        for page in 0..self.erase_counts.len() {
            self.tear_page(page, progress, rng);
        }
    }

    fn tear_page(&mut self, page: usize, progress: f64, rng: &mut DeviceRng) {
        let start = page * PAGE_SIZE as usize;
        for off in (start..start + PAGE_SIZE as usize).step_by(4) {
            let old = self.word_at(off);
            self.set_word(off, torn::torn_erase_word(old, progress, rng));
        }
        self.note_erase(page);
    }

    /// Power lost during a word write: only some of the bits that were to be cleared are cleared.
    pub fn write_word_torn(
        &mut self,
        addr: u32,
        value: u32,
        rng: &mut DeviceRng,
    ) -> Result<(), FlashError> {
        let off = self.check_word_write(addr)?;
        let old = self.word_at(off);
        self.set_word(off, torn::torn_write_word(old, value, rng));
        self.note_write(off);
        Ok(())
    }

    fn word_at(&self, off: usize) -> u32 {
        u32::from_le_bytes([
            self.data[off],
            self.data[off + 1],
            self.data[off + 2],
            self.data[off + 3],
        ])
    }

    fn set_word(&mut self, off: usize, v: u32) {
        self.data[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn note_erase(&mut self, page: usize) {
        self.erase_counts[page] = self.erase_counts[page].saturating_add(1);
        let per_page = (PAGE_SIZE / BLOCK_SIZE) as usize;
        self.block_writes[page * per_page..(page + 1) * per_page].fill(0);
    }

    fn note_write(&mut self, off: usize) {
        let block = off / BLOCK_SIZE as usize;
        let n = self.block_writes[block].saturating_add(1);
        self.block_writes[block] = n;
        if n > NWRITE_BLOCK {
            let addr = self.base + (block as u32) * BLOCK_SIZE;
            let worst = self.nwrite_violations.entry(addr).or_insert(0);
            *worst = (*worst).max(n);
        }
    }

    /// Erase count of the page holding `addr`.
    pub fn erase_count(&self, addr: u32) -> Result<u32, FlashError> {
        let off = self.offset("erase count", addr, 1)?;
        Ok(self.erase_counts[off / PAGE_SIZE as usize])
    }

    /// Word writes into the 512-byte block holding `addr` since its page was last erased.
    pub fn block_writes(&self, addr: u32) -> Result<u32, FlashError> {
        let off = self.offset("block writes", addr, 1)?;
        Ok(self.block_writes[off / BLOCK_SIZE as usize])
    }

    pub fn health(&self) -> FlashHealth {
        FlashHealth {
            worn_pages: self
                .erase_counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > ENDURANCE_CYCLES)
                .map(|(p, &c)| (self.base + p as u32 * PAGE_SIZE, c))
                .collect(),
            nwrite_violations: self
                .nwrite_violations
                .iter()
                .map(|(&a, &n)| (a, n))
                .collect(),
            max_erase_count: self.erase_counts.iter().copied().max().unwrap_or(0),
        }
    }

    /// Wear state for persistence: (erase counts, block write counts, nWRITE violations).
    pub fn wear(&self) -> (&[u32], &[u32], &BTreeMap<u32, u32>) {
        (
            &self.erase_counts,
            &self.block_writes,
            &self.nwrite_violations,
        )
    }

    /// Overwrite content and wear state wholesale (used by the state-file loader, which has
    /// already checked every length).
    pub(crate) fn restore(
        &mut self,
        data: Vec<u8>,
        erase_counts: Vec<u32>,
        block_writes: Vec<u32>,
        violations: BTreeMap<u32, u32>,
    ) {
        debug_assert_eq!(data.len(), self.data.len());
        debug_assert_eq!(erase_counts.len(), self.erase_counts.len());
        debug_assert_eq!(block_writes.len(), self.block_writes.len());
        self.data = data;
        self.erase_counts = erase_counts;
        self.block_writes = block_writes;
        self.nwrite_violations = violations;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn flash() -> FlashArray {
        FlashArray::new("flash", 0, 4)
    }

    /// The bulk write is the word-by-word one: content, write counters across block edges,
    /// and nWRITE violations (the same block written 200 times over).
    #[rstest]
    fn write_words_is_write_word_repeated(#[values(0x0u32, 0x1F8, 0x1000)] addr: u32) {
        let words: Vec<u32> = (0..300u32)
            .map(|i| !(1 << (i % 32)) & 0x5A5A_FFFF)
            .collect();
        let (mut bulk, mut single) = (flash(), flash());
        for _ in 0..2 {
            bulk.write_words(addr, &words[..150]).unwrap();
            bulk.write_words(addr + 600, &words[150..]).unwrap();
            for (i, &w) in words.iter().enumerate() {
                let at = if i < 150 {
                    addr + 4 * i as u32
                } else {
                    addr + 600 + 4 * (i as u32 - 150)
                };
                single.write_word(at, w).unwrap();
            }
        }
        assert_eq!(bulk.bytes(), single.bytes());
        assert_eq!(bulk.wear(), single.wear());
        assert!(bulk.write_words(addr + 2, &words).is_err());
        assert!(bulk.write_words(4 * 4096 - 8, &words[..3]).is_err());
    }

    #[test]
    fn starts_erased() {
        let f = flash();
        assert_eq!(f.size(), 4 * 4096);
        assert!(f.bytes().iter().all(|&b| b == 0xFF));
        assert!(f.page_is_erased(0x1000).unwrap());
    }

    #[test]
    fn word_write_only_clears_bits() {
        let mut f = flash();
        f.write_word(0x10, 0x1234_5678).unwrap();
        assert_eq!(f.read_word(0x10).unwrap(), 0x1234_5678);
        // Writing again ANDs: bits can be cleared but never set.
        f.write_word(0x10, 0xFFFF_00FF).unwrap();
        assert_eq!(f.read_word(0x10).unwrap(), 0x1234_0078);
        f.write_word(0x10, 0xFFFF_FFFF).unwrap();
        assert_eq!(f.read_word(0x10).unwrap(), 0x1234_0078);
        assert_eq!(f.read(0x10, 4).unwrap(), &[0x78, 0x00, 0x34, 0x12]);
    }

    #[test]
    fn erase_restores_ones_and_counts() {
        let mut f = flash();
        f.write_word(0x1004, 0).unwrap();
        assert!(!f.page_is_erased(0x1000).unwrap());
        f.erase_page(0x1000).unwrap();
        assert!(f.page_is_erased(0x1000).unwrap());
        assert_eq!(f.erase_count(0x1FFF).unwrap(), 1);
        assert_eq!(f.erase_count(0x0).unwrap(), 0);
        f.erase_all();
        assert_eq!(f.erase_count(0x1000).unwrap(), 2);
        assert_eq!(f.erase_count(0x3000).unwrap(), 1);
    }

    #[rstest]
    #[case::unaligned_word(0x12, "word")]
    #[case::past_end(0x4000, "word")]
    #[case::unaligned_page(0x1004, "page")]
    #[case::page_past_end(0x4000, "page")]
    fn bad_addresses_are_errors(#[case] addr: u32, #[case] kind: &str) {
        let mut f = flash();
        let before = f.clone();
        let r = if kind == "word" {
            f.write_word(addr, 0)
        } else {
            f.erase_page(addr)
        };
        assert!(r.is_err(), "{r:?}");
        assert_eq!(f, before, "a refused access changes nothing");
    }

    #[test]
    fn read_range_errors() {
        let f = flash();
        assert!(matches!(
            f.read(0x3FFE, 4),
            Err(FlashError::OutOfRange { .. })
        ));
        assert!(matches!(
            f.read_word(0x2),
            Err(FlashError::Unaligned { .. })
        ));
        let u = FlashArray::new("UICR", 0x1000_1000, 1);
        assert!(u.read(0x1000_0FFF, 1).is_err());
        assert_eq!(u.read_word(0x1000_1FFC).unwrap(), 0xFFFF_FFFF);
    }

    #[test]
    fn endurance_is_reported_not_enforced() {
        let mut f = flash();
        for _ in 0..ENDURANCE_CYCLES {
            f.erase_page(0x2000).unwrap();
        }
        assert!(f.health().worn_pages.is_empty());
        f.erase_page(0x2000).unwrap();
        f.write_word(0x2000, 0xA5A5_A5A5).unwrap();
        assert_eq!(
            f.read_word(0x2000).unwrap(),
            0xA5A5_A5A5,
            "still works past endurance"
        );
        let h = f.health();
        assert_eq!(h.worn_pages, vec![(0x2000, ENDURANCE_CYCLES + 1)]);
        assert_eq!(h.max_erase_count, ENDURANCE_CYCLES + 1);
        assert!(!h.is_clean());
    }

    #[test]
    fn nwrite_limit_per_block_between_erases() {
        let mut f = flash();
        // 181 writes into block 0x200..0x400 are allowed.
        for i in 0..NWRITE_BLOCK {
            f.write_word(0x200 + (i % 128) * 4, 0xFFFF_FFFF).unwrap();
        }
        assert_eq!(f.block_writes(0x3FC).unwrap(), 181);
        assert!(f.health().nwrite_violations.is_empty());
        // The 182nd is a violation of that block only.
        f.write_word(0x200, 0).unwrap();
        assert_eq!(f.health().nwrite_violations, vec![(0x200, 182)]);
        // An erase restarts the count but keeps the sticky record.
        f.erase_page(0).unwrap();
        assert_eq!(f.block_writes(0x200).unwrap(), 0);
        assert_eq!(f.health().nwrite_violations, vec![(0x200, 182)]);
        // Other blocks were never at risk.
        assert_eq!(f.block_writes(0x400).unwrap(), 0);
    }
}
