//! The client side of a DUT's socket: what the rig's probe driver and `rig lab` use. Every call
//! is bounded by a read timeout, and a socket nobody serves is told apart from a missing one.

use crate::protocol::{
    read_frame, write_frame, BatchReply, DutStatus, Op, PowerAction, ProtocolError, Reply, Request,
    VERSION,
};
use std::io::ErrorKind;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one request may take before the lab is declared wedged.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("no lab serves {path}: the socket does not exist (start the lab with `rig lab up --dir {dir}`)")]
    NotRunning { path: PathBuf, dir: String },
    #[error("{path} is a stale socket: the lab that made it is no longer running (start it again with `rig lab up --dir {dir}`)")]
    Stale { path: PathBuf, dir: String },
    #[error("{path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("lab socket {path}: {source}")]
    Protocol {
        path: PathBuf,
        source: ProtocolError,
    },
    #[error("lab socket {path} did not answer within {CALL_TIMEOUT:?} (is the lab stopped with SIGSTOP, or overloaded?)")]
    Timeout { path: PathBuf },
    #[error("lab socket {path}: {message}")]
    Refused { path: PathBuf, message: String },
    #[error("lab socket {path}: unexpected reply {reply}")]
    Unexpected { path: PathBuf, reply: String },
}

/// The lab directory of a socket path, for messages.
fn dir_of(path: &Path) -> String {
    path.parent()
        .map(|p| p.display().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ".".into())
}

/// Connect to a lab socket, telling a missing socket from a stale one.
pub fn connect(path: &Path) -> Result<UnixStream, ClientError> {
    let s = UnixStream::connect(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => ClientError::NotRunning {
            path: path.into(),
            dir: dir_of(path),
        },
        ErrorKind::ConnectionRefused => ClientError::Stale {
            path: path.into(),
            dir: dir_of(path),
        },
        _ => ClientError::Connect {
            path: path.into(),
            source: e,
        },
    })?;
    s.set_read_timeout(Some(CALL_TIMEOUT))
        .and_then(|_| s.set_write_timeout(Some(CALL_TIMEOUT)))
        .map_err(|source| ClientError::Connect {
            path: path.into(),
            source,
        })?;
    Ok(s)
}

/// A connection to one DUT's socket.
#[derive(Debug)]
pub struct DutClient {
    stream: UnixStream,
    path: PathBuf,
    pub dut: String,
    pub chip: String,
}

impl DutClient {
    /// Connect and say hello (the lab refuses a second probe on one DUT).
    pub fn connect(path: &Path) -> Result<DutClient, ClientError> {
        let stream = connect(path)?;
        let mut c = DutClient {
            stream,
            path: path.into(),
            dut: String::new(),
            chip: String::new(),
        };
        match c.call(&Request::Hello {
            version: VERSION,
            pid: std::process::id(),
        })? {
            Reply::Hello { dut, chip, .. } => {
                c.dut = dut;
                c.chip = chip;
                Ok(c)
            }
            other => Err(c.unexpected(other)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn unexpected(&self, r: Reply) -> ClientError {
        match r {
            Reply::Error(message) => ClientError::Refused {
                path: self.path.clone(),
                message,
            },
            other => ClientError::Unexpected {
                path: self.path.clone(),
                reply: format!("{other:?}"),
            },
        }
    }

    /// One request, one reply.
    pub fn call(&mut self, req: &Request) -> Result<Reply, ClientError> {
        let perr = |source: ProtocolError| match &source {
            ProtocolError::Io(e)
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                ClientError::Timeout {
                    path: self.path.clone(),
                }
            }
            _ => ClientError::Protocol {
                path: self.path.clone(),
                source,
            },
        };
        write_frame(&mut self.stream, &req.encode()).map_err(perr)?;
        let frame = read_frame(&mut self.stream).map_err(perr)?;
        Reply::decode(&frame).map_err(perr)
    }

    fn expect_done(&mut self, req: &Request) -> Result<(), ClientError> {
        match self.call(req)? {
            Reply::Done => Ok(()),
            other => Err(self.unexpected(other)),
        }
    }

    pub fn batch(&mut self, wait_retries: u16, ops: Vec<Op>) -> Result<BatchReply, ClientError> {
        match self.call(&Request::Batch { wait_retries, ops })? {
            Reply::Batch(b) => Ok(b),
            other => Err(self.unexpected(other)),
        }
    }

    pub fn line_reset(&mut self) -> Result<(), ClientError> {
        self.expect_done(&Request::LineReset)
    }

    pub fn set_nreset(&mut self, asserted: bool) -> Result<(), ClientError> {
        self.expect_done(&Request::Nreset { asserted })
    }

    pub fn set_clock(&mut self, khz: u32) -> Result<(), ClientError> {
        self.expect_done(&Request::SetClock { khz })
    }

    pub fn power(&mut self, action: PowerAction) -> Result<(), ClientError> {
        self.expect_done(&Request::Power(action))
    }

    pub fn status(&mut self) -> Result<DutStatus, ClientError> {
        match self.call(&Request::Status)? {
            Reply::Status(s) => Ok(*s),
            other => Err(self.unexpected(other)),
        }
    }
}
