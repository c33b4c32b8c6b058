//! Benchmark: instructions per second of the emulated Cortex-M4F core (`virtual_nrf52::armv7m`)
//! on a loop that mixes what compiled firmware runs: register-offset loads and stores,
//! shifted-register data processing, MUL/UMULL, an IT block, a conditional branch and FP
//! (VMOV, VCVT, VMLA). The core runs alone on a RAM bus, so this is the interpreter's own
//! speed; the lab adds its peripherals' cost on top.
//!
//!     cargo run --release -p virtual-nrf52 --example cpu_speed -- [ITERATIONS]
//!
//! ITERATIONS defaults to 2 000 000 (16 instructions each).

use std::time::Instant;
use virtual_nrf52::armv7m::exec::{Bus, BusError};
use virtual_nrf52::armv7m::{Cpu, Stop, CPU_HZ};

const RAM: u32 = 0x2000_0000;
const SIZE: usize = 0x1_0000;

struct Ram(Vec<u8>);

impl Bus for Ram {
    fn read(&mut self, a: u32, size: u32) -> Result<u32, BusError> {
        let o = a.wrapping_sub(RAM) as usize;
        let b = self.0.get(o..o + size as usize).ok_or(BusError::Fault)?;
        Ok(b.iter().rev().fold(0, |x, &b| x << 8 | b as u32))
    }
    fn write(&mut self, a: u32, size: u32, v: u32) -> Result<(), BusError> {
        let o = a.wrapping_sub(RAM) as usize;
        let b = self
            .0
            .get_mut(o..o + size as usize)
            .ok_or(BusError::Fault)?;
        b.copy_from_slice(&v.to_le_bytes()[..size as usize]);
        Ok(())
    }
}

/// The loop (assembled with llvm-mc -triple=thumbv7em-none-eabihf):
/// 1: ldr.w r3, [r0, r1, lsl #2]; eor.w r3, r3, r2, ror #7; add r2, r2, r3; mul r4, r3, r2;
///    umull r5, r6, r4, r3; str.w r5, [r0, r1, lsl #2]; add.w r1, r1, #1; and r1, r1, #63;
///    vmov s0, r2; vcvt.f32.u32 s0, s0; vmla.f32 s1, s0, s2; cmp r3, r4; it hi;
///    movhi r3, r4; subs r7, r7, #1; bne 1b; bkpt #0
const LOOP: &[u16] = &[
    0xF850, 0x3021, 0xEA83, 0x13F2, 0x441A, 0xFB03, 0xF402, 0xFBA4, 0x5603, 0xF840, 0x5021, 0xF101,
    0x0101, 0xF001, 0x013F, 0xEE00, 0x2A10, 0xEEB8, 0x0A40, 0xEE40, 0x0A01, 0x42A3, 0xBF88, 0x4623,
    0x1E7F, 0xD1E5, 0xBE00,
];

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ITERATIONS: a number"))
        .unwrap_or(2_000_000);
    let mut ram = Ram(vec![0; SIZE]);
    for (i, h) in LOOP.iter().enumerate() {
        ram.write(RAM + 0x100 + 2 * i as u32, 2, *h as u32).unwrap();
    }
    let mut cpu = Cpu::new();
    cpu.reset(RAM + SIZE as u32, RAM + 0x101);
    cpu.scs.cpacr = 0xF << 20; // CP10/CP11 full access, as SystemInit does with __FPU_USED
    cpu.scs.dhcsr_ctrl = 1; // C_DEBUGEN: BKPT halts
    cpu.regs.r[0] = RAM + 0x1000;
    cpu.regs.r[2] = 0x1234_5678;
    cpu.regs.r[7] = iterations;
    let start = Instant::now();
    loop {
        match cpu.step(&mut ram, false) {
            Stop::Ran { .. } => {}
            Stop::Halted => break,
            other => panic!("core stopped: {other:?} {:?}", cpu.last_fault),
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let mips = cpu.instructions as f64 / wall / 1e6;
    let lab = cpu.cycles as f64 / CPU_HZ as f64;
    println!(
        "{} instructions, {} cycles in {:.3} s wall: {:.1} M instructions/s; {:.3} s of 64 MHz time ({:.2}x real time)",
        cpu.instructions,
        cpu.cycles,
        wall,
        mips,
        lab,
        lab / wall
    );
}
