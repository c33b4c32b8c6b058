//! What a campaign needs from one device under test and the bench around it. The virtual bench
//! ([`super::virtual_dut`]) and real hardware ([`super::hardware_dut`]) implement it; the
//! executor, the oracle and healing are written against it alone.

use super::error::StepFailure;
use crate::campaign::journal::DutInfo;
use crate::campaign::suite::{FaultAction, PowerAction};
use crate::drivers::Probe;
use nrf_dfu::client::Link;
use nrf_dfu::Chip;
use std::collections::BTreeMap;
use std::time::Duration;
use virtual_nrf52::defects::Defect;
use virtual_nrf52::descriptor::BootloaderDescriptor;

/// What the device shows of itself from the outside (advertising, or the RAM word the app
/// writes, read over SWD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// An application runs; `version` when it says which (manufacturer data / RAM word).
    App { name: String, version: Option<u32> },
    /// The bootloader waits in DFU mode.
    Bootloader,
    /// Powered, but nothing answers.
    Silent,
    /// No power.
    Off,
}

impl Observed {
    pub fn describe(&self) -> String {
        match self {
            Observed::App {
                name,
                version: Some(v),
            } => format!("app \"{name}\" version {v} runs"),
            Observed::App {
                name,
                version: None,
            } => format!("app \"{name}\" runs"),
            Observed::Bootloader => "the bootloader waits in DFU mode".into(),
            Observed::Silent => "the device is silent".into(),
            Observed::Off => "the device has no power".into(),
        }
    }
}

/// Injects a planned fault while the DFU client owns the link (called from its progress hook).
#[allow(async_fn_in_trait)]
pub trait FaultInjector {
    /// Reset or cut power now; a link drop is done by the executor closing the link. A power
    /// cut also restores power after its off time.
    async fn inject(&mut self, action: FaultAction) -> Result<(), StepFailure>;
    /// Wait for the `n`-th flash operation from now on (0-based) and fault it in its middle,
    /// then say what happened. Runs beside the client; returns `None` at once when the bench
    /// cannot see flash operations (hardware).
    async fn fault_flash_op(&mut self, n: u32, action: FaultAction) -> Option<String>;
    /// The update [`FaultInjector::fault_flash_op`] ran beside is over.
    fn flash_op_watch_ended(&mut self) {}
}

/// One DUT and its bench wiring.
#[allow(async_fn_in_trait)]
pub trait BenchDut {
    type Link: Link;
    type Injector: FaultInjector;

    fn name(&self) -> &str;
    fn chip(&self) -> Chip;
    /// The installed bootloader's SDK version and whether it is single-bank, when known.
    fn bootloader(&mut self) -> Option<(nrf_dfu::SdkVersion, bool)> {
        self.bootloader_build().map(|b| (b.profile, b.single_bank))
    }
    /// The bootloader build in force (SDK, transport, `sdk_config.h` options), when known: a
    /// virtual DUT reads its stand-in's descriptor, a lab DUT is what its bench file declares.
    fn bootloader_build(&mut self) -> Option<BootloaderDescriptor>;
    /// The `sdk_config.h` options declared for this DUT (bench file `bootloader: options`,
    /// suite `dut: bootloader_options`): stand-in bootloaders are flashed built with them.
    fn declared_options(&self) -> &BTreeMap<String, u32>;
    fn declare_options(&mut self, options: BTreeMap<String, u32>);
    /// What the journal header says about this DUT.
    fn info(&self) -> DutInfo;
    /// The bench clock since the campaign started: simulated time on the virtual bench.
    fn now(&self) -> Duration;
    /// Use the SWD probe (read-back, flashing, reset, GPREGRET).
    fn with_probe<R>(&mut self, f: impl FnOnce(&mut dyn Probe) -> R) -> R;
    /// Let time pass (the device runs meanwhile).
    async fn sleep(&mut self, d: Duration);
    async fn power(&mut self, action: PowerAction, off: Duration) -> Result<(), StepFailure>;
    /// Wait up to `wait` until the device shows itself, then say what it shows.
    async fn observe(&mut self, wait: Duration) -> Observed;
    /// Ask the running app to enter DFU mode through its buttonless characteristic.
    async fn enter_dfu_buttonless(&mut self, wait: Duration) -> Result<(), StepFailure>;
    /// No application runs any more (the bootloader answered, or the rig is about to reset the
    /// DUT into it): a DUT that learns which image runs from the application's own marks
    /// retires them here, so what it sees later is an application that started since. The
    /// virtual bench sees the model itself and has nothing to do.
    fn app_stopped(&mut self) -> Result<(), StepFailure> {
        Ok(())
    }
    /// Connect to the bootloader's DFU transport.
    async fn connect_dfu(
        &mut self,
        wait: Duration,
        mtu: Option<u16>,
    ) -> Result<Self::Link, StepFailure>;
    /// What the link carries that the journal should show (the effective BLE MTU on
    /// hardware, where a swept MTU can only cap the write size).
    fn link_note(_link: &Self::Link) -> Option<String> {
        None
    }
    fn injector(&self) -> Self::Injector;
    /// Switch the virtual device's defects (`None`: as its bootloader image says). Hardware
    /// cannot: returns false.
    fn set_defects(&mut self, defects: Option<&[Defect]>) -> bool;
    /// Restart the device's random streams from `seed` (virtual bench: so an iteration replays
    /// exactly on its own); real hardware has none to restart.
    fn reseed(&mut self, seed: u64);
    /// Whether faults can land inside flash operations (the virtual bench sees them).
    fn sees_flash_ops(&self) -> bool;
    /// The DFU client's waits on this DUT's link: tight in simulated time, nrfutil's on
    /// hardware ([`nrf_dfu::client::Timeouts::for_hardware`]).
    fn dfu_timeouts(&self, _kind: nrf_dfu::client::Transport) -> nrf_dfu::client::Timeouts {
        nrf_dfu::client::Timeouts::default()
    }
    /// Start or stop counting flash operations; `count` returns the number since the start.
    fn count_flash_ops(&mut self, on: bool) -> Option<u32>;
    /// Flash operations the device has made since a cut at a flash operation was armed (while
    /// it stays armed), to tell a device still busy activating from one that is done.
    fn flash_ops_since_armed(&mut self) -> Option<u32> {
        None
    }
    /// RTT lines logged since the last call (empty when the bench has none).
    fn take_log_lines(&mut self) -> Vec<String>;
}
