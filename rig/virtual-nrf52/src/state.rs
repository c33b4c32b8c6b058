//! The device state file: what survives with the power off (flash, UICR, wear counters, chip
//! variant, identity seed, defect override), for `rig sim serve --state FILE` and the virtual
//! bench's `.rig/virtual/` directory. RAM, GPREGRET and RESETREAS are not in it: power loss
//! clears them anyway. Only the bytes are made and checked here; reading and writing the files
//! is the job of whoever persists devices (the runner's `sim::state_file`, the lab's `persist`).
//!
//! Format (little-endian), version 1. A hand-written format rather than a serde codec so that an
//! erased page costs 37 bytes instead of 4 KB and every field is checked with a located error:
//!
//! | Field | Size |
//! |---|---|
//! | magic `"RIGVN52\0"` | 8 |
//! | format version u16 (1) | 2 |
//! | chip u8: 0 QFAA, 1 QFAB | 1 |
//! | flags u8: bit 0 = defect override present; other bits 0 | 1 |
//! | identity seed u64 | 8 |
//! | defect override mask u32 (0 when absent) | 4 |
//! | code page count u16 (128 / 64) | 2 |
//! | per code page, then the UICR page: kind u8 (0 erased, 1 raw), erase count u32, 8 block write counters u32, and 4096 bytes if raw | 37 or 4133 |
//! | nWRITE violation count u32, then (block address u32, most writes u32) each | 4 + 8n |
//! | CRC-32 of everything before | 4 |

use crate::defects::DefectSet;
use crate::flash::{FlashArray, BLOCK_SIZE};
use crate::hardware::Hardware;
use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::PAGE_SIZE;
use nrf_dfu::Chip;
use std::collections::BTreeMap;

pub const MAGIC: [u8; 8] = *b"RIGVN52\0";
pub const FORMAT_VERSION: u16 = 1;
const BLOCKS_PER_PAGE: usize = (PAGE_SIZE / BLOCK_SIZE) as usize;

/// A state file could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("not a virtual nRF52 state file (magic {found:02x?})")]
    BadMagic { found: Vec<u8> },
    #[error(
        "state file format version {found} is not supported (this build reads {FORMAT_VERSION})"
    )]
    UnsupportedVersion { found: u16 },
    #[error("chip code {found} at offset 10 is not 0 (QFAA) or 1 (QFAB)")]
    UnknownChip { found: u8 },
    #[error("flags {found:#04x} at offset 11 have unknown bits")]
    BadFlags { found: u8 },
    #[error("defect override mask {mask:#010x} has bits no defect uses")]
    UnknownDefects { mask: u32 },
    #[error("{found} code pages recorded, but {chip} has {expected}")]
    PageCount {
        chip: Chip,
        found: u16,
        expected: u32,
    },
    #[error("truncated: {what} needs {need} bytes at offset {offset}, file has {len}")]
    Truncated {
        what: String,
        offset: usize,
        need: usize,
        len: usize,
    },
    #[error("{page}: kind {kind} at offset {offset} is not 0 (erased) or 1 (raw)")]
    BadPageKind {
        page: String,
        kind: u8,
        offset: usize,
    },
    #[error("nWRITE violation for {addr:#010x} names no block of the device")]
    BadViolation { addr: u32 },
    #[error(
        "CRC {stored:#010x} does not match the content ({computed:#010x}): the file is corrupt"
    )]
    Crc { stored: u32, computed: u32 },
    #[error("{count} bytes after the CRC")]
    TrailingBytes { count: usize },
}

fn chip_code(c: Chip) -> u8 {
    match c {
        Chip::Nrf52832Qfaa => 0,
        Chip::Nrf52832Qfab => 1,
    }
}

fn put_array(out: &mut Vec<u8>, a: &FlashArray) {
    let (erases, blocks, _) = a.wear();
    for (p, page) in a.bytes().chunks(PAGE_SIZE as usize).enumerate() {
        let erased = page.iter().all(|&b| b == 0xFF);
        out.push(if erased { 0 } else { 1 });
        out.extend_from_slice(&erases[p].to_le_bytes());
        for b in &blocks[p * BLOCKS_PER_PAGE..(p + 1) * BLOCKS_PER_PAGE] {
            out.extend_from_slice(&b.to_le_bytes());
        }
        if !erased {
            out.extend_from_slice(page);
        }
    }
}

