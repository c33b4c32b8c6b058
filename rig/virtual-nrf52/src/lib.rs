//! A virtual nRF52832 (flash, UICR, FICR, POWER, MBR, SoftDevice recognition and the Secure DFU
//! bootloader model) that stands in for a real board on the rig's virtual bench.
//!
//! This layer is the hardware and the Nordic firmware below the bootloader:
//! - [`flash`], [`nvmc`]: 4 KB pages, bit-clearing word writes, wear limits (10 000 erases,
//!   181 writes per 512-byte block), flash operations as timed steps that a power cut can tear;
//! - [`uicr`], [`ficr`], [`power`] and the memory bus (`Hardware::read_u32` …): registers and
//!   address decoding, RESETREAS and the retained GPREGRET registers;
//! - [`hardware`], [`lifecycle`]: the chip, its run state, resets, boot through the [`mbr`]
//!   (including the power-safe COPY_BL), armed power cuts ([`CutPlan`]);
//! - [`debug_port`]: what a probe does (read, raw write, program, erase-all, APPROTECT);
//! - [`softdevice`], [`descriptor`], [`standin`], [`installed`]: recognising and building
//!   firmware, stand-in images with versioned descriptors, the device's inventory;
//! - [`defects`]: the catalogue of injectable bootloader defects;
//! - [`timing`]: named timing profiles (costs as `Duration`s; the driver spends them);
//! - [`state`]: the device state file's bytes (the files themselves are the runner's and the lab's).
//!
//! All randomness comes from [`rng::DeviceRng`], seeded per device.
//!
//! On top of it, the firmware and time layer: [`Device`] (module [`virtual_device`]) is the
//! whole chip as a deterministic discrete-event model on simulated time, running the Secure DFU
//! bootloader model ([`bootloader`]) or a stand-in application ([`app`]), with its DFU surfaces
//! (control point, packets, UART). The hardware alone is [`Hardware`] (module [`hardware`]).
//! docs/DEVICE-CONTRACT.md is the contract with the BLE surface and the DFU client.

pub mod debug_port;
pub mod defects;
pub mod descriptor;
pub mod error;
pub mod ficr;
pub mod flash;
pub mod hardware;
pub mod installed;
pub mod lifecycle;
pub mod mbr;
pub mod nvmc;
pub mod power;
pub mod rng;
pub mod softdevice;
pub mod standin;
pub mod state;
pub mod timing;
pub mod uicr;

mod bus;
mod torn;

/// Test support for this crate's tests and the runner's (feature `testkit`).
#[cfg(feature = "testkit")]
pub mod testkit;

pub use debug_port::{DebugError, DebugPort, ProgramOptions, ProgramReport};
pub use defects::{Defect, DefectSet};
pub use error::{DeviceError, PowerLoss};
pub use hardware::{CutPlan, Hardware, RunState};
pub use installed::{Code, Installed, Slot};
pub use lifecycle::{BootRecord, MbrCallError, MbrOutcome};
pub use mbr::{BootTarget, MbrCommand, NrfError};
pub use nrf_dfu::Chip;
pub use nvmc::{FlashOp, FlashPath};
pub use power::ResetKind;
pub use state::StateError;
pub use timing::TimingProfile;

/// A piece of firmware to program: start address and bytes (what a parsed HEX file yields).
pub type Segment = (u32, Vec<u8>);

pub mod app;
pub mod ble;
pub mod boot_decision;
pub mod bootloader;
pub(crate) mod core;
pub mod cpu;
pub mod debug_session;
pub mod events;
pub(crate) mod flash_queue;
pub mod status;
mod surfaces;
pub(crate) mod uart;
pub mod virtual_device;

pub mod armv7m;
mod silicon;
pub mod swd;
pub mod sysbus;

pub use armv7m::CpuFault;
pub use swd::{SwdAck, SwdPort, SwdStats};
pub use sysbus::PartRevision;

pub use app::AppError;
pub use bootloader::profile::Profile;
pub use cpu::CpuCosts;
pub use debug_session::DebugSession;
pub use events::{DropReason, FirmwareReset, FlashOpRecord, PacketOutcome, Reply, SimTime};
pub use status::{AppStatus, BootloaderStatus, SilentReason, Status};
pub use virtual_device::Device;
