//! The Secure DFU client: sends images to a bootloader over any [`Link`]. The sequence is
//! pc-nrfutil 6.1.7's (`nordicsemi/dfu/dfu_transport_ble.py` and `dfu_transport_serial.py`,
//! `send_init_packet` / `send_firmware`); recovery follows Android-DFU-Library's `SecureDfuImpl`.
//!
//! Per image: (serial: PING, MTU_GET) SET_PRN, init packet (SELECT, resume or CREATE, stream,
//! CRC check, EXECUTE), firmware (SELECT, resume, then per object CREATE, stream with PRN
//! checks, CRC check over the image so far, EXECUTE), then wait for the device to reset. A
//! multi-image update sends SD+BL, SD, BL, application in that order and reconnects between
//! images. Progress events come before every step and can stop the client
//! ([`ProgressSink`]); the decisions on device state are pure functions in [`resume`].

mod config;
mod data;
mod error;
pub mod explain;
mod image;
mod init;
mod link;
mod object;
mod progress;
pub mod resume;
mod session;
mod setup;

#[cfg(test)]
mod tests;

use std::time::Duration;

use tokio::time::Instant;

/// BLE or serial (the wire's [`crate::wire::Transport`]).
pub use crate::wire::Transport;
pub use config::{DfuConfig, Timeouts};
pub use error::{DfuError, Location, Violation, Waiting};
pub use image::{send_order, DfuImage, ImageKind};
pub use link::{Link, LinkError, LinkErrorKind};
pub use object::{
    writes_always_accepted_after_create, SETTINGS_WRITE_AND_BACKUP_OPS,
    WRITES_ALWAYS_ACCEPTED_AFTER_CREATE,
};
pub use progress::{AsyncFnSink, Control, FnSink, Phase, ProgressEvent, ProgressSink};
pub use resume::{DataPlan, InitPlan};
pub use session::LinkStats;

use data::{send_firmware, DataOutcome};
use init::send_init_packet;
use session::Session;

/// What happened while sending one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageReport {
    pub kind: ImageKind,
    /// The init packet step taken after SELECT (resume or CREATE).
    pub init: InitPlan,
    /// Where the firmware transfer started after SELECT (resume decision).
    pub data: DataPlan,
    /// The device held progress of another image and the init packet was re-created.
    pub restarted: bool,
    /// Object-data bytes per write that were used.
    pub write_len: usize,
    pub stats: LinkStats,
    /// Whether the device's reset after the final EXECUTE was seen (false on transports that
    /// cannot see it).
    pub activation_observed: bool,
    /// Time from the first request to activation (tokio clock: simulated on a paused runtime).
    pub elapsed: Duration,
}

/// The DFU client. Owns its transport (get it back with [`DfuClient::into_parts`]).
pub struct DfuClient<T, S = ()> {
    transport: T,
    config: DfuConfig,
    sink: S,
    ping_id: u8,
}

impl<T: Link> DfuClient<T, ()> {
    /// A client without a progress sink.
    pub fn new(transport: T, config: DfuConfig) -> DfuClient<T, ()> {
        DfuClient::with_sink(transport, config, ())
    }
}

impl<T: Link, S: ProgressSink> DfuClient<T, S> {
    pub fn with_sink(transport: T, config: DfuConfig, sink: S) -> DfuClient<T, S> {
        DfuClient {
            transport,
            config,
            sink,
            ping_id: 0,
        }
    }

    pub fn config(&self) -> &DfuConfig {
        &self.config
    }

    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn sink(&mut self) -> &mut S {
        &mut self.sink
    }

    pub fn into_parts(self) -> (T, S) {
        (self.transport, self.sink)
    }

    /// Send every image in send order (SD+BL, SD, BL, application), reconnecting between
    /// images. The transport must be connected to the bootloader for the first one.
    pub async fn update(&mut self, images: &[DfuImage]) -> Result<Vec<ImageReport>, DfuError> {
        let ordered = send_order(images);
        for (index, image) in ordered.iter().enumerate() {
            check_image(index, image)?;
        }
        let count = ordered.len();
        let mut reports = Vec::with_capacity(count);
        for (index, image) in ordered.into_iter().enumerate() {
            if index > 0 {
                self.reconnect(index, count, image.kind).await?;
            }
            reports.push(self.send_image(index, count, image).await?);
        }
        Ok(reports)
    }

