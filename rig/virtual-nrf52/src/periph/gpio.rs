//! GPIO P0 at 0x50000000 (nRF52832 PS v1.4 chapter 19): OUT, DIR, PIN_CNF and IN, where a pin
//! reads what drives it: the bench (the DFU button on P0.16, active low on the PCA10040), else
//! its own output when it is an output, else its pull resistor (PIN_CNF.PULL 1 down, 3 up),
//! else 0. LATCH and DETECTMODE are kept as registers; sense and GPIOTE are not modelled.

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gpio {
    pub out: u32,
    pub dir: u32,
    pub latch: u32,
    pub detectmode: u32,
    pub pin_cnf: [u32; 32],
    /// Levels driven from outside (bit set in `driven_mask`).
    pub driven: u32,
    pub driven_mask: u32,
}

impl Gpio {
    /// The level the bench drives on `pin` (None: released).
    pub fn drive(&mut self, pin: u32, level: Option<bool>) {
        let bit = 1 << (pin & 31);
        match level {
            Some(l) => {
                self.driven_mask |= bit;
                if l {
                    self.driven |= bit;
                } else {
                    self.driven &= !bit;
                }
            }
            None => self.driven_mask &= !bit,
        }
    }

    pub fn input(&self) -> u32 {
        (0..32).fold(0, |acc, pin| {
            let bit = 1u32 << pin;
            let level = if self.driven_mask & bit != 0 {
                self.driven & bit != 0
            } else if self.dir & bit != 0 {
                self.out & bit != 0
            } else {
                (self.pin_cnf[pin] >> 2) & 3 == 3
            };
            acc | (level as u32) << pin
        })
    }

    pub fn read(&self, off: u32) -> Option<u32> {
        Some(match off {
            0x504 | 0x508 | 0x50C => self.out,
            0x510 => self.input(),
            0x514 | 0x518 | 0x51C => self.dir,
            0x520 => self.latch,
            0x524 => self.detectmode,
            0x700..=0x77C => self.pin_cnf[((off - 0x700) / 4) as usize],
            _ => return None,
        })
    }

    pub fn write(&mut self, off: u32, v: u32) -> bool {
        match off {
            0x504 => self.out = v,
            0x508 => self.out |= v,
            0x50C => self.out &= !v,
            0x514 => self.dir = v,
            0x518 => self.dir |= v,
            0x51C => self.dir &= !v,
            0x520 => self.latch &= !v,
            0x524 => self.detectmode = v & 1,
            0x700..=0x77C => {
                let pin = ((off - 0x700) / 4) as usize;
                self.pin_cnf[pin] = v;
                // PIN_CNF.DIR mirrors into DIR.
                if v & 1 != 0 {
                    self.dir |= 1 << pin;
                } else {
                    self.dir &= !(1 << pin);
                }
            }
            _ => return false,
        }
        true
    }
}
