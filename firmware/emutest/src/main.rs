//! rig-emutest: checks for the lab's emulated nRF52832 (see Cargo.toml). Every check prints
//! one line "emutest: <name> ok" or "emutest: <name> FAIL <detail>" on UARTE0; the run ends
//! with "emutest: done <passed>/<total>", then the watchdog check resets the chip and the
//! second boot prints "emutest: wdt ok" (or FAIL).
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

// --- registers (nRF52832 PS v1.4; ARMv7-M ARM for the SCS) ---------------------------------

const CLOCK: u32 = 0x4000_0000;
const POWER_RESETREAS: u32 = 0x4000_0400;
const BPROT_CONFIG3: u32 = 0x4000_0614;
const UARTE0: u32 = 0x4000_2000;
const WDT: u32 = 0x4001_0000;
const NVMC: u32 = 0x4001_E000;
const RTC2: u32 = 0x4002_4000;
const NVIC_ISER: u32 = 0xE000_E100;
const NVIC_ISPR: u32 = 0xE000_E200;
const NVIC_IPR: u32 = 0xE000_E400;
const STIR: u32 = 0xE000_EF00;
const SYST_CSR: u32 = 0xE000_E010;
const SCB_CPACR: u32 = 0xE000_ED88;
const SCB_SHCSR: u32 = 0xE000_ED24;
const SCB_CFSR: u32 = 0xE000_ED28;

const IRQ_UARTE0: u32 = 2;
const IRQ_SWI0: u32 = 20;
const IRQ_SWI1: u32 = 21;
const IRQ_SWI2: u32 = 22;
const IRQ_RTC2: u32 = 36;

fn rd(a: u32) -> u32 {
    unsafe { read_volatile(a as *const u32) }
}

fn wr(a: u32, v: u32) {
    unsafe { write_volatile(a as *mut u32, v) }
}

fn nvic_enable(irq: u32, prio: u8) {
    unsafe { write_volatile((NVIC_IPR + irq) as *mut u8, prio << 5) };
    wr(NVIC_ISER + 4 * (irq / 32), 1 << (irq % 32));
}

fn nvic_pend(irq: u32) {
    wr(NVIC_ISPR + 4 * (irq / 32), 1 << (irq % 32));
}

fn wfe() {
    unsafe { asm!("wfe") };
}

fn dsb_isb() {
    unsafe { asm!("dsb", "isb") };
}

// --- startup ---------------------------------------------------------------------------------

extern "C" {
    static mut _sdata: u32;
    static mut _edata: u32;
    static _sidata: u32;
    static mut _sbss: u32;
    static mut _ebss: u32;
}

global_asm!(
    r#"
    .section .vector_table, "a"
    .word _stack_top
    .word reset
    .word default_handler      /* NMI */
    .word hard_fault           /* HardFault */
    .word default_handler      /* MemManage */
    .word bus_fault_entry      /* BusFault */
    .word default_handler      /* UsageFault */
    .word 0, 0, 0, 0
    .word svc_entry            /* SVCall */
    .word default_handler      /* DebugMonitor */
    .word 0
    .word default_handler      /* PendSV */
    .word systick              /* SysTick */
    .word default_handler, default_handler, uarte0, default_handler   /* IRQ 0-3 */
    .rept 16
    .word default_handler                                             /* IRQ 4-19 */
    .endr
    .word swi0, swi1, swi2                                            /* IRQ 20-22 */
    .rept 13
    .word default_handler                                             /* IRQ 23-35 */
    .endr
    .word rtc2, default_handler, default_handler                      /* IRQ 36-38 */

    .section .text.svc_entry, "ax"
    .global svc_entry
    .thumb_func
svc_entry:
    tst lr, #4
    ite eq
    mrseq r0, msp
    mrsne r0, psp
    b svc_rust

    .section .text.bus_fault_entry, "ax"
    .global bus_fault_entry
    .thumb_func
bus_fault_entry:
    tst lr, #4
    ite eq
    mrseq r0, msp
    mrsne r0, psp
    b bus_fault_rust
    "#
);

#[no_mangle]
pub unsafe extern "C" fn reset() -> ! {
    // FPU: CP10 and CP11 full access (what SystemInit does with __FPU_USED).
    wr(SCB_CPACR, rd(SCB_CPACR) | (0xF << 20));
    dsb_isb();
    let mut src = core::ptr::addr_of!(_sidata);
    let mut dst = core::ptr::addr_of_mut!(_sdata);
    while dst < core::ptr::addr_of_mut!(_edata) {
        write_volatile(dst, read_volatile(src));
        dst = dst.add(1);
        src = src.add(1);
    }
    let mut b = core::ptr::addr_of_mut!(_sbss);
    while b < core::ptr::addr_of_mut!(_ebss) {
        write_volatile(b, 0);
        b = b.add(1);
    }
    main()
}

