//! The BLE surface of the virtual device: what a central (phone, nrfutil, the rig's btleplug
//! backend) sees over the air. Advertising derived from [`crate::Device::status`], connections,
//! the Secure DFU GATT service of the bootloader, the stand-in application's buttonless DFU
//! characteristic, MTU exchange, link timing and link loss. Synchronous and deterministic: every
//! call takes the simulated time, like the device itself.

pub mod adv;
mod app_side;
pub mod att;
pub mod buttonless;
pub mod connection;
pub mod gatt;
pub mod link;
pub mod mtu;
pub mod peripheral;
pub mod security;
pub mod uuid;

pub use ::uuid::Uuid;
pub use adv::{AdStructure, AdvError, AdvertisingData, BleAddress};
pub use att::AttError;
pub use connection::{Connection, DisconnectReason, Role};
pub use gatt::{Characteristic, GattTable, Properties, Service};
pub use peripheral::{Advertisement, BleError, BlePeripheral, LinkStats, PeripheralEvent};
pub use security::BondKeys;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bonds;
#[cfg(test)]
mod tests_props;
