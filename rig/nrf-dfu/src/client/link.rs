//! The link between the client and a DFU bootloader: BLE (Control Point + Packet
//! characteristics) or serial (SLIP frames). A transport moves bytes and decodes nothing; the
//! client encodes requests and decodes responses with [`crate::wire`].

use std::fmt;

pub use crate::wire::Transport;

/// Why a transport operation failed. The kind lets a caller tell the rig's own infrastructure
/// (adapter, port, host) from the device under test.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct LinkError {
    pub kind: LinkErrorKind,
    /// What the transport was doing and what it saw, e.g. "connect to DfuTarg F1:...: no
    /// advertisement within 5 s".
    pub detail: String,
}

impl LinkError {
    pub fn new(kind: LinkErrorKind, detail: impl Into<String>) -> LinkError {
        LinkError {
            kind,
            detail: detail.into(),
        }
    }

    pub fn link_lost(detail: impl Into<String>) -> LinkError {
        LinkError::new(LinkErrorKind::LinkLost, detail)
    }

    pub fn timeout(detail: impl Into<String>) -> LinkError {
        LinkError::new(LinkErrorKind::Timeout, detail)
    }

    pub fn closed(detail: impl Into<String>) -> LinkError {
        LinkError::new(LinkErrorKind::Closed, detail)
    }

    pub fn io(detail: impl Into<String>) -> LinkError {
        LinkError::new(LinkErrorKind::Io, detail)
    }
}

/// The class of a [`LinkError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkErrorKind {
    /// The transport's own wait ran out (e.g. no advertisement found while reconnecting, a
    /// write that never completed). Response timeouts are the client's, not this.
    Timeout,
    /// The peer went away: BLE disconnection, or the device reset (serial: port vanished or
    /// the virtual device left DFU mode). After a final EXECUTE this is the expected outcome.
    LinkLost,
    /// The transport was closed on our side (by [`Link::close`] or its owner).
    Closed,
    /// The host side failed: adapter, port, driver, permissions.
    Io,
}

impl LinkErrorKind {
    /// Whether the failure lies with the rig rather than with the device under test.
    pub fn is_infrastructure(self) -> bool {
        matches!(self, LinkErrorKind::Closed | LinkErrorKind::Io)
    }

    pub fn label(self) -> &'static str {
        match self {
            LinkErrorKind::Timeout => "timeout",
            LinkErrorKind::LinkLost => "link lost",
            LinkErrorKind::Closed => "closed",
            LinkErrorKind::Io => "I/O error",
        }
    }
}

impl fmt::Display for LinkErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A connection to a DFU bootloader, as the client needs it.
///
/// All device-to-host traffic arrives through [`Link::receive`] in order: responses to
/// control-point requests and unsolicited packet receipt notifications alike (on BLE both are
/// Control Point notifications, on serial both are SLIP frames; PRN notifications even use the
/// CRC_GET response layout), so only the client, which knows what it asked, can tell them apart.
///
/// The futures are not required to be `Send`: campaigns run on a current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Link {
    /// BLE or serial: selects the dialect-dependent parts of the protocol (MTU_GET, PING).
    fn transport(&self) -> Transport;

    /// Largest object-data payload per write: BLE ATT MTU − 3; serial `(mtu − 1) / 2 − 1`
    /// (nrfutil's rule, 64 for the 131-byte UART MTU of SDK 15+). On serial the client may lower
    /// it further from the device's MTU_GET answer.
    fn max_write_len(&self) -> usize;

    /// Whether [`Link::receive`] reports the device's reset after the final EXECUTE as
    /// [`LinkErrorKind::LinkLost`]. BLE does (disconnection); a plain UART cannot see a
    /// reset, so the client then treats the final EXECUTE response as the end, like nrfutil.
    fn observes_link_loss(&self) -> bool {
        true
    }

    /// Write one control-point request (BLE: Control Point write with response; serial: one
    /// SLIP frame). Returns once the bytes are handed to the link.
    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError>;

    /// Write one chunk of object data (BLE: Packet characteristic write without response;
    /// serial: an OBJECT_WRITE frame `08 <chunk>`). Applies the link's flow control.
    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError>;

    /// The next message from the device, waiting as long as it takes (the client applies its
    /// timeouts around this call). Must be cancel-safe: dropping the future before it completes
    /// loses no message. Returns [`LinkErrorKind::LinkLost`] once the link is gone.
    async fn receive(&mut self) -> Result<Vec<u8>, LinkError>;

    /// Re-establish the link to the bootloader after it reset (BLE: rescan and connect,
    /// enable notifications; serial: reopen the port). One attempt; the client repeats it
    /// within its reconnect timeout while the error is [`LinkErrorKind::Timeout`] or
    /// [`LinkErrorKind::LinkLost`].
    async fn reconnect(&mut self) -> Result<(), LinkError>;

    /// Close the link. Further calls fail with [`LinkErrorKind::Closed`].
    async fn close(&mut self) -> Result<(), LinkError>;
}
