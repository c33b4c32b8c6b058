//! SEGGER RTT up channel 0 over plain memory access, for probes without a native RTT client
//! (the virtual probe), plus the line assembly every probe uses.
//!
//! Control block layout (SEGGER_RTT.h, 32-bit targets): `acID[16]` = "SEGGER RTT" NUL-padded,
//! `MaxNumUpBuffers` i32, `MaxNumDownBuffers` i32, then per up buffer 24 bytes: `sName`,
//! `pBuffer`, `SizeOfBuffer`, `WrOff` (target writes), `RdOff` (host writes), `Flags`.

use super::probe::{ProbeError, ProbeErrorKind};

/// The control block's ID as it sits in RAM.
pub const RTT_ID: &[u8; 16] = b"SEGGER RTT\0\0\0\0\0\0";
const UP_DESC_OFFSET: u32 = 24;
const UP_DESC_SIZE: u32 = 24;

/// Memory access for the scanner.
pub trait RttMemory {
    fn read(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ProbeError>;
    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), ProbeError>;
}

fn word(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn rtt_err(msg: String) -> ProbeError {
    ProbeError::device(ProbeErrorKind::Rtt, msg)
}

/// Find the control block in `[start, start + len)`.
pub fn find_control_block(
    mem: &mut dyn RttMemory,
    start: u32,
    len: u32,
) -> Result<Option<u32>, ProbeError> {
    let ram = mem.read(start, len)?;
    Ok(ram
        .windows(RTT_ID.len())
        .position(|w| w == RTT_ID)
        .map(|i| start + i as u32))
}

/// Up channel 0 of the control block at `cb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpChannel {
    desc: u32,
    buffer: u32,
    size: u32,
}

impl UpChannel {
    /// Read and check up channel 0's descriptor.
    pub fn open(mem: &mut dyn RttMemory, cb: u32) -> Result<UpChannel, ProbeError> {
        let head = mem.read(cb + 16, 8)?;
        let ups = word(&head, 0).unwrap_or(0) as i32;
        if !(1..=255).contains(&ups) {
            return Err(rtt_err(format!(
                "RTT control block at {cb:#010x} declares {ups} up buffers (expected 1..255): not initialised yet?"
            )));
        }
        let desc = cb + UP_DESC_OFFSET;
        let d = mem.read(desc, UP_DESC_SIZE)?;
        let (buffer, size) = (word(&d, 4).unwrap_or(0), word(&d, 8).unwrap_or(0));
        if buffer == 0 || size < 2 {
            return Err(rtt_err(format!(
                "RTT up channel 0 at {desc:#010x} has buffer {buffer:#010x} of {size} bytes"
            )));
        }
        Ok(UpChannel { desc, buffer, size })
    }

