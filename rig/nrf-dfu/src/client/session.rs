//! One image's session over a transport: requests with timeouts, reply decoding per dialect,
//! the PRN counter, and progress events. Everything above this works in protocol steps.

use std::time::Duration;

use tokio::time::{timeout_at, Instant};

use super::config::DfuConfig;
use super::error::{DfuError, Location, Violation, Waiting};
use super::link::{Link, LinkError, LinkErrorKind, Transport};
use super::progress::{Control, Phase, ProgressEvent, ProgressSink};
use crate::wire::{ObjectType, Opcode, Request, Response, ResponseError, ResultCode};
use crate::SdkVersion;

/// Counters an image's report is built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Object bytes written (init packet and firmware, resends included).
    pub bytes_written: u64,
    /// Objects re-created after a CRC mismatch.
    pub crc_retries: u32,
    /// Rewinds after lost bytes.
    pub rewinds: u32,
    /// PRN notifications that did not come in time (recovered with CRC_GET).
    pub missed_notifications: u32,
    /// Messages discarded as late PRN notifications or late answers to timed-out requests.
    pub strays: u32,
    /// Data CREATEs repeated because the device's flash queue was full (INVALID_OBJECT).
    pub busy_creates: u32,
    /// Resume EXECUTEs at an object boundary answered 0x08, taken as "already executed".
    pub already_executed: u32,
    /// Resumes where the device held firmware bytes whose CRC disagreed with ours, so they
    /// were sent again (on a link that does not corrupt data: the device's report was wrong).
    pub resume_mismatches: u32,
    /// Rewinds right after a data CREATE where the device had kept fewer writes than it always
    /// has room for ([`super::object::WRITES_ALWAYS_ACCEPTED_AFTER_CREATE`]): it dropped writes
    /// it could have queued, which queue pressure does not explain.
    pub early_losses: u32,
    /// Final data EXECUTEs sent a second time after an INVALID_OBJECT (see `data.rs`
    /// `execute_final`).
    pub final_execute_retries: u32,
}

/// Object data goes to flash through fstorage, which refuses writes whose length is not a
/// multiple of 4 (17.1 `nrf_fstorage_write`): the write is lost. So payloads are rounded down
/// to whole words, as the iOS library does since IOS-DFU-Library #358 / PR #366 (an MTU of 185
/// would otherwise give 182-byte packets; SDK 14's serial MTU 257 gives nrfutil 127 bytes).
pub(crate) fn word_aligned(len: usize) -> usize {
    if len >= 4 {
        len & !3
    } else {
        len
    }
}

/// One image's session over a [`Link`].
pub(crate) struct Session<'a, T, S> {
    pub transport: &'a mut T,
    sink: &'a mut S,
    pub config: &'a DfuConfig,
    pub kind: Transport,
    /// Where the client is; every error and event is stamped with it.
    pub at: Location,
    pub object_count: u32,
    pub attempt: u8,
    pub total: u32,
    /// Object-data payload per write.
    pub write_len: usize,
    /// PRN value set on the device, and packets counted since its counter last restarted
    /// (CREATE or SET_PRN restart it, on BLE and serial alike).
    pub prn: u16,
    since_prn_restart: u32,
    /// Once PRN was on, a CRC-layout success arriving out of turn is a late notification.
    prn_was_on: bool,
    /// Opcodes of requests whose response timed out; one late answer each is discarded.
    late: Vec<u8>,
    /// The next wait follows a data CREATE whose page erase may still be running.
    erase_pending: bool,
    data_started: Option<(Instant, u32)>,
    pub stats: LinkStats,
}

