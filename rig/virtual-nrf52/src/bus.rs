//! The memory bus as the CPU (or a debugger's AHB-AP) sees it: code flash, FICR, UICR, RAM and
//! the POWER and NVMC registers the model implements. Anything else is an error that names the
//! address.
//!
//! Flash and UICR are written through NVMC semantics: word writes with NVMC.CONFIG = WEN, erases
//! through the ERASEPAGE/ERASEALL/ERASEUICR registers with CONFIG = EEN, each taking its NVMC
//! time (the bus stalls until READY, which therefore always reads 1).

use crate::error::DeviceError;
use crate::hardware::Hardware;
use crate::nvmc::{FlashOp, FlashPath, NvmcConfig};
use nrf_dfu::memory_map::{
    FICR_BASE, NVMC_BASE, POWER_GPREGRET, POWER_GPREGRET2, POWER_RESETREAS, RAM_START, UICR_BASE,
    UICR_SIZE,
};

const POWER_BASE: u32 = 0x4000_0000;
pub(crate) const NVMC_READY: u32 = NVMC_BASE + 0x400;
pub(crate) const NVMC_CONFIG: u32 = NVMC_BASE + 0x504;
pub(crate) const NVMC_ERASEPAGE: u32 = NVMC_BASE + 0x508;
pub(crate) const NVMC_ERASEALL: u32 = NVMC_BASE + 0x50C;
pub(crate) const NVMC_ERASEPCR0: u32 = NVMC_BASE + 0x510;
pub(crate) const NVMC_ERASEUICR: u32 = NVMC_BASE + 0x514;

/// What lives at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Flash,
    Ficr,
    Uicr,
    Ram,
    Power,
    Nvmc,
}

impl Hardware {
    fn region(&self, addr: u32) -> Result<Region, DeviceError> {
        let ram_end = RAM_START + self.chip.ram_size();
        Ok(match addr {
            a if a < self.chip.flash_size() => Region::Flash,
            a if (FICR_BASE..FICR_BASE + 0x1000).contains(&a) => Region::Ficr,
            a if (UICR_BASE..UICR_BASE + UICR_SIZE).contains(&a) => Region::Uicr,
            a if (RAM_START..ram_end).contains(&a) => Region::Ram,
            a if (POWER_BASE..POWER_BASE + 0x1000).contains(&a) => Region::Power,
            a if (NVMC_BASE..NVMC_BASE + 0x1000).contains(&a) => Region::Nvmc,
            _ => return Err(DeviceError::Unmapped { addr }),
        })
    }

    fn powered(&self) -> Result<(), DeviceError> {
        if self.is_powered() {
            Ok(())
        } else {
            Err(DeviceError::Off)
        }
    }

    /// Read one aligned word.
    pub fn read_u32(&self, addr: u32) -> Result<u32, DeviceError> {
        self.powered()?;
        if !addr.is_multiple_of(4) {
            return Err(DeviceError::RegisterAccess {
                addr,
                region: "the bus (word reads)",
            });
        }
        match self.region(addr)? {
            Region::Flash | Region::Uicr => Ok(self.mem.read_word(addr)?),
            Region::Ficr => Ok(self.ficr.read_word(addr)),
            Region::Ram => {
                let o = (addr - RAM_START) as usize;
                Ok(u32::from_le_bytes([
                    self.ram[o],
                    self.ram[o + 1],
                    self.ram[o + 2],
                    self.ram[o + 3],
                ]))
            }
            Region::Power => match addr {
                POWER_RESETREAS => Ok(self.power.resetreas()),
                POWER_GPREGRET => Ok(self.power.gpregret() as u32),
                POWER_GPREGRET2 => Ok(self.power.gpregret2() as u32),
                _ => Err(DeviceError::Unmodelled {
                    addr,
                    what: "this POWER register",
                }),
            },
            Region::Nvmc => match addr {
                NVMC_READY => Ok(1),
                NVMC_CONFIG => Ok(self.nvmc_config.register()),
                _ => Err(DeviceError::Unmodelled {
                    addr,
                    what: "this NVMC register",
                }),
            },
        }
    }

