//! UARTE0 and the legacy UART0 at 0x40002000 (nRF52832 PS v1.4 chapters 35 and 34; ENABLE = 8
//! selects UARTE, 4 the UART). The line is the lab DUT's serial port: bytes from the host
//! arrive one per 10 bit times (`UartTiming`); nothing is lost while the receiver is not
//! started (hardware flow control holds the sender: the SDK's serial DFU transport builds
//! with flow control, and re-arms RXD.MAXCNT = 1 per byte, nrf_dfu_serial_uart.c). EasyDMA
//! writes each received byte to RXD.PTR + n; ENDRX at MAXCNT (SHORTS ENDRX_STARTRX restarts);
//! STARTTX sends TXD.MAXCNT bytes from RAM at TXD.PTR, ENDTX when the last is on the wire.

use super::events::EventBlock;
use crate::events::SimTime;
use nrf_dfu::memory_map::RAM_START;
use std::collections::VecDeque;
use std::time::Duration;

const EV_RXDRDY: u32 = 2;
const EV_ENDRX: u32 = 4;
const EV_TXDRDY: u32 = 7;
const EV_ENDTX: u32 = 8;
const EV_RXTO: u32 = 17;
const EV_RXSTARTED: u32 = 19;
const EV_TXSTARTED: u32 = 20;
const EV_TXSTOPPED: u32 = 22;
const SHORT_ENDRX_STARTRX: u32 = 1 << 5;
const SHORT_ENDRX_STOPRX: u32 = 1 << 6;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Uarte {
    pub ev: EventBlock,
    pub enable: u32,
    pub shorts: u32,
    pub regs: std::collections::BTreeMap<u32, u32>,
    /// Bytes from the host and when each has arrived.
    pub incoming: VecDeque<(SimTime, u8)>,
    pub rx_free_at: SimTime,
    /// UARTE: the receive buffer in use (PTR, MAXCNT, bytes so far).
    pub rx: Option<(u32, u32, u32)>,
    pub rx_amount: u32,
    /// Legacy UART: receiver on, and the byte in RXD.
    pub uart_rx_on: bool,
    pub rxd: Option<u8>,
    /// Transmission: when the line is free, the pending end (ENDTX/TXDRDY) and what went out.
    pub tx_free_at: SimTime,
    pub tx_end: Option<(SimTime, u32)>,
    pub tx_out: VecDeque<(SimTime, SimTime, Vec<u8>)>,
    pub uart_tx_on: bool,
    pub byte_time: Duration,
}

fn ram_index(addr: u32, ram: &[u8]) -> Option<usize> {
    let o = addr.checked_sub(RAM_START)? as usize;
    (o < ram.len()).then_some(o)
}

impl Uarte {
    fn reg(&self, off: u32) -> u32 {
        self.regs.get(&off).copied().unwrap_or(0)
    }

    fn easydma(&self) -> bool {
        self.enable == 8
    }

    /// Bytes from the host starting at `t`.
    pub fn host_rx(&mut self, t: SimTime, bytes: &[u8], byte_time: Duration) {
        self.byte_time = byte_time;
        if self.enable == 0 {
            return; // a disabled UART hears nothing
        }
        let mut at = self.rx_free_at.max(t);
        for &b in bytes {
            at += byte_time;
            self.incoming.push_back((at, b));
        }
        self.rx_free_at = at;
    }

