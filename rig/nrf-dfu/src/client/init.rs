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
    link.request(Request::Execute, link.config.timeouts.validation)
        .await?;
    Ok(plan)
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
