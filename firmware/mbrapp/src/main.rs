//! rig-mbrapp: the rig's application for an nRF52832 with Nordic's MBR and no SoftDevice (see
//! Cargo.toml and firmware/README.md). At start it writes the version block the rig reads over
//! SWD, then toggles LED 1 of a PCA10040 (P0.17, active low) every half second on RTC1's
//! COMPARE0 and sleeps in WFE between toggles. It enables no interrupt: RTC1's interrupt line
//! only pends in the NVIC, and SCR.SEVONPEND turns that into the event that ends the WFE, so
//! nothing depends on the MBR forwarding interrupts to this vector table.
#![no_std]
#![no_main]

// The version block's layout and the version parser, shared with the S132 test application
// (plain `core` code without dependencies; their host tests live in firmware/testapp).
#[allow(dead_code)]
#[path = "../../testapp/src/info_block.rs"]
mod info_block;
#[path = "../../testapp/src/version.rs"]
mod version;

use core::arch::{asm, global_asm};
use core::mem::MaybeUninit;
use core::ptr::{addr_of_mut, read_volatile, write_volatile};
use info_block::InfoBlock;

/// The application version (the init packet's fw_version), from `RIG_APP_VERSION` at build time.
const VERSION: u32 = match option_env!("RIG_APP_VERSION") {
    Some(text) => match version::parse(text) {
        Some(v) => v,
        None => panic!("RIG_APP_VERSION must be a u32, decimal or 0x hex (e.g. 1, 2, 0x10)"),
    },
    None => panic!("set RIG_APP_VERSION to the application version (scripts/build-mbrapp.sh does)"),
};

/// Bytes of filler in flash, from `RIG_APP_FILL` at build time (default 0): a larger image
/// spans several DFU data objects (4 KB each), so an interruption can land after some of them
/// were executed. A pattern, not a constant, so a misplaced page shows in bank 0's CRC.
const FILL_LEN: usize = match option_env!("RIG_APP_FILL") {
    Some(text) => match version::parse(text) {
        Some(n) => n as usize,
        None => panic!("RIG_APP_FILL must be a byte count, decimal or 0x hex"),
    },
    None => 0,
};

