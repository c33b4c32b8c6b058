//! The rig's library: bench backends (probe, power switches, serial and BLE links, the virtual
//! bench), the bench file, campaigns (suites, journal, JUnit, statistics) and what the binary
//! carries built in (test keys, stand-in images, shipped suites). The `rig` binary (`main.rs`,
//! `cli/`) is a thin layer over it.

pub mod backend;
pub mod bench;
pub mod benchfile;
pub mod builtin;
pub mod campaign;
pub mod sim;
