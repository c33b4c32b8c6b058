//! nrfutil 6.1.7's conversion of an image to the `.bin` a package carries
//! (`nordicsemi/dfu/nrfhex.py`, `nRFHex._removembr`, `_removeuicr`, `tobinfile`): drop the MBR page
//! (< 0x1000) and UICR (>= 0x10000000), span the lowest to the highest remaining address with gaps
//! as 0xFF, and pad to whole 32-bit words with 0xFF.

use super::bin::firmware_from_bin;
use super::elf::{parse_elf, ElfError};
use super::hex::{parse_intel_hex, HexError};
use super::segments::{InsertError, Segments};
use crate::memory_map::{SoftDeviceInfo, MBR_SIZE, SD_MAGIC};

/// First UICR/FICR address: everything from here up is not flash and never part of a `.bin`.
const UICR_REGION_START: u64 = 0x1000_0000;
/// nrfutil looks for the info-struct magic at 0x3004 (S1x0 layout, MBR ends at 0x1000)...
const S1X0_MAGIC_ADDR: u32 = 0x3004;
/// ...and then at 0x4004, 0x5004, 0x6004, 0x7004 (early S132 layout, taken to end the MBR
/// region at 0x3000).
const S132_MAGIC_ADDRS: [u32; 4] = [0x4004, 0x5004, 0x6004, 0x7004];
const S132_MBR_END: u32 = 0x3000;

/// An image as the bootloader receives it: `bin` is written starting at `start_address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firmware {
    pub start_address: u32,
    /// The bytes, 0xFF-filled gaps, padded to a multiple of 4.
    pub bin: Vec<u8>,
}

/// The image has no usable bytes or they cannot be laid out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FirmwareError {
    #[error(
        "no firmware data left after dropping the MBR page (< 0x1000) and UICR (>= 0x10000000)"
    )]
    Empty,
    #[error("{0}")]
    Layout(InsertError),
    #[error("image spans {0} bytes, too large for a firmware binary")]
    TooLarge(u64),
}

impl Firmware {
    /// Apply nrfutil's `.hex` rules to parsed segments (also used for ELF).
    pub fn from_segments(segments: &Segments) -> Result<Firmware, FirmwareError> {
        let mut s = segments.clone();
        s.retain_range(MBR_SIZE, UICR_REGION_START);
        let (Some(min), Some(max)) = (s.min_address(), s.max_address()) else {
            return Err(FirmwareError::Empty);
        };
        let start = min.max(mbr_end_address(&s));
        if start > max {
            return Err(FirmwareError::Empty);
        }
        let span = (max - start) as u64 + 1;
        let size = span.div_ceil(4) * 4;
        // Flash on any Nordic part is far below this; refuse absurd spans rather than allocate.
        if size > 64 * 1024 * 1024 {
            return Err(FirmwareError::TooLarge(size));
        }
        Ok(Firmware {
            start_address: start,
            bin: s.read(start, size as usize),
        })
    }

    /// Length of the binary (what the init packet's size fields hold).
    pub fn len(&self) -> usize {
        self.bin.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bin.is_empty()
    }

    /// The SoftDevice info struct, if this image carries one where a SoftDevice has it.
    pub fn softdevice_info(&self) -> Option<SoftDeviceInfo> {
        SoftDeviceInfo::parse(&self.bin, self.start_address)
    }
}

/// `nRFHex.get_mbr_end_address`: 0x3000 when the magic sits at 0x4004..0x7004 and not at
/// 0x3004, else 0x1000. A bin never starts below this.
fn mbr_end_address(s: &Segments) -> u32 {
    let has_magic = |a: u32| {
        s.get_range(a, 4)
            .is_some_and(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) == SD_MAGIC)
    };
    if has_magic(S1X0_MAGIC_ADDR) {
        MBR_SIZE
    } else if S132_MAGIC_ADDRS.iter().any(|a| has_magic(*a)) {
        S132_MBR_END
    } else {
        MBR_SIZE
    }
}

/// Pad with 0xFF to a multiple of 4 bytes.
pub fn pad_to_word(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0xFF);
    }
}

/// How an image file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    IntelHex,
    Elf,
    Bin,
}

impl ImageFormat {
    /// nrfutil decides by name: `.bin` is raw, anything else Intel HEX. An ELF is recognised by
    /// its magic (nrfutil cannot read ELF at all).
    pub fn detect(file_name: &str, bytes: &[u8]) -> ImageFormat {
        if file_name.ends_with(".bin") {
            ImageFormat::Bin
        } else if bytes.starts_with(b"\x7fELF") {
            ImageFormat::Elf
        } else {
            ImageFormat::IntelHex
        }
    }
}

