//! `rig sim serve --serial`: a virtual device with a UART bootloader on a pseudo-terminal, on the
//! real clock. Device time is `Instant::now() − start`; the loop sleeps in `poll` until the
//! device's next event, the next byte due to leave the UART, or input from the client, and stops
//! on SIGINT or SIGTERM (so the caller can save the device state).

use super::pty::Pty;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::collections::VecDeque;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use virtual_nrf52::descriptor::Transport;
use virtual_nrf52::{Device, SimTime, Status};

/// The UART side of a virtual device, as the serve loop drives it.
pub trait UartTarget {
    fn advance_to(&mut self, t: SimTime);
    fn next_event_time(&self) -> Option<SimTime>;
    /// Bytes from the host (SLIP), arrived at `t`.
    fn uart_rx(&mut self, t: SimTime, bytes: &[u8]);
    /// Bytes for the host with the time each chunk has fully left the UART.
    fn uart_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)>;
    /// One line saying what runs (printed whenever it changes).
    fn describe(&self) -> String;
}

impl UartTarget for Device {
    fn advance_to(&mut self, t: SimTime) {
        Device::advance_to(self, t)
    }
    fn next_event_time(&self) -> Option<SimTime> {
        Device::next_event_time(self)
    }
    fn uart_rx(&mut self, t: SimTime, bytes: &[u8]) {
        Device::uart_rx(self, t, bytes)
    }
    fn uart_tx(&mut self, t: SimTime) -> Vec<(SimTime, Vec<u8>)> {
        Device::uart_tx(self, t)
    }
    fn describe(&self) -> String {
        match self.status() {
            Status::Off => "off".into(),
            Status::Silent => self
                .silent_reason()
                .map_or_else(|| "silent".into(), |r| format!("silent ({r:?})")),
            Status::Bootloader(b) if b.transport == Transport::Uart => format!(
                "DFU mode, SDK {} UART bootloader listening",
                super::images::profile_file_label(b.sdk)
            ),
            Status::Bootloader(b) => format!(
                "DFU mode, SDK {} BLE bootloader: nothing listens on the UART",
                super::images::profile_file_label(b.sdk)
            ),
            Status::App(a) => format!(
                "runs application \"{}\" version {} (no serial DFU)",
                a.name, a.version
            ),
        }
    }
}

/// Longest sleep without a reason to wake: bounds the latency of noticing a closed pty.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// What one serve session did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ServeStats {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bytes_lost: u64,
    pub device_time: SimTime,
}

/// A self-pipe the signal handlers write to, so `poll` wakes on SIGINT/SIGTERM.
pub struct StopSignal {
    reader: UnixStream,
    ids: Vec<signal_hook::SigId>,
}

impl StopSignal {
    pub fn install() -> std::io::Result<StopSignal> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        let mut ids = Vec::new();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            ids.push(signal_hook::low_level::pipe::register(
                sig,
                writer.try_clone()?,
            )?);
        }
        Ok(StopSignal { reader, ids })
    }

    fn fired(&mut self) -> bool {
        let mut b = [0u8; 16];
        matches!(self.reader.read(&mut b), Ok(n) if n > 0)
    }
}

impl Drop for StopSignal {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Serve `dev` on `pty` until a stop signal. `status` gets a line whenever what runs changes;
/// `log` gets one line per chunk in and out when set.
pub fn serve(
    dev: &mut dyn UartTarget,
    pty: &mut Pty,
    stop: &mut StopSignal,
    status: &mut dyn FnMut(String),
    mut log: Option<&mut dyn FnMut(String)>,
) -> std::io::Result<ServeStats> {
    let start = Instant::now();
    let now = || start.elapsed();
    let mut stats = ServeStats::default();
    let mut out: VecDeque<(SimTime, Vec<u8>)> = VecDeque::new();
    let mut shown = String::new();
    loop {
        let t = now();
        dev.advance_to(t);
        let d = dev.describe();
        if d != shown {
            status(format!("{:>12.6} s  device: {d}", t.as_secs_f64()));
            shown = d;
        }
        out.extend(dev.uart_tx(t));
        while out.front().is_some_and(|(at, _)| *at <= t) {
            let (at, bytes) = out.pop_front().unwrap_or_default();
            let n = pty.write(&bytes)?;
            stats.bytes_out += n as u64;
            stats.bytes_lost += (bytes.len() - n) as u64;
            if let Some(l) = log.as_mut() {
                l(format!(
                    "{:>12.6} s  -> {}",
                    at.as_secs_f64(),
                    hex::encode(&bytes)
                ));
            }
        }
        let wake = [dev.next_event_time(), out.front().map(|(at, _)| *at)]
            .into_iter()
            .flatten()
            .min();
        let timeout = wake.map_or(IDLE_POLL, |w| w.saturating_sub(now()).min(IDLE_POLL));
        // Round up so the loop does not spin on sub-millisecond waits.
        let ms = timeout.as_micros().div_ceil(1000).min(u16::MAX as u128) as u16;
        let (pty_ready, stop_ready) = {
            let mut fds = [
                PollFd::new(pty.fd(), PollFlags::POLLIN),
                PollFd::new(stop.reader.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            let ready = |f: &PollFd| f.revents().is_some_and(|r| r.intersects(PollFlags::POLLIN));
            (ready(&fds[0]), ready(&fds[1]))
        };
        if stop_ready && stop.fired() {
            stats.device_time = now();
            dev.advance_to(stats.device_time);
            return Ok(stats);
        }
        if pty_ready {
            let bytes = pty.read_available()?;
            if !bytes.is_empty() {
                let t = now();
                dev.advance_to(t);
                stats.bytes_in += bytes.len() as u64;
                if let Some(l) = log.as_mut() {
                    l(format!(
                        "{:>12.6} s  <- {}",
                        t.as_secs_f64(),
                        hex::encode(&bytes)
                    ));
                }
                dev.uart_rx(t, &bytes);
            }
        }
    }
}