#[no_mangle]
pub extern "C" fn default_handler() {
    report("unexpected exception", false, ipsr());
    loop {
        wfe();
    }
}

#[no_mangle]
pub extern "C" fn hard_fault() {
    report("hardfault", false, rd(SCB_CFSR));
    loop {
        wfe();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    report("panic", false, 0);
    loop {
        wfe();
    }
}

fn ipsr() -> u32 {
    let v: u32;
    unsafe { asm!("mrs {}, ipsr", out(reg) v) };
    v
}

// --- UARTE0 output -----------------------------------------------------------------------------

static mut TX_BUF: [u8; 128] = [0; 128];

fn uart_init() {
    wr(UARTE0 + 0x50C, 6); // PSEL.TXD = P0.06 (PCA10040)
    wr(UARTE0 + 0x514, 8); // PSEL.RXD = P0.08
    wr(UARTE0 + 0x524, 0x01D7_E000); // BAUDRATE 115200
    wr(UARTE0 + 0x500, 8); // ENABLE = UARTE
}

fn send(bytes: &[u8]) {
    for chunk in bytes.chunks(128) {
        let buf = core::ptr::addr_of_mut!(TX_BUF) as *mut u8;
        for (i, &b) in chunk.iter().enumerate() {
            unsafe { write_volatile(buf.add(i), b) };
        }
        wr(UARTE0 + 0x120, 0); // EVENTS_ENDTX
        wr(UARTE0 + 0x544, buf as u32);
        wr(UARTE0 + 0x548, chunk.len() as u32);
        wr(UARTE0 + 0x008, 1); // TASKS_STARTTX
        while rd(UARTE0 + 0x120) == 0 {}
        wr(UARTE0 + 0x120, 0);
    }
}

fn hex(v: u32, out: &mut [u8; 8]) {
    for (i, o) in out.iter_mut().enumerate() {
        let n = (v >> (28 - 4 * i)) & 0xF;
        *o = if n < 10 { b'0' + n as u8 } else { b'a' + n as u8 - 10 };
    }
}

static PASSED: AtomicU32 = AtomicU32::new(0);
static TOTAL: AtomicU32 = AtomicU32::new(0);

fn report(name: &str, ok: bool, detail: u32) {
    TOTAL.fetch_add(1, Ordering::Relaxed);
    send(b"emutest: ");
    send(name.as_bytes());
    if ok {
        PASSED.fetch_add(1, Ordering::Relaxed);
        send(b" ok\n");
    } else {
        let mut h = [0; 8];
        hex(detail, &mut h);
        send(b" FAIL ");
        send(&h);
        send(b"\n");
    }
}

fn check(name: &str, got: u32, want: u32) {
    report(name, got == want, got);
}

// --- checks --------------------------------------------------------------------------------------

fn black_box<T>(v: T) -> T {
    core::hint::black_box(v)
}

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *t = c;
    }
    !data
        .iter()
        .fold(!0u32, |c, &b| table[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8))
}

