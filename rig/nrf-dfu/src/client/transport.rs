//! The link between the client and a DFU bootloader: BLE (Control Point + Packet
//! characteristics) or serial (SLIP frames). A transport moves bytes and decodes nothing; the
//! client encodes requests and decodes responses with [`crate::wire`].

use std::fmt;

pub use crate::wire::Transport as TransportKind;

/// Why a transport operation failed. The kind lets a caller tell the rig's own infrastructure
/// (adapter, port, host) from the device under test.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct TransportError {
    pub kind: TransportErrorKind,
    /// What the transport was doing and what it saw, e.g. "connect to DfuTarg F1:...: no
    /// advertisement within 5 s".
    pub detail: String,
}

impl TransportError {
    pub fn new(kind: TransportErrorKind, detail: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            detail: detail.into(),
        }
    }

    pub fn link_lost(detail: impl Into<String>) -> TransportError {
        TransportError::new(TransportErrorKind::LinkLost, detail)
    }

    pub fn timeout(detail: impl Into<String>) -> TransportError {
        TransportError::new(TransportErrorKind::Timeout, detail)
    }

    pub fn closed(detail: impl Into<String>) -> TransportError {
        TransportError::new(TransportErrorKind::Closed, detail)
    }

    pub fn io(detail: impl Into<String>) -> TransportError {
        TransportError::new(TransportErrorKind::Io, detail)
    }
}

/// The class of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// The transport's own wait ran out (e.g. no advertisement found while reconnecting, a
    /// write that never completed). Response timeouts are the client's, not this.
    Timeout,
    /// The peer went away: BLE disconnection, or the device reset (serial: port vanished or
    /// the virtual device left DFU mode). After a final EXECUTE this is the expected outcome.
    LinkLost,
    /// The transport was closed on our side (by [`Transport::close`] or its owner).
    Closed,
    /// The host side failed: adapter, port, driver, permissions.
    Io,
}

impl TransportErrorKind {
    /// Whether the failure lies with the rig rather than with the device under test.
    pub fn is_infrastructure(self) -> bool {
        matches!(self, TransportErrorKind::Closed | TransportErrorKind::Io)
    }

    pub fn label(self) -> &'static str {
        match self {
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::LinkLost => "link lost",
            TransportErrorKind::Closed => "closed",
            TransportErrorKind::Io => "I/O error",
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A connection to a DFU bootloader, as the client needs it.
///
/// All device-to-host traffic arrives through [`Transport::receive`] in order: responses to
/// control-point requests and unsolicited packet receipt notifications alike (on BLE both are
/// Control Point notifications, on serial both are SLIP frames; PRN notifications even use the
/// CRC_GET response layout), so only the client, which knows what it asked, can tell them apart.
///
/// The futures are not required to be `Send`: campaigns run on a current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// BLE or serial: selects the dialect-dependent parts of the protocol (MTU_GET, PING).
    fn kind(&self) -> TransportKind;

    /// Largest object-data payload per write: BLE ATT MTU − 3; serial `(mtu − 1) / 2 − 1`
    /// (nrfutil's rule, 64 for the 131-byte UART MTU of SDK 15+). On serial the client may lower
    /// it further from the device's MTU_GET answer.
    fn max_write_len(&self) -> usize;

    /// Whether [`Transport::receive`] reports the device's reset after the final EXECUTE as
    /// [`TransportErrorKind::LinkLost`]. BLE does (disconnection); a plain UART cannot see a
    /// reset, so the client then treats the final EXECUTE response as the end, like nrfutil.
    fn observes_link_loss(&self) -> bool {
        true
    }

    /// Write one control-point request (BLE: Control Point write with response; serial: one
    /// SLIP frame). Returns once the bytes are handed to the link.
    async fn send_request(&mut self, request: &[u8]) -> Result<(), TransportError>;

    /// Write one chunk of object data (BLE: Packet characteristic write without response;
    /// serial: an OBJECT_WRITE frame `08 <chunk>`). Applies the link's flow control.
    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), TransportError>;

    /// The next message from the device, waiting as long as it takes (the client applies its
    /// timeouts around this call). Must be cancel-safe: dropping the future before it completes
    /// loses no message. Returns [`TransportErrorKind::LinkLost`] once the link is gone.
    async fn receive(&mut self) -> Result<Vec<u8>, TransportError>;

    /// Re-establish the link to the bootloader after it reset (BLE: rescan and connect,
    /// enable notifications; serial: reopen the port). One attempt; the client repeats it
    /// within its reconnect timeout while the error is [`TransportErrorKind::Timeout`] or
    /// [`TransportErrorKind::LinkLost`].
    async fn reconnect(&mut self) -> Result<(), TransportError>;

    /// Close the link. Further calls fail with [`TransportErrorKind::Closed`].
    async fn close(&mut self) -> Result<(), TransportError>;
}
