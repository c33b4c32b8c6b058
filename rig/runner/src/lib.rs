//! The rig as a library: bench backends (probe, power switches, serial and BLE links, the virtual
//! bench and its links), the bench file, and everything the `rig` binary (a thin CLI in `main.rs`
//! and `cli/`) calls, so integration tests reach it too.

pub mod backend;
pub mod bench;
pub mod benchfile;
