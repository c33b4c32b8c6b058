//! Start of an image session: serial PING until the bootloader answers, SET_PRN, serial MTU_GET
//! (pc-nrfutil 6.1.7 `dfu_transport_serial.py` `open`: ping, `__set_prn`, `__get_mtu`).

use tokio::time::Instant;

use super::error::{DfuError, Violation, Waiting};
use super::link::Link;
use super::progress::{Phase, ProgressSink};
use super::session::{word_aligned, Session};
use crate::wire::{Request, Response};

pub(crate) async fn prepare<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    ping_id: &mut u8,
) -> Result<(), DfuError> {
    link.step(Phase::Setup, 0).await?;
    let serial = link.kind == crate::wire::Transport::Uart;
    if serial && link.config.serial_ping {
        ping(link, ping_id).await?;
    }
    // PRN lives in a static of the bootloader's transport and survives reconnections, so it is
    // always set (Android does the same).
    link.set_prn(link.config.prn).await?;
    if serial && link.config.serial_mtu_query {
        mtu(link).await?;
    }
    Ok(())
}

/// PING until answered, within the reconnect timeout. Any answer, an error result included,
/// shows the bootloader is up (nrfutil accepts those too).
async fn ping<T: Link, S: ProgressSink>(
    link: &mut Session<'_, T, S>,
    ping_id: &mut u8,
) -> Result<(), DfuError> {
    let limit = link.config.timeouts.reconnect;
    let deadline = Instant::now() + limit;
    loop {
        *ping_id = ping_id.wrapping_add(1);
        let wait = link
            .config
            .timeouts
            .response
            .min(deadline.saturating_duration_since(Instant::now()));
        match link.request(Request::Ping { id: *ping_id }, wait).await {
            Ok(_) | Err(DfuError::Rejected { .. }) => return Ok(()),
            Err(DfuError::Timeout { .. }) if Instant::now() < deadline => continue,
            Err(DfuError::Timeout { .. }) => {
                return Err(link.timeout(Waiting::Reconnect, limit));
            }
            Err(e) => return Err(e),
        }
    }
}

/// MTU_GET, and nrfutil's OBJECT_WRITE payload rule `(mtu − 1) / 2 − 1`: an OBJECT_WRITE frame
/// (opcode + payload) must fit the device's SLIP buffer even if every byte were escaped.
/// Rounded down to whole words ([`word_aligned`]). A bootloader that refuses MTU_GET leaves the
/// transport's own limit in place.
async fn mtu<T: Link, S: ProgressSink>(link: &mut Session<'_, T, S>) -> Result<(), DfuError> {
    match link
        .request(Request::MtuGet, link.config.timeouts.response)
        .await
    {
        Ok(Response::Mtu { mtu }) => {
            let payload = (usize::from(mtu).saturating_sub(1) / 2).saturating_sub(1);
            if payload == 0 {
                return Err(link.violation(None, Violation::MtuTooSmall { mtu }));
            }
            link.write_len = link.write_len.min(word_aligned(payload));
            Ok(())
        }
        Ok(_) | Err(DfuError::Rejected { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
