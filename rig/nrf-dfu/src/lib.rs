//! Everything about Nordic's nRF5 SDK Secure DFU that is not hardware: bytes in, bytes out.
//!
//! Rules come from the nRF5 SDK sources (12.3 to 17.1) and pc-nrfutil 6.1.7; each module names the
//! files and functions it follows. Where a rule differs between SDK versions, the
//! [`wire::Dialect`] or the settings layout names the version.

pub mod crc;
pub mod memory_map;
pub mod sdk;

pub use memory_map::Chip;
pub use sdk::SdkVersion;
pub mod client;
pub mod image;
pub mod init_packet;
pub mod package;
pub mod settings;
pub mod signing;
pub mod slip;
pub mod wire;
