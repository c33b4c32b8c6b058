//! Pure decisions: given what the device reports (SELECT, CRC_GET, PRN notification) and the
//! local image, what to do next. No I/O here, so every branch is tested by table.
//!
//! Device behaviour these rely on (17.1 `nrf_dfu_req_handler.c`, 12.3 `dfu_req_handling.c`; per
//! SDK version: docs/notes/interrupted-transfers.md):
//! - SELECT/CRC_GET report everything *received*, executed or not (offset and running CRC).
//! - CREATE(2) restarts from the last executed object (`offset ← offset_last`), discarding an
//!   unexecuted partial object; CREATE(1) discards all progress, data included.
//! - EXECUTE(2) answers 0x08 OPERATION_NOT_PERMITTED iff the bytes received since the last
//!   executed object differ from the size given to the last CREATE; a re-EXECUTE of an executed
//!   object (nothing created since) succeeds.
//! - Objects are executed only after the client checked their CRC, so executed data is good.

use crate::crc::{crc32, crc32_continue};

/// A SELECT reply: the largest object the device takes, and what it holds of this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectReply {
    pub max_size: u32,
    pub offset: u32,
    pub crc: u32,
}

/// What to do with the init packet (command object) after SELECT(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitPlan {
    /// CREATE(1) and send it all (nothing usable on the device, resume off, or a different or
    /// longer init packet there). This also makes the device drop any data it holds.
    Create,
    /// The device holds the first `from` bytes of this init packet: send the rest without CREATE.
    Continue { from: u32 },
    /// The device holds all of this init packet: only EXECUTE it (a re-EXECUTE of an executed
    /// init packet succeeds and keeps data progress).
    ExecuteOnly,
}

/// Decide the init packet step, like Android (`SecureDfuImpl.sendInitPacket`) and nrfutil: resume
/// only when `0 < offset <= len` and the CRC of our first `offset` bytes matches.
pub fn plan_init(reply: SelectReply, init: &[u8], resume: bool) -> InitPlan {
    let len = init.len();
    let offset = reply.offset as usize;
    if !resume || offset == 0 || offset > len {
        return InitPlan::Create;
    }
    if crc32(&init[..offset]) != reply.crc {
        return InitPlan::Create;
    }
    if offset == len {
        InitPlan::ExecuteOnly
    } else {
        InitPlan::Continue { from: reply.offset }
    }
}

/// Where to start the firmware after SELECT(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPlan {
    /// Create objects from this object boundary on (0, or the start of the object whose data on
    /// the device does not match ours; CREATE discards that partial object).
    Start { offset: u32 },
    /// The device holds our first `offset` bytes, inside the object starting at `object_start`:
    /// send the rest of that object without CREATE.
    ContinueObject { offset: u32, object_start: u32 },
    /// The device holds our first `offset` bytes, `offset` an object boundary below the image
    /// size: EXECUTE (the last object may be complete but not executed), accepting 0x08 as
    /// "already executed", then create objects from `offset` on.
    ExecuteAtBoundary { offset: u32 },
    /// The device holds the whole image unexecuted: only the final EXECUTE remains.
    ExecuteFinal,
    /// The device reports more data than our image has: its progress belongs to another image.
    /// Re-create the init packet (which discards it) and select again.
    RestartImage,
}

/// Decide the firmware step. `max_size` must be non-zero (checked by the caller).
///
/// On a CRC mismatch the partial object is dropped (`offset − offset % max`); at an object
/// boundary the whole last object is (Android and nrfutil both assume the last full object was
/// not executed: an executed one had its CRC checked, so a mismatch means it was not).
///
/// At a boundary with a matching CRC the plan is EXECUTE then continue, accepting 0x08. The 0x08
/// (Android-DFU-Library issue #252 and PR #253) comes from a device that has a CREATE for the next
/// object but no data for it; then `offset_last == offset`, i.e. everything up to `offset` is
/// executed, which is also what a successful EXECUTE leaves. Either way the next step is CREATE at
/// `offset`. The rule holds for SDK 12 to 17 (same size check in 12.3 and 17.1), so it is not
/// limited to 15–17 as Android's comment suggests.
pub fn plan_data(reply: SelectReply, firmware: &[u8]) -> DataPlan {
    let len = firmware.len() as u64;
    let offset = reply.offset;
    let max = reply.max_size.max(1);
    if offset == 0 {
        return DataPlan::Start { offset: 0 };
    }
    if u64::from(offset) > len {
        return DataPlan::RestartImage;
    }
    let partial = offset % max;
    if crc32(&firmware[..offset as usize]) != reply.crc {
        let back = if partial != 0 { partial } else { max };
        return DataPlan::Start {
            offset: offset - back,
        };
    }
    if u64::from(offset) == len {
        DataPlan::ExecuteFinal
    } else if partial != 0 {
        DataPlan::ContinueObject {
            offset,
            object_start: offset - partial,
        }
    } else {
        DataPlan::ExecuteAtBoundary { offset }
    }
}

