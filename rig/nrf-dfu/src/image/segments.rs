//! Sparse memory contents: what an Intel HEX or ELF file puts where.
//!
//! Kept as contiguous runs (merged when they touch) so that a 512 KB image costs a handful of
//! vectors, not a map entry per byte as Python's `intelhex` does.

use std::collections::BTreeMap;
use std::ops::Bound;

/// The execution start address an Intel HEX file may carry (record 03 or 05).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAddress {
    /// Record 03: 8086 CS:IP.
    Segment { cs: u16, ip: u16 },
    /// Record 05: 32-bit EIP (what ARM toolchains write: the reset handler).
    Linear(u32),
}

/// Bytes at addresses, as ordered, non-overlapping, non-touching runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segments {
    runs: BTreeMap<u32, Vec<u8>>,
    /// Start address record, if the file had one (written back first, as `intelhex` does).
    pub start_address: Option<StartAddress>,
}

/// Some of the bytes to insert are already present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InsertError {
    #[error("overlapping data at address {0:#010x}")]
    Overlap(u32),
    #[error("data at {start:#010x} ({len} bytes) runs past the 4 GiB address space")]
    PastAddressSpace { start: u32, len: usize },
}

fn end_of(start: u32, run: &[u8]) -> u64 {
    start as u64 + run.len() as u64
}

impl Segments {
    pub fn new() -> Self {
        Self::default()
    }

    /// Build from `(address, bytes)` runs, failing on overlap.
    pub fn from_runs<'a>(
        runs: impl IntoIterator<Item = (u32, &'a [u8])>,
    ) -> Result<Self, InsertError> {
        let mut s = Segments::new();
        for (a, d) in runs {
            s.insert(a, d)?;
        }
        Ok(s)
    }

    /// Add `data` at `address`. Fails, changing nothing, if any byte is already present.
    pub fn insert(&mut self, address: u32, data: &[u8]) -> Result<(), InsertError> {
        if data.is_empty() {
            return Ok(());
        }
        let end = address as u64 + data.len() as u64;
        if end > 1u64 << 32 {
            return Err(InsertError::PastAddressSpace {
                start: address,
                len: data.len(),
            });
        }
        // The run before (or at) `address` must end at or before it.
        let prev = self
            .runs
            .range(..=address)
            .next_back()
            .map(|(a, r)| (*a, end_of(*a, r)));
        if let Some((_, prev_end)) = prev {
            if prev_end > address as u64 {
                return Err(InsertError::Overlap(address));
            }
        }
        // The run after must start at or after `end`.
        let next = self
            .runs
            .range((Bound::Excluded(address), Bound::Unbounded))
            .next()
            .map(|(a, _)| *a);
        if let Some(next_start) = next {
            if (next_start as u64) < end {
                return Err(InsertError::Overlap(next_start));
            }
        }
        let start = match prev {
            Some((prev_start, prev_end)) if prev_end == address as u64 => {
                if let Some(run) = self.runs.get_mut(&prev_start) {
                    run.extend_from_slice(data);
                }
                prev_start
            }
            _ => {
                self.runs.insert(address, data.to_vec());
                address
            }
        };
        if let Some(next_start) = next {
            if next_start as u64 == end {
                if let Some(tail) = self.runs.remove(&next_start) {
                    if let Some(run) = self.runs.get_mut(&start) {
                        run.extend_from_slice(&tail);
                    }
                }
            }
        }
        Ok(())
    }

