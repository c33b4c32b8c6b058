//! A virtual BlueZ: `org.bluez` served on a private `dbus-daemon`, backed by the rig's virtual
//! nRF52832 devices, so the rig's real BLE backend (btleplug → bluez-async → libdbus) drives
//! them exactly as it drives bluetoothd on a host with a radio.
//!
//! - [`BusDaemon`]: the private bus (a `dbus-daemon` child process, killed on drop).
//! - [`bluez`]: the virtual bluetoothd (adapters, devices, GATT objects), pure logic on lab time.
//! - [`VirtualBluez`]: the thread that owns the bus connection, the lab clock and the devices.
//! - [`peripheral`]: the other direction: a virtual device published through a bluetoothd's
//!   peripheral API (GattManager1, LEAdvertisingManager1), for a central on the air.
//! - [`Radio`]: one device on the air, through the same [`virtual_nrf52::ble::BlePeripheral`]
//!   the in-process tests use; [`Air`] is where the device is kept (a [`SyncDevice`] in tests,
//!   the lab's DUT in `rig lab up`), [`TimeSource`] whose clock it runs on.
//!
//! The public surface is the re-exports below and [`bluez`]; the other modules are private.

pub mod bluez;
mod clock;
mod daemon;
mod names;
mod objects;
pub mod peripheral;
mod radio;
mod server;
mod value;

pub use bluez::{AdapterConfig, Bluez, BluezStats};
pub use clock::{LabClock, TimeSource};
pub use daemon::{find_dbus_daemon, BusDaemon, DaemonError};
pub use names::BluezError;
pub use radio::{share_sync, Air, AirGuard, Radio, SharedAir, SyncDevice};
pub use server::{BluezConfig, Fault, ServerError, VirtualBluez};
