//! Sending one object (the init packet, or one data object): CREATE, stream in chunks with PRN
//! checks, CRC_GET, and the recovery loop for lost bytes and CRC mismatches (Android's per-object
//! logic in `SecureDfuImpl.sendFirmware`; not pc-nrfutil 6.1.7's loop in `dfu_transport_ble.py`
//! `send_firmware`, whose unconditional `break` means it never retries).

use super::error::{DfuError, Violation};
use super::link::Link;
use super::progress::{Phase, ProgressSink};
use super::resume::{
    check_transfer, next_object_step, ObjectProgress, ObjectStep, PrefixCrc, RetryLimits,
    TransferCheck,
};
use super::session::Session;
use crate::wire::{ObjectType, Opcode, Request, ResultCode};

/// Writes a bootloader always has room for right after a data CREATE: its fstorage queue holds 16
/// operations, one taken by the CREATE's page erase, and 17 RX buffers back them (17.1
/// `NRF_FSTORAGE_SD_QUEUE_SIZE` in the `pca10040_s132_ble` `sdk_config.h`, `MAX_DFU_BUFFERS` in
/// `nrf_dfu_ble.c`; writes beyond them are dropped, Android-DFU-Library #208).
pub const WRITES_ALWAYS_ACCEPTED_AFTER_CREATE: u32 = 15;

/// fstorage operations of one settings write with its backup: an erase and a store for each of
/// the two pages (17.1 `nrf_dfu_settings.c` `settings_write`, called by
/// `nrf_dfu_settings_write_and_backup` for the settings page and again for the backup page).
pub const SETTINGS_WRITE_AND_BACKUP_OPS: u32 = 4;

/// Writes sure to be kept right after a data CREATE: [`WRITES_ALWAYS_ACCEPTED_AFTER_CREATE`],
/// less the queue entries a settings write and backup may still hold when the bootloader writes
/// its settings after every data EXECUTE (`NRF_DFU_SAVE_PROGRESS_IN_FLASH=1`).
pub fn writes_always_accepted_after_create(settings_write_per_data_object: bool) -> u32 {
    if settings_write_per_data_object {
        WRITES_ALWAYS_ACCEPTED_AFTER_CREATE - SETTINGS_WRITE_AND_BACKUP_OPS
    } else {
        WRITES_ALWAYS_ACCEPTED_AFTER_CREATE
    }
}

/// Wait before repeating a data CREATE refused because the flash queue was full.
const CREATE_BUSY_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);

/// One object of an image: bytes `start..end` of `prefix`'s data.
pub(crate) struct ObjectSpan<'d, 'p> {
    pub object_type: ObjectType,
    pub prefix: &'p PrefixCrc<'d>,
    pub data: &'d [u8],
    pub start: u32,
    pub end: u32,
}

/// How the object transfer begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// CREATE the object, then send it from its start.
    Create,
    /// The device already holds the object up to this offset: send the rest without CREATE.
    ContinueAt(u32),
}

