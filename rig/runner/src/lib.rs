//! The rig's library: bench backends (probe, power switches, serial and BLE links, the virtual
//! bench) and the bench file. The `rig` binary (`main.rs`, `cli/`) is a thin layer over it.

pub mod backend;
pub mod benchfile;
