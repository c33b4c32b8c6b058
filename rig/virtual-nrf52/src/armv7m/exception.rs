//! Exception entry and return (ARMv7-M ARM B1.5.6 PushStack/ExceptionTaken, B1.5.7-8
//! ExceptionReturn/PopStack), with the FP extension's extended frame: when CONTROL.FPCA is
//! set the frame also holds S0-S15 and FPSCR (0x68 bytes, always 8-byte aligned) and
//! EXC_RETURN bit 4 is 0. Lazy stacking (FPCCR.LSPEN) is not modelled: the FP registers are
//! stored at entry, which leaves memory as it is on silicon once the handler uses the FPU
//! and costs no time the model counts.

use super::exec::{Bus, BusError};
use super::regs::psr;
use super::Cpu;

/// Bytes of the basic and the extended frame.
const BASIC: u32 = 0x20;
const EXTENDED: u32 = 0x68;

impl Cpu {
    /// Take exception `number`: push the frame on the current stack (realigned to 8, xPSR bit
    /// 9 noting it), EXC_RETURN in LR, handler address from the vector table at VTOR, the
    /// exception active. An error if the frame or the vector cannot be accessed; on a stall
    /// (the NVMC holds the flash the vector table is in) nothing has changed and the entry is
    /// tried again once the bus is free.
    pub fn take_exception(
        &mut self,
        bus: &mut impl Bus,
        number: u32,
        return_address: u32,
    ) -> Result<(), BusError> {
        let r = &mut self.regs;
        let fp = r.control & 4 != 0;
        let size = if fp { EXTENDED } else { BASIC };
        let sp = r.r[13];
        let realign = sp & 4 != 0;
        let frame = sp.wrapping_sub(size) & !7;
        let xpsr = (r.xpsr & !(1 << 9)) | if realign { 1 << 9 } else { 0 };
        let words = [
            r.r[0],
            r.r[1],
            r.r[2],
            r.r[3],
            r.r[12],
            r.r[14],
            return_address & !1,
            xpsr,
        ];
        // The vector first: a stall there must leave nothing half done.
        let vector = bus.read(self.scs.vtor.wrapping_add(4 * number), 4)?;
        for (i, w) in words.iter().enumerate() {
            bus.write(frame + 4 * i as u32, 4, *w)?;
        }
        if fp {
            for i in 0..16 {
                bus.write(frame + 0x20 + 4 * i, 4, r.s[i as usize])?;
            }
            bus.write(frame + 0x60, 4, r.fpscr)?;
        }
        let thread = r.xpsr & psr::IPSR_MASK == 0;
        let psp = r.control & 2 != 0 && thread;
        r.r[13] = frame;
        r.sync_sp_out();
        let low = match (thread, psp) {
            (false, _) => 0x1,
            (true, false) => 0x9,
            (true, true) => 0xD,
        };
        r.r[14] = if fp { 0xFFFF_FFE0 } else { 0xFFFF_FFF0 } | low;
        // IPSR = number, IT cleared, T from the vector.
        r.xpsr = (r.xpsr & 0xF80F_0000) | number;
        if vector & 1 == 1 {
            r.xpsr |= psr::T;
        }
        r.control &= !(2 | 4);
        r.sync_sp_in();
        r.r[15] = vector & !1;
        r.monitor = false;
        self.scs.nvic.activate(number);
        // Exception entry sets the event register (B1.5.18): a WFE after the handler
        // returns does not sleep.
        self.event = true;
        Ok(())
    }

    /// Exception return when a handler loaded EXC_RETURN into the PC. False for an
    /// EXC_RETURN the architecture rejects (INVPC, modelled as a lockup) or a frame that
    /// cannot be read.
    pub(super) fn exception_return(&mut self, bus: &mut impl Bus) -> bool {
        let exc = self.regs.r[15] | 1;
        let (to_thread, use_psp) = match exc & 0xF {
            0x1 => (false, false),
            0x9 => (true, false),
            0xD => (true, true),
            _ => return false,
        };
        let fp = exc & 0x10 == 0;
        let returning = self.regs.xpsr & psr::IPSR_MASK;
        // IPSR comes from a stacked xPSR the software could have changed: anything but an
        // active exception is an invalid return.
        if returning >= 64 || self.scs.nvic.active & (1 << returning) == 0 {
            return false;
        }
        let r = &mut self.regs;
        r.sync_sp_out();
        let sp = if use_psp { r.psp } else { r.msp };
        let mut words = [0u32; 8];
        for (i, w) in words.iter_mut().enumerate() {
            match bus.read(sp.wrapping_add(4 * i as u32), 4) {
                Ok(v) => *w = v,
                Err(_) => return false,
            }
        }
        if fp {
            for i in 0..16 {
                match bus.read(sp.wrapping_add(0x20 + 4 * i), 4) {
                    Ok(v) => r.s[i as usize] = v,
                    Err(_) => return false,
                }
            }
            match bus.read(sp.wrapping_add(0x60), 4) {
                Ok(v) => r.fpscr = v,
                Err(_) => return false,
            }
        }
        self.scs.nvic.deactivate(returning);
        // FAULTMASK clears on return from any exception but NMI (B1.5.8 DeActivate).
        if returning != super::nvic::NMI {
            r.faultmask = 0;
        }
        let size = if fp { EXTENDED } else { BASIC };
        let realign = words[7] & (1 << 9) != 0;
        let new_sp = sp.wrapping_add(size + if realign { 4 } else { 0 });
        if use_psp {
            r.psp = new_sp;
            r.control |= 2;
        } else {
            r.msp = new_sp;
            r.control &= !2;
        }
        if fp {
            r.control |= 4;
        } else {
            r.control &= !4;
        }
        r.r[0..4].copy_from_slice(&words[0..4]);
        r.r[12] = words[4];
        r.r[14] = words[5];
        r.r[15] = words[6] & !1;
        r.xpsr = words[7] & !(1 << 9);
        if to_thread {
            r.xpsr &= !psr::IPSR_MASK;
        }
        r.sync_sp_in();
        r.monitor = false;
        self.scs.nvic.vectactive = r.xpsr & psr::IPSR_MASK;
        self.event = true;
        true
    }
}
