//! Firmware images: Intel HEX, ELF and raw binaries, and nrfutil's rules for turning them into
//! the `.bin` a DFU package carries.

pub mod bin;
pub mod elf;
pub mod firmware;
pub mod hex;
pub mod segments;

pub use firmware::{load_firmware, Firmware, FirmwareError, ImageError, ImageFormat};
pub use hex::{parse_intel_hex, write_intel_hex, HexError};
pub use segments::{InsertError, Segments, StartAddress};