// FILL_LEN is 0 unless RIG_APP_FILL is set: then the loop runs never, as meant.
#[allow(clippy::absurd_extreme_comparisons)]
const fn fill() -> [u8; FILL_LEN] {
    let mut b = [0u8; FILL_LEN];
    let mut i = 0;
    while i < FILL_LEN {
        b[i] = (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8;
        i += 1;
    }
    b
}

#[used]
static FILL: [u8; FILL_LEN] = fill();

// --- registers (nRF52832 Product Specification v1.4; ARMv7-M ARM B3.2 for the SCS) ---------

const CLOCK_TASKS_LFCLKSTART: u32 = 0x4000_0008;
const CLOCK_EVENTS_LFCLKSTARTED: u32 = 0x4000_0104;
const CLOCK_LFCLKSTAT: u32 = 0x4000_0418;
const RTC1: u32 = 0x4001_1000;
const RTC_TASKS_START: u32 = 0x000;
const RTC_TASKS_CLEAR: u32 = 0x008;
const RTC_EVENTS_COMPARE0: u32 = 0x140;
const RTC_INTENSET: u32 = 0x304;
const RTC_PRESCALER: u32 = 0x508;
const RTC_CC0: u32 = 0x540;
const IRQ_RTC1: u32 = 17;
const P0_OUT: u32 = 0x5000_0504;
const P0_OUTSET: u32 = 0x5000_0508;
const P0_PIN_CNF: u32 = 0x5000_0700;
const NVIC_ICER: u32 = 0xE000_E180;
const NVIC_ICPR: u32 = 0xE000_E280;
const SCB_SCR: u32 = 0xE000_ED10;
const SCR_SEVONPEND: u32 = 1 << 4;
const SCB_CPACR: u32 = 0xE000_ED88;

/// PCA10040 LED 1 (boards/pca10040.h: LED_1 = 17, LEDS_ACTIVE_STATE 0).
const LED_PIN: u32 = 17;
/// Half a second of the 32 768 Hz LFCLK with PRESCALER 0.
const TOGGLE_TICKS: u32 = 16_384;

fn rd(a: u32) -> u32 {
    unsafe { read_volatile(a as *const u32) }
}

fn wr(a: u32, v: u32) {
    unsafe { write_volatile(a as *mut u32, v) }
}

// --- the version block -------------------------------------------------------------------------

/// At `info_block::ADDRESS`: link.x places `.rig_info` in the top 16 bytes of RAM.
#[used]
#[link_section = ".rig_info"]
static mut INFO: MaybeUninit<InfoBlock> = MaybeUninit::uninit();

fn write_info_block() {
    let b = InfoBlock::new(VERSION);
    let p = addr_of_mut!(INFO) as *mut u32;
    // The magic last: a reader never sees a block whose magic is there before its words.
    unsafe {
        write_volatile(p.add(1), b.version);
        write_volatile(p.add(2), b.check);
        write_volatile(p.add(3), b.layout);
        asm!("dmb");
        write_volatile(p, b.magic);
    }
}

// --- startup -------------------------------------------------------------------------------

extern "C" {
    static mut _sdata: u32;
    static mut _edata: u32;
    static _sidata: u32;
    static mut _sbss: u32;
    static mut _ebss: u32;
}

// The vector table at the application's start (0x1000): the bootloader takes the stack pointer
// and the reset handler from here, and the MBR forwards exceptions and interrupts through it.
global_asm!(
    r#"
    .section .vector_table, "a"
    .word _stack_top
    .word reset
    .word default_handler      /* NMI */
    .word fault                /* HardFault */
    .word fault                /* MemManage */
    .word fault                /* BusFault */
    .word fault                /* UsageFault */
    .word 0, 0, 0, 0
    .word default_handler      /* SVCall */
    .word default_handler      /* DebugMonitor */
    .word 0
    .word default_handler      /* PendSV */
    .word default_handler      /* SysTick */
    .rept 39
    .word default_handler      /* IRQ 0-38 (nrf52.h) */
    .endr
    "#
);

/// The reset handler (the vector table's second word): FPU access, `.data` and `.bss`, then
/// `main`.
#[no_mangle]
pub extern "C" fn reset() -> ! {
    // SAFETY: nothing else runs yet; the linker script gives the section bounds.
    unsafe {
        // FPU: CP10 and CP11 full access, as the SDK's SystemInit does for hard-float builds.
        wr(SCB_CPACR, rd(SCB_CPACR) | (0xF << 20));
        asm!("dsb", "isb");
        let mut src = core::ptr::addr_of!(_sidata);
        let mut dst = addr_of_mut!(_sdata);
        while dst < addr_of_mut!(_edata) {
            write_volatile(dst, read_volatile(src));
            dst = dst.add(1);
            src = src.add(1);
        }
        let mut b = addr_of_mut!(_sbss);
        while b < addr_of_mut!(_ebss) {
            write_volatile(b, 0);
            b = b.add(1);
        }
    }
    main()
}

/// An interrupt this application did not enable (none is): disable it so it does not pend
/// again, and return.
#[no_mangle]
pub extern "C" fn default_handler() {
    let ipsr: u32;
    unsafe { asm!("mrs {}, ipsr", out(reg) ipsr) };
    if ipsr >= 16 {
        let irq = ipsr - 16;
        wr(NVIC_ICER + 4 * (irq / 32), 1 << (irq % 32));
    }
}

/// A fault: stop toggling and sleep (the version block stays; the LED stops).
#[no_mangle]
pub extern "C" fn fault() {
    loop {
        unsafe { asm!("wfe") };
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        unsafe { asm!("wfe") };
    }
}

// --- the application -----------------------------------------------------------------------

fn main() -> ! {
    write_info_block();

    // LED 1 as an output, off (active low).
    wr(P0_OUTSET, 1 << LED_PIN);
    wr(P0_PIN_CNF + 4 * LED_PIN, 1); // DIR output, input buffer connected, no pull

    // The 32 kHz clock (the bootloader may have left it running; starting it again is harmless).
    if rd(CLOCK_LFCLKSTAT) & (1 << 16) == 0 {
        wr(CLOCK_EVENTS_LFCLKSTARTED, 0);
        wr(CLOCK_TASKS_LFCLKSTART, 1);
        while rd(CLOCK_EVENTS_LFCLKSTARTED) == 0 {}
    }

    // RTC1 COMPARE0 every TOGGLE_TICKS: its interrupt line pends (not enabled in the NVIC) and
    // SEVONPEND wakes the WFE below.
    wr(SCB_SCR, rd(SCB_SCR) | SCR_SEVONPEND);
    wr(RTC1 + RTC_PRESCALER, 0);
    wr(RTC1 + RTC_CC0, TOGGLE_TICKS);
    wr(RTC1 + RTC_EVENTS_COMPARE0, 0);
    wr(RTC1 + RTC_INTENSET, 1 << 16); // COMPARE0
    wr(RTC1 + RTC_TASKS_CLEAR, 1);
    wr(RTC1 + RTC_TASKS_START, 1);

    loop {
        unsafe { asm!("wfe") };
        if rd(RTC1 + RTC_EVENTS_COMPARE0) != 0 {
            wr(RTC1 + RTC_EVENTS_COMPARE0, 0);
            wr(RTC1 + RTC_TASKS_CLEAR, 1);
            // Read back so the event is cleared before the pending bit (nRF52 PS, "Peripheral
            // interface": a write may take cycles to reach the peripheral).
            let _ = rd(RTC1 + RTC_EVENTS_COMPARE0);
            wr(NVIC_ICPR + 4 * (IRQ_RTC1 / 32), 1 << (IRQ_RTC1 % 32));
            wr(P0_OUT, rd(P0_OUT) ^ (1 << LED_PIN));
        }
    }
}
