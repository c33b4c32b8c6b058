//! The virtual lab: a process that hosts virtual nRF52832s ([`virtual_nrf52::Device`]) and
//! serves each on the kinds of interfaces a bench has, so the rig's hardware backends run
//! against them unchanged:
//!
//! - SWD on a Unix socket per DUT, in the rig's own small protocol ([`protocol`]): DP/AP
//!   transfers in batches, line reset, nRESET, probe clock, status and power. The rig's probe-rs
//!   driver for it is in the runner (drivers/probe_rs/lab_probe.rs);
//! - the UART on a pseudo-terminal ([`pty`]), as `rig sim serve --serial` does;
//! - the supply through a virtual PPK2 on a pseudo-terminal ([`ppk2`]) or the control socket
//!   (`rig lab power`, the bench's `command` switch).
//!
//! Time ([`clock`]): lab time is the wall clock scaled by K, or the device's own time when that
//! is ahead (SWD transfers cost time at the probe's clock). State ([`persist`]): every device is
//! kept in the lab directory as a power loss at the latest instant would leave it.
//!
//! The lab owns sockets, pseudo-terminals, files and threads; the device model stays free of
//! I/O in virtual-nrf52.

pub mod air;
pub mod client;
pub mod clock;
pub mod control;
pub mod dut;
pub mod hooks;
pub mod host;
pub mod lab;
pub mod layout;
pub mod lock;
pub mod persist;
pub mod ppk2;
pub mod protocol;
pub mod pty;
pub mod signal;
pub mod target;

pub use client::{ClientError, DutClient};
pub use lab::{DeviceFactory, Lab, LabError, Logger};
pub use layout::{LabConfig, LabDir, SwitchKind};