impl<'a, T: Link, S: ProgressSink> Session<'a, T, S> {
    pub fn new(
        transport: &'a mut T,
        sink: &'a mut S,
        config: &'a DfuConfig,
        at: Location,
    ) -> Session<'a, T, S> {
        let kind = transport.transport();
        let write_len = word_aligned(transport.max_write_len());
        Session {
            transport,
            sink,
            config,
            kind,
            at,
            object_count: 1,
            attempt: 1,
            total: 0,
            write_len,
            prn: 0,
            since_prn_restart: 0,
            prn_was_on: false,
            late: Vec::new(),
            erase_pending: false,
            data_started: None,
            stats: LinkStats::default(),
        }
    }

    pub fn sdk(&self) -> Option<SdkVersion> {
        self.config.sdk
    }

    /// Move to `phase` at `offset` and tell the sink; `Err(Aborted)` if it says so.
    pub async fn step(&mut self, phase: Phase, offset: u32) -> Result<(), DfuError> {
        self.at.phase = phase;
        self.at.offset = offset;
        let event = ProgressEvent {
            image_index: self.at.image_index,
            image_count: self.at.image_count,
            image_kind: self.at.image_kind,
            phase,
            object: self.at.object,
            object_index: self.at.object_index,
            object_count: self.object_count,
            attempt: self.attempt,
            offset,
            total: self.total,
            bytes_per_second: self.rate(offset),
        };
        match self.sink.on_progress(&event).await {
            Control::Continue => Ok(()),
            Control::Abort => Err(DfuError::Aborted {
                at: self.at.clone(),
            }),
        }
    }

    /// Start the throughput clock for the firmware at `offset`.
    pub fn start_data_clock(&mut self, offset: u32) {
        self.data_started = Some((Instant::now(), offset));
    }

    fn rate(&self, offset: u32) -> f64 {
        match (self.at.object, self.data_started) {
            (Some(ObjectType::Data), Some((start, base))) => {
                let secs = start.elapsed().as_secs_f64();
                if secs > 0.0 {
                    f64::from(offset.saturating_sub(base)) / secs
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
    }

    pub fn enter_object(&mut self, object: ObjectType, index: u32) {
        self.at.object = Some(object);
        self.at.object_index = index;
        self.attempt = 1;
    }

    /// Send `request` and wait up to `wait` for its successful response. A data CREATE also
    /// stretches the next wait to the CREATE timeout (the erase it queued may still run).
    pub async fn request(
        &mut self,
        request: Request,
        wait: Duration,
    ) -> Result<Response, DfuError> {
        let op = request.opcode();
        let bytes = request.encode();
        self.transport
            .send_request(&bytes)
            .await
            .map_err(|e| self.transport_error(Some(op), e))?;
        match request {
            Request::Create { .. } | Request::SetPrn { .. } => self.since_prn_restart = 0,
            _ => {}
        }
        let response = self.await_response(op, wait).await?;
        if let Request::Create { object_type, .. } = request {
            self.erase_pending = object_type == ObjectType::Data.as_u8();
        }
        Ok(response)
    }

    /// Timeout for the next wait: the CREATE timeout right after a data CREATE.
    fn wait_for(&mut self, wait: Duration) -> Duration {
        if std::mem::take(&mut self.erase_pending) {
            wait.max(self.config.timeouts.create)
        } else {
            wait
        }
    }

    async fn await_response(&mut self, op: Opcode, wait: Duration) -> Result<Response, DfuError> {
        let wait = self.wait_for(wait);
        let deadline = Instant::now() + wait;
        loop {
            let bytes = match timeout_at(deadline, self.transport.receive()).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(e)) => return Err(self.transport_error(Some(op), e)),
                Err(_) => {
                    self.late.push(op.as_u8());
                    return Err(self.timeout(Waiting::Response(op), wait));
                }
            };
            match Response::decode(&bytes, op) {
                Ok(response) => return self.accept(op, response),
                Err(error) => {
                    if self.is_stray(&bytes) {
                        self.stats.strays += 1;
                        continue;
                    }
                    return Err(self.decode_error(op, bytes, error));
                }
            }
        }
    }

    /// A message that answers nothing we wait for but is explained by the protocol: a late PRN
    /// notification (same layout as a CRC_GET reply), or a late answer to a timed-out request.
    fn is_stray(&mut self, bytes: &[u8]) -> bool {
        let Some(&op) = bytes.get(1) else {
            return false;
        };
        if let Some(i) = self.late.iter().position(|&late| late == op) {
            self.late.remove(i);
            return true;
        }
        self.prn_was_on
            && matches!(
                Response::decode(bytes, Opcode::CrcGet),
                Ok(Response::Crc { .. })
            )
    }

    /// Turn a decoded reply into success or a rejection (per dialect).
    fn accept(&self, op: Opcode, response: Response) -> Result<Response, DfuError> {
        match response {
            Response::Error { result, .. } => Err(self.rejected(op, result, None)),
            Response::ExtendedError { ext, .. } => {
                if let Some(sdk) = self.sdk().filter(|sdk| !sdk.has_extended_errors()) {
                    return Err(
                        self.violation(Some(op), Violation::ExtendedErrorOutOfDialect { ext, sdk })
                    );
                }
                Err(self.rejected(op, ResultCode::ExtError, Some(ext)))
            }
            ok => Ok(ok),
        }
    }

    fn decode_error(&self, op: Opcode, bytes: Vec<u8>, error: ResponseError) -> DfuError {
        let violation = match error {
            ResponseError::OtherOpcode { .. } => Violation::Unexpected {
                bytes,
                waiting: format!("the {op} response"),
            },
            source => Violation::Malformed { bytes, source },
        };
        self.violation(Some(op), violation)
    }

    /// SET_PRN to `count` (restarts the device's counter).
    pub async fn set_prn(&mut self, count: u16) -> Result<(), DfuError> {
        self.request(Request::SetPrn { count }, self.config.timeouts.response)
            .await?;
        self.prn = count;
        self.prn_was_on |= count > 0;
        Ok(())
    }

    /// CRC_GET: the device's offset and CRC of everything received.
    pub async fn crc_get(&mut self) -> Result<(u32, u32), DfuError> {
        match self
            .request(Request::CrcGet, self.config.timeouts.response)
            .await?
        {
            Response::Crc { offset, crc } => Ok((offset, crc)),
            other => Err(self.violation(
                Some(Opcode::CrcGet),
                Violation::Unexpected {
                    bytes: other.encode(),
                    waiting: "the CRC_GET response".to_string(),
                },
            )),
        }
    }

    /// Write one chunk of object data; true when a PRN notification is now due.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<bool, DfuError> {
        self.transport
            .write_data(chunk)
            .await
            .map_err(|e| self.transport_error(Some(Opcode::ObjectWrite), e))?;
        self.stats.bytes_written += chunk.len() as u64;
        self.since_prn_restart += 1;
        Ok(self.prn > 0 && self.since_prn_restart.is_multiple_of(u32::from(self.prn)))
    }

    /// Wait for the due PRN notification: `Some((offset, crc))`, or `None` if it did not come
    /// within the response timeout (lost notification or a dropped, uncounted write).
    pub async fn wait_notification(&mut self) -> Result<Option<(u32, u32)>, DfuError> {
        let wait = self.wait_for(self.config.timeouts.response);
        let deadline = Instant::now() + wait;
        loop {
            let bytes = match timeout_at(deadline, self.transport.receive()).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(e)) => return Err(self.transport_error(Some(Opcode::ObjectWrite), e)),
                Err(_) => {
                    self.stats.missed_notifications += 1;
                    // A notification may still arrive; it is then discarded as a stray.
                    return Ok(None);
                }
            };
            // Notifications use the CRC_GET response layout, errors included (`60 03 <err>`).
            match Response::decode(&bytes, Opcode::CrcGet) {
                Ok(Response::Crc { offset, crc }) => return Ok(Some((offset, crc))),
                Ok(other) => {
                    return match self.accept(Opcode::ObjectWrite, other) {
                        Err(e) => Err(e),
                        Ok(ok) => Err(self.violation(
                            Some(Opcode::ObjectWrite),
                            Violation::Unexpected {
                                bytes: ok.encode(),
                                waiting: "a packet receipt notification".to_string(),
                            },
                        )),
                    }
                }
                Err(error) => {
                    if self.is_stray(&bytes) {
                        self.stats.strays += 1;
                        continue;
                    }
                    return Err(self.decode_error(Opcode::ObjectWrite, bytes, error));
                }
            }
        }
    }

    /// After the final EXECUTE: wait for the link loss that shows the device reset.
    pub async fn wait_link_loss(&mut self, wait: Duration) -> Result<(), DfuError> {
        let deadline = Instant::now() + wait;
        loop {
            match timeout_at(deadline, self.transport.receive()).await {
                Err(_) => return Err(self.timeout(Waiting::LinkLoss, wait)),
                Ok(Err(e)) if e.kind == LinkErrorKind::LinkLost => return Ok(()),
                Ok(Err(e)) => return Err(self.transport_error(None, e)),
                Ok(Ok(bytes)) => {
                    if self.is_stray(&bytes) {
                        self.stats.strays += 1;
                        continue;
                    }
                    return Err(self.violation(
                        None,
                        Violation::Unexpected {
                            bytes,
                            waiting: "the device to reset".to_string(),
                        },
                    ));
                }
            }
        }
    }

    pub fn rejected(
        &self,
        op: Opcode,
        result: ResultCode,
        ext: Option<crate::wire::ExtError>,
    ) -> DfuError {
        DfuError::rejected(self.at.clone(), op, result, ext, self.sdk())
    }

    pub fn violation(&self, op: Option<Opcode>, violation: Violation) -> DfuError {
        DfuError::Protocol {
            at: self.at.clone(),
            op,
            violation,
        }
    }

    pub fn timeout(&self, waiting: Waiting, after: Duration) -> DfuError {
        DfuError::Timeout {
            at: self.at.clone(),
            waiting,
            after,
        }
    }

    pub fn transport_error(&self, op: Option<Opcode>, source: LinkError) -> DfuError {
        DfuError::Link {
            at: self.at.clone(),
            op,
            source,
        }
    }
}
