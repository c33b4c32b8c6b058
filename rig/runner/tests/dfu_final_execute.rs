//! The final data EXECUTE refused with INVALID_OBJECT (finding 17): the client retries it once,
//! as Android-DFU-Library's `SecureDfuImpl.writeExecute(allowRetry)` does.
//!
//! What an SDK 17.1 bootloader does with the repeat: the refusal's settings write is queued
//! with `on_dfu_complete` as its callback, and the repeated EXECUTE waits in
//! `on_data_obj_execute_request_sched` while fstorage is busy, so the bootloader resets
//! (`NRF_DFU_EVT_DFU_COMPLETED`, nrf_bootloader.c `dfu_observer`) before it answers: the model
//! does the same (first test). Had it answered, its post-validation had reset the progress
//! (`nrf_dfu_validation.c` `postvalidate`: `dfu_progress_reset()`), so the repeat would take the
//! handler's "object executed" branch and answer SUCCESS having validated nothing; the second
//! test has a link answer so, and the client must not believe it.

mod support;

use nrf_dfu::client::{DfuClient, DfuConfig, DfuError, Link, LinkError};
use nrf_dfu::wire::{Opcode, ResultCode, Transport};
use nrf_dfu::SdkVersion;
use rig::inproc::{share, SharedDevice, SimClock, VirtualSerialLink};
use support::*;
use virtual_nrf52::standin;

/// A pass-through link that keeps every request and response. With `answer_repeat`, it answers
/// a second final EXECUTE as the 17.1 handler would if the repeat ran before the reset: SUCCESS,
/// and a data SELECT showing nothing received.
struct Recording<T> {
    inner: T,
    sent: Vec<Vec<u8>>,
    received: Vec<Vec<u8>>,
    answer_repeat: bool,
    refused: bool,
    queued: Option<Vec<u8>>,
}

impl<T> Recording<T> {
    fn new(inner: T, answer_repeat: bool) -> Recording<T> {
        Recording {
            inner,
            sent: Vec::new(),
            received: Vec::new(),
            answer_repeat,
            refused: false,
            queued: None,
        }
    }
}

const EXECUTE: u8 = 0x04;
const SELECT: u8 = 0x06;

impl<T: Link> Link for Recording<T> {
    fn transport(&self) -> Transport {
        self.inner.transport()
    }
    fn max_write_len(&self) -> usize {
        self.inner.max_write_len()
    }
    fn observes_link_loss(&self) -> bool {
        self.inner.observes_link_loss()
    }
    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        self.sent.push(request.to_vec());
        if self.answer_repeat && self.refused {
            self.queued = match request[0] {
                EXECUTE => Some(vec![0x60, EXECUTE, 0x01]),
                SELECT => {
                    Some([&[0x60, SELECT, 0x01][..], &4096u32.to_le_bytes(), &[0; 8]].concat())
                }
                _ => None,
            };
            return Ok(());
        }
        self.inner.send_request(request).await
    }
    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        self.inner.write_data(chunk).await
    }
    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        let r = match self.queued.take() {
            Some(r) => r,
            None => self.inner.receive().await?,
        };
        if r[..] == [0x60, EXECUTE, ResultCode::InvalidObject.as_u8()] {
            self.refused = true;
        }
        self.received.push(r.clone());
        Ok(r)
    }
    async fn reconnect(&mut self) -> Result<(), LinkError> {
        self.inner.reconnect().await
    }
    async fn close(&mut self) -> Result<(), LinkError> {
        self.inner.close().await
    }
}

/// An SD update post-validation refuses, sent to a 17.1 UART bootloader through `Recording`.
async fn refused_update(
    answer_repeat: bool,
) -> (DfuError, Recording<VirtualSerialLink>, SharedDevice) {
    let bench = Bench::new(SdkVersion::Sdk17).uart();
    let device = share(bench.build_in_dfu());
    let clock = SimClock::for_device(&device.borrow());
    // An S140 where an S132 is installed: the init packet is signed and accepted, and the 17.1
    // post-validation after the last object refuses it (another SoftDevice id,
    // `nrf_dfu_validation.c` `postvalidate_sd_bl`), INVALID_OBJECT.
    let mut s140 = bench.softdevice();
    s140.info.sd_id = 140;
    let sd = standin::softdevice_image(&s140);
    let images = bench.sd_app_package(sd, bench.app(2), 2);
    let link = Recording::new(
        VirtualSerialLink::open(device.clone(), clock),
        answer_repeat,
    );
    let mut client = DfuClient::new(link, DfuConfig::default());
    let e = client
        .update_image(&images[0])
        .await
        .expect_err("the SoftDevice is refused");
    assert!(
        matches!(
            e,
            DfuError::Rejected {
                op: Opcode::ObjectExecute,
                result: ResultCode::InvalidObject,
                ..
            }
        ),
        "{e}"
    );
    (e, client.into_parts().0, device)
}

fn tail(v: &[Vec<u8>], n: usize) -> Vec<Vec<u8>> {
    v[v.len().saturating_sub(n)..].to_vec()
}

#[tokio::test(start_paused = true)]
async fn the_17_1_bootloader_resets_before_it_answers_a_repeated_final_execute() {
    let (_, link, device) = refused_update(false).await;
    let ops: Vec<u8> = tail(&link.sent, 3).iter().map(|r| r[0]).collect();
    assert_eq!(
        ops,
        vec![0x03, EXECUTE, EXECUTE],
        "CRC_GET, EXECUTE, the retry"
    );
    // The refusal is the last thing the device said: it reset with the repeat unanswered.
    assert_eq!(
        link.received.last().unwrap(),
        &vec![0x60, EXECUTE, ResultCode::InvalidObject.as_u8()]
    );
    let resetreas = device
        .borrow()
        .read_u32(nrf_dfu::memory_map::POWER_RESETREAS)
        .unwrap();
    assert_ne!(
        resetreas & 0x4,
        0,
        "SREQ: the bootloader reset after storing the refusal"
    );
}

#[tokio::test(start_paused = true)]
async fn a_success_for_the_repeat_with_nothing_received_is_not_believed() {
    let (e, link, _) = refused_update(true).await;
    let ops: Vec<u8> = tail(&link.sent, 3).iter().map(|r| r[0]).collect();
    assert_eq!(
        ops,
        vec![EXECUTE, EXECUTE, SELECT],
        "the retry, then SELECT(data)"
    );
    assert_eq!(tail(&link.received, 2)[0], vec![0x60, EXECUTE, 0x01]);
    // The first refusal stands, with its offset (the whole SoftDevice sent).
    assert!(e.to_string().contains("INVALID_OBJECT"), "{e}");
}
