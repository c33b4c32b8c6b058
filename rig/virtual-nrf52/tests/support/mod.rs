//! Test (and benchmark) support: a provisioned virtual bench, signed packages, and a small
//! scripted DFU host that speaks the wire protocol over the device's BLE-neutral calls or its
//! UART. The host is deliberately simple (no resume logic beyond re-sending a lost object
//! tail); the real client lives in nrf-dfu.
#![allow(dead_code, unused_imports)] // each test target uses a part

pub mod bench;
pub mod host;

pub use bench::*;
pub use host::*;
