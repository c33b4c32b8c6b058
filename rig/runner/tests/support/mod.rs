//! What the runner's integration tests share: running the built `rig` ([`cli`]), and the
//! provisioned virtual DUT with its signed packages and read-back checks (virtual_nrf52's
//! `testkit`, one builder for the device crate's tests and these).
#![allow(dead_code, unused_imports)] // each test target uses a part

pub mod cli;

pub use virtual_nrf52::testkit::*;