impl Hardware {
    /// Serialise what survives power-off.
    pub fn to_state_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(chip_code(self.chip));
        out.push(self.defects_override.is_some() as u8);
        out.extend_from_slice(&self.identity_seed.to_le_bytes());
        out.extend_from_slice(
            &self
                .defects_override
                .unwrap_or_default()
                .bits()
                .to_le_bytes(),
        );
        out.extend_from_slice(&(self.mem.code.page_count() as u16).to_le_bytes());
        put_array(&mut out, &self.mem.code);
        put_array(&mut out, &self.mem.uicr);
        let violations: Vec<(u32, u32)> = self
            .mem
            .code
            .wear()
            .2
            .iter()
            .chain(self.mem.uicr.wear().2.iter())
            .map(|(&a, &n)| (a, n))
            .collect();
        out.extend_from_slice(&(violations.len() as u32).to_le_bytes());
        for (a, n) in violations {
            out.extend_from_slice(&a.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Rebuild an (unpowered) device from [`Hardware::to_state_bytes`] output.
    pub fn from_state_bytes(bytes: &[u8]) -> Result<Hardware, StateError> {
        let head = &bytes[..bytes.len().min(MAGIC.len())];
        if head != &MAGIC[..head.len()] {
            return Err(StateError::BadMagic {
                found: head.to_vec(),
            });
        }
        let mut r = Reader { b: bytes, at: 0 };
        r.take("magic", MAGIC.len())?;
        let version = r.u16("format version")?;
        if version != FORMAT_VERSION {
            return Err(StateError::UnsupportedVersion { found: version });
        }
        let chip = match r.u8("chip")? {
            0 => Chip::Nrf52832Qfaa,
            1 => Chip::Nrf52832Qfab,
            found => return Err(StateError::UnknownChip { found }),
        };
        let flags = r.u8("flags")?;
        if flags & !1 != 0 {
            return Err(StateError::BadFlags { found: flags });
        }
        let seed = r.u64("identity seed")?;
        let mask = r.u32("defect override")?;
        let defects = DefectSet::from_mask(mask).ok_or(StateError::UnknownDefects { mask })?;
        let pages = r.u16("page count")?;
        if pages as u32 != chip.page_count() {
            return Err(StateError::PageCount {
                chip,
                found: pages,
                expected: chip.page_count(),
            });
        }
        let mut dev = Hardware::new(chip, seed);
        dev.defects_override = (flags & 1 == 1).then_some(defects);
        let code = r.array(&dev.mem.code, "code page")?;
        let uicr = r.array(&dev.mem.uicr, "UICR page")?;
        let count = r.u32("nWRITE violation count")?;
        let mut viol_code = BTreeMap::new();
        let mut viol_uicr = BTreeMap::new();
        for _ in 0..count {
            let addr = r.u32("nWRITE violation address")?;
            let n = r.u32("nWRITE violation writes")?;
            let target = if dev.mem.code.contains(addr, BLOCK_SIZE) {
                &mut viol_code
            } else if dev.mem.uicr.contains(addr, BLOCK_SIZE) {
                &mut viol_uicr
            } else {
                return Err(StateError::BadViolation { addr });
            };
            if addr % BLOCK_SIZE != 0 {
                return Err(StateError::BadViolation { addr });
            }
            target.insert(addr, n);
        }
        let body_end = r.at;
        let stored = r.u32("CRC")?;
        let computed = crc32(&bytes[..body_end]);
        if stored != computed {
            return Err(StateError::Crc { stored, computed });
        }
        if r.at != bytes.len() {
            return Err(StateError::TrailingBytes {
                count: bytes.len() - r.at,
            });
        }
        dev.mem.code.restore(code.0, code.1, code.2, viol_code);
        dev.mem.uicr.restore(uicr.0, uicr.1, uicr.2, viol_uicr);
        Ok(dev)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

type ArrayParts = (Vec<u8>, Vec<u32>, Vec<u32>);

impl Reader<'_> {
    fn take(&mut self, what: &str, n: usize) -> Result<&[u8], StateError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or_else(|| StateError::Truncated {
                what: what.to_string(),
                offset: self.at,
                need: n,
                len: self.b.len(),
            })?;
        self.at += n;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, StateError> {
        Ok(self.take(what, 1)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, StateError> {
        let s = self.take(what, 2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, StateError> {
        let s = self.take(what, 4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, StateError> {
        let s = self.take(what, 8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(s);
        Ok(u64::from_le_bytes(w))
    }

    fn array(&mut self, shape: &FlashArray, what: &str) -> Result<ArrayParts, StateError> {
        let pages = shape.page_count() as usize;
        let mut data = Vec::with_capacity(shape.size() as usize);
        let mut erases = Vec::with_capacity(pages);
        let mut blocks = Vec::with_capacity(pages * BLOCKS_PER_PAGE);
        for p in 0..pages {
            let name = format!("{what} {:#07x}", shape.base() + p as u32 * PAGE_SIZE);
            let offset = self.at;
            let kind = self.u8(&name)?;
            if kind > 1 {
                return Err(StateError::BadPageKind {
                    page: name,
                    kind,
                    offset,
                });
            }
            erases.push(self.u32(&name)?);
            for _ in 0..BLOCKS_PER_PAGE {
                blocks.push(self.u32(&name)?);
            }
            if kind == 1 {
                data.extend_from_slice(self.take(&name, PAGE_SIZE as usize)?);
            } else {
                data.extend(std::iter::repeat_n(0xFF, PAGE_SIZE as usize));
            }
        }
        Ok((data, erases, blocks))
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
