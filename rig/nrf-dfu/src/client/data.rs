//! The firmware (data objects): SELECT(2), resume, then per object of at most `max_size` bytes
//! CREATE, stream, CRC check over the whole image so far, EXECUTE.

use super::error::{DfuError, Violation};
use super::init::select;
use super::link::Link;
use super::object::{transfer, Entry, ObjectSpan};
use super::progress::{Phase, ProgressSink};
use super::resume::{plan_data, DataPlan, PrefixCrc};
use super::session::Session;
use crate::wire::{ObjectType, Request, ResultCode};

/// How the firmware transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataOutcome {
    /// The final EXECUTE was answered with success; `plan` is where the transfer started.
    Executed { plan: DataPlan },
    /// The device holds more data than this image: the init packet must be re-created.
    Restart,
}

pub(crate) async fn send_firmware<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    firmware: &[u8],
) -> Result<DataOutcome, DfuError> {
    let len = firmware.len() as u32;
    link.enter_object(ObjectType::Data, 0);
    link.total = len;
    let reply = select(link, ObjectType::Data).await?;
    if reply.max_size == 0 {
        return Err(link.violation(None, Violation::ZeroMaxSize));
    }
    let max = reply.max_size;
    link.object_count = len.div_ceil(max);
    let plan = plan_data(reply, firmware);
    if matches!(plan, DataPlan::Start { offset } if offset < reply.offset) {
        link.stats.resume_mismatches += 1;
    }
    let prefix = PrefixCrc::new(firmware);

    // Where object creation starts, and a partial object to finish first.
    let (mut start, mut partial) = match plan {
        DataPlan::RestartImage => return Ok(DataOutcome::Restart),
        DataPlan::Start { offset } => (offset, None),
        DataPlan::ContinueObject {
            offset,
            object_start,
        } => (object_start, Some(offset)),
        DataPlan::ExecuteAtBoundary { offset } => {
            link.at.object_index = offset / max - 1;
            link.step(Phase::Execute, offset).await?;
            match link
                .request(Request::Execute, link.config.timeouts.response)
                .await
            {
                Ok(_) => {}
                // 0x08: everything up to `offset` is already executed (see `plan_data`).
                Err(DfuError::Rejected {
                    result: ResultCode::OperationNotPermitted,
                    ..
                }) => link.stats.already_executed += 1,
                Err(e) => return Err(e),
            }
            (offset, None)
        }
        DataPlan::ExecuteFinal => {
            link.at.object_index = link.object_count - 1;
            link.step(Phase::Execute, len).await?;
            execute_final(link, firmware).await?;
            return Ok(DataOutcome::Executed { plan });
        }
    };

    link.start_data_clock(partial.unwrap_or(start));
    while start < len {
        let end = start.saturating_add(max).min(len);
        link.enter_object(ObjectType::Data, start / max);
        let span = ObjectSpan {
            object_type: ObjectType::Data,
            prefix: &prefix,
            data: firmware,
            start,
            end,
        };
        let entry = match partial.take() {
            Some(offset) => Entry::ContinueAt(offset),
            None => Entry::Create,
        };
        transfer(link, &span, entry).await?;
        link.step(Phase::Execute, end).await?;
        if end == len {
            execute_final(link, firmware).await?;
        } else {
            link.request(Request::Execute, link.config.timeouts.response)
                .await?;
        }
        start = end;
    }
    Ok(DataOutcome::Executed { plan })
}

/// The final data EXECUTE, retried once when it is refused with INVALID_OBJECT, as
/// Android-DFU-Library does (`SecureDfuImpl.writeExecute(boolean allowRetry)`, called with
/// `allowRetry` for the last object only: "SD busy? Retrying...").
///
/// What SDK 17.1 does with the repeat: the refusal's settings write is queued with
/// `on_dfu_complete` as its callback, and the repeated EXECUTE waits in
/// `on_data_obj_execute_request_sched` while fstorage is busy (`nrf_dfu_req_handler.c`), so the
/// bootloader resets (`NRF_DFU_EVT_DFU_COMPLETED`, `nrf_bootloader.c` `dfu_observer`) before it
/// answers: BLE sees the link drop, UART sees silence until the validation timeout. Were the
/// repeat answered, the refused post-validation had reset the progress
/// (`nrf_dfu_validation.c` `postvalidate`: `dfu_progress_reset()`), so it would pass the size
/// check (0 == 0 - 0), find `firmware_image_offset` (0) short of `m_firmware_size_req` and
/// answer SUCCESS from the "object executed" branch, having validated nothing. So a retried
/// SUCCESS counts only if SELECT(data) then shows the whole image with our CRC; anything else
/// leaves the first refusal as the answer. The repeat gets the same validation timeout as the
/// first EXECUTE: if a bootloader does run it, it hashes the whole image again.
async fn execute_final<T: Link, S: ProgressSink>(
    session: &mut Session<'_, T, S>,
    firmware: &[u8],
) -> Result<(), DfuError> {
    let wait = session.config.timeouts.validation;
    let first = match session.request(Request::Execute, wait).await {
        Err(
            e @ DfuError::Rejected {
                result: ResultCode::InvalidObject,
                ..
            },
        ) => e,
        other => return other.map(|_| ()),
    };
    session.stats.final_execute_retries += 1;
    if session.request(Request::Execute, wait).await.is_err() {
        return Err(first);
    }
    let select = Request::Select {
        object_type: ObjectType::Data.as_u8(),
    };
    match session
        .request(select, session.config.timeouts.response)
        .await
    {
        Ok(crate::wire::Response::Select { offset, crc, .. })
            if offset as usize == firmware.len() && crc == crate::crc::crc32(firmware) =>
        {
            Ok(())
        }
        _ => Err(first),
    }
}
