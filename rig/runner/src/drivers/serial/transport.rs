//! [`Transport`] over a serial port, connecting as pc-nrfutil 6.1.7 does
//! (`dfu_transport_serial.py` `open`): PING until the bootloader answers within the connect
//! timeout, then MTU_GET to size OBJECT_WRITE frames by nrfutil's rule `(mtu − 1) / 2 − 1`.

use super::port::{OpenPort, PortSettings};
use nrf_dfu::client::{Link, LinkError, LinkErrorKind};
use nrf_dfu::slip;
use nrf_dfu::wire::Transport;
use nrf_dfu::wire::{Opcode, Request, Response};
use std::time::Duration;
use tokio::time::{timeout, Instant};

/// The OBJECT_WRITE payload before MTU_GET answers: 64 bytes, what nrfutil derives from the
/// SDK 15+ UART MTU of 131.
pub const DEFAULT_WRITE_LEN: usize = 64;

/// Timing of the connect handshake and of writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialOptions {
    /// PING at connect (nrfutil pings UART bootloaders; not USB CDC ones).
    pub ping: bool,
    /// Overall bound on the ping loop (nrfutil: the `-t` timeout, 30 s).
    pub connect_timeout: Duration,
    /// Wait for each PING / MTU_GET answer (nrfutil: 1 s serial read timeout).
    pub answer_timeout: Duration,
    /// Bound on one frame write (flow control may hold it).
    pub write_timeout: Duration,
    /// Wait before reconnecting for the next image of a multi-image update: the bootloader is
    /// still resetting (activating SD+BL can take ~13 s, pc-nrfutil PR #201), and bytes sent
    /// into a UART that is mid-reset are lost or garble the first frame. nrfutil 6.1.7 sleeps
    /// `connect_delay` before every image (`nordicsemi/dfu/dfu.py` `Dfu._dfu_send_image`;
    /// `nrfutil dfu serial --connect-delay`, default 3 s); the PING loop after it is bounded by
    /// `connect_timeout`.
    pub reconnect_delay: Duration,
}

impl Default for SerialOptions {
    fn default() -> Self {
        SerialOptions {
            ping: true,
            connect_timeout: Duration::from_secs(30),
            answer_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(5),
            reconnect_delay: Duration::from_secs(3),
        }
    }
}

/// A Secure DFU link over a serial port.
pub struct SerialTransport {
    settings: PortSettings,
    options: SerialOptions,
    port: Option<OpenPort>,
    write_len: usize,
    /// MTU the bootloader reported at the last connect.
    mtu: Option<u16>,
    ping_id: u8,
}

/// nrfutil's payload rule: an OBJECT_WRITE frame must fit the device's SLIP buffer even if every
/// byte is escaped.
pub fn write_len_for_mtu(mtu: u16) -> usize {
    (usize::from(mtu).saturating_sub(1) / 2).saturating_sub(1)
}

impl SerialTransport {
    /// Open the port and run the handshake.
    pub async fn connect(
        settings: PortSettings,
        options: SerialOptions,
    ) -> Result<SerialTransport, LinkError> {
        let mut t = SerialTransport {
            settings,
            options,
            port: None,
            write_len: DEFAULT_WRITE_LEN,
            mtu: None,
            ping_id: 0,
        };
        if let Err(e) = t.open_and_handshake().await {
            // Let go of the port before saying so: the caller may open it again at once.
            let _ = t.close().await;
            return Err(e);
        }
        Ok(t)
    }

    pub fn mtu(&self) -> Option<u16> {
        self.mtu
    }

    fn port(&mut self) -> Result<&mut OpenPort, LinkError> {
        let path = self.settings.path.clone();
        self.port
            .as_mut()
            .ok_or_else(|| LinkError::closed(format!("serial port {path} is closed")))
    }

    async fn open_and_handshake(&mut self) -> Result<(), LinkError> {
        if let Some(mut p) = self.port.take() {
            p.release().await;
        }
        self.port = Some(OpenPort::open(&self.settings)?);
        if self.options.ping {
            self.ping_until_answered().await?;
        }
        self.query_mtu().await
    }

