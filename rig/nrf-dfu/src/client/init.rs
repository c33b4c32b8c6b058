//! The init packet (command object): SELECT(1), resume or CREATE, stream, CRC check, EXECUTE.

use super::error::{DfuError, Violation};
use super::link::Link;
use super::object::{transfer, Entry, ObjectSpan};
use super::progress::{Phase, ProgressSink};
use super::resume::{plan_init, InitPlan, PrefixCrc, SelectReply};
use super::session::Session;
use crate::wire::{ObjectType, Opcode, Request, Response};

/// Send the init packet and execute it. `force_create` ignores what the device holds (used to
/// make it discard progress that belongs to another image). Returns the plan that was followed.
pub(crate) async fn send_init_packet<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    init: &[u8],
    force_create: bool,
) -> Result<InitPlan, DfuError> {
    link.enter_object(ObjectType::Command, 0);
    link.object_count = 1;
    link.total = init.len() as u32;
    let reply = select(link, ObjectType::Command).await?;
    // An init packet above the reported maximum is still offered: the device's CREATE answer
    // (INSUFFICIENT_RESOURCES) is the verdict a test rig wants to record.
    let plan = plan_init(reply, init, link.config.resume && !force_create);
    let prefix = PrefixCrc::new(init);
    let span = ObjectSpan {
        object_type: ObjectType::Command,
        prefix: &prefix,
        data: init,
        start: 0,
        end: init.len() as u32,
    };
    match plan {
        InitPlan::Create => transfer(link, &span, Entry::Create).await?,
        InitPlan::Continue { from } => transfer(link, &span, Entry::ContinueAt(from)).await?,
        InitPlan::ExecuteOnly if !link.config.reexecute_init => return Ok(plan),
        InitPlan::ExecuteOnly => {}
    }
    link.step(Phase::Execute, span.end).await?;
    let executed = link
        .request(Request::Execute, link.config.timeouts.validation)
        .await;
    match executed {
        // A held init packet can be torn while its CRC still matches: every SDK's settings CRC
        // leaves the init command out (12.3 `nrf_dfu_settings.c`
        // `nrf_dfu_settings_calculate_crc`, 17.1 `settings_crc_get`), and the command offset and
        // CRC are kept beside it, so a cut during the settings write can keep them and lose the
        // bytes. The bootloader then refuses the EXECUTE; sending the packet whole once more
        // (CREATE discards the held one) recovers, and a packet refused for itself is refused
        // again.
        Err(DfuError::Rejected { .. }) if plan != InitPlan::Create => {
            transfer(link, &span, Entry::Create).await?;
            link.step(Phase::Execute, span.end).await?;
            link.request(Request::Execute, link.config.timeouts.validation)
                .await?;
            Ok(InitPlan::Create)
        }
        Err(e) => Err(e),
        Ok(_) => Ok(plan),
    }
}

/// SELECT an object type and read its reply.
pub(crate) async fn select<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    object_type: ObjectType,
) -> Result<SelectReply, DfuError> {
    link.step(Phase::Select, 0).await?;
    match link
        .request(Request::select(object_type), link.config.timeouts.response)
        .await?
    {
        Response::Select {
            max_size,
            offset,
            crc,
        } => Ok(SelectReply {
            max_size,
            offset,
            crc,
        }),
        other => Err(link.violation(
            Some(Opcode::ObjectSelect),
            Violation::Unexpected {
                bytes: other.encode(),
                waiting: "the SELECT response".to_string(),
            },
        )),
    }
}
