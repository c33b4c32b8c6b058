//! A DUT's host thread: one `poll` loop over its SWD socket (and the connections on it), its
//! UART and PPK2 pseudo-terminals and a wake-up pipe. It sleeps until the device's next own
//! event (converted to wall time at the lab's speed), a byte due to leave the UART, input, or
//! a wake-up; then brings the device to lab time and acts. SWD requests are answered at once.

use crate::dut::Dut;
use crate::ppk2::Event as PpkEvent;
use crate::protocol::{take_frame, write_frame, Reply, Request};
use crate::pty::Pty;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use virtual_nrf52::events::SimTime;

/// Longest sleep without a reason to wake.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// A reply that cannot be written within this long drops the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a host serves.
#[derive(Default)]
pub struct HostIo {
    pub swd: Option<UnixListener>,
    pub uart: Option<Pty>,
    pub ppk2: Option<Pty>,
    /// One line per chunk of UART bytes in and out (`rig sim serve --verbose`).
    pub uart_log: Option<Box<dyn FnMut(String) + Send>>,
}

/// UART traffic of one host (what `rig sim serve` reports on exit).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UartStats {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bytes_lost: u64,
}

/// Wakes a host thread from elsewhere (control socket, stop).
#[derive(Debug, Clone)]
pub struct Waker {
    tx: Arc<UnixStream>,
    stop: Arc<AtomicBool>,
}

impl Waker {
    pub fn wake(&self) {
        let _ = (&*self.tx).write_all_nonblocking(&[1]);
    }
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }
}

trait WriteNb {
    fn write_all_nonblocking(self, b: &[u8]) -> std::io::Result<()>;
}

