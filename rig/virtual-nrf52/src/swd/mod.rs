//! The nRF52832's SWD port at register level (ARM ADIv5.2, part B4 "The Serial Wire Debug
//! Port"): the SW-DP and its registers, the AHB-AP (AP 0, [`mem_ap`]) onto the system bus, and
//! Nordic's CTRL-AP (AP 1, [`ctrl_ap`]). A probe driver calls [`Device::swd_read`] and
//! [`Device::swd_write`] once per SWD packet; each costs the packet's clocks at the probe's
//! clock in simulated time, so the device (its core, its NVMC) runs while the probe talks.
//!
//! ADIv5 behaviour modelled: the line reset state (only a DPIDR read leaves it), CTRL/STAT with
//! the power-up request/acknowledge handshake, SELECT (APSEL, APBANKSEL, DPBANKSEL), RDBUFF and
//! posted AP reads (an AP read returns the previous AP read's value), ABORT, the sticky flags
//! (STICKYERR after a bus error; then FAULT to everything but DPIDR/CTRL-STAT reads and ABORT),
//! and WAIT while the bus is stalled by a flash operation.

pub mod ctrl_ap;
pub mod mem_ap;
pub mod routine;

#[cfg(test)]
mod tests;

use crate::Device;
use std::time::Duration;

/// APnDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwdPort {
    Dp,
    Ap,
}

/// The acknowledgements other than OK (which is `Result::Ok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SwdAck {
    #[error("SWD WAIT: the access port is busy (retry)")]
    Wait,
    #[error("SWD FAULT: a sticky error flag is set (read CTRL/STAT, clear with ABORT)")]
    Fault,
    #[error("no SWD response: the target is unpowered, or needs a line reset and a DPIDR read")]
    NoResponse,
}

/// Counters a lab shows and tests check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwdStats {
    /// SWD packets (each read or write, whatever its acknowledgement).
    pub transfers: u64,
    pub waits: u64,
    pub faults: u64,
    pub line_resets: u64,
    /// Instructions the core executed (including those of skipped idle-loop iterations).
    pub instructions: u64,
    /// Core cycles at 64 MHz.
    pub cycles: u64,
    /// Simulated time the SWD packets took.
    pub wire_time: Duration,
}

/// nRF52832 SW-DP DPIDR: DESIGNER 0x23B (ARM), VERSION 1 (DPv1), PARTNO 0xBA, REVISION 2.
pub const DPIDR: u32 = 0x2BA0_1477;

/// CTRL/STAT bits (ADIv5.2 B2.2.2).
pub mod ctrl_stat {
    pub const ORUNDETECT: u32 = 1 << 0;
    pub const STICKYORUN: u32 = 1 << 1;
    pub const STICKYCMP: u32 = 1 << 4;
    pub const STICKYERR: u32 = 1 << 5;
    pub const READOK: u32 = 1 << 6;
    pub const WDATAERR: u32 = 1 << 7;
    pub const CDBGRSTREQ: u32 = 1 << 26;
    pub const CDBGRSTACK: u32 = 1 << 27;
    pub const CDBGPWRUPREQ: u32 = 1 << 28;
    pub const CDBGPWRUPACK: u32 = 1 << 29;
    pub const CSYSPWRUPREQ: u32 = 1 << 30;
    pub const CSYSPWRUPACK: u32 = 1 << 31;
    /// Read/write fields: ORUNDETECT, TRNMODE, MASKLANE, TRNCNT, the requests.
    pub const WRITABLE: u32 = 0x5000_0000 | CDBGRSTREQ | 0x00FF_FF0D;
    pub const STICKY: u32 = STICKYORUN | STICKYCMP | STICKYERR | WDATAERR;
}

/// SWD clocks per packet: 8 request, 1 turnaround, 3 acknowledge, 1 turnaround, 32 data and
/// 1 parity (ADIv5.2 B4.2); a WAIT or FAULT ends after the acknowledge (13 clocks).
pub const CLOCKS_PER_TRANSFER: u64 = 46;
pub const CLOCKS_PER_SHORT_ACK: u64 = 13;
/// Line reset (at least 50 clocks high), the 16-bit JTAG-to-SWD sequence, another line reset
/// and 2 idle clocks, as probe-rs sends it.
pub const CLOCKS_PER_LINE_RESET: u64 = 50 + 16 + 50 + 2;

/// DP and AP state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwdState {
    /// False after power-up or a protocol error until a line reset.
    pub(crate) line_ok: bool,
    /// After a line reset until DPIDR is read (ADIv5.2 B4.3.3).
    pub(crate) reset_state: bool,
    pub(crate) ctrl_stat: u32,
    pub(crate) select: u32,
    pub(crate) rdbuff: u32,
    pub(crate) clock_khz: u32,
    pub(crate) mem: mem_ap::MemAp,
    pub(crate) stats: SwdStats,
}

