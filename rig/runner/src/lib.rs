//! The rig's library: bench backends (probe, power switches, serial and BLE links, the virtual
//! bench), the bench file, and campaigns (suites, journal, JUnit, statistics). The `rig` binary
//! (`main.rs`, `cli/`) is a thin layer over it.

pub mod backend;
pub mod bench;
pub mod benchfile;
pub mod campaign;
pub mod sim;
