//! The rig as a library: bench backends and everything the `rig` binary (a thin CLI in
//! `main.rs` and `cli/`) calls, so integration tests reach it too.

pub mod bench;
