//! The event/interrupt block every nRF52 peripheral shares (nRF52832 PS v1.4, "Peripheral
//! interface"): EVENTS_x registers at 0x100 + 4 * i, INTEN/INTENSET/INTENCLR at 0x300-0x308
//! with bit i enabling event i, and the interrupt line = any event set whose bit is enabled.

/// Events (bit i = the event register at 0x100 + 4 * i) and their interrupt enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventBlock {
    pub events: u32,
    pub inten: u32,
}

impl EventBlock {
    pub fn set(&mut self, i: u32) {
        self.events |= 1 << i;
    }

    /// The peripheral's interrupt line.
    pub fn irq(&self) -> bool {
        self.events & self.inten != 0
    }

    /// A read of an EVENTS or INTEN register (None: another register).
    pub fn read(&self, off: u32) -> Option<u32> {
        match off {
            0x100..=0x17C => Some((self.events >> ((off - 0x100) / 4)) & 1),
            0x300 | 0x304 | 0x308 => Some(self.inten),
            _ => None,
        }
    }

    /// A write of an EVENTS register (0 clears it, 1 sets it) or INTEN/INTENSET/INTENCLR;
    /// false: another register.
    pub fn write(&mut self, off: u32, v: u32) -> bool {
        match off {
            0x100..=0x17C => {
                let bit = 1 << ((off - 0x100) / 4);
                if v & 1 == 0 {
                    self.events &= !bit;
                } else {
                    self.events |= bit;
                }
            }
            0x300 => self.inten = v,
            0x304 => self.inten |= v,
            0x308 => self.inten &= !v,
            _ => return false,
        }
        true
    }
}