fn integer_checks() {
    check("crc32", crc32(black_box(b"123456789")), 0xCBF4_3926);
    let (a, b) = (black_box(0xFFFF_FFFF_FFFF_FFF1u64), black_box(7u64));
    check("u64 division", (a / b) as u32 ^ (a % b) as u32, ((a / 7) as u32) ^ ((a % 7) as u32));
    let (mut r, x, y) = (0u32, black_box(0x7FFF_FFF0u32), black_box(0x20u32));
    unsafe { asm!("qadd {r}, {x}, {y}", r = out(reg) r, x = in(reg) x, y = in(reg) y) };
    check("qadd saturates", r, 0x7FFF_FFFF);
    unsafe { asm!("uqsub8 {r}, {x}, {y}", r = out(reg) r, x = in(reg) 0x1050_FF01u32, y = in(reg) 0x2040_0102u32) };
    check("uqsub8", r, 0x0010_FE00);
    unsafe { asm!("ssat {r}, #8, {x}", r = out(reg) r, x = in(reg) black_box(-300i32)) };
    check("ssat", r, (-128i32) as u32);
    let (mut lo, mut hi) = (black_box(0xFFFF_FFFFu32), black_box(0xFFFF_FFFFu32));
    unsafe {
        asm!("umaal {lo}, {hi}, {a}, {b}", lo = inout(reg) lo, hi = inout(reg) hi,
             a = in(reg) 0xFFFF_FFFFu32, b = in(reg) 0xFFFF_FFFFu32)
    };
    check("umaal", lo ^ hi, 0xFFFF_FFFF ^ 0xFFFF_FFFF);
    unsafe { asm!("sdiv {r}, {x}, {y}", r = out(reg) r, x = in(reg) black_box(-7i32), y = in(reg) 2i32) };
    check("sdiv", r, (-3i32) as u32);
    unsafe { asm!("rbit {r}, {x}", "clz {r}, {r}", r = out(reg) r, x = in(reg) black_box(0x100u32)) };
    check("rbit clz", r, 8);
    let word = black_box(0x2000_0000u32 + 0x8000);
    let fail: u32;
    unsafe {
        wr(word, 41);
        asm!("ldrex {v}, [{a}]", "add {v}, {v}, #1", "strex {f}, {v}, [{a}]",
             v = out(reg) _, f = out(reg) fail, a = in(reg) word)
    };
    check("ldrex strex", (fail << 16) | rd(word), 42);
    let bytes = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let p = black_box(bytes.as_ptr() as u32 + 1);
    let un: u32;
    unsafe { asm!("ldr {r}, [{p}]", r = out(reg) un, p = in(reg) p) };
    check("unaligned load", un, 0x0504_0302);
    let sel = match black_box(5u32) {
        0 => 10,
        1 => 11,
        2 => 12,
        3 => 13,
        4 => 14,
        5 => 15,
        6 => 16,
        _ => 0,
    };
    check("switch", sel, 15);
}

fn fpu_checks() {
    let (a, b, c, d) = (black_box(1.5f32), black_box(2.25f32), black_box(7.0f32), black_box(0.5f32));
    check("fpu arithmetic", ((a * b + c) / d).to_bits(), 20.75f32.to_bits());
    let mut s = black_box(2.0f32).to_bits();
    unsafe {
        asm!("vmov s1, {v}", "vsqrt.f32 s1, s1", "vmov {v}, s1", v = inout(reg) s, out("s1") _)
    };
    check("vsqrt", s, 0x3FB5_04F3);
    check("vcvt to int", black_box(-3.75f32) as i32 as u32, (-3i32) as u32);
    check("vcvt from u32", (black_box(0xFFFF_FFFFu32) as f32).to_bits(), 0x4F80_0000);
    check("vcmp", (black_box(f32::NAN) < 1.0) as u32 | (black_box(-0.0f32) == 0.0) as u32 * 2, 2);
}

// SVC: the handler adds the SVC number to the caller's R0 through the stacked frame.
static SVC_CALLS: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub unsafe extern "C" fn svc_rust(frame: *mut u32) {
    let pc = read_volatile(frame.add(6));
    let number = read_volatile((pc - 2) as *const u16) as u32 & 0xFF;
    write_volatile(frame, read_volatile(frame) + number);
    SVC_CALLS.fetch_add(1, Ordering::Relaxed);
}

fn svc_check() {
    let mut r0 = black_box(100u32);
    unsafe { asm!("svc #7", inout("r0") r0) };
    check("svc", r0 | SVC_CALLS.load(Ordering::Relaxed) << 16, 107 | 1 << 16);
}

// Interrupt order: RTC2 (priority 3) pends SWI0 (priority 1), which preempts it.
static ORDER: AtomicU32 = AtomicU32::new(0);
static RTC_FIRED: AtomicU32 = AtomicU32::new(0);

fn push_order(v: u32) {
    ORDER.store(ORDER.load(Ordering::Relaxed) << 4 | v, Ordering::Relaxed);
}

#[no_mangle]
pub extern "C" fn rtc2() {
    wr(RTC2 + 0x140, 0); // EVENTS_COMPARE[0]
    push_order(1);
    nvic_pend(IRQ_SWI0);
    dsb_isb();
    push_order(3);
    RTC_FIRED.store(rd(RTC2 + 0x504), Ordering::Relaxed);
}

#[no_mangle]
pub extern "C" fn swi0() {
    push_order(if ipsr() == 16 + IRQ_SWI0 { 2 } else { 0xE });
}

