//! Everything about Nordic's nRF5 SDK Secure DFU that is not hardware: bytes in, bytes out.
//!
//! Facts come from the repository's docs/secure-dfu-facts.md (SDK 12.3 to 17.1 and pc-nrfutil
//! 6.1.7, each with its source; comments cite it as "facts §N"); where a rule differs between SDK
//! versions, the [`wire::Dialect`] or the settings layout names the version.

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
