//! The rig's library. The `rig` binary (`main.rs`, `cli/`) is a thin layer over it.

pub mod campaign;
