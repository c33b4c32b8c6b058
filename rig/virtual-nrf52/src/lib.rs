//! A virtual nRF52832 (flash, UICR, FICR, POWER, MBR, SoftDevice recognition and the Secure DFU
//! bootloader model) that stands in for a real board on the rig's virtual bench.
//!
//! The hardware layer ([`Hardware`], module [`device`]): flash with NVMC semantics and timing,
//! power and resets, the debug port a virtual probe drives, the MBR, SoftDevice recognition
//! through its info struct, stand-in images and their descriptors, the defect catalogue and the
//! device state file.
//!
//! The firmware and time layer ([`Device`], module [`virtual_device`]): the whole chip as a
//! deterministic discrete-event model running the Secure DFU bootloader model
//! ([`bootloader`]) or a stand-in application, with its DFU surfaces (control point, packets,
//! UART). docs/DEVICE-CONTRACT.md is the contract with the BLE surface and the client.

pub mod clock;
pub mod defects;
pub mod descriptor;
pub mod ficr;
pub mod flash;
pub mod nvmc;
pub mod power;
pub mod rng;
pub mod timing;
mod torn;
pub mod uicr;
pub mod softdevice;
pub mod standin;

/// A piece of firmware to program: start address and bytes (what a parsed HEX file yields).
pub type Segment = (u32, Vec<u8>);
pub mod device;
pub mod error;
pub mod lifecycle;
pub mod mbr;

pub use device::{CutPlan, Device as Hardware, RunState};
pub use error::{DeviceError, PowerLoss};
pub use lifecycle::{BootRecord, MbrCallError, MbrOutcome};
pub use mbr::{BootTarget, MbrCommand, NrfError};
pub use nvmc::{FlashOp, FlashPath};
pub use power::ResetKind;
pub use timing::TimingProfile;
mod bus;
pub mod debug_port;
pub use debug_port::{DebugError, DebugPort, ProgramOptions, ProgramReport};
pub mod installed;
pub use installed::{Code, Installed, Slot};
pub mod state;
pub use state::{StateError, StateFileError};
pub mod ble;
pub mod boot_decision;
pub mod app;
pub mod bootloader;
pub(crate) mod core;
pub mod cpu;
pub mod debug_session;
pub mod events;
pub(crate) mod flash_queue;
pub mod status;
pub(crate) mod uart;
pub mod virtual_device;
pub use app::AppError;
pub use bootloader::profile::Profile;
pub use cpu::CpuCosts;
pub use debug_session::DebugSession;
pub use events::{DropReason, FirmwareReset, FlashOpRecord, PacketOutcome, Reply, SimTime};
pub use status::{AppStatus, BootloaderStatus, SilentReason, Status};
pub use virtual_device::Device;
