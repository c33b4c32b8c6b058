//! Power switches: whatever removes and restores the DUT's supply (or, failing that, resets it).
//! A switch says whether it really cuts power ([`PowerSwitch::cuts_power`]): a reset keeps RAM
//! retention registers (GPREGRET) and a half-written flash page behaves differently after it.

pub mod command;
pub mod ppk2;
pub mod probe_reset;
pub mod usb_port;
pub mod virtual_switch;

use super::owner::Owner;
use std::time::Duration;

/// Why a switch failed. Power switches are bench infrastructure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{switch}: {message}")]
pub struct PowerError {
    /// The switch, as [`PowerSwitch::describe`] names it.
    pub switch: String,
    pub message: String,
    /// `true` when the operation is not something this switch can do (cutting power with a
    /// reset-only switch), rather than a failure of the switch.
    pub unsupported: bool,
}

impl PowerError {
    pub fn new(switch: impl Into<String>, message: impl Into<String>) -> PowerError {
        PowerError {
            switch: switch.into(),
            message: message.into(),
            unsupported: false,
        }
    }

    pub fn owner(&self) -> Owner {
        Owner::Infrastructure
    }
}

/// The state a switch was last set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    On,
    Off,
}

/// A DUT power switch.
#[allow(async_fn_in_trait)]
pub trait PowerSwitch {
    /// The switch in a bench engineer's words ("uhubctl -l 1-1 -p 2", "USB port 1-1.2").
    fn describe(&self) -> String;

    /// Whether [`PowerSwitch::off`] really removes the supply (false: it can only reset).
    fn cuts_power(&self) -> bool;

    async fn on(&mut self) -> Result<(), PowerError>;

    async fn off(&mut self) -> Result<(), PowerError>;

    /// Off, wait `off_time` (supply capacitors discharge; 0.5-1 s is typical for a DK), on.
    async fn cycle(&mut self, off_time: Duration) -> Result<(), PowerError> {
        self.off().await?;
        tokio::time::sleep(off_time).await;
        self.on().await
    }
}

/// A powered virtual device with GPREGRET set to `gpregret`, shared: what the switch tests cut
/// or reset (GPREGRET survives a reset, not a power cut).
#[cfg(test)]
fn powered_with_gpregret(seed: u64, gpregret: u8) -> crate::drivers::shared::SharedDevice {
    let mut d = virtual_nrf52::Device::new(virtual_nrf52::Chip::Nrf52832Qfaa, seed);
    virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
    virtual_nrf52::DebugPort::write_memory_raw(
        &mut d,
        nrf_dfu::memory_map::POWER_GPREGRET,
        &[gpregret, 0, 0, 0],
    )
    .unwrap();
    crate::drivers::shared::share(d)
}
