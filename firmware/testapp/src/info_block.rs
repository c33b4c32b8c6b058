//! The version block: 16 bytes at a fixed RAM address that the application fills at start-up
//! and the rig reads over SWD to learn which image runs, without a radio.
//!
//! | offset | word | value |
//! |---|---|---|
//! | +0x0 | magic | 0x4147_4952 (bytes `52 49 47 41`, "RIGA") |
//! | +0x4 | version | the application version (fw_version) |
//! | +0x8 | check | `!version` (bitwise NOT), so random RAM does not pass for a version |
//! | +0xC | layout | 1 (this layout) |
//!
//! It sits in the top 16 bytes of RAM (`memory.x`: region RIG_INFO, section `.rig_info`,
//! NOLOAD), above the application's stack. RAM keeps its contents over a soft or pin reset, so
//! a block read right after a reset may still be the previous application's, and a bootloader
//! need not overwrite it (the SDK 17.0.2 UART debug bootloader's stack starts at 0x2000_4818):
//! the rig zeroes a valid block once the bootloader answers and before it resets the DUT into
//! DFU mode. Power loss clears it. firmware/mbrapp includes this file by path.

/// Address of the block (nRF52832: RAM 0x2000_0000..0x2001_0000, the last 16 bytes).
pub const ADDRESS: u32 = 0x2000_FFF0;
/// `"RIGA"` in memory order.
pub const MAGIC: u32 = 0x4147_4952;
pub const LAYOUT: u32 = 1;
/// Size of the block in bytes.
pub const SIZE: usize = 16;

/// The words the application writes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoBlock {
    pub magic: u32,
    pub version: u32,
    pub check: u32,
    pub layout: u32,
}

impl InfoBlock {
    pub const fn new(version: u32) -> InfoBlock {
        InfoBlock {
            magic: MAGIC,
            version,
            check: !version,
            layout: LAYOUT,
        }
    }

    /// The version in four words read from [`ADDRESS`], or `None` if they are not a block.
    pub const fn version_from_words(words: [u32; 4]) -> Option<u32> {
        let [magic, version, check, layout] = words;
        if magic == MAGIC && check == !version && layout == LAYOUT {
            Some(version)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_block_reads_back() {
        let b = InfoBlock::new(7);
        assert_eq!(
            InfoBlock::version_from_words([b.magic, b.version, b.check, b.layout]),
            Some(7)
        );
        assert_eq!(MAGIC.to_le_bytes(), *b"RIGA");
        assert_eq!(core::mem::size_of::<InfoBlock>(), SIZE);
        assert_eq!(ADDRESS as usize + SIZE, 0x2001_0000);
    }

    #[test]
    fn erased_or_stale_ram_is_no_version() {
        assert_eq!(InfoBlock::version_from_words([0; 4]), None);
        assert_eq!(InfoBlock::version_from_words([u32::MAX; 4]), None);
        assert_eq!(InfoBlock::version_from_words([MAGIC, 7, !8, LAYOUT]), None);
        assert_eq!(InfoBlock::version_from_words([MAGIC, 7, !7, 2]), None);
    }
}
