//! Firmware images: Intel HEX, ELF and raw binaries, and nrfutil's rules for turning them into
//! the `.bin` a DFU package carries.

mod bin;
mod elf;
mod firmware;
mod hex;
mod segments;

pub use bin::{firmware_from_bin, segments_from_bin};
pub use elf::{parse_elf, ElfError};
pub use firmware::{
    load_firmware, pad_to_word, Firmware, FirmwareError, ImageError, ImageErrorKind, ImageFormat,
};
pub use hex::{parse_intel_hex, write_intel_hex, HexError};
pub use segments::{InsertError, Segments, StartAddress};
