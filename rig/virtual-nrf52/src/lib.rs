//! A virtual nRF52832 (flash, UICR, FICR, POWER, MBR, SoftDevice recognition and the Secure DFU
//! bootloader model) that stands in for a real board on the rig's virtual bench.
//!
//! This layer is the hardware and the Nordic firmware below the bootloader:
//! - flash and [`nvmc`]: 4 KB pages, bit-clearing word writes, wear limits (10 000 erases,
//!   181 writes per 512-byte block), flash operations as timed steps that a power cut can tear;
//! - UICR, FICR, [`power`] and the memory bus (`Hardware::read_u32` …): registers and
//!   address decoding, RESETREAS and the retained GPREGRET registers;
//! - [`Hardware`]: the chip, its run state, resets, boot through the [`mbr`] (including the
//!   power-safe COPY_BL), armed power cuts ([`CutPlan`]);
//! - [`DebugPort`]: what a probe does (read, raw write, program, erase-all, APPROTECT), and
//!   [`swd`], the same at the wire level;
//! - [`softdevice`], [`descriptor`], [`standin`], [`Installed`]: recognising and building
//!   firmware, stand-in images with versioned descriptors, the device's inventory;
//! - [`defects`]: the catalogue of injectable bootloader defects;
//! - [`timing`]: named timing profiles (costs as `Duration`s; the driver spends them);
//! - [`state`]: the device state file's bytes (the files themselves are the runner's and the lab's).
//!
//! All randomness comes from one generator seeded per device.
//!
//! On top of it, the firmware and time layer: [`Device`] is the whole chip as a deterministic
//! discrete-event model on simulated time, running the Secure DFU bootloader model or a
//! stand-in application, with its DFU surfaces (control point, packets, UART; [`ble`] for the
//! BLE one). [`boot_decision`] says what the next boot will do, read from flash alone.
//! docs/DEVICE-CONTRACT.md is the contract with the BLE surface and the DFU client.
//!
//! The public surface is the re-exports below and the modules declared `pub` (each a namespace
//! with a reason: its own vocabulary of constants, functions or event types). Everything else
//! is private; rig/virtual-nrf52/README.md says what the crate is for and what it must not
//! depend on.

// Namespaces of the public surface.
/// The emulated Cortex-M4F core (issue 17): usable alone over any [`armv7m::exec::Bus`].
pub mod armv7m;
pub mod ble;
pub mod boot_decision;
pub mod defects;
pub mod descriptor;
pub mod events;
pub mod mbr;
pub mod nvmc;
pub mod power;
pub mod softdevice;
pub mod standin;
pub mod state;
pub mod status;
pub mod swd;
pub mod timing;

/// Test support for this crate's tests and the runner's (feature `testkit`).
#[cfg(feature = "testkit")]
pub mod testkit;

// The model's insides.
mod app;
mod bootloader;
mod bus;
mod core;
mod cpu;
mod debug_port;
mod debug_session;
mod error;
mod ficr;
mod flash;
mod flash_queue;
mod hardware;
mod installed;
mod lifecycle;
mod periph;
mod rng;
mod silicon;
mod surfaces;
mod sysbus;
mod torn;
mod uart;
mod uicr;
mod virtual_device;

pub use nrf_dfu::Chip;

// The chip and its hardware.
pub use app::info_block;
pub use armv7m::exec::FaultKind;
pub use armv7m::regs::Regs as CpuRegisters;
pub use armv7m::CpuFault;
pub use cpu::CpuCosts;
pub use debug_port::{DebugError, DebugPort, ProgramOptions, ProgramReport};
pub use debug_session::DebugSession;
pub use error::{DeviceError, PowerLoss};
pub use ficr::Ficr;
pub use flash::{FlashArray, FlashError, FlashHealth};
pub use hardware::{CutPlan, Hardware, RunState};
pub use lifecycle::{BootRecord, CopyReport, MbrCallError, MbrOutcome};
pub use periph::Unmodelled as UnmodelledAccesses;
pub use rng::DeviceRng;
pub use swd::{SwdAck, SwdPort, SwdStats};
pub use sysbus::PartRevision;
pub use virtual_device::Device;

// What it runs and what it says.
pub use app::AppError;
pub use bootloader::profile::{GpregretRule, Profile, ResultStyle};
pub use bootloader::EnterReason;
pub use defects::{Defect, DefectSet};
pub use events::{DropReason, FirmwareReset, FlashOpRecord, PacketOutcome, Reply, SimTime};
pub use installed::{Code, Installed, Slot};
pub use mbr::{BootTarget, MbrCommand, NrfError};
pub use nvmc::{FlashMemory, FlashOp, FlashPath};
pub use power::ResetKind;
pub use state::StateError;
pub use status::{AppStatus, BootloaderStatus, SilentReason, Status};
pub use timing::TimingProfile;

/// A piece of firmware to program: start address and bytes (what a parsed HEX file yields).
pub type Segment = (u32, Vec<u8>);
