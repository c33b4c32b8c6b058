//! The UART surface of a serial DFU bootloader (SDK 17.1 `serial_dfu/nrf_dfu_serial_uart.c`,
//! `nrf_dfu_serial.c`, `components/libraries/slip/slip.c`): SLIP-framed requests in, SLIP-framed
//! responses out, every byte taking 10 bit times at the timing profile's baud rate, the
//! device's decoder wedging on an oversized frame (`slip_decode_add_byte`), hardware flow
//! control (nothing is lost while the device is busy). Bytes arriving while no serial
//! bootloader listens are lost, as on a real UART that is not enabled.

use crate::events::SimTime;
use crate::timing::UartTiming;
use nrf_dfu::slip::{self, SlipConfig, SlipDecoder, SlipEvent};
use std::collections::VecDeque;

/// A frame on its way out: when its first byte goes out, when the last one has.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TxFrame {
    start: SimTime,
    done: SimTime,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct UartPort {
    decoder: SlipDecoder,
    /// When the receive line is free again (bytes queue behind each other).
    rx_free_at: SimTime,
    /// Decoded frames and the time their END byte arrives.
    rx: VecDeque<(SimTime, Vec<u8>)>,
    tx_free_at: SimTime,
    tx: VecDeque<TxFrame>,
    listening: bool,
}

impl Default for UartPort {
    fn default() -> Self {
        UartPort {
            decoder: SlipDecoder::default(),
            rx_free_at: SimTime::ZERO,
            rx: VecDeque::new(),
            tx_free_at: SimTime::ZERO,
            tx: VecDeque::new(),
            listening: false,
        }
    }
}

impl UartPort {
    /// A serial bootloader starts listening with a fresh decoder of its buffer size.
    pub fn open(&mut self, buffer_len: usize) {
        *self = UartPort {
            decoder: SlipDecoder::new(SlipConfig::sdk_uart_device(buffer_len)),
            listening: true,
            ..UartPort::default()
        };
    }

    /// The device lost power: everything in flight is gone.
    pub fn close(&mut self) {
        *self = UartPort::default();
    }

    /// The firmware resets: reception stops, but what was handed to the UART before goes out
    /// (the model lets the transmitter finish, as the BLE transport's close delay does).
    pub fn close_keep_tx(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        let tx_free_at = self.tx_free_at;
        *self = UartPort {
            tx,
            tx_free_at,
            ..UartPort::default()
        };
    }

    pub fn is_wedged(&self) -> bool {
        self.decoder.is_wedged()
    }

    /// Bytes from the host starting to arrive at `t`; complete frames become due when their
    /// END byte has arrived.
    pub fn receive(&mut self, t: SimTime, bytes: &[u8], timing: UartTiming) {
        if !self.listening {
            return;
        }
        let byte = timing.byte_time();
        let start = self.rx_free_at.max(t);
        for (i, &b) in bytes.iter().enumerate() {
            if let Some(SlipEvent::Frame(frame)) = self.decoder.push(b) {
                self.rx.push_back((start + byte * (i as u32 + 1), frame));
            }
        }
        self.rx_free_at = start + byte * bytes.len() as u32;
    }

    /// When the next received frame is due.
    pub fn next_rx(&self) -> Option<SimTime> {
        self.rx.front().map(|(t, _)| *t)
    }

    pub fn pop_rx(&mut self) -> Option<Vec<u8>> {
        self.rx.pop_front().map(|(_, f)| f)
    }

    /// Queue a response (SLIP-encoded) ready at `ready`.
    pub fn send(&mut self, ready: SimTime, payload: &[u8], timing: UartTiming) {
        let bytes = slip::encode(payload);
        let start = ready.max(self.tx_free_at);
        let done = start + timing.byte_time() * bytes.len() as u32;
        self.tx_free_at = done;
        self.tx.push_back(TxFrame { start, done, bytes });
    }

    /// When the next queued response starts going out, if later than `now`.
    pub fn next_tx_after(&self, now: SimTime) -> Option<SimTime> {
        self.tx.front().map(|f| f.start).filter(|&s| s > now)
    }

    /// Responses whose transmission has started by `t`, with the time each is fully sent.
    pub fn take_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)> {
        let mut out = Vec::new();
        while self.tx.front().is_some_and(|f| f.start <= t) {
            if let Some(f) = self.tx.pop_front() {
                out.push((f.done, f.bytes));
            }
        }
        out
    }

    /// Shift pending times (the CPU was halted).
    pub fn shift(&mut self, by: std::time::Duration) {
        for (t, _) in &mut self.rx {
            *t += by;
        }
        for f in &mut self.tx {
            f.start += by;
            f.done += by;
        }
        self.rx_free_at += by;
        self.tx_free_at += by;
    }
}
