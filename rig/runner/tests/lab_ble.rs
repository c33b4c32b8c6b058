//! BLE through the lab: `rig lab up --ble NAME` puts a DUT on the air, served by the lab's
//! virtual BlueZ on its own dbus-daemon, and every BLE command runs through btleplug →
//! bluez-async → libdbus against it, with the bus address from the bench file the lab wrote.
//!
//! - cli.rs: `rig bench check`, `rig dfu PKG --name DfuTarg`, `rig dfu --image --version next
//!   --address ADDR` (buttonless entry, the bootloader re-found at address + 1), a UART DUT in
//!   the same lab, smoke through the hardware path, and `rig lab down` taking the bus along;
//! - hooks.rs: bug-zoo and power-loss-sweep (sampled) through the hardware path, the lab
//!   switching defects, counting flash operations and cutting at one;
//! - link.rs: in this test process (libdbus keeps one bus per process, so it is the only test
//!   here that opens D-Bus itself): a link drop from the lab in the middle of a transfer, then
//!   a resume; a connect after the DUT reset under a live link.

#[path = "lab_ble/cli.rs"]
mod cli;
#[path = "lab_ble/hooks.rs"]
mod hooks;
mod lab;
#[path = "lab_ble/link.rs"]
mod link;
#[path = "lab_ble/on_air.rs"]
mod on_air;

/// One lab at a time in this process: each runs on a scaled wall clock (speed 10) with its own
/// dbus-daemon, and four of them at once on a 2-core machine starve each other's host threads
/// past the BLE supervision timeout (a link lost that no DUT lost).
pub fn one_lab_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LABS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LABS.lock().unwrap_or_else(|e| e.into_inner())
}