    /// One request, one answer for it (unrelated frames, e.g. a stale PRN, are skipped).
    async fn ask(&mut self, req: Request, wait: Duration) -> Result<Option<Response>, LinkError> {
        let op: Opcode = req.opcode();
        self.send_request(&req.encode()).await?;
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let port = self.port()?;
            match timeout(left, port.frames.recv()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(LinkError::link_lost("serial reader stopped")),
                Ok(Some(Err(e))) => return Err(e),
                Ok(Some(Ok(frame))) => {
                    if let Ok(r) = Response::decode(&frame, op) {
                        return Ok(Some(r));
                    }
                }
            }
        }
    }

    /// PING until any answer (an error result counts: the bootloader is alive), as nrfutil.
    async fn ping_until_answered(&mut self) -> Result<(), LinkError> {
        let deadline = Instant::now() + self.options.connect_timeout;
        loop {
            self.ping_id = self.ping_id.wrapping_add(1);
            let wait = self
                .options
                .answer_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            match self.ask(Request::Ping { id: self.ping_id }, wait).await? {
                Some(_) => return Ok(()),
                None if Instant::now() < deadline => continue,
                None => {
                    return Err(LinkError::timeout(format!(
                        "no answer to PING on {} within {:?}: is the device in DFU mode, and are baud rate ({}) and flow control ({}) right?",
                        self.settings.path,
                        self.options.connect_timeout,
                        self.settings.baud,
                        if self.settings.flow_control { "RTS/CTS" } else { "none" }
                    )))
                }
            }
        }
    }

    async fn query_mtu(&mut self) -> Result<(), LinkError> {
        match self
            .ask(Request::MtuGet, self.options.answer_timeout)
            .await?
        {
            Some(Response::Mtu { mtu }) => {
                let len = write_len_for_mtu(mtu);
                if len == 0 {
                    return Err(LinkError::io(format!(
                        "bootloader on {} reports MTU {mtu}: too small for any OBJECT_WRITE",
                        self.settings.path
                    )));
                }
                self.mtu = Some(mtu);
                self.write_len = len;
                Ok(())
            }
            // SDK 14 and refusals: keep the default (nrfutil does too).
            _ => Ok(()),
        }
    }
}

impl Link for SerialTransport {
    fn transport(&self) -> Transport {
        Transport::Uart
    }

    fn max_write_len(&self) -> usize {
        self.write_len
    }

    /// A UART cannot see the device reset; only a vanished USB CDC port shows up.
    fn observes_link_loss(&self) -> bool {
        false
    }

    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        if request.is_empty() {
            // An empty frame makes the SDK decoder hand up a stale opcode (17.1 `slip.c`
            // `slip_decode_add_byte` reports a bare END as a complete, empty packet).
            return Err(LinkError::io("refusing to send an empty SLIP frame"));
        }
        let limit = self.options.write_timeout;
        let bytes = slip::encode(request);
        self.port()?.write(bytes, limit).await
    }

    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        let mut frame = Vec::with_capacity(chunk.len() + 1);
        frame.push(Opcode::ObjectWrite as u8);
        frame.extend_from_slice(chunk);
        self.send_request(&frame).await
    }

    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        let port = self.port()?;
        match port.frames.recv().await {
            Some(r) => r,
            None => Err(LinkError::link_lost("serial reader stopped")),
        }
    }

    async fn reconnect(&mut self) -> Result<(), LinkError> {
        // Release the port (and its exclusive lock) first, as nrfutil closes it between images.
        if let Some(mut p) = self.port.take() {
            p.release().await;
        }
        tokio::time::sleep(self.options.reconnect_delay).await;
        self.open_and_handshake().await.map_err(|e| match e.kind {
            // A port that is not back yet (USB CDC re-enumerating) is worth another attempt.
            LinkErrorKind::Io => LinkError::timeout(e.detail),
            _ => e,
        })
    }

    async fn close(&mut self) -> Result<(), LinkError> {
        if let Some(mut p) = self.port.take() {
            p.release().await;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
