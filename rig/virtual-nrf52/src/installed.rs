//! What is installed on a device, read from flash the way the MBR and bootloader find it.

use crate::defects::DefectSet;
use crate::descriptor::{
    self, AppDescriptor, BootloaderDescriptor, DescriptorError, Kind, DESCRIPTOR_OFFSET,
};
use crate::hardware::Hardware;
use crate::mbr::{self, MbrKind};
use crate::nvmc::FlashMemory;
use crate::softdevice;
use nrf_dfu::memory_map::{SoftDeviceInfo, PAGE_SIZE, SOFTDEVICE_START};
use nrf_dfu::Chip;

/// What a code region holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code<D> {
    /// The region's first page is erased.
    Erased,
    /// Code without a stand-in descriptor (a real image, or a stand-in whose descriptor area is
    /// not there): "unknown bootloader" / "unknown application".
    Unknown,
    /// A stand-in with its decoded descriptor.
    StandIn(D),
    /// A descriptor magic is there but the descriptor does not decode (torn or damaged image).
    Damaged(DescriptorError),
}

/// One image slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<D> {
    pub address: u32,
    pub code: Code<D>,
}

/// The device's firmware inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub mbr: Option<MbrKind>,
    pub softdevice: Option<SoftDeviceInfo>,
    /// The bootloader address the MBR would use (0xFF8 slot, else UICR.NRFFW\[0\]).
    pub bootloader_address: Option<u32>,
    /// The MBR parameter page (0xFFC slot, else UICR.NRFFW\[1\]).
    pub mbr_params_page: Option<u32>,
    /// The bootloader region: at the configured address, else at the chip's default address
    /// (0x78000 / 0x38000) when something is there.
    pub bootloader: Option<Slot<BootloaderDescriptor>>,
    /// Bank 0: the SoftDevice's end address, or 0x1000 without a SoftDevice.
    pub app: Slot<AppDescriptor>,
}

fn slot<D>(
    mem: &FlashMemory,
    address: u32,
    decode: fn(&[u8]) -> Result<D, DescriptorError>,
    kind: Kind,
) -> Slot<D> {
    let page = match mem.code.read(
        address,
        PAGE_SIZE.min(mem.code.end().saturating_sub(address)),
    ) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            return Slot {
                address,
                code: Code::Erased,
            }
        }
    };
    if page.iter().all(|&b| b == 0xFF) {
        return Slot {
            address,
            code: Code::Erased,
        };
    }
    let at = DESCRIPTOR_OFFSET as usize;
    let code = match page.get(at..) {
        Some(d) if descriptor::has_magic(kind, d) => match decode(d) {
            Ok(desc) => Code::StandIn(desc),
            Err(e) => Code::Damaged(e),
        },
        _ => Code::Unknown,
    };
    Slot { address, code }
}

/// Inventory of `mem` on `chip`.
pub fn inventory(mem: &FlashMemory, chip: Chip) -> Installed {
    let softdevice = softdevice::installed(&mem.code);
    let bootloader_address = mbr::bootloader_address(mem);
    let bootloader = {
        let s = slot(
            mem,
            bootloader_address.unwrap_or(chip.bootloader_address()),
            BootloaderDescriptor::decode,
            Kind::Bootloader,
        );
        (bootloader_address.is_some() || s.code != Code::Erased).then_some(s)
    };
    let app_start = softdevice.map_or(SOFTDEVICE_START, |sd| sd.end_address);
    Installed {
        mbr: mbr::recognise(mem),
        softdevice,
        bootloader_address,
        mbr_params_page: mbr::params_page(mem),
        bootloader,
        app: slot(mem, app_start, AppDescriptor::decode, Kind::App),
    }
}

impl Installed {
    /// The stand-in bootloader's descriptor, if one is installed.
    pub fn bootloader_descriptor(&self) -> Option<&BootloaderDescriptor> {
        match &self.bootloader.as_ref()?.code {
            Code::StandIn(d) => Some(d),
            _ => None,
        }
    }

    pub fn app_descriptor(&self) -> Option<&AppDescriptor> {
        match &self.app.code {
            Code::StandIn(d) => Some(d),
            _ => None,
        }
    }

    /// One line per item, for `rig sim` and reports.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.push(match self.mbr {
            Some(MbrKind::StandIn(d)) => format!("MBR: stand-in {}", d.version_text()),
            Some(MbrKind::Nordic) => "MBR: present (no descriptor)".into(),
            None => "MBR: none".into(),
        });
        out.push(match &self.softdevice {
            Some(sd) => format!(
                "SoftDevice: {} (FWID {:#x}, end {:#x})",
                softdevice::describe(sd),
                sd.fwid,
                sd.end_address
            ),
            None => "SoftDevice: none".into(),
        });
        out.push(match &self.bootloader {
            None => "bootloader: none".into(),
            Some(s) => format!(
                "bootloader at {:#x}: {}",
                s.address,
                code_text(&s.code, |d| format!(
                    "stand-in SDK {} over {}, \"{}\", defects {}",
                    d.profile.label(),
                    d.transport,
                    d.adv_name,
                    d.defects
                ))
            ),
        });
        out.push(format!(
            "application at {:#x}: {}",
            self.app.address,
            code_text(&self.app.code, |d| format!(
                "stand-in \"{}\" version {} buttonless {:?}",
                d.name, d.version, d.buttonless
            ))
        ));
        out
    }
}

fn code_text<D>(c: &Code<D>, f: impl Fn(&D) -> String) -> String {
    match c {
        Code::Erased => "erased".into(),
        Code::Unknown => "unknown (code without descriptor)".into(),
        Code::StandIn(d) => f(d),
        Code::Damaged(e) => format!("damaged descriptor ({e})"),
    }
}

impl Hardware {
    pub fn installed(&self) -> Installed {
        inventory(&self.mem, self.chip)
    }

    /// Defects in effect: the per-device override, else the installed bootloader's set.
    pub fn effective_defects(&self) -> DefectSet {
        self.defects_override
            .or_else(|| self.installed().bootloader_descriptor().map(|d| d.defects))
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "installed_tests.rs"]
mod tests;