/// What a CRC_GET reply or PRN notification says about an object being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferCheck {
    /// The device has every byte sent so far and its CRC agrees.
    InSync,
    /// The device has fewer bytes than were sent (dropped writes, Android-DFU-Library #208) and its
    /// CRC agrees up to its offset: resend from there, without CREATE.
    Lost { resume_at: u32 },
    /// The CRC disagrees: the object must be created again.
    Mismatch,
    /// The offset is below the object's start or above what was sent.
    OutOfRange,
}

/// Compare a reported `(offset, crc)` against an object spanning from `object_start` of which
/// the bytes up to `sent` were written. `prefix` gives our CRC over the first `n` bytes.
pub fn check_transfer(
    offset: u32,
    crc: u32,
    object_start: u32,
    sent: u32,
    prefix: &PrefixCrc<'_>,
) -> TransferCheck {
    if offset < object_start || offset > sent {
        return TransferCheck::OutOfRange;
    }
    if prefix.at(offset) != Some(crc) {
        return TransferCheck::Mismatch;
    }
    if offset < sent {
        TransferCheck::Lost { resume_at: offset }
    } else {
        TransferCheck::InSync
    }
}

/// Where an object transfer stands when a CRC_GET reply or PRN notification arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectProgress {
    /// The object spans `start..end` of the init packet or firmware.
    pub start: u32,
    pub end: u32,
    /// Bytes written so far (an offset in `start..=end`).
    pub sent: u32,
    /// 1-based attempt (each CRC mismatch re-creates the object).
    pub attempt: u8,
    /// Rewinds after lost bytes so far.
    pub rewinds: u8,
}

/// How many times an object may be re-created and rewound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLimits {
    pub max_attempts: u8,
    pub max_rewinds: u8,
}

/// The next step of an object transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStep {
    /// The device holds the whole object with our CRC: EXECUTE it.
    Execute,
    /// All sent bytes arrived but the object is not finished (a PRN notification was missed
    /// and CRC_GET answered instead): keep sending from `offset`.
    SendFrom { offset: u32 },
    /// Bytes were lost (Android-DFU-Library #208): set PRN to 1 and resend from `offset` without
    /// CREATE, as `SecureDfuImpl.sendFirmware` does.
    Rewind { offset: u32 },
    /// The CRC disagrees: CREATE the object again for attempt `attempt`.
    Recreate { attempt: u8 },
    /// The CRC disagrees on the last allowed attempt.
    CrcRetriesExhausted,
    /// Bytes were lost once more than allowed.
    RewindsExhausted,
    /// The device reports an offset this object cannot be at.
    OutOfRange,
}

/// Decide what follows a reported `(offset, crc)` during an object transfer (Android's
/// per-object logic: rewind on lost bytes, re-create on mismatch, at most `max_attempts`).
pub fn next_object_step(
    offset: u32,
    crc: u32,
    progress: ObjectProgress,
    limits: RetryLimits,
    prefix: &PrefixCrc<'_>,
) -> ObjectStep {
    match check_transfer(offset, crc, progress.start, progress.sent, prefix) {
        TransferCheck::InSync if progress.sent >= progress.end => ObjectStep::Execute,
        TransferCheck::InSync => ObjectStep::SendFrom { offset },
        TransferCheck::Lost { resume_at } if progress.rewinds < limits.max_rewinds => {
            ObjectStep::Rewind { offset: resume_at }
        }
        TransferCheck::Lost { .. } => ObjectStep::RewindsExhausted,
        TransferCheck::Mismatch if progress.attempt < limits.max_attempts => ObjectStep::Recreate {
            attempt: progress.attempt + 1,
        },
        TransferCheck::Mismatch => ObjectStep::CrcRetriesExhausted,
        TransferCheck::OutOfRange => ObjectStep::OutOfRange,
    }
}

/// CRC-32 of any prefix of a byte string, with checkpoints every 4 KiB so a check costs at most
/// 4 KiB of hashing (PRN 1 over a 200 KB image checks after every packet).
#[derive(Debug, Clone)]
pub struct PrefixCrc<'a> {
    data: &'a [u8],
    /// `checkpoints[i]` = CRC of the first `i * STEP` bytes.
    checkpoints: Vec<u32>,
}

const STEP: usize = 4096;

impl<'a> PrefixCrc<'a> {
    pub fn new(data: &'a [u8]) -> PrefixCrc<'a> {
        let mut checkpoints = vec![0u32];
        let mut crc = 0;
        for chunk in data.chunks_exact(STEP) {
            crc = crc32_continue(crc, chunk);
            checkpoints.push(crc);
        }
        PrefixCrc { data, checkpoints }
    }

    /// CRC of the first `n` bytes; `None` when `n` exceeds the data.
    pub fn at(&self, n: u32) -> Option<u32> {
        let n = n as usize;
        let tail = self.data.get(..n)?;
        let index = n / STEP;
        let base = self.checkpoints.get(index).copied()?;
        Some(crc32_continue(base, tail.get(index * STEP..)?))
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
