//! The AHB-AP (AP 0; ADIv5.2 chapter C2 "The Memory Access Port"): CSW, TAR, DRW, the banked
//! data registers BD0-3, CFG, BASE and IDR, onto the system bus shared with the core.
//!
//! CSW.Size selects 8-, 16- or 32-bit accesses with the data on the byte lanes of TAR\[1:0\];
//! CSW.AddrInc = single increments TAR by the size after each DRW access, packed moves 4 bytes
//! (or 2 halfwords) per DRW access; auto-increment wraps within the 1 KB block of TAR (C2.2.2).
//! While APPROTECT locks the port every memory access is a bus error (STICKYERR).

use super::SwdAck;
use crate::armv7m::exec::BusError;
use crate::armv7m::rom::ROM_TABLE;
use crate::Device;

/// AHB-AP IDR of the nRF52832 (Cortex-M4 AHB-AP: revision 2, JEP106 ARM, class MEM-AP, AHB).
pub const AHB_AP_IDR: u32 = 0x2477_0011;
/// BASE: the ROM table, entry present, ADIv5 format.
pub const AHB_AP_BASE: u32 = ROM_TABLE | 0x3;

pub mod csw {
    pub const SIZE: u32 = 0x7;
    pub const ADDRINC: u32 = 0x3 << 4;
    pub const DEVICE_EN: u32 = 1 << 6;
    pub const TR_IN_PROG: u32 = 1 << 7;
    /// Size, AddrInc, Mode, HPROT/MasterType/DbgSwEnable.
    pub const WRITABLE: u32 = 0xFF00_0F37;
    /// Cortex-M4 AHB-AP CSW reset value: HPROT data/privileged, DeviceEn, byte size.
    pub const RESET: u32 = 0x0300_0040;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemAp {
    pub csw: u32,
    pub tar: u32,
}

impl Default for MemAp {
    fn default() -> Self {
        MemAp {
            csw: csw::RESET & csw::WRITABLE,
            tar: 0,
        }
    }
}

impl MemAp {
    /// Access size in bytes (None: a reserved Size value).
    fn size(&self) -> Option<u32> {
        match self.csw & csw::SIZE {
            0 => Some(1),
            1 => Some(2),
            2 => Some(4),
            _ => None,
        }
    }

    fn addr_inc(&self) -> u32 {
        (self.csw & csw::ADDRINC) >> 4
    }

    /// TAR after an access of `bytes`: incremented within its 1 KB block.
    fn advance(&mut self, bytes: u32) {
        self.tar = (self.tar & !0x3FF) | (self.tar.wrapping_add(bytes) & 0x3FF);
    }
}

impl Device {
    pub(crate) fn mem_ap_read(&mut self, reg: u8) -> Result<u32, SwdAck> {
        let ap = &self.si.swd.mem;
        Ok(match reg {
            0x00 => ap.csw | csw::DEVICE_EN,
            0x04 => ap.tar,
            0x0C => return self.drw(None),
            0x10..=0x1C => return self.banked(reg, None),
            // CFG: little-endian, no large address/data extensions.
            0xF4 => 0,
            0xF8 => AHB_AP_BASE,
            0xFC => AHB_AP_IDR,
            _ => 0,
        })
    }

    pub(crate) fn mem_ap_write(&mut self, reg: u8, value: u32) -> Result<(), SwdAck> {
        let ap = &mut self.si.swd.mem;
        match reg {
            0x00 => ap.csw = value & csw::WRITABLE,
            0x04 => ap.tar = value,
            0x0C => {
                self.drw(Some(value))?;
            }
            0x10..=0x1C => {
                self.banked(reg, Some(value))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A bus access for the AP: a stall is WAIT (nothing happened; the probe retries), a bus
    /// error sets STICKYERR (the packet itself is acknowledged OK, ADIv5.2 B4.2.4).
    fn ap_access(
        &mut self,
        addr: u32,
        size: u32,
        write: Option<u32>,
    ) -> Result<Option<u32>, SwdAck> {
        if self.ap_locked() {
            self.si.swd.bus_error();
            return Ok(None);
        }
        let r = match write {
            Some(v) => self.ahb_write(addr, size, v).map(|_| 0),
            None => self.ahb_read(addr, size),
        };
        match r {
            Ok(v) => Ok(Some(v)),
            Err(BusError::Stall) => {
                self.si.swd.stats.waits += 1;
                Err(SwdAck::Wait)
            }
            Err(BusError::Fault) => {
                self.si.swd.bus_error();
                Ok(None)
            }
        }
    }

    /// DRW: one access (or a packed group) at TAR, then the increment.
    fn drw(&mut self, write: Option<u32>) -> Result<u32, SwdAck> {
        let ap = self.si.swd.mem.clone();
        let Some(size) = ap.size() else {
            self.si.swd.bus_error();
            return Ok(0);
        };
        let packed = ap.addr_inc() == 2 && size < 4;
        let count = if packed { 4 / size } else { 1 };
        // Check for a stall before the first access so a WAIT leaves no partial transfer.
        let mut tar = ap.tar;
        let mut word = 0u32;
        for i in 0..count {
            let lane = 8 * (tar & 3);
            let data = write.map(|v| {
                if packed {
                    (v >> (8 * size * i)) & mask(size)
                } else {
                    (v >> lane) & mask(size)
                }
            });
            let got = self.ap_access(tar & !(size - 1), size, data);
            let got = match got {
                Err(w) if i == 0 => return Err(w),
                // A stall mid-group: the remaining lanes are not transferred.
                Err(_) => break,
                Ok(None) => return Ok(0),
                Ok(Some(g)) => g,
            };
            if write.is_none() {
                word |= if packed {
                    got << (8 * size * i)
                } else {
                    got << lane
                };
            }
            if ap.addr_inc() != 0 {
                self.si.swd.mem.advance(size);
            }
            tar = self.si.swd.mem.tar;
        }
        Ok(word)
    }

    /// BD0-3: a 32-bit access at TAR\[31:4\] + n*4, no increment.
    fn banked(&mut self, reg: u8, write: Option<u32>) -> Result<u32, SwdAck> {
        let addr = (self.si.swd.mem.tar & !0xF) | (reg as u32 & 0xC);
        Ok(self.ap_access(addr, 4, write)?.unwrap_or(0))
    }
}

fn mask(size: u32) -> u32 {
    match size {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => u32::MAX,
    }
}
