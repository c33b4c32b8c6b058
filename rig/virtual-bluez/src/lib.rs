//! A virtual BlueZ: `org.bluez` served on a private `dbus-daemon`, backed by the rig's virtual
//! nRF52832 devices, so the rig's real BLE backend (btleplug → bluez-async → libdbus) drives
//! them exactly as it drives bluetoothd on a host with a radio.
//!
//! - [`daemon`]: the private bus (a `dbus-daemon` child process, killed on drop).
//! - [`bluez`]: the virtual bluetoothd (adapters, devices, GATT objects), pure logic on lab time.
//! - [`server`]: the thread that owns the bus connection, the lab clock and the devices.
//! - [`radio`]: one device on the air, through the same [`virtual_nrf52::ble::BlePeripheral`]
//!   the in-process tests use.

pub mod bluez;
pub mod clock;
pub mod daemon;
pub mod names;
pub mod objects;
pub mod radio;
pub mod server;
pub mod value;

pub use bluez::{AdapterConfig, Bluez, BluezStats};
pub use clock::LabClock;
pub use daemon::{find_dbus_daemon, BusDaemon, DaemonError};
pub use names::BluezError;
pub use radio::{share_sync, SyncDevice};
pub use server::{BluezConfig, Fault, ServerError, VirtualBluez};
