//! The Private Peripheral Bus (0xE0000000-0xE00FFFFF) as the core itself sees it: the SCS,
//! FPB and DWT registers of [`Scs`], the ROM table and the CoreSight ID registers; ITM, TPIU and
//! ETM are present (their IDs read) but their other registers are read-as-zero/write-ignored in
//! this model. The debug port reaches the same registers, with DHCSR, DCRSR and AIRCR handled
//! by the device (they halt or reset the core).

use super::exec::{Bus, BusError};
use super::rom;
use super::scs::Scs;

pub const PPB_START: u32 = 0xE000_0000;
pub const PPB_END: u32 = 0xE010_0000;

pub fn is_ppb(addr: u32) -> bool {
    (PPB_START..PPB_END).contains(&addr)
}

fn in_trace_block(addr: u32) -> bool {
    matches!(addr & !0xFFF, 0xE000_0000 | 0xE004_0000 | 0xE004_1000)
}

/// A word read on the PPB (None: nothing there: a bus error).
pub fn read(scs: &mut Scs, cycles: u64, addr: u32) -> Option<u32> {
    if let Some(v) = rom::id_register(addr) {
        return Some(v);
    }
    if (rom::ROM_TABLE..rom::ROM_TABLE + 0xFC8).contains(&addr) {
        return Some(rom::rom_entry((addr - rom::ROM_TABLE) / 4));
    }
    if let Some(v) = scs.read(addr, cycles) {
        return Some(v);
    }
    (in_trace_block(addr) || (0xE000_E000..0xE000_F000).contains(&addr)).then_some(0)
}

/// A word write on the PPB; false: a bus error.
pub fn write(scs: &mut Scs, cycles: u64, addr: u32, value: u32) -> bool {
    scs.write(addr, value, cycles)
        || in_trace_block(addr)
        || (0xE000_E000..0xE000_F000).contains(&addr)
}

/// What the core did on the PPB that the device must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PpbRequests {
    /// AIRCR written with VECTKEY and SYSRESETREQ (the firmware's NVIC_SystemReset).
    pub sysresetreq: bool,
}

/// The core's bus: the PPB here, everything else on the system bus.
pub struct CoreBus<'a, B: Bus> {
    pub scs: &'a mut Scs,
    pub cycles: u64,
    pub system: &'a mut B,
    pub requests: PpbRequests,
}

impl<B: Bus> Bus for CoreBus<'_, B> {
    fn read(&mut self, addr: u32, size: u32) -> Result<u32, BusError> {
        if !is_ppb(addr) {
            return self.system.read(addr, size);
        }
        let word = read(self.scs, self.cycles, addr & !3).ok_or(BusError::Fault)?;
        Ok(lane(word, addr, size))
    }

    fn config(&self) -> super::exec::CoreConfig {
        self.scs.core_config()
    }

    fn write(&mut self, addr: u32, size: u32, value: u32) -> Result<(), BusError> {
        if !is_ppb(addr) {
            return self.system.write(addr, size, value);
        }
        if size != 4 {
            // The priority registers take byte and halfword writes: merge into the word.
            if !super::nvic::byte_accessible(addr) {
                return Err(BusError::Fault);
            }
            let word_addr = addr & !3;
            let old = read(self.scs, self.cycles, word_addr).ok_or(BusError::Fault)?;
            let shift = 8 * (addr & 3);
            let mask = if size == 1 { 0xFF } else { 0xFFFF } << shift;
            let merged = (old & !mask) | ((value << shift) & mask);
            return if write(self.scs, self.cycles, word_addr, merged) {
                Ok(())
            } else {
                Err(BusError::Fault)
            };
        }
        if addr == super::scs::addr::AIRCR {
            if value >> 16 == 0x05FA && value & 4 != 0 {
                self.requests.sysresetreq = true;
            }
            self.scs.prigroup = (value >> 8) & 7;
            return Ok(());
        }
        // Software cannot halt itself through DHCSR without the debugger's key; DCRSR is a
        // debugger register. Both are ignored when the core writes them.
        if addr == super::scs::addr::DHCSR || addr == super::scs::addr::DCRSR {
            return Ok(());
        }
        if write(self.scs, self.cycles, addr, value) {
            Ok(())
        } else {
            Err(BusError::Fault)
        }
    }
}

/// The byte lane(s) of a word that an access of `size` at `addr` reads.
pub fn lane(word: u32, addr: u32, size: u32) -> u32 {
    match size {
        1 => (word >> (8 * (addr & 3))) & 0xFF,
        2 => (word >> (8 * (addr & 2))) & 0xFFFF,
        _ => word,
    }
}
