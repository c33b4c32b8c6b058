//! A scripted DFU host: sends requests the way nrfutil does (SET PRN, init packet, objects of
//! 4096 bytes, CRC check, EXECUTE), over the BLE calls or the UART, on simulated time.

use nrf_dfu::crc::{crc32, crc32_continue};
use nrf_dfu::slip::{SlipDecoder, SlipEvent};
use nrf_dfu::wire::{ObjectType, Opcode, Request, Response};
use std::time::Duration;
use virtual_nrf52::{Device, SimTime};

use super::Package;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ble,
    Uart,
}

/// Why an update stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The device answered `response` to `step`.
    Refused {
        step: &'static str,
        response: Response,
    },
    /// No answer to `step`.
    NoResponse { step: &'static str },
    /// The object's CRC never matched.
    Crc { offset: u32 },
}

/// The scripted host.
#[derive(Debug, Clone)]
pub struct Host {
    pub t: SimTime,
    pub link: Link,
    /// Bytes per data packet (BLE: MTU 247 - 3; UART: nrfutil's 64).
    pub payload: usize,
    pub prn: u16,
    /// Time between packets (BLE: a connection event carries 6 packets of a 15 ms interval).
    pub packet_gap: Duration,
    /// Notification / request latency (BLE: one connection interval).
    pub latency: Duration,
    /// Wait after a data CREATE before streaming (iOS / old Android: 400 ms; IOS-DFU-Library PR
    /// #377, Android-DFU-Library #208).
    pub create_delay: Duration,
    /// How long to wait for a reply (nrfutil BLE 20 s; serial 1 s per byte).
    pub timeout: Duration,
    /// PRN notifications seen.
    pub notifications: Vec<Vec<u8>>,
    /// Stop streaming after this many image bytes have been sent (fault injection).
    pub stop_after: Option<u32>,
    /// Report a data CREATE refused with INVALID_OBJECT instead of retrying it.
    pub strict_create: bool,
    /// Cut the device's power at this time (the host stops talking from then on).
    pub power_cut: Option<SimTime>,
    rx: SlipDecoder,
    tx_buf: Vec<u8>,
    write_buf: Vec<u8>,
}

impl Host {
    pub fn ble(t: SimTime) -> Host {
        Host {
            t,
            link: Link::Ble,
            payload: 244,
            prn: 0,
            packet_gap: Duration::from_micros(2_500),
            latency: Duration::from_millis(15),
            create_delay: Duration::from_millis(400),
            timeout: Duration::from_secs(20),
            notifications: Vec::new(),
            stop_after: None,
            strict_create: false,
            power_cut: None,
            rx: SlipDecoder::default(),
            tx_buf: Vec::new(),
            write_buf: Vec::new(),
        }
    }

    pub fn uart(t: SimTime) -> Host {
        Host {
            link: Link::Uart,
            payload: 64,
            packet_gap: Duration::ZERO,
            latency: Duration::ZERO,
            create_delay: Duration::ZERO,
            timeout: Duration::from_secs(2),
            ..Host::ble(t)
        }
    }

    pub fn for_link(link: Link, t: SimTime) -> Host {
        match link {
            Link::Ble => Host::ble(t),
            Link::Uart => Host::uart(t),
        }
    }

    /// Apply a planned power cut due by now; false once the power is gone.
    pub fn alive(&mut self, dev: &mut Device) -> bool {
        match self.power_cut {
            Some(cut) if self.t >= cut => {
                dev.power_off(cut);
                self.power_cut = None;
                false
            }
            Some(_) => true,
            None => dev.hardware().is_powered(),
        }
    }

    /// Send raw control-point bytes; the reply bytes, if any.
    pub fn send_raw(&mut self, dev: &mut Device, bytes: &[u8]) -> Option<Vec<u8>> {
        if !self.alive(dev) {
            return None;
        }
        match self.link {
            Link::Ble => {
                let reply = dev.dfu_control(self.t, bytes)?;
                self.t = self.t.max(reply.ready_at) + self.latency;
                // A reply due after the cut never arrives.
                self.alive(dev).then_some(reply.bytes)
            }
            Link::Uart => {
                self.uart_send(dev, bytes);
                self.uart_wait(dev)
            }
        }
    }

