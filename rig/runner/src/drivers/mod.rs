//! Bench backends: everything that touches hardware sits behind a trait the rig owns, with a real
//! implementation (probe-rs, serial port, btleplug, power switches) and a virtual one over
//! `virtual_nrf52::Device`.

pub mod ble;
pub mod owner;
pub mod power;
pub mod probe;
pub mod probe_rs;
pub mod rtt_scan;
pub mod serial;
pub mod shared;
pub mod timed;
pub mod virtual_probe;

#[cfg(test)]
mod pty_pair;

pub use owner::Owner;
pub use power::{PowerError, PowerSwitch};
pub use probe::{
    FicrInfo, FlashEvent, FlashOptions, FlashReport, Probe, ProbeError, ProbeErrorKind,
};
pub use shared::SharedDevice;
pub use virtual_probe::VirtualProbe;
