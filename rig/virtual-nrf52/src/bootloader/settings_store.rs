//! Writing the bootloader settings page and its backup (17.1
//! `nrf_dfu_settings.c`): a write is an erase plus a write of the struct, skipped when flash
//! already holds the same bytes; `write_and_backup` writes the main page, then the backup from
//! the RAM copy; `backup` copies the main page as it is in flash to the backup page.
//!
//! And reading them back at boot or on a BLE disconnect: the per-SDK choice between main and
//! backup page comes from `nrf_dfu::settings::settings_init`; the `no-settings-backup` defect
//! uses the pre-15.2 rule (valid main page, else defaults) with the profile's layout.

use super::profile::Profile;
use crate::core::{Core, FlashCtx, QueueFull};
use crate::flash_queue::Done;
use crate::nvmc::FlashOp;
use nrf_dfu::settings::{crc_ok, settings_init, SettingsPage};
use nrf_dfu::Chip;

/// Main settings page and backup (MBR parameter page) addresses.
pub(crate) fn pages(chip: Chip) -> (u32, u32) {
    (chip.settings_address(), chip.mbr_params_address())
}

/// Seal the CRCs as `nrf_dfu_settings_write` does and return the struct bytes.
fn sealed(s: &mut SettingsPage) -> Vec<u8> {
    s.fix_settings_crcs();
    s.encode()
}

/// Queue erase + write of `bytes` at `page` unless flash already holds them. `done` fires when
/// the write completes (at once, as a zero-length item, when skipped).
fn write_page(
    core: &mut Core,
    page: u32,
    bytes: &[u8],
    ctx: FlashCtx,
    done: Done,
) -> Result<(), QueueFull> {
    if core.read(page, bytes.len() as u32) == bytes {
        if done != Done::Nothing {
            core.busy(std::time::Duration::ZERO, done);
        }
        return Ok(());
    }
    if !core.has_room(ctx, 2) {
        return Err(QueueFull);
    }
    // Lengths are whole words (the struct sizes are 348, 440 and 896 bytes).
    let write = FlashOp::write_bytes(page, bytes).map_err(|_| QueueFull)?;
    core.flash(FlashOp::ErasePage { addr: page }, ctx, Done::Nothing)?;
    core.flash(write, ctx, done)?;
    Ok(())
}

/// `nrf_dfu_settings_write`: the main page only.
pub(crate) fn write(
    core: &mut Core,
    s: &mut SettingsPage,
    ctx: FlashCtx,
    done: Done,
) -> Result<(), QueueFull> {
    let bytes = sealed(s);
    let (main, _) = pages(core.hw.chip());
    write_page(core, main, &bytes, ctx, done)
}

/// `nrf_dfu_settings_write_and_backup`: main page (its completion fires `done`), then the
/// backup from the same RAM copy when the build has a backup. Only the main write's failure is
/// reported, as in the SDK.
pub(crate) fn write_and_backup(
    core: &mut Core,
    p: &Profile,
    s: &mut SettingsPage,
    ctx: FlashCtx,
    done: Done,
) -> Result<(), QueueFull> {
    let bytes = sealed(s);
    let (main, backup) = pages(core.hw.chip());
    write_page(core, main, &bytes, ctx, done)?;
    if p.settings_backup {
        let _ = write_page(core, backup, &bytes, ctx, Done::Nothing);
    }
    Ok(())
}

/// `nrf_dfu_settings_backup`: copy the main page as flash holds it now to the backup page
/// (15.2+); `done` fires when that is done (or at once when nothing needs writing).
pub(crate) fn backup(core: &mut Core, p: &Profile, ctx: FlashCtx, done: Done) {
    let (main, backup) = pages(core.hw.chip());
    let len = p.layout.size() as u32;
    if p.settings_backup {
        let bytes = core.read(main, len).to_vec();
        if write_page(core, backup, &bytes, ctx, done).is_ok() {
            return;
        }
    }
    if done != Done::Nothing {
        core.busy(std::time::Duration::ZERO, done);
    }
}

/// The settings the bootloader holds in RAM after reading flash (boot, or
/// `nrf_dfu_settings_reinit` on a 16/17 disconnect), and the page writes boot-time init does.
pub(crate) struct Loaded {
    pub settings: SettingsPage,
    pub main_write: Option<Vec<u8>>,
    pub backup_write: Option<Vec<u8>>,
}

pub(crate) fn load(core: &Core, p: &Profile) -> Loaded {
    let (main_addr, backup_addr) = pages(core.hw.chip());
    let size = p.layout.size() as u32;
    let main = core.read(main_addr, size);
    let backup = core.read(backup_addr, size);
    if p.settings_backup || !p.sdk.has_settings_backup() {
        if let Ok(init) = settings_init(p.sdk, main, backup) {
            return Loaded {
                settings: init.settings,
                main_write: init.main_page_write,
                backup_write: init.backup_page_write,
            };
        }
    }
    // The no-settings-backup defect on a 15.2+ layout: the pre-15.2 rule, valid main page,
    // else zeroed defaults written back (12.3 `nrf_dfu_settings_init`).
    if crc_ok(main) {
        if let Ok(s) = SettingsPage::decode(main, p.layout) {
            return Loaded {
                settings: s,
                main_write: None,
                backup_write: None,
            };
        }
    }
    let mut s = SettingsPage::defaults(p.layout);
    let bytes = sealed(&mut s);
    let main_write = (bytes != main).then_some(bytes);
    Loaded {
        settings: s,
        main_write,
        backup_write: None,
    }
}
