//! Everything `rig settings display` shows about a settings page found in a flash image: the
//! decoded page, its CRCs, the backup page, and what each SDK's bootloader would make of them.

use super::check::CrcReport;
use super::generate::Family;
use super::merge::{settings_init, InitOutcome};
use super::{BankCode, SettingsError, SettingsLayout, SettingsPage};
use crate::image::Segments;
use crate::memory_map::PAGE_SIZE;
use crate::SdkVersion;
use serde::Serialize;

/// The main settings page and its backup, as 4 KB pages read from an image (absent bytes read
/// 0xFF, as on erased flash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsPages {
    pub address: u32,
    /// The nrfutil family whose default settings address this is, if any.
    pub family: Option<Family>,
    pub main: Vec<u8>,
    pub backup_address: u32,
    /// `None` when the image has no byte in the backup page.
    pub backup: Option<Vec<u8>>,
}

/// The image holds nothing that looks like a settings page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    #[error("no data in the image at {0:#010x} (the settings page given)")]
    NothingAt(u32),
    #[error("the image holds no flash data (nothing below 0x10000000)")]
    NoFlashData,
}

fn page_has_data(s: &Segments, address: u32) -> bool {
    s.runs().any(|(a, run)| {
        let (lo, hi) = (a as u64, a as u64 + run.len() as u64);
        lo < address as u64 + PAGE_SIZE as u64 && hi > address as u64
    })
}

/// Find the settings page in an image. With `start_address` that page is used; otherwise the
/// nRF52832 defaults are tried (0x7F000 for NRF52, 0x3F000 for NRF52QFAB), then the highest
/// flash page holding data (nrfutil's display only probes fixed addresses and fails there).
/// The backup is the page below.
pub fn locate_settings(
    s: &Segments,
    start_address: Option<u32>,
) -> Result<SettingsPages, LocateError> {
    let address = match start_address {
        Some(a) if page_has_data(s, a) => a,
        Some(a) => return Err(LocateError::NothingAt(a)),
        None => [Family::Nrf52, Family::Nrf52Qfab]
            .into_iter()
            .map(Family::settings_address)
            .find(|a| page_has_data(s, *a))
            .or_else(|| {
                let top = s.runs().filter(|(a, _)| *a < 0x1000_0000).map(|(a, r)| {
                    let last = (a as u64 + r.len() as u64 - 1).min(0x0FFF_FFFF) as u32;
                    last - last % PAGE_SIZE
                });
                top.max()
            })
            .ok_or(LocateError::NoFlashData)?,
    };
    let family = [Family::Nrf52, Family::Nrf52Qfab]
        .into_iter()
        .find(|f| f.settings_address() == address);
    let backup_address = address.wrapping_sub(PAGE_SIZE);
    let backup =
        page_has_data(s, backup_address).then(|| s.read(backup_address, PAGE_SIZE as usize));
    Ok(SettingsPages {
        address,
        family,
        main: s.read(address, PAGE_SIZE as usize),
        backup_address,
        backup,
    })
}

/// The backup page compared with the main page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupReport {
    pub address: u32,
    pub settings: SettingsPage,
    pub crcs: CrcReport,
    /// The struct bytes are identical to the main page's.
    pub equal_to_main: bool,
    pub differing_fields: Vec<&'static str>,
}

/// What one SDK's bootloader concludes at boot from these two pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootConclusion {
    pub sdk: SdkVersion,
    pub layout: SettingsLayout,
    pub outcome: InitOutcome,
    pub upgraded_from_v1: bool,
    pub app_version: u32,
    pub bootloader_version: u32,
    pub bank_0: BankCode,
    pub bank_1: BankCode,
    /// Whether init rewrites the main / backup page.
    pub writes_main: bool,
    pub writes_backup: bool,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsReport {
    pub address: u32,
    pub family: Option<Family>,
    pub layout: SettingsLayout,
    pub settings: SettingsPage,
    pub crcs: CrcReport,
    pub backup: Option<BackupReport>,
    pub bootloaders: Vec<BootConclusion>,
}

impl SettingsReport {
    /// Decode the pages with `layout` (or the layout the main page's `settings_version` names) and
    /// run every SDK's settings init on them. A missing backup is read as an erased page.
    pub fn new(
        pages: &SettingsPages,
        layout: Option<SettingsLayout>,
    ) -> Result<Self, SettingsError> {
        let layout = match layout {
            Some(l) => l,
            None => SettingsLayout::detect(&pages.main)?,
        };
        let settings = SettingsPage::decode(&pages.main, layout)?;
        let backup = match &pages.backup {
            Some(b) => {
                let bs = SettingsPage::decode(b, layout)?;
                Some(BackupReport {
                    address: pages.backup_address,
                    crcs: bs.check_crcs(),
                    equal_to_main: bs.encode() == settings.encode(),
                    differing_fields: settings.differing_fields(&bs),
                    settings: bs,
                })
            }
            None => None,
        };
        let erased = vec![0xFFu8; PAGE_SIZE as usize];
        let backup_bytes = pages.backup.as_deref().unwrap_or(&erased);
        let bootloaders = SdkVersion::ALL
            .into_iter()
            .map(|sdk| {
                let r = settings_init(sdk, &pages.main, backup_bytes)?;
                Ok(BootConclusion {
                    sdk,
                    layout: SettingsLayout::for_sdk(sdk),
                    outcome: r.outcome,
                    upgraded_from_v1: r.upgraded_from_v1,
                    app_version: r.settings.app_version,
                    bootloader_version: r.settings.bootloader_version,
                    bank_0: r.settings.bank_0.bank_code,
                    bank_1: r.settings.bank_1.bank_code,
                    writes_main: r.main_page_write.is_some(),
                    writes_backup: r.backup_page_write.is_some(),
                })
            })
            .collect::<Result<Vec<_>, SettingsError>>()?;
        Ok(SettingsReport {
            address: pages.address,
            family: pages.family,
            layout,
            crcs: settings.check_crcs(),
            settings,
            backup,
            bootloaders,
        })
    }
}
