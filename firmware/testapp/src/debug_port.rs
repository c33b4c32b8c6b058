//! Keep SWD open on nRF52832 revision 3 (build code Gx0), where access port protection is on
//! after every reset unless UICR.APPROTECT = 0x5A (HwDisabled) *and* the firmware writes
//! APPROTECT.DISABLE = 0x5A (SwDisable) after the reset. This is what Nordic's MDK `SystemInit`
//! does when `ENABLE_APPROTECT` is not defined (nrfx `mdk/system_nrf52_approtect.h`,
//! `nrf52_handle_approtect`): it copies UICR.APPROTECT into APPROTECT.DISABLE, on the parts
//! `nrf52_configuration_249()` selects. cortex-m-rt has no SystemInit, so the application does
//! it first thing in `main`.

use core::ptr::{read_volatile, write_volatile};

/// FICR words `nrf52_configuration_249` reads (`nrfx mdk/nrf52_erratas.h`).
const FICR_PART_VARIANT: *const u32 = 0x1000_0130 as *const u32;
const FICR_REVISION: *const u32 = 0x1000_0134 as *const u32;
/// UICR.APPROTECT.
const UICR_APPROTECT: *const u32 = 0x1000_1208 as *const u32;
/// APPROTECT.DISABLE (APPROTECT peripheral at 0x4000_0000, register +0x558; rev 3 only).
const APPROTECT_DISABLE: *mut u32 = 0x4000_0558 as *mut u32;

/// `nrf52_configuration_249()` for the nRF52832: part word 6, revision word not 3..=6.
fn has_software_approtect() -> bool {
    // SAFETY: FICR is always readable.
    let (part, rev) = unsafe {
        (
            read_volatile(FICR_PART_VARIANT),
            read_volatile(FICR_REVISION),
        )
    };
    part == 0x06 && !(0x03..=0x06).contains(&rev)
}

/// Copy UICR.APPROTECT into APPROTECT.DISABLE on revision 3 parts: with UICR = 0x5A the debug
/// port opens, with anything else it stays as the hardware decided.
pub fn keep_open() {
    if has_software_approtect() {
        // SAFETY: the register exists on these parts; the SoftDevice is not enabled yet.
        unsafe { write_volatile(APPROTECT_DISABLE, read_volatile(UICR_APPROTECT)) };
    }
}
