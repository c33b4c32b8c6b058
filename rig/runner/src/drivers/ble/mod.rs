//! BLE DFU through the host's own adapter (BlueZ via btleplug): adapter choice, scanning that
//! trusts only fresh advertisements, connection with back-off, the Secure DFU GATT link and
//! buttonless entry.
//!
//! BlueZ notes: it keeps reporting devices that are gone (`peripherals()` lists ghosts), so the
//! rig only believes advertisement events seen during its own scan. After the app/bootloader
//! switch BlueZ may serve a stale GATT table (a cached service that kept its place and size):
//! the rig rediscovers on every connect, and when the DFU characteristics are missing it removes
//! an unpaired device from BlueZ and connects again; a bonded one is never removed (that deletes
//! the bond), see [`bluez_cache`].
//! MTU: btleplug 0.13 reports the MTU BlueZ negotiated only where BlueZ exposes it on the
//! characteristic (BlueZ 5.62+); otherwise the rig writes 20-byte packets (ATT default 23 − 3)
//! unless the bench file sets `packet_size` (e.g. 244 for SDK 15+ bootloaders).

pub mod adapter;
pub mod address;
pub mod backoff;
pub mod bluez_cache;
pub mod buttonless;
pub mod error;
pub mod freshness;
pub mod scan;
pub mod transport;

pub use address::BleAddress;
pub use error::BleError;

use uuid::Uuid;

/// The DFU service (SIG-assigned to Nordic), advertised by bootloader and buttonless app.
pub const DFU_SERVICE: Uuid = Uuid::from_u128(0x0000FE59_0000_1000_8000_00805F9B34FB);
/// Control Point: write with response + notify.
pub const CONTROL_POINT: Uuid = Uuid::from_u128(0x8EC90001_F315_4F60_9FB8_838830DAEA50);
/// Packet: write without response.
pub const PACKET: Uuid = Uuid::from_u128(0x8EC90002_F315_4F60_9FB8_838830DAEA50);
/// Buttonless DFU without bonds (indicate + write).
pub const BUTTONLESS_UNBONDED: Uuid = Uuid::from_u128(0x8EC90003_F315_4F60_9FB8_838830DAEA50);
/// Buttonless DFU with bonds.
pub const BUTTONLESS_BONDED: Uuid = Uuid::from_u128(0x8EC90004_F315_4F60_9FB8_838830DAEA50);