    /// The contiguous runs in address order.
    pub fn runs(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.runs.iter().map(|(a, r)| (*a, r.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Number of bytes present.
    pub fn len(&self) -> usize {
        self.runs.values().map(Vec::len).sum()
    }

    /// Lowest address holding data.
    pub fn min_address(&self) -> Option<u32> {
        self.runs.keys().next().copied()
    }

    /// Highest address holding data (inclusive, as `intelhex`'s `maxaddr`).
    pub fn max_address(&self) -> Option<u32> {
        self.runs
            .iter()
            .next_back()
            .map(|(a, r)| (end_of(*a, r) - 1) as u32)
    }

    /// The byte at `address`, if present.
    pub fn get(&self, address: u32) -> Option<u8> {
        let (start, run) = self.runs.range(..=address).next_back()?;
        run.get((address - start) as usize).copied()
    }

    /// `len` bytes from `address` if every one of them is present (`intelhex`'s `gets`).
    pub fn get_range(&self, address: u32, len: usize) -> Option<&[u8]> {
        let (start, run) = self.runs.range(..=address).next_back()?;
        let off = (address - start) as usize;
        run.get(off..off.checked_add(len)?)
    }

    /// `len` bytes from `address`, absent bytes read as 0xFF (erased flash).
    pub fn read(&self, address: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0xFF; len];
        let lo = address as u64;
        let hi = lo + len as u64;
        // The run that may start before `address` and reach into the window, then all that start inside.
        let first = self
            .runs
            .range(..=address)
            .next_back()
            .map(|(a, _)| *a)
            .unwrap_or(address);
        for (start, run) in self.runs.range(first..) {
            let s = *start as u64;
            if s >= hi {
                break;
            }
            let e = end_of(*start, run);
            let from = s.max(lo);
            let to = e.min(hi);
            if from < to {
                out[(from - lo) as usize..(to - lo) as usize]
                    .copy_from_slice(&run[(from - s) as usize..(to - s) as usize]);
            }
        }
        out
    }

    /// Keep only the bytes with `lo <= address < hi` (`hi` as u64 so that 4 GiB is expressible).
    pub fn retain_range(&mut self, lo: u32, hi: u64) {
        let old = std::mem::take(&mut self.runs);
        for (start, run) in old {
            let s = start as u64;
            let e = end_of(start, &run);
            let from = s.max(lo as u64);
            let to = e.min(hi);
            if from < to {
                let part = run[(from - s) as usize..(to - s) as usize].to_vec();
                self.runs.insert(from as u32, part);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn merges_touching_runs_and_rejects_overlap() {
        let mut s = Segments::new();
        s.insert(0x10, &[1, 2]).unwrap();
        s.insert(0x14, &[5]).unwrap();
        s.insert(0x12, &[3, 4]).unwrap();
        assert_eq!(
            s.runs().collect::<Vec<_>>(),
            vec![(0x10, &[1u8, 2, 3, 4, 5][..])]
        );
        assert_eq!(s.insert(0x13, &[9]), Err(InsertError::Overlap(0x13)));
        assert_eq!(s.insert(0x0F, &[9, 9]), Err(InsertError::Overlap(0x10)));
        assert_eq!(s.min_address(), Some(0x10));
        assert_eq!(s.max_address(), Some(0x14));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn read_fills_gaps_with_ff() {
        let s = Segments::from_runs([(0x2u32, &[0xAAu8][..]), (0x5, &[0xBB, 0xCC])]).unwrap();
        assert_eq!(
            s.read(0, 8),
            vec![0xFF, 0xFF, 0xAA, 0xFF, 0xFF, 0xBB, 0xCC, 0xFF]
        );
        assert_eq!(s.read(6, 1), vec![0xCC]);
        assert_eq!(s.get_range(5, 2), Some(&[0xBB, 0xCC][..]));
        assert_eq!(s.get_range(4, 2), None);
        assert_eq!(s.get(2), Some(0xAA));
        assert_eq!(s.get(3), None);
    }

    #[test]
    fn end_of_address_space() {
        let mut s = Segments::new();
        s.insert(0xFFFF_FFFE, &[1, 2]).unwrap();
        assert_eq!(s.max_address(), Some(0xFFFF_FFFF));
        assert!(matches!(
            s.insert(0xFFFF_FFFF, &[1, 2]),
            Err(InsertError::PastAddressSpace { .. })
        ));
    }

    #[test]
    fn retain_cuts_runs() {
        let mut s = Segments::from_runs([(0x0FFEu32, &[1u8, 2, 3, 4][..])]).unwrap();
        s.retain_range(0x1000, 0x1001);
        assert_eq!(s.runs().collect::<Vec<_>>(), vec![(0x1000, &[3u8][..])]);
    }

    proptest! {
        #[test]
        fn insert_matches_a_byte_map(writes in proptest::collection::vec((0u32..200, proptest::collection::vec(any::<u8>(), 0..20)), 0..20)) {
            let mut s = Segments::new();
            let mut model = std::collections::BTreeMap::new();
            for (a, d) in &writes {
                let clash = (0..d.len()).any(|i| model.contains_key(&(a + i as u32)));
                let r = s.insert(*a, d);
                prop_assert_eq!(r.is_err(), clash);
                if !clash {
                    for (i, b) in d.iter().enumerate() { model.insert(a + i as u32, *b); }
                }
            }
            let flat: Vec<(u32, u8)> = s.runs().flat_map(|(a, r)| r.iter().enumerate().map(move |(i, b)| (a + i as u32, *b))).collect();
            prop_assert_eq!(flat, model.into_iter().collect::<Vec<_>>());
            // Runs never touch.
            let v: Vec<_> = s.runs().collect();
            for w in v.windows(2) { prop_assert!((w[0].0 as u64 + w[0].1.len() as u64) < w[1].0 as u64); }
        }
    }
}
