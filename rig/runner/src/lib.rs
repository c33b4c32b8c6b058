//! The rig's library: `drivers` for bench hardware (probe-rs and the lab probe, power switches,
//! serial and BLE links, the virtual probe and switch), `inproc` (the in-process virtual links of
//! the virtual bench), the bench file, campaigns (suites, journal, JUnit, statistics) and what the
//! binary carries built in (test keys, stand-in images, shipped suites). The `rig` binary
//! (`main.rs`, `cli/`) is a thin layer over it.

pub mod benchfile;
pub mod builtin;
pub mod campaign;
pub mod differential;
pub mod drivers;
pub mod inproc;
pub mod sim;