impl WriteNb for &UnixStream {
    fn write_all_nonblocking(mut self, b: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        // A full pipe already holds a wake-up: dropping this one loses nothing.
        match self.write(b) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

struct Conn {
    id: u64,
    stream: UnixStream,
    buf: Vec<u8>,
}

pub struct Host {
    dut: Arc<Mutex<Dut>>,
    io: HostIo,
    wake_rx: UnixStream,
    stop: Arc<AtomicBool>,
    conns: Vec<Conn>,
    next_conn: u64,
    out: VecDeque<(SimTime, Vec<u8>)>,
    shown: String,
    pub stats: UartStats,
}

fn lock(d: &Mutex<Dut>) -> std::sync::MutexGuard<'_, Dut> {
    // A panic while holding the lock leaves the device as it was: keep serving it.
    d.lock().unwrap_or_else(|p| p.into_inner())
}

impl Host {
    pub fn new(dut: Arc<Mutex<Dut>>, io: HostIo) -> std::io::Result<(Host, Waker)> {
        let (rx, tx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        if let Some(l) = &io.swd {
            l.set_nonblocking(true)?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        Ok((
            Host {
                dut,
                io,
                wake_rx: rx,
                stop: stop.clone(),
                conns: Vec::new(),
                next_conn: 1,
                out: VecDeque::new(),
                shown: String::new(),
                stats: UartStats::default(),
            },
            Waker {
                tx: Arc::new(tx),
                stop,
            },
        ))
    }

    /// Serve until stopped; returns the UART statistics.
    pub fn run(mut self) -> UartStats {
        while !self.stop.load(Ordering::SeqCst) {
            let timeout = self.step();
            if let Err(e) = self.wait(timeout) {
                lock(&self.dut).log(format!("host loop: {e}"));
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.stats
    }

    /// Bring the device to lab time, send UART bytes due, report what runs; how long to sleep.
    fn step(&mut self) -> Duration {
        let mut d = lock(&self.dut);
        let t = d.sync();
        let desc = d.dev.describe();
        if desc != self.shown {
            d.log(format!("device: {desc}"));
            self.shown = desc;
        }
        self.out.extend(d.dev.uart_tx(t));
        while self.out.front().is_some_and(|(at, _)| *at <= t) {
            let (at, bytes) = self.out.pop_front().unwrap_or_default();
            let n = match self.io.uart.as_mut() {
                Some(p) => p.write(&bytes).unwrap_or(0),
                None => 0,
            };
            self.stats.bytes_out += n as u64;
            self.stats.bytes_lost += (bytes.len() - n) as u64;
            if let Some(l) = self.io.uart_log.as_mut() {
                l(format!(
                    "{:>12.6} s  -> {}",
                    at.as_secs_f64(),
                    hex::encode(&bytes)
                ));
            }
        }
        d.checkpoint();
        if d.dev.core_running() && !d.dev.core_asleep() {
            // A core that runs code changes with every instruction: keep catching up in slices,
            // polling for requests between them. One asleep waits for its next event like the
            // models (waiting on "behind" kept a whole CPU busy: lab time always moved on).
            return Duration::ZERO;
        }
        let wake = [d.dev.next_event_time(), self.out.front().map(|(at, _)| *at)]
            .into_iter()
            .flatten()
            .min();
        let sleep = wake.map_or(IDLE_POLL, |w| d.clock.wall_until(w, t).min(IDLE_POLL));
        // A state write held back by the persister's rate limit is due then.
        let pending = d.persist.as_ref().and_then(|p| p.due_in());
        pending.map_or(sleep, |p| sleep.min(p))
    }

    fn wait(&mut self, timeout: Duration) -> std::io::Result<()> {
        // Round up so the loop does not spin on sub-millisecond waits.
        let ms = timeout.as_micros().div_ceil(1000).min(u16::MAX as u128) as u16;
        let (wake, swd, uart, ppk2, conns) = {
            let mut fds = vec![PollFd::new(self.wake_rx.as_fd(), PollFlags::POLLIN)];
            let swd_at = self.io.swd.as_ref().map(|l| {
                fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
                fds.len() - 1
            });
            let uart_at = self.io.uart.as_ref().map(|p| {
                fds.push(PollFd::new(p.fd(), PollFlags::POLLIN));
                fds.len() - 1
            });
            let ppk2_at = self.io.ppk2.as_ref().map(|p| {
                fds.push(PollFd::new(p.fd(), PollFlags::POLLIN));
                fds.len() - 1
            });
            let first_conn = fds.len();
            for c in &self.conns {
                fds.push(PollFd::new(c.stream.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            let ready = |i: usize| {
                fds[i].revents().is_some_and(|r| {
                    r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                })
            };
            (
                ready(0),
                swd_at.is_some_and(ready),
                uart_at.is_some_and(ready),
                ppk2_at.is_some_and(ready),
                (first_conn..fds.len()).map(ready).collect::<Vec<bool>>(),
            )
        };
        if wake {
            let mut b = [0u8; 64];
            while matches!((&self.wake_rx).read(&mut b), Ok(n) if n > 0) {}
        }
        if swd {
            self.accept();
        }
        // Serve connections in reverse so removing one keeps the indices of the rest.
        for i in (0..conns.len()).rev() {
            if conns[i] {
                self.serve_conn(i);
            }
        }
        if uart {
            self.uart_in()?;
        }
        if ppk2 {
            self.ppk2_in()?;
        }
        Ok(())
    }

    fn accept(&mut self) {
        loop {
            match self.io.swd.as_ref().map(|l| l.accept()) {
                Some(Ok((stream, _))) => {
                    if stream.set_nonblocking(true).is_err()
                        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
                    {
                        continue;
                    }
                    self.conns.push(Conn {
                        id: self.next_conn,
                        stream,
                        buf: Vec::new(),
                    });
                    self.next_conn += 1;
                }
                _ => return,
            }
        }
    }

    fn serve_conn(&mut self, i: usize) {
        let mut closed = false;
        let mut b = [0u8; 16 * 1024];
        loop {
            match (&self.conns[i].stream).read(&mut b) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.conns[i].buf.extend_from_slice(&b[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        loop {
            let frame = match take_frame(&mut self.conns[i].buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => {
                    closed = true;
                    break;
                }
            };
            let id = self.conns[i].id;
            let reply = match Request::decode(&frame) {
                Ok(req) => lock(&self.dut).handle(id, req),
                Err(e) => Reply::Error(e.to_string()),
            };
            if self.reply(i, &reply.encode()).is_err() {
                closed = true;
                break;
            }
        }
        if closed {
            let c = self.conns.remove(i);
            lock(&self.dut).disconnect(c.id);
        }
    }

    /// Write a reply on a non-blocking stream, waiting for room at most WRITE_TIMEOUT.
    fn reply(&mut self, i: usize, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = Vec::new();
        write_frame(&mut frame, payload).map_err(|e| std::io::Error::other(e.to_string()))?;
        let s = &self.conns[i].stream;
        s.set_nonblocking(false)?;
        let r = std::io::Write::write_all(&mut &*s, &frame);
        s.set_nonblocking(true)?;
        r
    }

    fn uart_in(&mut self) -> std::io::Result<()> {
        let Some(p) = self.io.uart.as_mut() else {
            return Ok(());
        };
        let bytes = p.read_available()?;
        if bytes.is_empty() {
            return Ok(());
        }
        let mut d = lock(&self.dut);
        let t = d.sync();
        self.stats.bytes_in += bytes.len() as u64;
        if let Some(l) = self.io.uart_log.as_mut() {
            l(format!(
                "{:>12.6} s  <- {}",
                t.as_secs_f64(),
                hex::encode(&bytes)
            ));
        }
        d.dev.uart_rx(t, &bytes);
        Ok(())
    }

    fn ppk2_in(&mut self) -> std::io::Result<()> {
        let Some(p) = self.io.ppk2.as_mut() else {
            return Ok(());
        };
        let bytes = p.read_available()?;
        if bytes.is_empty() {
            return Ok(());
        }
        let mut d = lock(&self.dut);
        for ev in d.ppk2.feed(&bytes) {
            match ev {
                PpkEvent::Reply(r) => {
                    p.write(&r)?;
                }
                PpkEvent::Supply(on) => d.set_supply(on),
                PpkEvent::Unknown(b) => d.log(format!("PPK2: unknown opcode {b:#04x} dropped")),
                PpkEvent::Command(c) => d.log(format!("PPK2: {c}")),
            }
        }
        Ok(())
    }
}
