//! The version block that `firmware/testapp` fills at start-up (its `src/info_block.rs`): magic
//! "RIGA", version, !version, layout 1, in the last 16 bytes of RAM. A stand-in application
//! writes it as the test app does, so a rig without a radio (a UART DUT) learns over SWD which
//! image runs. The bootloader's stack starts at the same top of RAM and overwrites it.

use crate::hardware::Hardware;

const MAGIC: u32 = 0x4147_4952;
const LAYOUT: u32 = 1;
pub const SIZE: usize = 16;

/// Offset of the block in RAM: the top 16 bytes of the chip's RAM.
pub fn offset(hw: &Hardware) -> usize {
    hw.ram.len() - SIZE
}

/// The application's start-up code writes its version.
pub(crate) fn write(hw: &mut Hardware, version: u32) {
    let o = offset(hw);
    for (i, w) in [MAGIC, version, !version, LAYOUT].into_iter().enumerate() {
        hw.ram[o + 4 * i..o + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
}

/// The bootloader starts: its stack frames land on the block (zeros stand for them).
pub(crate) fn overwrite(hw: &mut Hardware) {
    let o = offset(hw);
    hw.ram[o..].fill(0);
}

/// The version the block holds, if it is one (as the rig reads it).
pub fn version(hw: &Hardware) -> Option<u32> {
    let b = &hw.ram[offset(hw)..];
    let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (w(0) == MAGIC && w(8) == !w(4) && w(12) == LAYOUT).then(|| w(4))
}
