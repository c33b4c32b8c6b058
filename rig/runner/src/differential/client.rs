//! The client both devices hear: the procedure of nrfutil 6.1.7's serial transport
//! (pc-nrfutil `nordicsemi/dfu/dfu_transport_serial.py`: `open` pings, sets PRN 0 and asks for
//! the MTU; `send_init_packet` and `send_firmware` first try to recover what the bootloader
//! reports, then create, stream, check the CRC and execute each object), deciding on the
//! genuine code's answers. A cut stops it part-way through an object.

use super::session::Session;
use super::target::Answer;
use nrf_dfu::crc::crc32;
use std::time::Duration;

/// Why the procedure stopped before the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The genuine bootloader refused a request (its response, in hex).
    Refused { request: String, response: String },
    /// The genuine bootloader did not answer properly.
    NoAnswer { request: String, got: String },
    /// The CRC the bootloader reported is not the client's (nrfutil's ValidationException).
    CrcMismatch { offset: u32, got: u32, want: u32 },
    /// The planned interruption point was reached.
    Cut,
}

impl Stop {
    pub fn text(&self) -> String {
        match self {
            Stop::Refused { request, response } => format!("{request} refused ({response})"),
            Stop::NoAnswer { request, got } => format!("{request}: {got}"),
            Stop::CrcMismatch { offset, got, want } => {
                format!("CRC mismatch at offset {offset}: got {got:#010x}, want {want:#010x}")
            }
            Stop::Cut => "cut".into(),
        }
    }
}

/// Which object an interruption point is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    InitPacket,
    Data,
}

/// Where the client stops: after `offset` bytes of the init packet or of the firmware have
/// been written (and have arrived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutAt {
    pub phase: Phase,
    pub offset: usize,
}

/// Time after the last byte of a write burst before the client acts: the flash writes behind
/// it are done on both devices (a page write is about 42 ms at worst on the nRF52832, the
/// genuine code needs a few thousand instructions per write).
const WRITES_DONE: Duration = Duration::from_millis(50);

type Step<T> = Result<T, Stop>;

/// The payload after `60 op 01`, or why not.
fn ok<'a>(label: &str, answer: &'a Answer, op: u8) -> Step<&'a [u8]> {
    let Some(f) = answer.frame() else {
        return Err(Stop::NoAnswer {
            request: label.into(),
            got: answer.text(),
        });
    };
    if f.len() >= 3 && f[0] == 0x60 && f[1] == op && f[2] == 0x01 {
        Ok(&f[3..])
    } else {
        Err(Stop::Refused {
            request: label.into(),
            response: hex::encode(f),
        })
    }
}

fn word(b: &[u8], at: usize) -> Step<u32> {
    b.get(at..at + 4)
        .map(|w| u32::from_le_bytes(w.try_into().expect("4 bytes")))
        .ok_or(Stop::NoAnswer {
            request: "a response field".into(),
            got: hex::encode(b),
        })
}

fn kind_name(kind: u8) -> &'static str {
    if kind == 1 {
        "command"
    } else {
        "data"
    }
}

/// The client's state across one scenario.
pub struct Client {
    ping_id: u8,
    /// Bytes per WRITE: nrfutil's `(mtu - 1) / 2 - 1` (64 at the SDK's MTU of 131).
    write_len: usize,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            ping_id: 0,
            write_len: 64,
        }
    }
}

/// SELECT's answer.
struct Selected {
    max: u32,
    offset: u32,
    crc: u32,
}

impl Client {
    /// `open`: PING, SET_PRN 0, MTU_GET.
    pub fn open(&mut self, s: &mut Session) -> Step<()> {
        self.ping_id = self.ping_id.wrapping_add(1);
        let a = s.request("PING", &[0x09, self.ping_id]);
        ok("PING", &a, 0x09)?;
        let a = s.request("SET_PRN 0", &[0x02, 0x00, 0x00]);
        ok("SET_PRN", &a, 0x02)?;
        let a = s.request("MTU_GET", &[0x07]);
        let mtu = u16::from_le_bytes(
            ok("MTU_GET", &a, 0x07)?
                .get(0..2)
                .and_then(|b| b.try_into().ok())
                .unwrap_or([131, 0]),
        ) as usize;
        self.write_len = ((mtu.saturating_sub(1)) / 2)
            .saturating_sub(1)
            .clamp(1, 4096);
        Ok(())
    }

    fn select(&mut self, s: &mut Session, kind: u8) -> Step<Selected> {
        let label = format!("SELECT {}", kind_name(kind));
        let a = s.request(&label, &[0x06, kind]);
        let r = ok(&label, &a, 0x06)?;
        Ok(Selected {
            max: word(r, 0)?,
            offset: word(r, 4)?,
            crc: word(r, 8)?,
        })
    }

    fn create(&mut self, s: &mut Session, kind: u8, len: usize) -> Step<()> {
        let label = format!("CREATE {} {len}", kind_name(kind));
        let mut req = vec![0x01, kind];
        req.extend_from_slice(&(len as u32).to_le_bytes());
        let a = s.request(&label, &req);
        ok(&label, &a, 0x01).map(|_| ())
    }