    /// Write one aligned word.
    pub fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), DeviceError> {
        self.powered()?;
        if !addr.is_multiple_of(4) {
            return Err(DeviceError::RegisterAccess {
                addr,
                region: "the bus (word writes)",
            });
        }
        match self.region(addr)? {
            Region::Flash | Region::Uicr => {
                if self.nvmc_config != NvmcConfig::WriteEnabled {
                    return Err(DeviceError::FlashWriteDisabled {
                        addr,
                        config: self.nvmc_config,
                    });
                }
                self.flash_op(
                    &FlashOp::WriteWords {
                        addr,
                        words: vec![value],
                    },
                    FlashPath::Nvmc,
                )?;
            }
            Region::Ficr => {
                return Err(DeviceError::ReadOnly {
                    addr,
                    region: "FICR",
                })
            }
            Region::Ram => {
                let o = (addr - RAM_START) as usize;
                self.ram[o..o + 4].copy_from_slice(&value.to_le_bytes());
            }
            Region::Power => match addr {
                POWER_RESETREAS => self.power.clear_resetreas(value),
                POWER_GPREGRET => self.power.set_gpregret(value),
                POWER_GPREGRET2 => self.power.set_gpregret2(value),
                _ => {
                    return Err(DeviceError::Unmodelled {
                        addr,
                        what: "this POWER register",
                    })
                }
            },
            Region::Nvmc => self.write_nvmc(addr, value)?,
        }
        Ok(())
    }

    fn write_nvmc(&mut self, addr: u32, value: u32) -> Result<(), DeviceError> {
        let need_een = |d: &Hardware, register| {
            if d.nvmc_config == NvmcConfig::EraseEnabled {
                Ok(())
            } else {
                Err(DeviceError::EraseDisabled {
                    register,
                    config: d.nvmc_config,
                })
            }
        };
        match addr {
            NVMC_CONFIG => self.nvmc_config = NvmcConfig::from_register(value),
            NVMC_ERASEPAGE | NVMC_ERASEPCR0 => {
                need_een(self, "ERASEPAGE")?;
                self.flash_op(&FlashOp::ErasePage { addr: value }, FlashPath::Nvmc)?;
            }
            NVMC_ERASEALL => {
                need_een(self, "ERASEALL")?;
                if value & 1 == 1 {
                    self.flash_op(&FlashOp::EraseAll, FlashPath::Nvmc)?;
                }
            }
            NVMC_ERASEUICR => {
                need_een(self, "ERASEUICR")?;
                if value & 1 == 1 {
                    self.flash_op(&FlashOp::EraseUicr, FlashPath::Nvmc)?;
                }
            }
            _ => {
                return Err(DeviceError::Unmodelled {
                    addr,
                    what: "this NVMC register",
                })
            }
        }
        Ok(())
    }

    /// Read `len` bytes. Memory regions may be read at any alignment; register regions through
    /// whole words.
    pub fn read_bytes(&self, addr: u32, len: u32) -> Result<Vec<u8>, DeviceError> {
        self.powered()?;
        let end = addr
            .checked_add(len)
            .ok_or(DeviceError::Unmapped { addr: u32::MAX })?;
        let mut out = Vec::with_capacity(len as usize);
        let mut a = addr;
        while a < end {
            let region = self.region(a)?;
            match region {
                Region::Flash | Region::Uicr | Region::Ram => {
                    let limit = self.region_end(region).min(end);
                    let n = limit - a;
                    if region == Region::Ram {
                        let o = (a - RAM_START) as usize;
                        out.extend_from_slice(&self.ram[o..o + n as usize]);
                    } else {
                        out.extend_from_slice(self.mem.read(a, n)?);
                    }
                    a = limit;
                }
                Region::Ficr | Region::Power | Region::Nvmc => {
                    let base = a & !3;
                    let w = self.read_u32(base)?.to_le_bytes();
                    let upto = (base + 4).min(end);
                    out.extend_from_slice(&w[(a - base) as usize..(upto - base) as usize]);
                    a = upto;
                }
            }
        }
        Ok(out)
    }

    fn region_end(&self, r: Region) -> u32 {
        match r {
            Region::Flash => self.chip.flash_size(),
            Region::Uicr => UICR_BASE + UICR_SIZE,
            Region::Ram => RAM_START + self.chip.ram_size(),
            Region::Ficr => FICR_BASE + 0x1000,
            Region::Power | Region::Nvmc => u32::MAX,
        }
    }

    /// Write bytes: RAM at any alignment; flash/UICR and registers in whole aligned words.
    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), DeviceError> {
        self.powered()?;
        let len =
            u32::try_from(data.len()).map_err(|_| DeviceError::Unmapped { addr: u32::MAX })?;
        let end = addr
            .checked_add(len)
            .ok_or(DeviceError::Unmapped { addr: u32::MAX })?;
        let mut a = addr;
        while a < end {
            let region = self.region(a)?;
            if region == Region::Ram {
                let limit = self.region_end(region).min(end);
                let o = (a - RAM_START) as usize;
                let from = (a - addr) as usize;
                self.ram[o..o + (limit - a) as usize]
                    .copy_from_slice(&data[from..from + (limit - a) as usize]);
                a = limit;
                continue;
            }
            if !a.is_multiple_of(4) || end - a < 4 {
                return Err(match region {
                    Region::Flash | Region::Uicr => crate::flash::FlashError::PartialWord {
                        what: "bus write to flash",
                        addr: a,
                        len: end - a,
                    }
                    .into(),
                    _ => DeviceError::RegisterAccess {
                        addr: a,
                        region: "register",
                    },
                });
            }
            let from = (a - addr) as usize;
            let w =
                u32::from_le_bytes([data[from], data[from + 1], data[from + 2], data[from + 3]]);
            self.write_u32(a, w)?;
            a += 4;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "bus_tests.rs"]
mod tests;
