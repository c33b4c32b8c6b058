//! bluetoothd's behaviour as the rig's real BLE stack sees it (btleplug → bluez-async → libdbus)
//! against the virtual BlueZ serving virtual nRF52832s. One test per behaviour; the BlueZ source
//! of each rule is named in rig/virtual-bluez. One file per area: discovery, gatt (connect,
//! MTU, errors), traffic (notifications, write commands), links (buttonless entry, link loss,
//! faults), dfu (`rig dfu` and the client end to end).

#[path = "virtual_bluez/common.rs"]
mod common;
#[path = "virtual_bluez/dfu.rs"]
mod dfu;
#[path = "virtual_bluez/discovery.rs"]
mod discovery;
#[path = "virtual_bluez/gatt.rs"]
mod gatt;
#[path = "virtual_bluez/harness.rs"]
mod harness;
#[path = "virtual_bluez/links.rs"]
mod links;
mod support;
#[path = "virtual_bluez/traffic.rs"]
mod traffic;

use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter, WriteType};
use common::*;
use futures_util::StreamExt;
use harness::{address_of, default_lab, lab, Lab};
use nrf_dfu::SdkVersion;
use rig::drivers::ble::{BUTTONLESS_UNBONDED, CONTROL_POINT, DFU_SERVICE, PACKET};
use std::time::Duration;
use support::Bench;
use tokio::time::timeout;
use virtual_bluez::Fault;
