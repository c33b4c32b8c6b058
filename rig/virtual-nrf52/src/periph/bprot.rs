//! BPROT at 0x40000600 (nRF52832 PS v1.4 chapter 15): one bit per 4 KB flash region in CONFIG0-3
//! (regions 0-31, 32-63, 64-95, 96-127); a set bit stays set until a reset. A write or erase of
//! a protected region faults (the core takes a HardFault, the PS says); ERASEALL is refused if
//! any region is protected. DISABLEINDEBUG (reset 1) lifts the protection in debug interface
//! mode, i.e. for the debugger's accesses, which the model treats as always in debug mode.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bprot {
    pub config: [u32; 4],
    pub disable_in_debug: u32,
}

impl Default for Bprot {
    fn default() -> Self {
        Bprot {
            config: [0; 4],
            disable_in_debug: 1,
        }
    }
}

impl Bprot {
    fn index(off: u32) -> Option<usize> {
        match off {
            0x600 => Some(0),
            0x604 => Some(1),
            0x610 => Some(2),
            0x614 => Some(3),
            _ => None,
        }
    }

    pub fn read(&self, off: u32) -> Option<u32> {
        match off {
            0x608 => Some(self.disable_in_debug),
            0x60C => Some(0),
            _ => Self::index(off).map(|i| self.config[i]),
        }
    }

    pub fn write(&mut self, off: u32, v: u32) -> bool {
        match off {
            0x608 => self.disable_in_debug = v & 1,
            0x60C => {}
            _ => match Self::index(off) {
                // Bits can only be set.
                Some(i) => self.config[i] |= v,
                None => return false,
            },
        }
        true
    }

    /// Whether the 4 KB region holding `addr` is protected.
    pub fn protects(&self, addr: u32) -> bool {
        let region = addr / 0x1000;
        region < 128 && self.config[(region / 32) as usize] & (1 << (region % 32)) != 0
    }

    pub fn any(&self) -> bool {
        self.config.iter().any(|&c| c != 0)
    }
}
