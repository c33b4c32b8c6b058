//! The DFU client's serial [`Transport`] over a virtual device's UART, on tokio's clock.
//!
//! Frames are SLIP-encoded here and handed to the device byte-timed at the profile's baud rate
//! (the device's UART model spaces the bytes); the device's SLIP responses are decoded as each
//! one is fully transmitted. A UART cannot see a reset; this virtual port can (like a USB CDC
//! port that disappears), and reports it as a lost link unless told not to.

use std::collections::VecDeque;
use std::time::Duration;

use nrf_dfu::client::{Link, LinkError};
use nrf_dfu::slip::{self, SlipDecoder, SlipEvent};
use nrf_dfu::wire::{Dialect, Opcode, Transport, UART_MTU_SDK15};
use virtual_nrf52::{SimTime, Status};

use super::virtual_link::{LinkCounters, SimClock};
use crate::drivers::shared::SharedDevice;

/// How often a waiting receiver looks at the device when nothing is scheduled.
const POLL: Duration = Duration::from_millis(10);

/// The client's serial transport over a [`SharedDevice`]'s UART.
pub struct VirtualSerialLink {
    device: SharedDevice,
    clock: SimClock,
    epoch: u64,
    observe_resets: bool,
    closed: bool,
    lost: bool,
    /// When our last frame has left the host completely.
    tx_free_at: SimTime,
    /// Device transmissions and when each is completely received.
    incoming: VecDeque<(SimTime, Vec<u8>)>,
    decoder: SlipDecoder,
    frames: VecDeque<Vec<u8>>,
    write_len: usize,
    counters: LinkCounters,
}

/// nrfutil's OBJECT_WRITE payload for a serial MTU: `(mtu − 1) / 2 − 1`.
fn payload_for_mtu(mtu: u16) -> usize {
    (usize::from(mtu).saturating_sub(1) / 2).saturating_sub(1)
}

impl VirtualSerialLink {
    /// Open the port. The payload per write comes from the serial MTU of the bootloader the
    /// device runs (131 → 64 bytes for SDK 15+), or SDK 15's when it runs none yet.
    pub fn open(device: SharedDevice, clock: SimClock) -> VirtualSerialLink {
        let (epoch, mtu) = {
            let mut dev = device.borrow_mut();
            dev.advance_to(clock.now());
            let mtu = match dev.status() {
                Status::Bootloader(b) => Dialect::new(b.sdk, Transport::Uart)
                    .ok()
                    .and_then(|d| d.serial_mtu()),
                _ => None,
            };
            (dev.epoch(), mtu.unwrap_or(UART_MTU_SDK15))
        };
        VirtualSerialLink {
            device,
            clock,
            epoch,
            observe_resets: true,
            closed: false,
            lost: false,
            tx_free_at: SimTime::ZERO,
            incoming: VecDeque::new(),
            decoder: SlipDecoder::default(),
            frames: VecDeque::new(),
            write_len: payload_for_mtu(mtu),
            counters: LinkCounters::default(),
        }
    }

    /// Whether a device reset is reported as a lost link (default) or goes unseen, as on a
    /// plain UART.
    pub fn observe_resets(mut self, on: bool) -> VirtualSerialLink {
        self.observe_resets = on;
        self
    }

    pub fn counters(&self) -> &LinkCounters {
        &self.counters
    }

    fn check(&self) -> Result<(), LinkError> {
        if self.closed {
            Err(LinkError::closed("the serial port was closed"))
        } else if self.lost {
            Err(LinkError::link_lost("the device reset"))
        } else {
            Ok(())
        }
    }

    /// SLIP-encode `payload` and put it on the wire after whatever is still going out.
    async fn send_frame(&mut self, payload: &[u8]) -> Result<(), LinkError> {
        self.check()?;
        let frame = slip::encode(payload);
        let start = self.clock.now().max(self.tx_free_at);
        self.clock.sleep_until(start).await;
        let duration = {
            let mut dev = self.device.borrow_mut();
            dev.uart_rx(start, &frame);
            dev.timing().uart.bytes_time(frame.len() as u64)
        };
        self.tx_free_at = start + duration;
        self.clock.sleep_until(self.tx_free_at).await;
        Ok(())
    }

    /// Collect what the device has transmitted by `now`; true if it reset since the port opened.
    fn pump(&mut self, now: SimTime) -> bool {
        let mut dev = self.device.borrow_mut();
        dev.advance_to(now);
        self.incoming.extend(dev.uart_tx(now));
        while self.incoming.front().is_some_and(|(done, _)| *done <= now) {
            let (_, bytes) = self.incoming.pop_front().expect("front exists");
            for event in self.decoder.feed(&bytes) {
                // Line noise (a frame cut by a reset) is dropped, as a host decoder does.
                if let SlipEvent::Frame(frame) = event {
                    self.frames.push_back(frame);
                }
            }
        }
        dev.epoch() != self.epoch
    }
}

impl Link for VirtualSerialLink {
    fn transport(&self) -> Transport {
        Transport::Uart
    }

    fn max_write_len(&self) -> usize {
        self.write_len
    }

    fn observes_link_loss(&self) -> bool {
        self.observe_resets
    }

    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        self.send_frame(request).await?;
        self.counters.requests += 1;
        Ok(())
    }

    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        let mut payload = Vec::with_capacity(chunk.len() + 1);
        payload.push(Opcode::ObjectWrite.as_u8());
        payload.extend_from_slice(chunk);
        self.send_frame(&payload).await?;
        self.counters.packets += 1;
        Ok(())
    }

    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        loop {
            self.check()?;
            let now = self.clock.now();
            let reset = self.pump(now);
            if let Some(frame) = self.frames.pop_front() {
                self.counters.notifications += 1;
                return Ok(frame);
            }
            if reset {
                if self.observe_resets {
                    self.lost = true;
                    return Err(LinkError::link_lost("the device reset"));
                }
                self.epoch = self.device.borrow().epoch();
            }
            // As the BLE link: straight to the next thing that can happen, a poll only where
            // the device can change unannounced or nothing is due.
            let (next, polls) = {
                let dev = self.device.borrow();
                (dev.next_event_time(), dev.changes_unannounced())
            };
            let due = [self.incoming.front().map(|(done, _)| *done), next];
            let wake = super::next_look(due, now + POLL, polls);
            self.clock
                .sleep_until(wake.max(now + Duration::from_nanos(1)))
                .await;
        }
    }

    async fn reconnect(&mut self) -> Result<(), LinkError> {
        if self.closed {
            return Err(LinkError::closed("the serial port was closed"));
        }
        let now = self.clock.now();
        self.pump(now);
        self.epoch = self.device.borrow().epoch();
        self.lost = false;
        self.incoming.clear();
        self.frames.clear();
        self.decoder = SlipDecoder::default();
        Ok(())
    }

    async fn close(&mut self) -> Result<(), LinkError> {
        if !self.closed {
            self.device.borrow_mut().dfu_link_lost(self.clock.now());
        }
        self.closed = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::payload_for_mtu;

    #[test]
    fn nrfutil_payload_rule() {
        assert_eq!(payload_for_mtu(131), 64);
        assert_eq!(payload_for_mtu(257), 127);
        assert_eq!(payload_for_mtu(3), 0);
    }
}