    /// WRITEs of `data` (no answers with PRN 0); waits until they have arrived.
    fn write(&mut self, s: &mut Session, data: &[u8]) {
        let mut line = 0;
        for part in data.chunks(self.write_len) {
            let mut w = vec![0x08];
            w.extend_from_slice(part);
            line += nrf_dfu::slip::encoded_len(&w);
            s.send(&w);
        }
        s.drain(line, WRITES_DONE);
    }

    fn crc(&mut self, s: &mut Session) -> Step<(u32, u32)> {
        let a = s.request("CRC_GET", &[0x03]);
        let r = ok("CRC_GET", &a, 0x03)?;
        Ok((word(r, 0)?, word(r, 4)?))
    }

    fn execute(&mut self, s: &mut Session, what: &str) -> Step<()> {
        let label = format!("EXECUTE {what}");
        let a = s.request(&label, &[0x04]);
        ok(&label, &a, 0x04).map(|_| ())
    }

    /// `__stream_data`: WRITE `data` (object bytes from `offset`, CRC so far `crc`), then
    /// CRC_GET must say `offset + len` and the CRC of everything.
    fn stream(&mut self, s: &mut Session, all: &[u8], offset: usize, end: usize) -> Step<u32> {
        self.write(s, &all[offset..end]);
        let (got_off, got_crc) = self.crc(s)?;
        let want = crc32(&all[..end]);
        if got_off as usize != end || got_crc != want {
            return Err(Stop::CrcMismatch {
                offset: got_off,
                got: got_crc,
                want,
            });
        }
        Ok(want)
    }

    /// `send_init_packet`, stopping after `cut` bytes of it when given.
    pub fn send_init(&mut self, s: &mut Session, init: &[u8], cut: Option<usize>) -> Step<()> {
        let sel = self.select(s, 1)?;
        if cut.is_none() && self.recover_init(s, init, &sel)? {
            return Ok(());
        }
        self.create(s, 1, init.len())?;
        if let Some(k) = cut {
            self.write(s, &init[..k.min(init.len())]);
            return Err(Stop::Cut);
        }
        self.stream(s, init, 0, init.len())?;
        self.execute(s, "command")
    }

    /// `try_to_recover` of `send_init_packet`: a matching init command (whole or a prefix)
    /// is completed and executed instead of sent again.
    fn recover_init(&mut self, s: &mut Session, init: &[u8], sel: &Selected) -> Step<bool> {
        let off = sel.offset as usize;
        if off == 0 || off > init.len() || crc32(&init[..off]) != sel.crc {
            return Ok(false);
        }
        if off < init.len() && self.stream(s, init, off, init.len()).is_err() {
            return Ok(false);
        }
        self.execute(s, "command")?;
        Ok(true)
    }

    /// `send_firmware`, stopping after `cut` bytes of it when given.
    pub fn send_firmware(&mut self, s: &mut Session, fw: &[u8], cut: Option<usize>) -> Step<()> {
        let sel = self.select(s, 2)?;
        let max = (sel.max as usize).max(1);
        let mut offset = 0;
        if cut.is_none() {
            offset = self.recover_data(s, fw, &sel)?;
        } else if cut == Some(0) {
            return Err(Stop::Cut);
        }
        while offset < fw.len() {
            let end = (offset + max).min(fw.len());
            self.create(s, 2, end - offset)?;
            if let Some(k) = cut.filter(|&k| k <= end) {
                self.write(s, &fw[offset..k]);
                return Err(Stop::Cut);
            }
            self.stream(s, fw, offset, end)?;
            self.execute(s, "data")?;
            offset = end;
        }
        Ok(())
    }

    /// `try_to_recover` of `send_firmware`: where to go on from (nrfutil's arithmetic,
    /// including executing a whole last object again).
    fn recover_data(&mut self, s: &mut Session, fw: &[u8], sel: &Selected) -> Step<usize> {
        let max = (sel.max as usize).max(1);
        let mut off = (sel.offset as usize).min(fw.len());
        if off == 0 {
            return Ok(0);
        }
        let rem = off % max;
        if crc32(&fw[..off]) != sel.crc {
            off -= if rem != 0 { rem } else { max };
            return Ok(off);
        }
        if rem != 0 && off != fw.len() {
            let end = (off + max - rem).min(fw.len());
            if self.stream(s, fw, off, end).is_err() {
                return Ok(off - rem);
            }
            off = end;
        }
        self.execute(s, "data")?;
        Ok(off)
    }

    /// The whole update: open, init packet, firmware; `cut` stops it part-way.
    pub fn update(
        &mut self,
        s: &mut Session,
        init: &[u8],
        fw: &[u8],
        cut: Option<CutAt>,
    ) -> Step<()> {
        self.open(s)?;
        let init_cut = cut
            .filter(|c| c.phase == Phase::InitPacket)
            .map(|c| c.offset);
        self.send_init(s, init, init_cut)?;
        let data_cut = cut.filter(|c| c.phase == Phase::Data).map(|c| c.offset);
        self.send_firmware(s, fw, data_cut)
    }
}
