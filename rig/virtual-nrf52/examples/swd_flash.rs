//! Benchmark: program flash over the register-level SWD port the way a probe's flash loader
//! does (load a flash routine into RAM, then per 4 KB page: EraseSector, write the page to RAM
//! through the AHB-AP, ProgramPage), and report wall time, simulated (lab) time, SWD packets
//! and the core's instructions.
//!
//!     cargo run --release -p virtual-nrf52 --example swd_flash -- [PAGES] [KHZ]
//!
//! PAGES defaults to 40 (about a SoftDevice and a bootloader), KHZ (the probe clock) to 4000.

use nrf_dfu::Chip;
use std::time::Instant;
use virtual_nrf52::swd::routine::{BUFFER, ERASE, LOAD, PROGRAM, ROUTINE, STACK};
use virtual_nrf52::{Device, SwdAck, SwdPort};

const DHCSR: u32 = 0xE000_EDF0;
const KEY: u32 = 0xA05F_0000;

struct Probe(Device);

impl Probe {
    fn packet<T>(&mut self, mut f: impl FnMut(&mut Device) -> Result<T, SwdAck>) -> T {
        loop {
            match f(&mut self.0) {
                Err(SwdAck::Wait) => continue,
                Err(e) => panic!("SWD: {e}"),
                Ok(v) => return v,
            }
        }
    }

    fn ap_write(&mut self, reg: u8, v: u32) {
        self.packet(|d| d.swd_write(SwdPort::Ap, reg, v))
    }

    fn write32(&mut self, addr: u32, v: u32) {
        self.ap_write(0x4, addr);
        self.ap_write(0xC, v);
    }

    fn read32(&mut self, addr: u32) -> u32 {
        self.ap_write(0x4, addr);
        self.packet(|d| d.swd_read(SwdPort::Ap, 0xC));
        self.packet(|d| d.swd_read(SwdPort::Dp, 0xC))
    }

    /// Words to RAM with auto-increment, TAR rewritten at each 1 KB boundary.
    fn write_block(&mut self, addr: u32, words: &[u32]) {
        for (i, w) in words.iter().enumerate() {
            let a = addr + 4 * i as u32;
            if i == 0 || a.is_multiple_of(1024) {
                self.ap_write(0x4, a);
            }
            self.ap_write(0xC, *w);
        }
    }

    fn call(&mut self, pc: u32, args: &[u32]) -> u32 {
        let reg = |p: &mut Probe, sel: u32, v: u32| {
            p.write32(0xE000_EDF8, v);
            p.write32(0xE000_EDF4, 1 << 16 | sel);
        };
        reg(self, 15, pc);
        for (i, a) in args.iter().enumerate() {
            reg(self, i as u32, *a);
        }
        reg(self, 13, STACK);
        reg(self, 14, LOAD + 1);
        self.write32(DHCSR, KEY | 1);
        while self.read32(DHCSR) & (1 << 17) == 0 {}
        self.write32(0xE000_EDF4, 0);
        self.read32(0xE000_EDF8)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pages: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(40);
    let khz: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4000);
    let mut p = Probe(Device::new(Chip::Nrf52832Qfaa, 1));
    p.0.set_swd_clock_khz(khz);
    let wall = Instant::now();
    let t0 = p.0.now();
    p.0.swd_line_reset();
    p.packet(|d| d.swd_read(SwdPort::Dp, 0));
    p.packet(|d| d.swd_write(SwdPort::Dp, 0x4, 0x5000_0F00));
    p.packet(|d| d.swd_write(SwdPort::Dp, 0x8, 0));
    p.ap_write(0x0, 0x2300_0012);
    p.write32(DHCSR, KEY | 3);
    let code: Vec<u32> = ROUTINE
        .chunks(2)
        .map(|c| c[0] as u32 | (c[1] as u32) << 16)
        .collect();
    p.write_block(LOAD, &code);
    let page: Vec<u32> = (0..1024u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
    for n in 0..pages {
        let addr = 0x1000 * (n + 1);
        assert_eq!(p.call(ERASE, &[addr]), 0);
        p.write_block(BUFFER, &page);
        assert_eq!(p.call(PROGRAM, &[addr, 4096, BUFFER]), 0);
    }
    let last = 0x1000 * pages + 4 * 1023;
    assert_eq!(p.read32(last), page[1023], "the last word programmed");
    let s = p.0.swd_stats();
    println!(
        "{pages} pages at {khz} kHz: wall {:.2} s, lab {:.3} s, {} SWD packets ({} WAIT), \
         {} instructions ({} cycles), wire time {:.3} s",
        wall.elapsed().as_secs_f64(),
        (p.0.now() - t0).as_secs_f64(),
        s.transfers,
        s.waits,
        s.instructions,
        s.cycles,
        s.wire_time.as_secs_f64(),
    );
}