    /// Take what the target wrote since the last read and advance RdOff.
    pub fn read(&self, mem: &mut dyn RttMemory) -> Result<Vec<u8>, ProbeError> {
        let offs = mem.read(self.desc + 12, 8)?;
        let (wr, rd) = (word(&offs, 0).unwrap_or(0), word(&offs, 4).unwrap_or(0));
        if wr >= self.size || rd >= self.size {
            return Err(rtt_err(format!(
                "RTT up channel 0 offsets out of range (WrOff {wr}, RdOff {rd}, size {})",
                self.size
            )));
        }
        if wr == rd {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if wr > rd {
            out.extend(mem.read(self.buffer + rd, wr - rd)?);
        } else {
            out.extend(mem.read(self.buffer + rd, self.size - rd)?);
            out.extend(mem.read(self.buffer, wr)?);
        }
        mem.write(self.desc + 16, &wr.to_le_bytes())?;
        Ok(out)
    }
}

/// Splits RTT bytes into lines, keeping an unfinished line for the next read.
#[derive(Debug, Default, Clone)]
pub struct LineAssembler {
    partial: Vec<u8>,
}

impl LineAssembler {
    /// Add bytes; return the lines they complete (without "\n" or "\r\n"; invalid UTF-8 is
    /// replaced, not refused: logs are for people).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                if self.partial.last() == Some(&b'\r') {
                    self.partial.pop();
                }
                lines.push(String::from_utf8_lossy(&self.partial).into_owned());
                self.partial.clear();
            } else {
                self.partial.push(b);
            }
        }
        lines
    }

    pub fn pending(&self) -> &[u8] {
        &self.partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A sparse RAM for the scanner.
    #[derive(Default)]
    struct Ram(BTreeMap<u32, u8>);

    impl RttMemory for Ram {
        fn read(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ProbeError> {
            Ok((addr..addr + len)
                .map(|a| *self.0.get(&a).unwrap_or(&0))
                .collect())
        }
        fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), ProbeError> {
            for (i, b) in data.iter().enumerate() {
                self.0.insert(addr + i as u32, *b);
            }
            Ok(())
        }
    }

    fn control_block(ram: &mut Ram, cb: u32, buf: u32, size: u32) {
        ram.write(cb, RTT_ID).unwrap();
        ram.write(cb + 16, &1u32.to_le_bytes()).unwrap();
        ram.write(cb + 20, &1u32.to_le_bytes()).unwrap();
        let mut d = Vec::new();
        for w in [0u32, buf, size, 0, 0, 0] {
            d.extend_from_slice(&w.to_le_bytes());
        }
        ram.write(cb + 24, &d).unwrap();
    }

    fn target_writes(ram: &mut Ram, cb: u32, buf: u32, size: u32, text: &[u8]) {
        let wr = ram.read(cb + 36, 4).unwrap();
        let mut wr = u32::from_le_bytes(wr.try_into().unwrap());
        for &b in text {
            ram.write(buf + wr, &[b]).unwrap();
            wr = (wr + 1) % size;
        }
        ram.write(cb + 36, &wr.to_le_bytes()).unwrap();
    }

    #[test]
    fn finds_reads_and_wraps() {
        let mut ram = Ram::default();
        let (cb, buf, size) = (0x2000_0100, 0x2000_0400, 16);
        control_block(&mut ram, cb, buf, size);
        assert_eq!(
            find_control_block(&mut ram, 0x2000_0000, 0x1000).unwrap(),
            Some(cb)
        );
        assert_eq!(
            find_control_block(&mut ram, 0x2000_0200, 0x100).unwrap(),
            None
        );
        let ch = UpChannel::open(&mut ram, cb).unwrap();
        let mut lines = LineAssembler::default();
        target_writes(&mut ram, cb, buf, size, b"boot ok\r\nda");
        assert_eq!(lines.push(&ch.read(&mut ram).unwrap()), vec!["boot ok"]);
        assert_eq!(lines.pending(), b"da");
        // This write wraps around the 16-byte ring.
        target_writes(&mut ram, cb, buf, size, b"ta\nx");
        assert_eq!(lines.push(&ch.read(&mut ram).unwrap()), vec!["data"]);
        assert_eq!(
            ch.read(&mut ram).unwrap(),
            Vec::<u8>::new(),
            "RdOff advanced"
        );
    }

    #[test]
    fn uninitialised_block_is_an_error() {
        let mut ram = Ram::default();
        ram.write(0x2000_0000, RTT_ID).unwrap();
        let e = UpChannel::open(&mut ram, 0x2000_0000).unwrap_err();
        assert_eq!(e.kind, ProbeErrorKind::Rtt);
        assert!(e.message.contains("0 up buffers"), "{}", e.message);
    }

    #[test]
    fn corrupt_offsets_are_an_error() {
        let mut ram = Ram::default();
        let (cb, buf) = (0x2000_0000, 0x2000_0800);
        control_block(&mut ram, cb, buf, 8);
        ram.write(cb + 36, &9u32.to_le_bytes()).unwrap();
        let ch = UpChannel::open(&mut ram, cb).unwrap();
        assert!(ch.read(&mut ram).unwrap_err().message.contains("WrOff 9"));
    }
}
