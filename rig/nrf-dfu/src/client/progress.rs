//! Progress events: where the client is in the protocol, delivered *before* each step so that a
//! caller can act at an exact protocol point (a fault plan cuts power before a given object's
//! EXECUTE, or after N bytes of it were written) and the client only continues afterwards.

use std::fmt;
use std::future::Future;

use super::image::ImageKind;
use crate::wire::ObjectType;

/// The protocol step an event announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Before PING / SET_PRN / MTU_GET at the start of an image.
    Setup,
    /// Before SELECT of the object type.
    Select,
    /// Before CREATE of an object.
    Create,
    /// Before one write of object data (`offset` = where this chunk starts).
    Write,
    /// Before CRC_GET (`offset` = bytes sent so far).
    CrcCheck,
    /// Before EXECUTE.
    Execute,
    /// After the final EXECUTE was answered, before waiting for the device to reset (and, for
    /// all but the last image, to come back).
    Activation,
    /// The image was sent and activation observed (or, on a transport that cannot observe it,
    /// the final EXECUTE answered).
    Done,
}

impl Phase {
    /// Lower-case name used in failure classes and journals: `select`, `crc`, ...
    pub fn label(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Select => "select",
            Phase::Create => "create",
            Phase::Write => "write",
            Phase::CrcCheck => "crc",
            Phase::Execute => "execute",
            Phase::Activation => "activation",
            Phase::Done => "done",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One progress event.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    /// 0-based index of the image in send order, and how many images the update has.
    pub image_index: usize,
    pub image_count: usize,
    pub image_kind: ImageKind,
    pub phase: Phase,
    /// Command object (init packet) or data object; `None` during [`Phase::Setup`],
    /// [`Phase::Activation`] and [`Phase::Done`].
    pub object: Option<ObjectType>,
    /// 0-based data object index (`offset / max_size`); 0 for the init packet.
    pub object_index: u32,
    /// Number of data objects of this image (known after SELECT; 1 for the init packet).
    pub object_count: u32,
    /// 1-based attempt at the current object (CRC mismatches re-create it).
    pub attempt: u8,
    /// Byte offset in the init packet or in the firmware: bytes sent before this step.
    pub offset: u32,
    /// Size of the init packet or of the firmware.
    pub total: u32,
    /// Firmware bytes per second since the data transfer of this image started (on the
    /// tokio clock, so simulated time on a paused runtime); 0 before any time has passed.
    pub bytes_per_second: f64,
}

/// What the client does after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// Stop now with [`super::DfuError::Aborted`]; nothing more is sent.
    Abort,
}

/// Receives progress events. The client awaits each call before its next protocol step, so an
/// implementation may do asynchronous work first (cut power on a virtual or real bench, drop
/// the link, sleep) and then let the client carry on and meet the consequences.
#[allow(async_fn_in_trait)]
pub trait ProgressSink {
    async fn on_progress(&mut self, event: &ProgressEvent) -> Control;
}

/// Ignores every event.
impl ProgressSink for () {
    async fn on_progress(&mut self, _event: &ProgressEvent) -> Control {
        Control::Continue
    }
}

/// A synchronous callback as a sink: `FnSink(|event| { ...; Control::Continue })`.
pub struct FnSink<F>(pub F);

impl<F> ProgressSink for FnSink<F>
where
    F: FnMut(&ProgressEvent) -> Control,
{
    async fn on_progress(&mut self, event: &ProgressEvent) -> Control {
        (self.0)(event)
    }
}

/// An asynchronous callback as a sink: `AsyncFnSink(|event| async move { ... })`. The closure
/// gets an owned copy of the event so its future borrows nothing from the client.
pub struct AsyncFnSink<F>(pub F);

impl<F, Fut> ProgressSink for AsyncFnSink<F>
where
    F: FnMut(ProgressEvent) -> Fut,
    Fut: Future<Output = Control>,
{
    async fn on_progress(&mut self, event: &ProgressEvent) -> Control {
        (self.0)(event.clone()).await
    }
}

impl<S: ProgressSink> ProgressSink for &mut S {
    async fn on_progress(&mut self, event: &ProgressEvent) -> Control {
        (**self).on_progress(event).await
    }
}