static SWI1_RAN: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn swi1() {
    // Clobbers S0: the interrupted code's S0 must come back from the extended frame.
    unsafe { asm!("vmov s0, {x}", x = in(reg) 0x4120_0000u32, out("s0") _) };
    SWI1_RAN.fetch_add(1, Ordering::Relaxed);
}

static SWI2_RAN: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn swi2() {
    SWI2_RAN.fetch_add(1, Ordering::Relaxed);
}

fn interrupt_checks() {
    // LFCLK from the RC oscillator, then RTC2 COMPARE0 after 328 ticks (about 10 ms).
    wr(CLOCK + 0x518, 0);
    wr(CLOCK + 0x104, 0);
    wr(CLOCK + 0x008, 1);
    while rd(CLOCK + 0x104) == 0 {}
    check("lfclk started", rd(CLOCK + 0x418), 0x1_0000);
    nvic_enable(IRQ_RTC2, 3);
    nvic_enable(IRQ_SWI0, 1);
    wr(RTC2 + 0x508, 0);
    wr(RTC2 + 0x540, 328);
    wr(RTC2 + 0x304, 1 << 16);
    wr(RTC2 + 0x000, 1);
    let mut sleeps = 0u32;
    while RTC_FIRED.load(Ordering::Relaxed) == 0 && sleeps < 1000 {
        wfe();
        sleeps += 1;
    }
    let counter = RTC_FIRED.load(Ordering::Relaxed);
    report("rtc2 compare", (328..340).contains(&counter), counter);
    check("nesting order", ORDER.load(Ordering::Relaxed), 0x123);
    wr(RTC2 + 0x004, 1);

    // BASEPRI 0x40 masks SWI2 (priority 3) but not SWI0 (priority 1).
    nvic_enable(IRQ_SWI2, 3);
    unsafe { asm!("msr basepri, {v}", v = in(reg) 0x40u32) };
    nvic_pend(IRQ_SWI2);
    dsb_isb();
    let masked = SWI2_RAN.load(Ordering::Relaxed);
    unsafe { asm!("msr basepri, {v}", v = in(reg) 0u32) };
    dsb_isb();
    check("basepri", masked << 4 | SWI2_RAN.load(Ordering::Relaxed), 0x01);

    // FP context across an interrupt whose handler uses S0.
    nvic_enable(IRQ_SWI1, 2);
    let mut s0: u32 = 0x3F80_0000;
    unsafe {
        asm!(
            "vmov s0, {v}",
            "str {irq}, [{stir}]",
            "dsb",
            "isb",
            "vmov {v}, s0",
            v = inout(reg) s0,
            irq = in(reg) IRQ_SWI1,
            stir = in(reg) STIR,
            out("s0") _,
        )
    };
    check("fp context", s0 | SWI1_RAN.load(Ordering::Relaxed) << 4, 0x3F80_0010);
}

static TICKS: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn systick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

fn systick_check() {
    wr(SYST_CSR + 4, 999); // RVR
    wr(SYST_CSR + 8, 0); // CVR
    wr(SYST_CSR, 7);
    let mut spins = 0u32;
    while TICKS.load(Ordering::Relaxed) < 5 && spins < 100_000 {
        spins += 1;
    }
    wr(SYST_CSR, 0);
    check("systick", TICKS.load(Ordering::Relaxed), 5);
}

// UARTE reception as the SDK's serial DFU transport does it: one byte per RXD.MAXCNT.
static mut RX_BYTE: u8 = 0;
static mut RX_BUF: [u8; 8] = [0; 8];
static RX_COUNT: AtomicU32 = AtomicU32::new(0);

fn arm_rx() {
    wr(UARTE0 + 0x534, core::ptr::addr_of_mut!(RX_BYTE) as u32);
    wr(UARTE0 + 0x538, 1);
    wr(UARTE0 + 0x000, 1); // TASKS_STARTRX
}

#[no_mangle]
pub extern "C" fn uarte0() {
    if rd(UARTE0 + 0x110) != 0 {
        wr(UARTE0 + 0x110, 0); // EVENTS_ENDRX
        let n = RX_COUNT.load(Ordering::Relaxed);
        if rd(UARTE0 + 0x53C) == 1 && n < 8 {
            unsafe {
                let b = read_volatile(core::ptr::addr_of!(RX_BYTE));
                write_volatile((core::ptr::addr_of_mut!(RX_BUF) as *mut u8).add(n as usize), b);
            }
            RX_COUNT.store(n + 1, Ordering::Relaxed);
        }
        if RX_COUNT.load(Ordering::Relaxed) < 8 {
            arm_rx();
        }
    }
}

