//! Stand-in bootloaders flashed "built with" the `sdk_config.h` options a suite or bench file
//! declares: the descriptor the virtual device reads its build from is rewritten before the
//! image goes through the probe, as a rebuild with other options would change the real one.

use nrf_dfu::memory_map::BOOTLOADER_START;
use std::collections::BTreeMap;
use virtual_nrf52::descriptor::{
    framed_len, has_magic, options, BootloaderDescriptor, Kind, DESCRIPTOR_OFFSET,
};

/// Rewrite the stand-in bootloader descriptor inside `runs` (address, bytes) with `declared`.
/// Returns the options in force afterwards when a stand-in bootloader was there; an option
/// its SDK does not have is an error that names it.
pub fn rebuild_standin_bootloader(
    runs: &mut [(u32, Vec<u8>)],
    declared: &BTreeMap<String, u32>,
) -> Result<Option<String>, String> {
    if declared.is_empty() {
        return Ok(None);
    }
    let at = BOOTLOADER_START + DESCRIPTOR_OFFSET;
    let len = framed_len(100);
    for (addr, bytes) in runs.iter_mut() {
        let end = *addr as u64 + bytes.len() as u64;
        if *addr > at || end < at as u64 + len as u64 {
            continue;
        }
        let off = (at - *addr) as usize;
        let slot = &mut bytes[off..off + len];
        if !has_magic(Kind::Bootloader, slot) {
            continue;
        }
        let mut d = BootloaderDescriptor::decode(slot).map_err(|e| e.to_string())?;
        options::apply(&mut d, declared).map_err(|e| e.to_string())?;
        let enc = d.encode().map_err(|e| e.to_string())?;
        slot.copy_from_slice(&enc);
        return Ok(Some(options::describe(&d)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::SdkVersion;

    fn runs(sdk: SdkVersion) -> Vec<(u32, Vec<u8>)> {
        let d = BootloaderDescriptor::sdk_default(sdk, [1; 64]);
        let mut img = vec![0u8; 0x400];
        let e = d.encode().unwrap();
        img[DESCRIPTOR_OFFSET as usize..DESCRIPTOR_OFFSET as usize + e.len()].copy_from_slice(&e);
        vec![(0x1000, vec![0; 16]), (BOOTLOADER_START, img)]
    }

    #[test]
    fn rebuilds_with_the_declared_options() {
        let mut r = runs(SdkVersion::Sdk17);
        let m = BTreeMap::from([("NRF_DFU_SAVE_PROGRESS_IN_FLASH".to_string(), 1)]);
        let said = rebuild_standin_bootloader(&mut r, &m).unwrap().unwrap();
        assert!(said.contains("NRF_DFU_SAVE_PROGRESS_IN_FLASH=1"));
        let at = DESCRIPTOR_OFFSET as usize;
        let d = BootloaderDescriptor::decode(&r[1].1[at..]).unwrap();
        assert!(d.save_progress_in_flash);
        assert_eq!(d.public_key, [1; 64]);
        // Nothing declared: untouched; an option the SDK lacks: an error naming it.
        assert_eq!(
            rebuild_standin_bootloader(&mut r, &BTreeMap::new()).unwrap(),
            None
        );
        let e = rebuild_standin_bootloader(&mut runs(SdkVersion::Sdk12), &m).unwrap_err();
        assert!(
            e.contains("NRF_DFU_SAVE_PROGRESS_IN_FLASH does not exist in SDK 12"),
            "{e}"
        );
    }
}
