//! Bench backends: what the rig drives to reach a device. So far the virtual bench's links,
//! which carry the DFU client to a `virtual_nrf52::Device` on tokio's (paused) clock.

pub mod virtual_dfu;
pub mod virtual_link;
pub mod virtual_serial;

pub use crate::drivers::shared::{share, SharedDevice};
pub use virtual_link::{BleLinkConfig, LinkCounters, SimClock, VirtualBleLink};
pub use virtual_serial::VirtualSerialLink;
