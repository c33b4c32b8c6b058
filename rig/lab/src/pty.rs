//! A pseudo-terminal standing in for a serial port: the virtual device holds the master side, a
//! symlink at the path the user gave points at the slave (`/dev/pts/N`), so nrfutil or any
//! pyserial program opens it like a USB-UART adapter.
//!
//! The slave stays open in this process as well: otherwise each time the client closes the port
//! the master would read EIO until someone opens it again, and bytes written meanwhile would be
//! lost. Both sides are raw (no echo, no CR/LF mapping) so SLIP bytes pass unchanged.

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The pseudo-terminal could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PtyError {
    #[error("creating a pseudo-terminal: {0}")]
    Open(nix::Error),
    #[error("setting the pseudo-terminal raw: {0}")]
    Termios(nix::Error),
    #[error("{path}: exists and is not a symlink; refusing to replace it")]
    PathTaken { path: PathBuf },
    #[error("{path}: {source}")]
    Link {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A pseudo-terminal with a symlink to its slave side; the link is removed on drop.
#[derive(Debug)]
pub struct Pty {
    master: File,
    _slave: OwnedFd,
    slave_path: PathBuf,
    link: PathBuf,
}

fn raw(fd: BorrowedFd<'_>) -> Result<(), PtyError> {
    let mut t = tcgetattr(fd).map_err(PtyError::Termios)?;
    cfmakeraw(&mut t);
    tcsetattr(fd, SetArg::TCSANOW, &t).map_err(PtyError::Termios)
}

impl Pty {
    /// Open a pseudo-terminal and point `link` at its slave. An existing symlink at `link` (a
    /// previous run's) is replaced; any other file is left alone and refused.
    pub fn open(link: &Path) -> Result<Pty, PtyError> {
        let p = openpty(None, None).map_err(PtyError::Open)?;
        raw(p.slave.as_fd())?;
        raw(p.master.as_fd())?;
        let flags = fcntl(&p.master, FcntlArg::F_GETFL).map_err(PtyError::Open)?;
        fcntl(
            &p.master,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(PtyError::Open)?;
        let slave_path = nix::unistd::ttyname(p.slave.as_fd()).map_err(PtyError::Open)?;
        match std::fs::symlink_metadata(link) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::remove_file(link).map_err(|source| PtyError::Link {
                    path: link.into(),
                    source,
                })?
            }
            Ok(_) => return Err(PtyError::PathTaken { path: link.into() }),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PtyError::Link {
                    path: link.into(),
                    source,
                })
            }
        }
        std::os::unix::fs::symlink(&slave_path, link).map_err(|source| PtyError::Link {
            path: link.into(),
            source,
        })?;
        Ok(Pty {
            master: File::from(p.master),
            _slave: p.slave,
            slave_path,
            link: link.into(),
        })
    }

    /// `/dev/pts/N`.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// The master side, for `poll`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.master.as_fd()
    }

    /// Whatever the client wrote since the last call (empty when nothing is waiting).
    pub fn read_available(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted =>
                {
                    return Ok(out)
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Send bytes to the client. A full pty buffer (nobody reading) drops the rest, as a UART
    /// without flow control loses bytes nobody takes; returns how many were written.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut done = 0;
        while done < bytes.len() {
            match self.master.write(&bytes[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(done),
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).is_ok_and(|t| t == self.slave_path) {
            let _ = std::fs::remove_file(&self.link);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn read_for(f: &mut File, n: usize) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while got.len() < n && Instant::now() < deadline {
            match f.read(&mut buf) {
                Ok(k) => got.extend_from_slice(&buf[..k]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        got
    }

    #[test]
    fn bytes_pass_unchanged_both_ways_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("ttyDFU");
        let mut pty = Pty::open(&link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path());
        let mut client = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&link)
            .unwrap();
        let frame = [0x09, 0x01, 0xC0, 0xDB, 0xDC, 0x0D, 0x0A, 0x03, 0x11, 0x13];
        client.write_all(&frame).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut got = Vec::new();
        while got.len() < frame.len() && Instant::now() < deadline {
            got.extend(pty.read_available().unwrap());
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            got, frame,
            "raw mode: no CR/LF mapping, no flow-control bytes eaten"
        );
        assert_eq!(pty.write(&[0x60, 0x09, 0x01, 0x01, 0xC0, 0x0A]).unwrap(), 6);
        let flags = fcntl(&client, FcntlArg::F_GETFL).unwrap();
        fcntl(
            &client,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .unwrap();
        assert_eq!(
            read_for(&mut client, 6),
            [0x60, 0x09, 0x01, 0x01, 0xC0, 0x0A]
        );
        // Nothing echoes back to the device side.
        assert!(pty.read_available().unwrap().is_empty());
        drop(client);
        drop(pty);
        assert!(std::fs::symlink_metadata(&link).is_err(), "link removed");
    }

    #[test]
    fn a_regular_file_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("precious");
        std::fs::write(&path, b"keep").unwrap();
        assert!(matches!(Pty::open(&path), Err(PtyError::PathTaken { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), b"keep");
        // A stale symlink is replaced.
        let link = dir.path().join("stale");
        std::os::unix::fs::symlink("/nonexistent", &link).unwrap();
        let pty = Pty::open(&link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path());
    }
}