impl Default for SwdState {
    fn default() -> Self {
        SwdState {
            line_ok: false,
            reset_state: false,
            ctrl_stat: 0,
            select: 0,
            rdbuff: 0,
            clock_khz: 1000,
            mem: mem_ap::MemAp::default(),
            stats: SwdStats::default(),
        }
    }
}

impl SwdState {
    /// The debug domain lost power with the chip: the DP starts over.
    pub(crate) fn power_lost(&mut self) {
        let keep = (self.clock_khz, self.stats);
        *self = SwdState::default();
        (self.clock_khz, self.stats) = keep;
    }

    fn sticky(&self) -> bool {
        self.ctrl_stat & ctrl_stat::STICKY != 0
    }

    fn wire_time(&self, clocks: u64) -> Duration {
        Duration::from_nanos(clocks * 1_000_000 / self.clock_khz.max(1) as u64)
    }

    /// A bus error on an AP access (ADIv5.2 B2.2.2: STICKYERR).
    pub(crate) fn bus_error(&mut self) {
        self.ctrl_stat |= ctrl_stat::STICKYERR;
    }
}

impl Device {
    /// Spend the simulated time of `clocks` SWD clocks.
    fn swd_spend(&mut self, clocks: u64) {
        let d = self.si.swd.wire_time(clocks);
        self.si.swd.stats.wire_time += d;
        let t = self.now() + d;
        self.advance_to(t);
    }

    /// SWD line reset (>= 50 clocks high) with the JTAG-to-SWD switch: the DP enters its reset
    /// state, which a DPIDR read leaves (ADIv5.2 B4.3.3). SELECT and CTRL/STAT are kept, as a
    /// line reset does not reset the DP's registers.
    pub fn swd_line_reset(&mut self) {
        self.swd_spend(CLOCKS_PER_LINE_RESET);
        let swd = &mut self.si.swd;
        swd.stats.line_resets += 1;
        if self.core.hw.is_powered() {
            swd.line_ok = true;
            swd.reset_state = true;
        }
    }

    /// The probe's SWD clock, which sets the time every packet costs (default 1000 kHz).
    pub fn set_swd_clock_khz(&mut self, khz: u32) {
        self.si.swd.clock_khz = khz.max(1);
    }

    pub fn swd_stats(&self) -> SwdStats {
        SwdStats {
            instructions: self.si.cpu.instructions,
            cycles: self.si.cpu.cycles,
            ..self.si.swd.stats
        }
    }

    /// Acknowledge check common to every packet; Ok(()) means the packet is accepted.
    fn swd_accept(&mut self, port: SwdPort, addr: u8, read: bool) -> Result<(), SwdAck> {
        let swd = &mut self.si.swd;
        swd.stats.transfers += 1;
        if !self.core.hw.is_powered() || !swd.line_ok {
            return Err(SwdAck::NoResponse);
        }
        let dpidr_read = port == SwdPort::Dp && addr == 0 && read;
        if swd.reset_state && !dpidr_read {
            // Not a DPIDR read after a line reset: a protocol error, the target stays silent.
            swd.line_ok = false;
            return Err(SwdAck::NoResponse);
        }
        let exempt = dpidr_read
            || (port == SwdPort::Dp && addr == 4 && read && swd.select & 0xF == 0)
            || (port == SwdPort::Dp && addr == 0 && !read);
        if swd.sticky() && !exempt {
            swd.stats.faults += 1;
            return Err(SwdAck::Fault);
        }
        Ok(())
    }

    /// One SWD read. `addr` is A\[3:2\] as a byte offset (0x0, 0x4, 0x8, 0xC). AP reads are
    /// posted: the value is the previous AP read's, and this one's comes with the next AP read
    /// or a DP RDBUFF read.
    pub fn swd_read(&mut self, port: SwdPort, addr: u8) -> Result<u32, SwdAck> {
        let r = self.swd_read_inner(port, addr & 0xC);
        let clocks = match r {
            Err(SwdAck::Wait | SwdAck::Fault) => CLOCKS_PER_SHORT_ACK,
            _ => CLOCKS_PER_TRANSFER,
        };
        self.swd_spend(clocks);
        r
    }