/// An image file that could not be turned into firmware, with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {kind}")]
pub struct ImageError {
    pub file: String,
    pub kind: ImageErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageErrorKind {
    #[error("Intel HEX file is not text (invalid UTF-8 at byte {0})")]
    NotText(usize),
    #[error("{0}")]
    Hex(#[from] HexError),
    #[error("{0}")]
    Elf(#[from] ElfError),
    #[error("{0}")]
    Firmware(#[from] FirmwareError),
}

/// Read an image file (Intel HEX, ELF or raw binary, see [`ImageFormat::detect`]) into the
/// firmware nrfutil would put in a package. A raw binary gets `bin_address` as its start.
pub fn load_firmware(
    file_name: &str,
    bytes: &[u8],
    bin_address: u32,
) -> Result<Firmware, ImageError> {
    let err = |kind: ImageErrorKind| ImageError {
        file: file_name.to_string(),
        kind,
    };
    let segments = match ImageFormat::detect(file_name, bytes) {
        ImageFormat::Bin => {
            return firmware_from_bin(bytes, bin_address).map_err(|e| err(e.into()))
        }
        ImageFormat::Elf => parse_elf(bytes).map_err(|e| err(e.into()))?,
        ImageFormat::IntelHex => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| err(ImageErrorKind::NotText(e.valid_up_to())))?;
            parse_intel_hex(text).map_err(|e| err(e.into()))?
        }
    };
    Firmware::from_segments(&segments).map_err(|e| err(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(runs: &[(u32, Vec<u8>)]) -> Segments {
        Segments::from_runs(runs.iter().map(|(a, d)| (*a, d.as_slice()))).unwrap()
    }

    #[test]
    fn drops_mbr_and_uicr_fills_gaps_pads_to_word() {
        let s = seg(&[
            (0x0, vec![0xAA; 0x1000]),
            (0x23000, vec![1, 2]),
            (0x23004, vec![3]),
            (0x1000_1014, vec![0, 0x80, 0x07, 0]),
        ]);
        let f = Firmware::from_segments(&s).unwrap();
        assert_eq!(f.start_address, 0x23000);
        assert_eq!(f.bin, vec![1, 2, 0xFF, 0xFF, 3, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn three_bytes_become_four() {
        let f = Firmware::from_segments(&seg(&[(0x26000, vec![1, 2, 3])])).unwrap();
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn only_mbr_or_uicr_is_empty() {
        assert_eq!(
            Firmware::from_segments(&seg(&[(0x0, vec![1; 16])])),
            Err(FirmwareError::Empty)
        );
        assert_eq!(
            Firmware::from_segments(&seg(&[(0x1000_1000, vec![1; 4])])),
            Err(FirmwareError::Empty)
        );
        assert_eq!(
            Firmware::from_segments(&Segments::new()),
            Err(FirmwareError::Empty)
        );
    }

    #[test]
    fn softdevice_magic_rules() {
        // Magic at 0x3004: S1x0 layout, the bin starts right after the MBR.
        let mut sd = vec![0xFFu8; 0x3000];
        sd[0x2004..0x2008].copy_from_slice(&SD_MAGIC.to_le_bytes());
        let f = Firmware::from_segments(&seg(&[(0x1000, sd)])).unwrap();
        assert_eq!(f.start_address, 0x1000);
        assert!(f.softdevice_info().is_some());
        // Magic only at 0x4004: nrfutil treats 0x1000..0x3000 as MBR and cuts it off.
        let mut old = vec![0u8; 0x4000];
        old[0x3004..0x3008].copy_from_slice(&SD_MAGIC.to_le_bytes());
        let f = Firmware::from_segments(&seg(&[(0x1000, old)])).unwrap();
        assert_eq!(f.start_address, 0x3000);
        assert_eq!(f.len(), 0x2000);
    }

    #[test]
    fn format_detection_and_errors_name_the_file() {
        assert_eq!(ImageFormat::detect("a.bin", b"\x7fELF"), ImageFormat::Bin);
        assert_eq!(
            ImageFormat::detect("a.elf", b"\x7fELF...."),
            ImageFormat::Elf
        );
        assert_eq!(
            ImageFormat::detect("a.hex", b":00000001FF"),
            ImageFormat::IntelHex
        );
        let e = load_firmware("app.hex", b":0100000042BC\n", 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "app.hex: line 1: bad checksum: record says 0xbc, its bytes sum to 0xbd"
        );
        let e = load_firmware("app.hex", b"\xff", 0).unwrap_err();
        assert_eq!(e.kind, ImageErrorKind::NotText(0));
        let f = load_firmware("app.bin", &[1, 2, 3, 4, 5], 0x26000).unwrap();
        assert_eq!((f.start_address, f.len()), (0x26000, 8));
        let elf = super::super::elf::tests::tiny_elf(&[(0x26000, 0x26000, &[9, 9])]);
        let f = load_firmware("app.elf", &elf, 0).unwrap();
        assert_eq!(
            (f.start_address, f.bin.clone()),
            (0x26000, vec![9, 9, 0xFF, 0xFF])
        );
    }
}