    fn uart_send(&mut self, dev: &mut Device, payload: &[u8]) {
        let mut frame = std::mem::take(&mut self.tx_buf);
        frame.clear();
        nrf_dfu::slip::encode_into(payload, &mut frame);
        dev.uart_rx(self.t, &frame);
        self.t += dev.timing().uart.byte_time() * frame.len() as u32;
        self.tx_buf = frame;
    }

    /// Wait for the next frame from the device (up to the timeout).
    fn uart_wait(&mut self, dev: &mut Device) -> Option<Vec<u8>> {
        let give_up = self.t + self.timeout;
        loop {
            for (done, bytes) in dev.uart_tx(self.t) {
                self.t = self.t.max(done);
                for b in bytes {
                    if let Some(SlipEvent::Frame(f)) = self.rx.push(b) {
                        return Some(f);
                    }
                }
            }
            if !self.alive(dev) {
                return None;
            }
            match dev.next_event_time() {
                Some(next) if next <= give_up => self.t = self.t.max(next),
                _ => {
                    self.t = give_up;
                    return None;
                }
            }
        }
    }

    pub fn send(&mut self, dev: &mut Device, req: &Request) -> Option<Vec<u8>> {
        self.send_raw(dev, &req.encode())
    }

    /// Send and decode; `Err` when the reply is not a success.
    pub fn request(
        &mut self,
        dev: &mut Device,
        req: &Request,
        step: &'static str,
    ) -> Result<Response, HostError> {
        let bytes = self.send(dev, req).ok_or(HostError::NoResponse { step })?;
        let response =
            Response::decode(&bytes, req.opcode()).map_err(|_| HostError::NoResponse { step })?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(HostError::Refused { step, response })
        }
    }

    /// One data/init packet (BLE Packet write, or a serial OBJECT_WRITE frame).
    pub fn write(&mut self, dev: &mut Device, data: &[u8]) {
        if !self.alive(dev) {
            return;
        }
        match self.link {
            Link::Ble => {
                let out = dev.dfu_packet(self.t, data);
                if let Some(n) = out.notification {
                    self.notifications.push(n.bytes);
                }
                self.t += self.packet_gap;
            }
            Link::Uart => {
                let mut frame = std::mem::take(&mut self.write_buf);
                frame.clear();
                frame.push(Opcode::ObjectWrite.as_u8());
                frame.extend_from_slice(data);
                self.uart_send(dev, &frame);
                self.write_buf = frame;
                if self.prn != 0 {
                    if let Some(n) = self.uart_poll(dev) {
                        self.notifications.push(n);
                    }
                }
            }
        }
    }

    /// A frame already on its way (PRN notification), without waiting for more.
    fn uart_poll(&mut self, dev: &mut Device) -> Option<Vec<u8>> {
        let saved = self.timeout;
        self.timeout = Duration::from_millis(50);
        let r = self.uart_wait(dev);
        self.timeout = saved;
        r
    }

    fn crc(&mut self, dev: &mut Device) -> Result<(u32, u32), HostError> {
        match self.request(dev, &Request::CrcGet, "crc")? {
            Response::Crc { offset, crc } => Ok((offset, crc)),
            other => Err(HostError::Refused {
                step: "crc",
                response: other,
            }),
        }
    }

    /// Send the init packet and execute it.
    pub fn send_init(&mut self, dev: &mut Device, init: &[u8]) -> Result<(), HostError> {
        self.request(dev, &Request::select(ObjectType::Command), "select command")?;
        self.request(
            dev,
            &Request::create(ObjectType::Command, init.len() as u32),
            "create command",
        )?;
        for chunk in init.chunks(self.payload) {
            self.write(dev, chunk);
        }
        let (offset, crc) = self.crc(dev)?;
        if offset != init.len() as u32 || crc != crc32(init) {
            return Err(HostError::Crc { offset });
        }
        self.request(dev, &Request::Execute, "execute command")?;
        Ok(())
    }

    /// Stream one object (`image[start..end]`), re-sending a lost tail when the device's CRC
    /// of what it has matches ours (Android's "bytes lost" handling), re-creating it otherwise.
    fn send_object(
        &mut self,
        dev: &mut Device,
        image: &[u8],
        start: usize,
        end: usize,
        crc_before: u32,
    ) -> Result<(), HostError> {
        for _attempt in 0..4 {
            self.create_data(dev, (end - start) as u32)?;
            self.t += self.create_delay;
            let mut at = start;
            for _round in 0..64 {
                for chunk in image[at..end].chunks(self.payload) {
                    if self.stop_after.is_some_and(|s| at as u32 >= s) {
                        return Err(HostError::NoResponse { step: "stopped" });
                    }
                    self.write(dev, chunk);
                    at += chunk.len();
                }
                let (offset, crc) = self.crc(dev)?;
                let offset = offset as usize;
                if offset < start
                    || offset > end
                    || crc != crc32_continue(crc_before, &image[start..offset])
                {
                    break;
                }
                if offset == end {
                    return Ok(());
                }
                // Lost packets at the end of the burst: wait for the flash, send the rest.
                self.t += Duration::from_millis(300);
                at = offset;
            }
            // Packets were lost mid-object: slow down (Android falls back to PRN = 1).
            self.packet_gap = (self.packet_gap * 4).min(Duration::from_millis(40));
        }
        Err(HostError::Crc {
            offset: start as u32,
        })
    }

    /// CREATE a data object; SDK 12 refuses it (INVALID_OBJECT) while its flash queue is full
    /// (12.3 `dfu_req_handling.c`, `nrf_dfu_data_req`; Android-DFU-Library #66/#86): wait and
    /// retry, as clients do.
    fn create_data(&mut self, dev: &mut Device, size: u32) -> Result<(), HostError> {
        let mut last = None;
        for _ in 0..8 {
            match self.request(dev, &Request::create(ObjectType::Data, size), "create data") {
                Err(HostError::Refused {
                    response:
                        Response::Error {
                            result: nrf_dfu::wire::ResultCode::InvalidObject,
                            ..
                        },
                    ..
                }) if !self.strict_create => {
                    self.t += Duration::from_millis(500);
                    last = Some(HostError::NoResponse {
                        step: "create data",
                    });
                }
                other => return other.map(|_| ()),
            }
        }
        Err(last.unwrap_or(HostError::NoResponse {
            step: "create data",
        }))
    }

    /// Send the image object by object; the final EXECUTE's result is the update's.
    pub fn send_image(&mut self, dev: &mut Device, image: &[u8]) -> Result<(), HostError> {
        let max = match self.request(dev, &Request::select(ObjectType::Data), "select data")? {
            Response::Select { max_size, .. } => max_size as usize,
            other => {
                return Err(HostError::Refused {
                    step: "select data",
                    response: other,
                })
            }
        };
        let mut crc = 0;
        for start in (0..image.len()).step_by(max.max(1)) {
            let end = (start + max).min(image.len());
            self.send_object(dev, image, start, end, crc)?;
            crc = crc32_continue(crc, &image[start..end]);
            self.request(dev, &Request::Execute, "execute data")?;
        }
        Ok(())
    }

    /// Send and execute the objects covering `image[..upto]` (upto a multiple of 4096).
    pub fn send_objects(&mut self, dev: &mut Device, image: &[u8], upto: usize) {
        let mut crc = 0;
        for start in (0..upto).step_by(4096) {
            let end = (start + 4096).min(upto);
            self.send_object(dev, image, start, end, crc)
                .expect("object");
            crc = crc32_continue(crc, &image[start..end]);
            self.request(dev, &Request::Execute, "execute data")
                .expect("execute");
        }
    }

    /// A whole update: PRN, init packet, image.
    pub fn update(&mut self, dev: &mut Device, pkg: &Package) -> Result<(), HostError> {
        self.request(dev, &Request::SetPrn { count: self.prn }, "set prn")?;
        self.send_init(dev, &pkg.init)?;
        self.send_image(dev, &pkg.image)
    }
}
