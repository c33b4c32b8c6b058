//! The serial port behind the transport: a reader thread that SLIP-decodes everything the
//! device sends into a channel, and a writer thread that writes whole frames. The async side
//! never blocks on the port; a port that disappears (USB CDC unplugged, pty closed) ends the
//! reader with a link-lost message.

use nrf_dfu::client::LinkError;
use nrf_dfu::slip::{SlipConfig, SlipDecoder, SlipEvent};
use serialport::{FlowControl, SerialPort};
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;
use tokio::sync::{mpsc as amp, oneshot};

/// How often the reader looks at its stop flag.
const READ_POLL: Duration = Duration::from_millis(20);
/// How long [`OpenPort::release`] waits for the threads to let go of the port: the reader
/// notices its stop flag within one [`READ_POLL`], the writer once its current write is done
/// (it stops between chunks once the flag is set).
const RELEASE_WAIT: Duration = Duration::from_millis(500);

/// Port settings from the bench file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSettings {
    pub path: String,
    /// 115200 for the SDK's pca10040_uart bootloader.
    pub baud: u32,
    /// RTS/CTS (the SDK's UART bootloader enables it; nrfutil's default too).
    pub flow_control: bool,
}

type WriteJob = (Vec<u8>, oneshot::Sender<std::io::Result<()>>);

/// An open port: frames in through `frames`, bytes out through [`OpenPort::write`].
pub struct OpenPort {
    pub frames: amp::UnboundedReceiver<Result<Vec<u8>, LinkError>>,
    writer: Option<mpsc::Sender<WriteJob>>,
    stop: Arc<AtomicBool>,
    /// Ends (every sender dropped) once both threads have dropped their handle on the port.
    released: amp::UnboundedReceiver<()>,
    pub path: String,
}

impl OpenPort {
    pub fn open(s: &PortSettings) -> Result<OpenPort, LinkError> {
        let port = serialport::new(&s.path, s.baud)
            .flow_control(if s.flow_control {
                FlowControl::Hardware
            } else {
                FlowControl::None
            })
            .timeout(READ_POLL)
            .open()
            .map_err(|e| {
                LinkError::io(format!("cannot open serial port {}: {e}", s.path)).caused_by(e)
            })?;
        let reader = port
            .try_clone()
            .map_err(|e| LinkError::io(format!("serial port {}: {e}", s.path)).caused_by(e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ftx, frames) = amp::unbounded_channel();
        let (wtx, wrx) = mpsc::channel::<WriteJob>();
        let path = s.path.clone();
        let (held, released) = amp::unbounded_channel();
        spawn_reader(reader, ftx, stop.clone(), path.clone(), held.clone())?;
        spawn_writer(port, wrx, stop.clone(), path.clone(), held)?;
        Ok(OpenPort {
            frames,
            writer: Some(wtx),
            stop,
            released,
            path,
        })
    }

    /// Write bytes; resolves when the OS took them all (hardware flow control may hold them).
    pub async fn write(&self, bytes: Vec<u8>, limit: Duration) -> Result<(), LinkError> {
        let (tx, rx) = oneshot::channel();
        let w = self
            .writer
            .as_ref()
            .ok_or_else(|| LinkError::closed(format!("serial port {} is closed", self.path)))?;
        w.send((bytes, tx))
            .map_err(|_| LinkError::link_lost(format!("serial port {} is gone", self.path)))?;
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(LinkError::link_lost(format!(
                "writing to serial port {}: {e}",
                self.path
            ))),
            Ok(Err(_)) => Err(LinkError::link_lost(format!("serial port {} is gone", self.path))),
            Err(_) => Err(LinkError::timeout(format!(
                "write to serial port {} did not complete within {limit:?} (CTS held by the device? check flow control)",
                self.path
            ))),
        }
    }

    pub fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.writer = None;
    }

    /// Close, and wait until the port is really closed: the threads hold their own handles on
    /// it (and so its exclusive lock, TIOCEXCL) until they notice, so the same port opened
    /// again straight after `close` fails with "Unable to acquire exclusive lock" (a campaign
    /// step after a PING look did, 19 ms after it, within the reader's 20 ms poll).
    pub async fn release(&mut self) {
        self.close();
        let gone = async { while self.released.recv().await.is_some() {} };
        if tokio::time::timeout(RELEASE_WAIT, gone).await.is_err() {
            tracing::debug!(
                "serial port {}: still held {RELEASE_WAIT:?} after close",
                self.path
            );
        }
    }
}

impl Drop for OpenPort {
    fn drop(&mut self) {
        self.close();
    }
}

fn spawn_reader(
    port: Box<dyn SerialPort>,
    out: amp::UnboundedSender<Result<Vec<u8>, LinkError>>,
    stop: Arc<AtomicBool>,
    path: String,
    held: amp::UnboundedSender<()>,
) -> Result<(), LinkError> {
    thread::Builder::new()
        .name(format!("serial-rx {path}"))
        .spawn(move || {
            // Dropped after `port` (declared later, dropped first): the port is closed when
            // `released` sees this sender go.
            let _held = held;
            let mut port = port;
            // The host side accepts any frame length (the device's limits are the device's).
            let mut slip = SlipDecoder::new(SlipConfig::default().max_frame_len(64 * 1024));
            let mut buf = [0u8; 512];
            while !stop.load(Ordering::SeqCst) {
                match port.read(&mut buf) {
                    Ok(0) => {
                        let _ = out.send(Err(LinkError::link_lost(format!(
                            "serial port {path} closed (end of file): the device or its USB link went away"
                        ))));
                        return;
                    }
                    Ok(n) => {
                        for ev in slip.feed(&buf[..n]) {
                            match ev {
                                SlipEvent::Frame(f) if !f.is_empty() => {
                                    if out.send(Ok(f)).is_err() {
                                        return;
                                    }
                                }
                                SlipEvent::Frame(_) => {}
                                SlipEvent::Error(e) => {
                                    tracing::debug!("serial {path}: SLIP error from device: {e}")
                                }
                            }
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = out.send(Err(LinkError::link_lost(format!(
                            "serial port {path} vanished: {e}"
                        ))));
                        return;
                    }
                }
            }
        })
        .map(|_| ())
        .map_err(|e| LinkError::io(format!("starting the reader for {}: {e}", "serial port")).caused_by(e))
}

fn spawn_writer(
    port: Box<dyn SerialPort>,
    jobs: mpsc::Receiver<WriteJob>,
    stop: Arc<AtomicBool>,
    path: String,
    held: amp::UnboundedSender<()>,
) -> Result<(), LinkError> {
    thread::Builder::new()
        .name(format!("serial-tx {path}"))
        .spawn(move || {
            let _held = held;
            let mut port = port;
            while let Ok((bytes, done)) = jobs.recv() {
                let r = write_all_patiently(&mut port, &bytes, &stop);
                let _ = done.send(r);
            }
        })
        .map(|_| ())
        .map_err(|e| LinkError::io(format!("starting the writer for {path}: {e}")).caused_by(e))
}

/// `write_all`, treating the port's short poll timeout as "try again" (the caller bounds the
/// whole write).
fn write_all_patiently(
    port: &mut Box<dyn SerialPort>,
    mut bytes: &[u8],
    stop: &AtomicBool,
) -> std::io::Result<()> {
    while !bytes.is_empty() {
        if stop.load(Ordering::SeqCst) {
            return Err(std::io::Error::new(ErrorKind::BrokenPipe, "port closed"));
        }
        match port.write(bytes) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    ErrorKind::WriteZero,
                    "port accepted no bytes",
                ))
            }
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    port.flush()
}