    /// What went out by `t`: (start, done, bytes).
    pub fn take_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)> {
        let mut out = Vec::new();
        while self.tx_out.front().is_some_and(|(start, _, _)| *start <= t) {
            if let Some((_, done, bytes)) = self.tx_out.pop_front() {
                out.push((done, bytes));
            }
        }
        out
    }

    pub fn next_tx_after(&self, now: SimTime) -> Option<SimTime> {
        self.tx_out.front().map(|f| f.0).filter(|&s| s > now)
    }

    pub fn advance(&mut self, now: SimTime, ram: &mut [u8]) {
        if let Some((at, n)) = self.tx_end {
            if at <= now {
                self.tx_end = None;
                self.ev.set(EV_TXDRDY);
                if self.easydma() {
                    self.regs.insert(0x54C, n);
                    self.ev.set(EV_ENDTX);
                }
            }
        }
        while let Some(&(at, b)) = self.incoming.front() {
            if at > now {
                break;
            }
            if self.easydma() {
                let Some((ptr, max, n)) = self.rx else { break };
                self.incoming.pop_front();
                if let Some(i) = ram_index(ptr.wrapping_add(n), ram) {
                    ram[i] = b;
                }
                self.ev.set(EV_RXDRDY);
                let n = n + 1;
                if n >= max {
                    self.end_rx(n);
                } else {
                    self.rx = Some((ptr, max, n));
                }
            } else if self.uart_rx_on && self.rxd.is_none() {
                self.incoming.pop_front();
                self.rxd = Some(b);
                self.ev.set(EV_RXDRDY);
            } else {
                break;
            }
        }
    }

    fn end_rx(&mut self, n: u32) {
        self.rx = None;
        self.rx_amount = n;
        self.ev.set(EV_ENDRX);
        if self.shorts & SHORT_ENDRX_STARTRX != 0 {
            self.start_rx();
        } else if self.shorts & SHORT_ENDRX_STOPRX != 0 {
            self.ev.set(EV_RXTO);
        }
    }

    fn start_rx(&mut self) {
        let max = self.reg(0x538) & 0xFF;
        self.rx = Some((self.reg(0x534), max, 0));
        self.ev.set(EV_RXSTARTED);
        if max == 0 {
            self.end_rx(0);
        }
    }

    pub fn next_event(&self, now: SimTime) -> Option<SimTime> {
        let rx_ready = if self.easydma() {
            self.rx.is_some()
        } else {
            self.uart_rx_on && self.rxd.is_none()
        };
        let rx = self
            .incoming
            .front()
            .filter(|_| rx_ready)
            .map(|(t, _)| (*t).max(now));
        let tx = self.tx_end.map(|(t, _)| t);
        match (rx, tx) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn read(&mut self, off: u32) -> Option<u32> {
        if let Some(v) = self.ev.read(off) {
            return Some(v);
        }
        Some(match off {
            0x200 => self.shorts,
            0x480 => 0,
            0x500 => self.enable,
            0x518 if !self.easydma() => {
                // Legacy RXD: reading takes the byte; the next one becomes ready.
                self.rxd.take().unwrap_or(0) as u32
            }
            0x53C => self.rx_amount,
            off if (0x500..0x600).contains(&off) => self.reg(off),
            _ => return None,
        })
    }

    pub fn write(&mut self, off: u32, v: u32, now: SimTime, ram: &[u8]) -> bool {
        if self.ev.write(off, v) {
            return true;
        }
        let trigger = v & 1 == 1;
        match off {
            0x000 if trigger => {
                if self.easydma() {
                    self.start_rx();
                } else {
                    self.uart_rx_on = true;
                }
            }
            0x004 if trigger => {
                if self.easydma() {
                    if let Some((_, _, n)) = self.rx {
                        self.end_rx(n);
                    }
                    self.rx = None;
                } else {
                    self.uart_rx_on = false;
                }
                self.ev.set(EV_RXTO);
            }
            0x008 if trigger => {
                if self.easydma() {
                    let (ptr, max) = (self.reg(0x544), self.reg(0x548) & 0xFF);
                    let bytes: Vec<u8> = (0..max)
                        .map(|k| ram_index(ptr.wrapping_add(k), ram).map_or(0, |i| ram[i]))
                        .collect();
                    self.ev.set(EV_TXSTARTED);
                    self.send(now, bytes);
                } else {
                    self.uart_tx_on = true;
                }
            }
            0x00C if trigger => {
                self.uart_tx_on = false;
                self.ev.set(EV_TXSTOPPED);
            }
            // FLUSHRX, SUSPEND: nothing in flight to flush in this model.
            0x01C | 0x02C => {}
            0x200 => self.shorts = v,
            0x480 => {}
            0x500 => self.enable = v & 0xF,
            0x51C if !self.easydma() => {
                if self.uart_tx_on {
                    self.send(now, vec![v as u8]);
                }
            }
            off if (0x500..0x600).contains(&off) => {
                self.regs.insert(off, v);
            }
            _ => return false,
        }
        true
    }

    fn send(&mut self, now: SimTime, bytes: Vec<u8>) {
        let n = bytes.len() as u32;
        let start = self.tx_free_at.max(now);
        let done = start + self.byte_time * n;
        self.tx_free_at = done;
        self.tx_end = Some((done, n));
        if !bytes.is_empty() {
            self.tx_out.push_back((start, done, bytes));
        }
    }

    /// A chip reset or power cut: registers to their reset values; bytes still arriving are
    /// lost (the UARTE is disabled until the firmware enables it again, as `host_rx` drops
    /// bytes while it is); what was on the wire still reaches the host.
    pub fn reset(&mut self) {
        let keep = Uarte {
            rx_free_at: self.rx_free_at,
            tx_out: std::mem::take(&mut self.tx_out),
            tx_free_at: self.tx_free_at,
            byte_time: self.byte_time,
            ..Uarte::default()
        };
        *self = keep;
    }
}
