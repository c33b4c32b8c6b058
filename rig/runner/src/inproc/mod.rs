//! Bench backends: what the rig drives to reach a device. So far the virtual bench's links,
//! which carry the DFU client to a `virtual_nrf52::Device` on tokio's (paused) clock.

pub mod virtual_dfu;
pub mod virtual_link;
pub mod virtual_serial;

pub use crate::drivers::shared::{share, SharedDevice};
pub use virtual_link::{BleLinkConfig, LinkCounters, SimClock, VirtualBleLink};
pub use virtual_serial::VirtualSerialLink;

/// When a host waiting on a virtual device must look next: the first time something is due,
/// or `poll` if nothing is or the device can change between its announced events
/// ([`virtual_nrf52::Device::changes_unannounced`]). Waking only then, instead of every poll
/// interval, is what keeps a campaign's update cheap; the device's state is the same at the
/// times skipped.
fn next_look<I>(due: I, poll: virtual_nrf52::SimTime, polls: bool) -> virtual_nrf52::SimTime
where
    I: IntoIterator<Item = Option<virtual_nrf52::SimTime>>,
{
    match due.into_iter().flatten().min() {
        Some(t) if polls => t.min(poll),
        Some(t) => t,
        None => poll,
    }
}