    fn swd_read_inner(&mut self, port: SwdPort, addr: u8) -> Result<u32, SwdAck> {
        self.swd_accept(port, addr, true)?;
        match port {
            SwdPort::Dp => {
                let swd = &mut self.si.swd;
                Ok(match addr {
                    0 => {
                        swd.reset_state = false;
                        DPIDR
                    }
                    4 => match swd.select & 0xF {
                        0 => {
                            // The power-up requests are acknowledged at once.
                            let req = swd.ctrl_stat;
                            let mut v = req;
                            if req & ctrl_stat::CDBGPWRUPREQ != 0 {
                                v |= ctrl_stat::CDBGPWRUPACK;
                            }
                            if req & ctrl_stat::CSYSPWRUPREQ != 0 {
                                v |= ctrl_stat::CSYSPWRUPACK;
                            }
                            if req & ctrl_stat::CDBGRSTREQ != 0 {
                                v |= ctrl_stat::CDBGRSTACK;
                            }
                            v
                        }
                        // DLCR: turnaround of 1 clock, the reset value.
                        1 => 0x0000_0040,
                        _ => 0,
                    },
                    // RESEND: the last AP read's value again.
                    8 => swd.rdbuff,
                    // RDBUFF: the posted AP read's value (reads complete when issued here).
                    _ => swd.rdbuff,
                })
            }
            SwdPort::Ap => {
                let reg = self.ap_register(addr);
                let apsel = self.si.swd.select >> 24;
                let value = match apsel {
                    0 => self.mem_ap_read(reg)?,
                    1 => self.ctrl_ap_read(reg),
                    // No AP: every register (the IDR included) reads 0.
                    _ => 0,
                };
                let swd = &mut self.si.swd;
                Ok(std::mem::replace(&mut swd.rdbuff, value))
            }
        }
    }

    /// One SWD write.
    pub fn swd_write(&mut self, port: SwdPort, addr: u8, value: u32) -> Result<(), SwdAck> {
        let r = self.swd_write_inner(port, addr & 0xC, value);
        let clocks = match r {
            Err(SwdAck::Wait | SwdAck::Fault) => CLOCKS_PER_SHORT_ACK,
            _ => CLOCKS_PER_TRANSFER,
        };
        self.swd_spend(clocks);
        r
    }

    fn swd_write_inner(&mut self, port: SwdPort, addr: u8, value: u32) -> Result<(), SwdAck> {
        self.swd_accept(port, addr, false)?;
        match port {
            SwdPort::Dp => {
                let swd = &mut self.si.swd;
                match addr {
                    // ABORT (ADIv5.2 B2.2.1): DAPABORT, STKCMPCLR, STKERRCLR, WDERRCLR, ORUNERRCLR.
                    0 => {
                        if value & (1 << 1) != 0 {
                            swd.ctrl_stat &= !ctrl_stat::STICKYCMP;
                        }
                        if value & (1 << 2) != 0 {
                            swd.ctrl_stat &= !ctrl_stat::STICKYERR;
                        }
                        if value & (1 << 3) != 0 {
                            swd.ctrl_stat &= !ctrl_stat::WDATAERR;
                        }
                        if value & (1 << 4) != 0 {
                            swd.ctrl_stat &= !ctrl_stat::STICKYORUN;
                        }
                    }
                    4 if swd.select & 0xF == 0 => {
                        swd.ctrl_stat =
                            (swd.ctrl_stat & ctrl_stat::STICKY) | (value & ctrl_stat::WRITABLE);
                    }
                    8 => swd.select = value,
                    // TARGETSEL exists from DPv2 only; DPv1 ignores the write.
                    _ => {}
                }
                Ok(())
            }
            SwdPort::Ap => {
                let reg = self.ap_register(addr);
                match self.si.swd.select >> 24 {
                    0 => self.mem_ap_write(reg, value),
                    1 => {
                        self.ctrl_ap_write(reg, value);
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// The AP register address: APBANKSEL (SELECT\[7:4\]) and A\[3:2\].
    fn ap_register(&self, addr: u8) -> u8 {
        (((self.si.swd.select >> 4) & 0xF) as u8) << 4 | addr
    }

    /// The nRESET line. Asserted, the chip is held in reset if UICR.PSELRESET routes the pin
    /// (P0.21); released, it restarts with RESETREAS.RESETPIN. An unrouted pin does nothing.
    pub fn swd_set_nreset(&mut self, asserted: bool) {
        let routed = crate::uicr::Uicr(&self.core.hw.memory().uicr)
            .reset_pin()
            .is_some();
        if !self.core.hw.is_powered() || !routed {
            self.si.pin_reset = false;
            return;
        }
        if asserted && !self.si.pin_reset {
            self.si.pin_reset = true;
        } else if !asserted && self.si.pin_reset {
            self.si.pin_reset = false;
            let t = self.now();
            self.reset(t, crate::power::ResetKind::PinReset);
        }
    }
}
