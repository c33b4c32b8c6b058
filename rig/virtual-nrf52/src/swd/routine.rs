//! A flash routine in the shape of a CMSIS flash algorithm (a BKPT return trap, EraseSector,
//! ProgramPage, both polling NVMC.READY), hand-assembled for the tests and the `swd_flash`
//! benchmark. It is the model's own code, not probe-rs's algorithm (probe-rs brings that one
//! at run time).

/// Where the routine is loaded; its first halfword is the BKPT that LR points at (+1).
pub const LOAD: u32 = 0x2000_0000;
/// EraseSector(r0 = page address) -> r0 = 0.
pub const ERASE: u32 = LOAD + 0x04;
/// ProgramPage(r0 = address, r1 = bytes, a multiple of 4, r2 = source) -> r0 = 0.
pub const PROGRAM: u32 = LOAD + 0x1C;
pub const STACK: u32 = 0x2000_2000;
/// A 4 KB source buffer below the stack's reach.
pub const BUFFER: u32 = 0x2000_4000;

/// The routine as Thumb halfwords, to load at [`LOAD`].
#[rustfmt::skip]
pub const ROUTINE: &[u16] = &[
    0xBE00, 0xBF00, // 0x00 bkpt #0; nop
    0x490D,         // 0x04 ldr r1, =0x4001E500 (NVMC + 0x500)
    0x2202, 0x604A, // 0x06 movs r2, #2; str r2, [r1, #4]      CONFIG = EEN
    0x6088,         // 0x0A str r0, [r1, #8]                   ERASEPAGE = r0
    0x4B0C,         // 0x0C ldr r3, =0x4001E400 (READY)
    0x681A, 0x2A00, // 0x0E 1: ldr r2, [r3]; cmp r2, #0
    0xD0FC,         // 0x12 beq 1b
    0x2200, 0x604A, // 0x14 movs r2, #0; str r2, [r1, #4]      CONFIG = REN
    0x2000, 0x4770, // 0x18 movs r0, #0; bx lr
    0xB530,         // 0x1C push {r4, r5, lr}
    0x4C07,         // 0x1E ldr r4, =0x4001E500
    0x2501, 0x6065, // 0x20 movs r5, #1; str r5, [r4, #4]      CONFIG = WEN
    0x4D06,         // 0x24 ldr r5, =0x4001E400
    0xCA08, 0xC008, // 0x26 1: ldm r2!, {r3}; stm r0!, {r3}    one word to flash
    0x682B, 0x07DB, // 0x2A 2: ldr r3, [r5]; lsls r3, r3, #31
    0xD0FC,         // 0x2E beq 2b                             wait for READY
    0x1F09, 0xD1F8, // 0x30 subs r1, r1, #4; bne 1b
    0x2300, 0x6063, // 0x34 movs r3, #0; str r3, [r4, #4]      CONFIG = REN
    0x2000, 0xBD30, // 0x38 movs r0, #0; pop {r4, r5, pc}
    0xE500, 0x4001, // 0x3C .word 0x4001E500
    0xE400, 0x4001, // 0x40 .word 0x4001E400
];