fn uarte_rx_check() {
    wr(UARTE0 + 0x304, 1 << 4); // INTENSET ENDRX
    nvic_enable(IRQ_UARTE0, 2);
    arm_rx();
    send(b"emutest: send 8 bytes\n");
    let mut sleeps = 0;
    while RX_COUNT.load(Ordering::Relaxed) < 8 && sleeps < 100_000 {
        wfe();
        sleeps += 1;
    }
    let mut up = [0u8; 8];
    unsafe {
        let buf = core::ptr::addr_of!(RX_BUF) as *const u8;
        for (i, u) in up.iter_mut().enumerate() {
            *u = read_volatile(buf.add(i)).to_ascii_uppercase();
        }
    }
    send(b"emutest: echo ");
    send(&up);
    send(b"\n");
    report("uarte rx", RX_COUNT.load(Ordering::Relaxed) == 8, RX_COUNT.load(Ordering::Relaxed));
}

fn nvmc_wait() {
    while rd(NVMC + 0x400) == 0 {}
}

static BUS_FAULTS: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub unsafe extern "C" fn bus_fault_rust(frame: *mut u32) {
    // Skip the faulting store: 16- or 32-bit by its first halfword.
    let pc = read_volatile(frame.add(6));
    let hw = read_volatile(pc as *const u16);
    let len = if hw >> 11 >= 0x1D { 4 } else { 2 };
    write_volatile(frame.add(6), pc + len);
    wr(SCB_CFSR, rd(SCB_CFSR));
    BUS_FAULTS.fetch_add(1, Ordering::Relaxed);
}

fn nvmc_checks() {
    let page = 0x7F000u32;
    wr(NVMC + 0x504, 2); // CONFIG = EEN
    wr(NVMC + 0x508, page); // ERASEPAGE
    nvmc_wait();
    wr(NVMC + 0x504, 1); // CONFIG = WEN
    wr(page, 0x1234_5678);
    nvmc_wait();
    wr(page + 4, 0xFFFF_0000);
    nvmc_wait();
    wr(NVMC + 0x504, 0);
    check("nvmc write", rd(page) ^ rd(page + 4) ^ rd(page + 8), 0x1234_5678 ^ 0xFFFF_0000 ^ 0xFFFF_FFFF);
    // BPROT region 126 (0x7E000): the write faults (BusFault enabled) and changes nothing.
    wr(SCB_SHCSR, rd(SCB_SHCSR) | 1 << 17);
    wr(BPROT_CONFIG3, 1 << 30);
    wr(NVMC + 0x504, 1);
    wr(0x7E000, 0);
    nvmc_wait();
    wr(NVMC + 0x504, 0);
    check("bprot", BUS_FAULTS.load(Ordering::Relaxed) << 4 | (rd(0x7E000) == 0xFFFF_FFFF) as u32, 0x11);
}

// The watchdog check spans a reset: a marker in RAM the reset handler does not touch.
#[link_section = ".noinit"]
static mut WDT_MARK: u32 = 0;
const WDT_MAGIC: u32 = 0x5744_5447;

fn main() -> ! {
    uart_init();
    let resetreas = rd(POWER_RESETREAS);
    wr(POWER_RESETREAS, resetreas);
    let mark = unsafe { read_volatile(core::ptr::addr_of!(WDT_MARK)) };
    if mark == WDT_MAGIC {
        unsafe { write_volatile(core::ptr::addr_of_mut!(WDT_MARK), 0) };
        // RESETREAS.DOG is bit 1.
        report("wdt", resetreas & 2 != 0, resetreas);
        loop {
            wfe();
        }
    }
    send(b"emutest: start\n");
    integer_checks();
    fpu_checks();
    svc_check();
    interrupt_checks();
    systick_check();
    uarte_rx_check();
    nvmc_checks();
    let (p, t) = (PASSED.load(Ordering::Relaxed), TOTAL.load(Ordering::Relaxed));
    let mut h = [0; 8];
    send(b"emutest: done ");
    hex(p, &mut h);
    send(&h);
    send(b"/");
    hex(t, &mut h);
    send(&h);
    send(b"\n");
    // The watchdog: 10 ms, never fed.
    unsafe { write_volatile(core::ptr::addr_of_mut!(WDT_MARK), WDT_MAGIC) };
    wr(WDT + 0x504, 327);
    wr(WDT + 0x000, 1);
    loop {
        wfe();
    }
}