    /// Send one image (the transport connected to the bootloader) and wait for activation.
    pub async fn update_image(&mut self, image: &DfuImage) -> Result<ImageReport, DfuError> {
        check_image(0, image)?;
        self.send_image(0, 1, image).await
    }

    async fn send_image(
        &mut self,
        index: usize,
        count: usize,
        image: &DfuImage,
    ) -> Result<ImageReport, DfuError> {
        let started = Instant::now();
        let at = Location {
            image_index: index,
            image_count: count,
            image_kind: image.kind,
            phase: Phase::Setup,
            object: None,
            object_index: 0,
            offset: 0,
        };
        let mut link = Session::new(&mut self.transport, &mut self.sink, &self.config, at);
        setup::prepare(&mut link, &mut self.ping_id).await?;

        let mut init = send_init_packet(&mut link, &image.init_packet, false).await?;
        let mut restarted = false;
        let data = loop {
            match send_firmware(&mut link, &image.firmware).await? {
                DataOutcome::Executed { plan } => break plan,
                DataOutcome::Restart if !restarted => {
                    restarted = true;
                    init = send_init_packet(&mut link, &image.init_packet, true).await?;
                }
                DataOutcome::Restart => {
                    return Err(link.violation(
                        None,
                        Violation::DeviceAhead {
                            offset: link.at.offset,
                            len: image.firmware.len() as u32,
                        },
                    ))
                }
            }
        };

        link.at.object = None;
        link.step(Phase::Activation, image.firmware.len() as u32)
            .await?;
        let activation_observed = link.transport.observes_link_loss();
        if activation_observed {
            link.wait_link_loss(self.config.timeouts.activation).await?;
        }
        link.step(Phase::Done, image.firmware.len() as u32).await?;
        Ok(ImageReport {
            kind: image.kind,
            init,
            data,
            restarted,
            write_len: link.write_len,
            stats: link.stats.clone(),
            activation_observed,
            elapsed: started.elapsed(),
        })
    }

    /// Between images: wait `reconnect_delay`, then retry [`Link::reconnect`] until it
    /// succeeds or the reconnect timeout passes. Only "not there yet" errors are retried.
    async fn reconnect(
        &mut self,
        index: usize,
        count: usize,
        kind: ImageKind,
    ) -> Result<(), DfuError> {
        let at = Location {
            image_index: index,
            image_count: count,
            image_kind: kind,
            phase: Phase::Setup,
            object: None,
            object_index: 0,
            offset: 0,
        };
        let wait = self.config.timeouts.reconnect;
        let deadline = Instant::now() + wait;
        tokio::time::sleep(self.config.reconnect_delay).await;
        loop {
            match tokio::time::timeout_at(deadline, self.transport.reconnect()).await {
                Err(_) => break,
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) if e.kind.is_infrastructure() => {
                    return Err(DfuError::Link {
                        at,
                        op: None,
                        source: e,
                    })
                }
                Ok(Err(_)) => {
                    let retry_at = Instant::now() + RECONNECT_BACKOFF;
                    if retry_at >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(retry_at).await;
                }
            }
        }
        Err(DfuError::Timeout {
            at,
            waiting: Waiting::Reconnect,
            after: wait,
        })
    }
}

/// Pause between failed reconnect attempts.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(500);

fn check_image(index: usize, image: &DfuImage) -> Result<(), DfuError> {
    let reason = if image.init_packet.is_empty() {
        "the init packet is empty".to_string()
    } else if image.firmware.is_empty() {
        "the firmware is empty".to_string()
    } else if u32::try_from(image.firmware.len()).is_err() {
        format!("the firmware is {} bytes, over 4 GiB", image.firmware.len())
    } else if u32::try_from(image.init_packet.len()).is_err() {
        format!("the init packet is {} bytes", image.init_packet.len())
    } else {
        return Ok(());
    };
    Err(DfuError::InvalidImage {
        image_index: index,
        kind: image.kind,
        reason,
    })
}
