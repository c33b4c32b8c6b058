//! Activation of an update waiting in bank 1 (17.1 `nrf_bootloader_fw_activation.c`,
//! SDK 12 `nrf_dfu_utils.c`): copy it in steps with the settings (and backup) written after
//! every step, so a power cut resumes from the last saved step; then check the CRC (app), or
//! hand the bootloader to the MBR's COPY_BL.

use super::enter_dfu::boot_validate;
use super::profile::Profile;
use super::settings_store;
use crate::core::{Core, FlashCtx};
use crate::flash_queue::Done;
use crate::mbr::CopyBlRecord;
use crate::nvmc::FlashOp;
use nrf_dfu::memory_map::{align_to_page, PAGE_SIZE, SOFTDEVICE_START};
use nrf_dfu::settings::{Bank, BankCode, SettingsPage};

/// What bank 1 holds, as activation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    App,
    SoftDevice,
    Bootloader,
    SoftDeviceBootloader,
}

impl Pending {
    pub fn of(s: &SettingsPage) -> Option<Pending> {
        match s.bank_1.bank_code {
            BankCode::ValidApp => Some(Pending::App),
            BankCode::ValidSd => Some(Pending::SoftDevice),
            BankCode::ValidBl => Some(Pending::Bootloader),
            BankCode::ValidSdBl => Some(Pending::SoftDeviceBootloader),
            _ => None,
        }
    }

    pub fn updates_softdevice(self) -> bool {
        matches!(self, Pending::SoftDevice | Pending::SoftDeviceBootloader)
    }
}

/// Where the new image waits: 15+ store it in `update_start_address`; when that is 0 (SDK 12,
/// whose postvalidation clears the progress) bank 1 is right after the app in bank 0.
fn bank1_source(core: &Core, s: &SettingsPage) -> u32 {
    match s.progress.update_start_address() {
        0 => core.bank0_start() + align_to_page(s.bank_0.image_size),
        a => a,
    }
}

/// One copy job: `total` bytes from `src` to `dst`, progress in `settings.write_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CopyJob {
    pub dst: u32,
    pub src: u32,
    pub total: u32,
}

/// The copy of the application or SoftDevice part, `None` when nothing is to be copied
/// (single bank: source = destination; SoftDevice already copied).
pub(crate) fn copy_job(core: &Core, s: &SettingsPage, what: Pending) -> Option<CopyJob> {
    let src = bank1_source(core, s);
    let job = match what {
        Pending::App => CopyJob {
            dst: core.bank0_start(),
            src,
            total: s.bank_1.image_size,
        },
        Pending::SoftDevice | Pending::SoftDeviceBootloader => CopyJob {
            dst: SOFTDEVICE_START,
            src,
            total: align_to_page(s.sd_size),
        },
        Pending::Bootloader => return None,
    };
    // The copy runs downwards only (`ASSERT(src_addr >= dst_addr)`).
    (job.src > job.dst && s.write_offset < job.total).then_some(job)
}

/// Queue the next copy step (17.1 `image_copy`: erase the step's destination pages, write the
/// step's bytes, advance `write_offset`, write settings and backup; SDK 12: one page, settings
/// without backup, then erase the source page). The step never overlaps its source
/// (`max_safe_progress_upd_step`).
pub(crate) fn copy_step(core: &mut Core, p: &Profile, s: &mut SettingsPage, job: CopyJob) {
    let done = s.write_offset;
    let (dst, src) = (job.dst + done, job.src + done);
    let safe = ((job.src - job.dst) / PAGE_SIZE).max(1);
    let step = p.copy_step_pages.min(safe);
    let left = job.total - done;
    let pages = left.div_ceil(PAGE_SIZE);
    let (pages, bytes) = if pages <= step {
        (pages, left)
    } else {
        (step, step * PAGE_SIZE)
    };
    for i in 0..pages {
        let _ = core.flash(
            FlashOp::ErasePage {
                addr: dst + i * PAGE_SIZE,
            },
            FlashCtx::BOOT,
            Done::Nothing,
        );
    }
    let len = bytes.div_ceil(4) * 4;
    let data = core.read(src, len).to_vec();
    if let Ok(op) = FlashOp::write_bytes(dst, &data) {
        let _ = core.flash(op, FlashCtx::BOOT, Done::Nothing);
    }
    s.write_offset += bytes;
    let _ = settings_store::write_and_backup(core, p, s, FlashCtx::BOOT, Done::Nothing);
    if p.copy_erases_source {
        for i in 0..pages {
            let _ = core.flash(
                FlashOp::ErasePage {
                    addr: src + i * PAGE_SIZE,
                },
                FlashCtx::BOOT,
                Done::Nothing,
            );
        }
    }
}

/// After the app copy: CRC of bank 0 against bank_1.image_crc (17.1 `app_activate`). Returns
/// the bytes hashed (CPU time).
pub(crate) fn finish_app(core: &Core, s: &mut SettingsPage) -> u32 {
    let start = core.bank0_start();
    let size = s.bank_1.image_size;
    let crc = core
        .hw
        .memory()
        .code
        .read(start, size)
        .map(nrf_dfu::crc::crc32)
        .ok();
    if crc == Some(s.bank_1.image_crc) {
        s.bank_0 = Bank {
            image_size: size,
            image_crc: s.bank_1.image_crc,
            bank_code: BankCode::ValidApp,
        };
    }
    size
}

/// After the SoftDevice copy: 15.3+ checks it against its boot validation.
pub(crate) fn finish_softdevice(core: &Core, p: &Profile, s: &SettingsPage) -> bool {
    match s.v2() {
        Some(v2) => boot_validate(
            core,
            p,
            &v2.boot_validation_softdevice,
            SOFTDEVICE_START,
            s.sd_size,
        ),
        None => true,
    }
}

/// The bootloader part: already in place (done), or the COPY_BL request to store.
pub(crate) enum BlStep {
    InPlace,
    CopyRequest { page: u32, record: Vec<u8> },
    Failed,
}

/// 17.1 `bl_activate`: compare the bootloader region with the new image (and, for SD+BL on
/// 52832 BLE builds, with the image 0x4000 lower); otherwise ask the MBR to copy it.
pub(crate) fn bootloader_step(core: &Core, s: &SettingsPage, what: Pending) -> BlStep {
    let mut src = bank1_source(core, s);
    let mut len = s.bank_1.image_size;
    if what == Pending::SoftDeviceBootloader {
        src += s.sd_size;
        len = len.saturating_sub(s.sd_size);
    }
    let bl = core.hw.chip().bootloader_address();
    let region = core.read(bl, len);
    let same_at = |a: u32| !region.is_empty() && core.read(a, len) == region;
    if same_at(src)
        || (what == Pending::SoftDeviceBootloader && src >= 0x4000 && same_at(src - 0x4000))
    {
        return BlStep::InPlace;
    }
    match CopyBlRecord::validate(core.hw.memory(), src, len.div_ceil(4)) {
        Ok((page, rec)) => BlStep::CopyRequest {
            page,
            record: rec.encode(),
        },
        Err(_) => BlStep::Failed,
    }
}

/// Store the COPY_BL request (erase the parameter page, write the record); the MBR takes over
/// when it is written.
pub(crate) fn request_copy_bl(core: &mut Core, page: u32, record: &[u8]) {
    let _ = core.flash(
        FlashOp::ErasePage { addr: page },
        FlashCtx::BOOT,
        Done::Nothing,
    );
    if let Ok(op) = FlashOp::write_bytes(page, record) {
        let _ = core.flash(op, FlashCtx::BOOT, Done::MbrCopyBl);
    }
}
