//! SIGINT/SIGTERM as a readable pipe, so a `poll` loop wakes on them and stops cleanly (the
//! devices are saved on the way out).

use std::io::Read;
use std::os::unix::net::UnixStream;

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

    /// The end to poll for POLLIN.
    pub fn reader(&self) -> &UnixStream {
        &self.reader
    }

    /// Whether a signal arrived (consumes what is waiting).
    pub fn fired(&mut self) -> bool {
        let mut b = [0u8; 16];
        matches!((&self.reader).read(&mut b), Ok(n) if n > 0)
    }
}

impl Drop for StopSignal {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