/// Send the object until the device holds all of it with our CRC (EXECUTE is the caller's).
pub(crate) async fn transfer<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    span: &ObjectSpan<'_, '_>,
    entry: Entry,
) -> Result<(), DfuError> {
    let limits = RetryLimits {
        max_attempts: link.config.max_object_attempts.max(1),
        max_rewinds: link.config.max_rewinds_per_object,
    };
    // Rewinds since the device's offset last moved forward: a device whose flash is slower
    // than the link loses bytes over and over while still making progress.
    let mut rewinds: u8 = 0;
    let mut last_rewind: Option<u32> = None;
    let mut from = match entry {
        Entry::Create => None,
        Entry::ContinueAt(offset) => Some(offset),
    };
    // CREATEs sent for this object: only the first follows the previous object's EXECUTE, whose
    // answer promises a drained queue; a re-CREATE after a failed attempt can find the
    // attempt's writes still queued.
    let mut creates = 0u32;
    loop {
        let (start_at, fresh) = match from.take() {
            Some(offset) => (offset, false),
            None => {
                create(link, span).await?;
                creates += 1;
                (span.start, creates == 1)
            }
        };
        let (sent, report) = stream(link, span, start_at).await?;
        let (offset, crc) = match report {
            Some(report) => report,
            None => {
                link.step(Phase::CrcCheck, sent).await?;
                link.crc_get().await?
            }
        };
        let progress = ObjectProgress {
            start: span.start,
            end: span.end,
            sent,
            attempt: link.attempt,
            rewinds,
        };
        match next_object_step(offset, crc, progress, limits, span.prefix) {
            ObjectStep::Execute => return Ok(()),
            ObjectStep::SendFrom { offset } => from = Some(offset),
            ObjectStep::Rewind { offset } => {
                if last_rewind.is_some_and(|last| offset > last) {
                    rewinds = 0;
                }
                last_rewind = Some(offset);
                if rewinds > 0 {
                    // No progress since the last rewind: give the flash time to drain.
                    let factor = 1u32 << (rewinds - 1).min(4);
                    tokio::time::sleep(link.config.rewind_backoff * factor).await;
                }
                let room =
                    writes_always_accepted_after_create(link.config.settings_write_per_data_object)
                        * link.write_len.max(1) as u32;
                // Object 0 is left out: its CREATE follows the init packet's EXECUTE, whose
                // settings write may still hold queue entries.
                if fresh
                    && span.object_type == ObjectType::Data
                    && span.start > 0
                    && offset.saturating_sub(span.start) < room.min(sent - span.start)
                {
                    link.stats.early_losses += 1;
                }
                rewinds += 1;
                link.stats.rewinds += 1;
                // Android drops PRN to 1 after lost bytes. Sent even when PRN already is 1:
                // SET_PRN restarts the device's counter, which an uncounted (dropped) write
                // has put out of step with ours.
                link.set_prn(1).await?;
                from = Some(offset);
            }
            ObjectStep::Recreate { attempt } => {
                rewinds = 0;
                last_rewind = None;
                link.attempt = attempt;
                link.stats.crc_retries += 1;
                // Android keeps its PRN here. A mismatch from a device that does not corrupt
                // data comes from writes it dropped with later ones accepted (17.1 fstorage
                // full) or from SDK 12 reverting its offset when a flash store fails
                // (`dfu_req_handling.c`); both are cured by pacing the retry, so it runs with
                // PRN 1 as after lost bytes.
                if link.prn != 1 {
                    link.set_prn(1).await?;
                }
            }
            ObjectStep::CrcRetriesExhausted => {
                return Err(DfuError::CrcMismatch {
                    at: link.at.clone(),
                    attempts: link.attempt,
                    device_offset: offset,
                    device_crc: crc,
                    expected_crc: span.prefix.at(offset).unwrap_or(0),
                })
            }
            ObjectStep::RewindsExhausted => {
                return Err(DfuError::TooManyRewinds {
                    at: link.at.clone(),
                    rewinds,
                    device_offset: offset,
                    sent,
                })
            }
            ObjectStep::OutOfRange => {
                return Err(link.violation(
                    Some(Opcode::CrcGet),
                    Violation::OffsetOutOfRange {
                        reported: offset,
                        low: span.start,
                        high: sent,
                    },
                ))
            }
        }
    }
}

async fn create<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    span: &ObjectSpan<'_, '_>,
) -> Result<(), DfuError> {
    let size = span.end - span.start;
    let mut busy = 0;
    loop {
        link.step(Phase::Create, span.start).await?;
        match link
            .request(
                Request::create(span.object_type, size),
                link.config.timeouts.create,
            )
            .await
        {
            Ok(_) => break,
            // The erase could not be queued: the flash queue is full of the previous object's
            // writes (SDK 12.3 `dfu_req_handling.c` `nrf_dfu_data_req`, 17.1
            // `nrf_dfu_req_handler.c` `on_data_obj_create_request`: a failed
            // `nrf_dfu_flash_erase` answers INVALID_OBJECT; Android-DFU-Library #66 and #86).
            // It drains by itself: wait and ask again.
            Err(DfuError::Rejected {
                result: ResultCode::InvalidObject,
                ..
            }) if span.object_type == ObjectType::Data
                && busy < link.config.create_busy_retries =>
            {
                busy += 1;
                link.stats.busy_creates += 1;
                tokio::time::sleep(CREATE_BUSY_BACKOFF).await;
            }
            Err(e) => return Err(e),
        }
    }
    if span.object_type == ObjectType::Data && !link.config.prepare_object_delay.is_zero() {
        tokio::time::sleep(link.config.prepare_object_delay).await;
    }
    Ok(())
}

/// Write `from..end` in chunks. Returns how far it got and, if a PRN check stopped it, the
/// device's `(offset, crc)` that did not agree (or, after a missed notification, the CRC_GET
/// answer whatever it said).
async fn stream<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    span: &ObjectSpan<'_, '_>,
    from: u32,
) -> Result<(u32, Option<(u32, u32)>), DfuError> {
    let mut sent = from;
    let chunk_len = link.write_len.max(1) as u32;
    while sent < span.end {
        let next = (sent + chunk_len).min(span.end);
        link.step(Phase::Write, sent).await?;
        let due = link.write(&span.data[sent as usize..next as usize]).await?;
        sent = next;
        if !due {
            continue;
        }
        let report = match link.wait_notification().await? {
            Some(report) => report,
            None => {
                link.step(Phase::CrcCheck, sent).await?;
                return Ok((sent, Some(link.crc_get().await?)));
            }
        };
        let (offset, crc) = report;
        if check_transfer(offset, crc, span.start, sent, span.prefix) != TransferCheck::InSync {
            // A notification is only a hint: 17.1 answers a write that fstorage could not
            // queue with a zero-initialised response (offset 0, CRC 0). CRC_GET is the truth.
            link.step(Phase::CrcCheck, sent).await?;
            return Ok((sent, Some(link.crc_get().await?)));
        }
    }
    Ok((sent, None))
}
