//! What goes in and out of the virtual device on its DFU surfaces, and when.
//!
//! Time is [`SimTime`]: device time since the [`crate::Device`] was created. Every call passes
//! the current time; replies carry the time they are ready (docs/DEVICE-CONTRACT.md).

use std::time::Duration;

/// Device time since the device was created.
pub type SimTime = Duration;

/// Bytes the device sends back on the control point (BLE notification or serial frame
/// payload), and the time they are ready. A reply whose `ready_at` lies after a reset, power
/// loss or link loss of the device is void: drivers drop it (see [`crate::Device::epoch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub ready_at: SimTime,
}

/// Why a data packet never reached the request handler or the flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// BLE 15+: none of the RX buffers is free (each is held until its flash write completes).
    RxBuffersFull,
    /// The flash (fstorage) queue is full: the write is not queued, offset and CRC stay.
    FlashQueueFull,
    /// fstorage refuses a write whose length is not a multiple of 4 (`nrf_fstorage_write`
    /// returns NRF_ERROR_INVALID_LENGTH); handled like a full queue.
    UnalignedLength,
    /// Defect `drop-packets-after-create`: the packet arrived while the CREATE's erase ran.
    DuringCreateErase,
    /// The device is not in DFU mode on this transport (off, booting, application, closing).
    NotListening,
}

/// What became of one BLE Packet write (write without response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketOutcome {
    /// `None` when the packet was accepted (queued to flash, or taken as init packet bytes, or
    /// refused by the handler with an error reported only at a PRN boundary).
    pub dropped: Option<DropReason>,
    /// A PRN notification (`60 03 ...`) the packet triggered.
    pub notification: Option<Reply>,
}

impl PacketOutcome {
    pub(crate) fn dropped(reason: DropReason) -> PacketOutcome {
        PacketOutcome {
            dropped: Some(reason),
            notification: None,
        }
    }

    pub fn is_accepted(&self) -> bool {
        self.dropped.is_none()
    }
}

/// Why the firmware (not the outside world) reset the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FirmwareReset {
    /// The DFU finished (final EXECUTE, settings written): 17.1 `on_dfu_complete`.
    DfuCompleted,
    /// ABORT (0x0C): 17.1 `on_abort_request`, `dfu_observer` → `bootloader_reset`.
    Aborted,
    /// No command CREATE / data EXECUTE for the inactivity timeout: 17.1 `inactivity_timeout`.
    Inactivity,
    /// An activation finished (or a step needs the MBR): 17.1 `nrf_bootloader_fw_activate`.
    Activation,
    /// The application asked for it (buttonless DFU, `NVIC_SystemReset`).
    Application,
}

/// One flash operation the device ran (or started), for power-cut sweeps and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashOpRecord {
    /// Counts every flash operation the device started since the journal was switched on.
    pub index: u64,
    pub start: SimTime,
    pub end: SimTime,
    /// "page erase at 0x7f000", "write of 244 bytes at 0x27000", ...
    pub what: String,
}

impl FlashOpRecord {
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}
