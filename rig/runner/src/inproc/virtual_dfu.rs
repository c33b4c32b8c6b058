//! One DFU update of a virtual DUT, the way `rig dfu` runs it on the virtual bench: enter DFU
//! mode (through the running app's buttonless service, as nrfutil's `dfu ble` does), connect over
//! the link the installed bootloader listens on (BLE, or UART for a serial bootloader), run the
//! client, then let the device settle (activation, reset, first boot of the new image).
//!
//! Must run on a current-thread tokio runtime with paused time: the links map tokio time to
//! device time ([`SimClock`]), so every wait is simulated and the update takes no wall time.

use super::{
    BleLinkConfig, LinkCounters, SharedDevice, SimClock, VirtualBleLink, VirtualSerialLink,
};
use nrf_dfu::client::{DfuClient, DfuConfig, DfuError, DfuImage, ImageReport, ProgressSink};
use nrf_dfu::client::{Link, LinkError};
use nrf_dfu::wire::Transport;
use std::time::Duration;
use virtual_nrf52::{SimTime, Status};

/// How long the device may take to settle after the update (SD+BL activation is seconds).
pub const SETTLE_AFTER_UPDATE: Duration = Duration::from_secs(120);

/// Which virtual link carried the update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VirtualLink {
    Ble,
    Uart,
}

/// What an update of a virtual DUT did.
#[derive(Debug)]
pub struct VirtualDfuOutcome {
    pub link: VirtualLink,
    pub result: Result<Vec<ImageReport>, DfuError>,
    pub counters: LinkCounters,
    /// Device time from the client's first step to its end (before settling).
    pub elapsed: SimTime,
    /// Device time at the end of the settle after the update.
    pub settled_at: SimTime,
    /// What the device shows after settling.
    pub status: Status,
}

/// Why the update could not even start.
#[derive(Debug, thiserror::Error)]
pub enum VirtualDfuError {
    #[error("the virtual device has no power (run `rig power on`)")]
    Off,
    #[error("the virtual device is silent ({0}): flash a bootloader with `rig flash`")]
    Silent(String),
    #[error("the running application cannot enter DFU mode: {0}")]
    EnterDfu(String),
    #[error("connecting to the bootloader: {0}")]
    Connect(LinkError),
}

async fn run<T: Link, S: ProgressSink>(
    transport: T,
    config: DfuConfig,
    sink: S,
    images: &[DfuImage],
) -> (Result<Vec<ImageReport>, DfuError>, T) {
    let mut client = DfuClient::with_sink(transport, config, sink);
    let result = client.update(images).await;
    (result, client.into_parts().0)
}

/// Update the virtual device with `images`. Errors of the update itself are in
/// [`VirtualDfuOutcome::result`]; this returns `Err` only when nothing could be sent.
pub async fn update_virtual<S: ProgressSink>(
    device: &SharedDevice,
    images: &[DfuImage],
    config: DfuConfig,
    ble: BleLinkConfig,
    sink: S,
) -> Result<VirtualDfuOutcome, VirtualDfuError> {
    let clock = SimClock::for_device(&device.borrow());
    let transport = {
        let mut dev = device.borrow_mut();
        let now = clock.now();
        dev.advance_to(now);
        if let Status::App(_) = dev.status() {
            // The buttonless characteristic's effect (GPREGRET 0xB1 + reset; SDK 12: flag).
            dev.app_enter_bootloader(now)
                .map_err(|e| VirtualDfuError::EnterDfu(e.to_string()))?;
            let t = dev.now();
            dev.settle(t + SETTLE_AFTER_UPDATE);
        }
        match dev.status() {
            Status::Bootloader(b) => b.transport,
            Status::Off => return Err(VirtualDfuError::Off),
            Status::App(_) => {
                return Err(VirtualDfuError::EnterDfu(
                    "the application kept running".into(),
                ))
            }
            Status::Silent => {
                return Err(VirtualDfuError::Silent(format!(
                    "{:?}",
                    dev.silent_reason()
                )))
            }
        }
    };
    // Entering DFU mode took device time: the clock follows the device.
    let clock = SimClock::for_device(&device.borrow());
    let start = clock.now();
    let (link, result, counters) = match transport {
        Transport::Ble => {
            let mut link = VirtualBleLink::new(device.clone(), clock, ble);
            link.connect().await.map_err(VirtualDfuError::Connect)?;
            let (result, link) = run(link, config, sink, images).await;
            (VirtualLink::Ble, result, link.counters().clone())
        }
        Transport::Uart => {
            let link = VirtualSerialLink::open(device.clone(), clock);
            let (result, link) = run(link, config, sink, images).await;
            (VirtualLink::Uart, result, link.counters().clone())
        }
    };
    let end = clock.now();
    let mut dev = device.borrow_mut();
    dev.advance_to(end);
    let settled_at = dev.settle(end + SETTLE_AFTER_UPDATE);
    Ok(VirtualDfuOutcome {
        link,
        result,
        counters,
        elapsed: end - start,
        settled_at,
        status: dev.status(),
    })
}
