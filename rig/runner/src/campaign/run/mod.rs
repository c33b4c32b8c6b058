//! `rig run`: the campaign loop. Expands a suite into sub-cases, runs every iteration on every
//! DUT of a bench (one task each), interrupts updates where the plan says, asks the oracle what
//! the device did, heals the device between iterations, and writes the journal as it goes.
//!
//! Everything above [`dut::BenchDut`] is shared by the virtual bench and real hardware.

pub mod build_options;
pub mod campaign;
pub mod dut;
pub mod error;
pub mod events;
pub mod executor;
pub mod fits;
pub mod flash_ops;
pub mod hardware_dut;
pub mod healing;
pub mod images;
mod iteration;
pub mod lab_hooks;
pub mod link;
mod merge;
pub mod oracle;
pub mod plan;
pub mod power_cut_check;
pub mod readback;
pub mod resume;
pub mod rng;
pub mod settings_page;
pub mod threads;
pub mod virtual_dut;

pub use campaign::{run_campaign, CampaignOptions, CampaignResult, StopFlag};
pub use dut::{BenchDut, Observed};
pub use error::{RunError, StepFailure};
pub use events::{RunEvent, RunObserver};
