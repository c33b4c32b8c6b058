//! The nRF52832's CoreSight ROM table (0xE00FF000) and the identification registers of the
//! components it lists (ARMv7-M ARM appendix "ARMv7-M CoreSight Infrastructure IDs"; Cortex-M4
//! TRM r0p1 table 3-1 and the component chapters for the PIDR values).
//!
//! Each 4 KB component block ends with PIDR4-7 at 0xFD0, PIDR0-3 at 0xFE0 and CIDR0-3 at 0xFF0.
//! JEP106 designers: ARM is 0x4BB (continuation 4, code 0x3B), Nordic 0x244 (continuation 2,
//! code 0x44; probe-rs vendor/nordicsemi/mod.rs matches JEP106Code::new(0x2, 0x44) to pick the
//! Nordic chip detection that reads FICR INFO.PART).

/// The ROM table base (the AHB-AP BASE register holds this | 0x3: entry present, ADIv5 format).
pub const ROM_TABLE: u32 = 0xE00F_F000;

/// A component: base address, CIDR class byte (CIDR1), part number, JEP106 designer
/// (continuation count, code), revision, DEVTYPE for CoreSight (class 9) components.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    pub base: u32,
    pub class: u8,
    pub part: u16,
    pub jep106: (u8, u8),
    pub revision: u8,
    pub devtype: u32,
    /// DEVARCH (CoreSight components only; 0 = not implemented).
    pub devarch: u32,
}

const ARM: (u8, u8) = (4, 0x3B);
const NORDIC: (u8, u8) = (2, 0x44);

/// The components, ROM table first. Classes: 0x1 ROM table, 0xE generic IP (the Cortex-M4's
/// SCS, DWT, FPB and ITM), 0x9 CoreSight (TPIU, ETM).
#[rustfmt::skip]
pub static COMPONENTS: &[Component] = &[
    // ROM table: Nordic part 0x006 (the nRF52 ROM table), MEMTYPE.SYSMEM = 1 (read at 0xFCC).
    Component { base: ROM_TABLE, class: 0x10, part: 0x006, jep106: NORDIC, revision: 0, devtype: 1, devarch: 0 },
    Component { base: 0xE000_E000, class: 0xE0, part: 0x00C, jep106: ARM, revision: 0, devtype: 0, devarch: 0 },
    Component { base: 0xE000_1000, class: 0xE0, part: 0x002, jep106: ARM, revision: 3, devtype: 0, devarch: 0 },
    Component { base: 0xE000_2000, class: 0xE0, part: 0x003, jep106: ARM, revision: 2, devtype: 0, devarch: 0 },
    Component { base: 0xE000_0000, class: 0xE0, part: 0x001, jep106: ARM, revision: 3, devtype: 0, devarch: 0 },
    Component { base: 0xE004_0000, class: 0x90, part: 0x9A1, jep106: ARM, revision: 4, devtype: 0x11, devarch: 0 },
    Component { base: 0xE004_1000, class: 0x90, part: 0x925, jep106: ARM, revision: 4, devtype: 0x13, devarch: 0 },
];

/// ROM table entries (offset 0x000..): offset from the table to each component, | 0x3
/// (present, 32-bit format), then the 0 that ends the table.
pub fn rom_entry(index: u32) -> u32 {
    match COMPONENTS.get(1 + index as usize) {
        Some(c) => c.base.wrapping_sub(ROM_TABLE) | 0x3,
        None => 0,
    }
}

/// The identification register at `addr` if `addr` is in a component's ID window
/// (0xFC8..=0xFFC), else None.
pub fn id_register(addr: u32) -> Option<u32> {
    let base = addr & !0xFFF;
    let off = addr & 0xFFF;
    let c = COMPONENTS.iter().find(|c| c.base == base)?;
    let (cont, code) = c.jep106;
    let pidr = |n: u32| -> u32 {
        match n {
            0 => (c.part & 0xFF) as u32,
            1 => ((c.part >> 8) & 0xF) as u32 | ((code as u32 & 0xF) << 4),
            2 => ((code as u32 >> 4) & 0x7) | 0x8 | ((c.revision as u32) << 4),
            3 => 0,
            4 => cont as u32,
            _ => 0,
        }
    };
    Some(match off {
        0xFBC => c.devarch,
        0xFCC => c.devtype,
        0xFD0 => pidr(4),
        0xFD4..=0xFDC => 0,
        0xFE0 => pidr(0),
        0xFE4 => pidr(1),
        0xFE8 => pidr(2),
        0xFEC => pidr(3),
        0xFF0 => 0x0D,
        0xFF4 => c.class as u32,
        0xFF8 => 0x05,
        0xFFC => 0xB1,
        _ => return None,
    })
}
