//! ELF executables (what the toolchain links, before objcopy): the bytes of each loadable
//! segment placed at its physical (load) address, which is where flash holds them. `.data`
//! therefore lands at its flash copy, not its RAM address; `.bss` (no file bytes) is skipped.

use super::segments::{InsertError, Segments};
use object::elf::PT_LOAD;
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{Endianness, FileKind};

/// Why an ELF file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("malformed ELF: {0}")]
    Malformed(String),
    #[error("program header {index}: segment data lies outside the file")]
    SegmentOutOfFile { index: usize },
    #[error("program header {index}: {source}")]
    Layout { index: usize, source: InsertError },
}

/// Collect the loadable segments of a 32- or 64-bit ELF by physical address.
pub fn parse_elf(data: &[u8]) -> Result<Segments, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf32) => load::<object::elf::FileHeader32<Endianness>>(data),
        Ok(FileKind::Elf64) => load::<object::elf::FileHeader64<Endianness>>(data),
        _ => Err(ElfError::NotElf),
    }
}

fn load<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<Segments, ElfError> {
    let file = ElfFile::<H>::parse(data).map_err(|e| ElfError::Malformed(e.to_string()))?;
    let endian = file.endian();
    let mut segments = Segments::new();
    for (index, ph) in file.elf_program_headers().iter().enumerate() {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian).into() == 0 {
            continue;
        }
        let bytes = ph
            .data(endian, data)
            .map_err(|()| ElfError::SegmentOutOfFile { index })?;
        let paddr: u64 = ph.p_paddr(endian).into();
        let at = u32::try_from(paddr).map_err(|_| ElfError::Layout {
            index,
            source: InsertError::PastAddressSpace {
                start: u32::MAX,
                len: bytes.len(),
            },
        })?;
        segments
            .insert(at, bytes)
            .map_err(|source| ElfError::Layout { index, source })?;
    }
    Ok(segments)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal little-endian ELF32 (ARM) with the given PT_LOAD segments `(paddr, vaddr, bytes)`.
    pub(crate) fn tiny_elf(segments: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let phoff = 52u32;
        let data_start = phoff + 32 * segments.len() as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&[0x7F, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        out.extend_from_slice(&40u16.to_le_bytes()); // EM_ARM
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // entry
        out.extend_from_slice(&phoff.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // shoff
        out.extend_from_slice(&0x0500_0200u32.to_le_bytes()); // flags
        out.extend_from_slice(&52u16.to_le_bytes());
        out.extend_from_slice(&32u16.to_le_bytes());
        out.extend_from_slice(&(segments.len() as u16).to_le_bytes());
        out.extend_from_slice(&40u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        let mut offset = data_start;
        for (paddr, vaddr, bytes) in segments {
            for w in [
                1u32,
                offset,
                *vaddr,
                *paddr,
                bytes.len() as u32,
                bytes.len() as u32 + 8,
                5,
                4,
            ] {
                out.extend_from_slice(&w.to_le_bytes());
            }
            offset += bytes.len() as u32;
        }
        for (_, _, bytes) in segments {
            out.extend_from_slice(bytes);
        }
        out
    }

    #[test]
    fn segments_land_at_physical_addresses() {
        let elf = tiny_elf(&[
            (0x23000, 0x23000, &[1, 2, 3, 4]),
            (0x23004, 0x2000_0000, &[5, 6]),
        ]);
        let s = parse_elf(&elf).unwrap();
        assert_eq!(
            s.runs().collect::<Vec<_>>(),
            vec![(0x23000, &[1u8, 2, 3, 4, 5, 6][..])]
        );
    }

    #[test]
    fn bad_elves() {
        assert_eq!(parse_elf(b"not an elf"), Err(ElfError::NotElf));
        let mut elf = tiny_elf(&[(0x1000, 0x1000, &[1, 2, 3, 4])]);
        elf.truncate(elf.len() - 2);
        assert_eq!(
            parse_elf(&elf),
            Err(ElfError::SegmentOutOfFile { index: 0 })
        );
        let elf = tiny_elf(&[(0x1000, 0x1000, &[1, 2]), (0x1001, 0x1001, &[3])]);
        assert!(matches!(
            parse_elf(&elf),
            Err(ElfError::Layout { index: 1, .. })
        ));
        assert!(matches!(
            parse_elf(&tiny_elf(&[])[..30]),
            Err(ElfError::Malformed(_)) | Err(ElfError::NotElf)
        ));
    }
}
