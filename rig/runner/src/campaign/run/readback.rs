//! What the oracle reads through SWD after an update: the settings page and its backup, bank 0
//! against the CRC the settings claim, the installed SoftDevice, GPREGRET and RESETREAS.

use super::error::StepFailure;
use crate::campaign::failure_class::InfraFault;
use crate::drivers::{Probe, ProbeError};
use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::{
    self, SoftDeviceInfo, PAGE_SIZE, POWER_GPREGRET, POWER_RESETREAS, SD_INFO_STRUCT_OFFSET,
    SOFTDEVICE_START,
};
use nrf_dfu::settings::{BankCode, SettingsLayout, SettingsPage};
use nrf_dfu::{Chip, SdkVersion};

/// Largest bank 0 the rig reads back (the whole app region of a QFAA).
const MAX_BANK: u32 = 512 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct ReadBack {
    /// The decoded settings page, when it decodes.
    pub settings: Option<SettingsPage>,
    /// Its CRC checks (crc, and boot_validation_crc on v2) hold.
    pub settings_valid: bool,
    /// The backup copy (MBR parameter page) is valid, where there is one.
    pub backup_valid: Option<bool>,
    /// CRC-32 of `bank_0.image_size` bytes at the start of bank 0.
    pub bank0_flash_crc: Option<u32>,
    pub bank0_start: u32,
    pub softdevice_fwid: Option<u16>,
    pub gpregret: u32,
    pub resetreas: u32,
}

fn probe_failure(what: &str, e: ProbeError) -> StepFailure {
    let f = if e.owner == crate::drivers::Owner::Infrastructure {
        StepFailure::infra(InfraFault::Probe, format!("{what}: {}", e.message))
    } else {
        StepFailure::new(
            crate::campaign::FailureClass::Verify(
                crate::campaign::failure_class::VerifyCheck::Settings,
            ),
            format!("{what}: {}", e.message),
        )
    };
    f
}

/// Decode with the installed bootloader's layout when known: SDK 12 and v1 pages both say
/// settings_version 1, so the bytes alone cannot tell them apart.
fn decode(page: &[u8], sdk: Option<SdkVersion>) -> Option<SettingsPage> {
    let layout = match sdk {
        Some(sdk) => SettingsLayout::for_sdk(sdk),
        None => SettingsLayout::detect(page).ok()?,
    };
    SettingsPage::decode(page, layout).ok()
}

/// Every RESETREAS cause bit: RESETPIN, DOG, SREQ, LOCKUP, OFF, LPCOMP, DIF, NFC.
const RESETREAS_ALL: u32 = 0x000F_000F;

impl ReadBack {
    pub fn read(
        probe: &mut dyn Probe,
        chip: Chip,
        sdk: Option<SdkVersion>,
    ) -> Result<ReadBack, StepFailure> {
        probe.attach().map_err(|e| probe_failure("attaching", e))?;
        let head = probe
            .read_memory(0, SOFTDEVICE_START + SD_INFO_STRUCT_OFFSET + 0x100)
            .map_err(|e| probe_failure("reading the SoftDevice info", e))?;
        let sd = SoftDeviceInfo::parse(&head, 0);
        let bank0_start = memory_map::bank0_start(sd.as_ref());
        let page = probe
            .read_memory(chip.settings_address(), PAGE_SIZE)
            .map_err(|e| probe_failure("reading the settings page", e))?;
        let settings = decode(&page, sdk);
        let settings_valid = settings.as_ref().is_some_and(|s| s.validate().is_ok());
        let backup = probe
            .read_memory(chip.mbr_params_address(), PAGE_SIZE)
            .map_err(|e| probe_failure("reading the settings backup", e))?;
        // SDK 12 has no backup page: an erased page there is not a finding.
        let backup_valid = if backup.iter().all(|&b| b == 0xFF) {
            None
        } else {
            Some(decode(&backup, sdk).is_some_and(|s| s.validate().is_ok()))
        };
        let bank0_flash_crc = match &settings {
            Some(s) if s.bank_0.image_size > 0 && s.bank_0.image_size <= MAX_BANK => {
                let bytes = probe
                    .read_memory(bank0_start, s.bank_0.image_size)
                    .map_err(|e| probe_failure("reading bank 0", e))?;
                Some(crc32(&bytes))
            }
            _ => None,
        };
        let gpregret = probe
            .read_word(POWER_GPREGRET)
            .map_err(|e| probe_failure("reading GPREGRET", e))?;
        let resetreas = probe
            .read_word(POWER_RESETREAS)
            .map_err(|e| probe_failure("reading RESETREAS", e))?;
        // RESETREAS accumulates until written with ones (nRF52832 PS v1.4, POWER RESETREAS):
        // cleared once read, the next read-back shows only the resets since this one.
        probe
            .write_memory(POWER_RESETREAS, &RESETREAS_ALL.to_le_bytes())
            .map_err(|e| probe_failure("clearing RESETREAS", e))?;
        Ok(ReadBack {
            settings,
            settings_valid,
            backup_valid,
            bank0_flash_crc,
            bank0_start,
            softdevice_fwid: sd.map(|s| s.fwid),
            gpregret,
            resetreas,
        })
    }

    /// The `sd_req` a package must carry when the suite names none: the installed
    /// SoftDevice's FWID, or 0x00 (SD_REQ_APP_OVERWRITES_SD) on a DUT without one (MBR only).
    /// Without a SoftDevice the SDK 17.0.2 bootloader refuses any other first sd_req with
    /// EXT_ERROR SD_VERSION_FAILURE (nrf_dfu_ver_validation.c `sd_req_ok`, the `!SD_PRESENT`
    /// branch); Nordic's blinky_mbr.zip carries 0x00.
    pub fn sd_req_default(&self) -> u16 {
        self.softdevice_fwid
            .unwrap_or(nrf_dfu::memory_map::SD_REQ_APP_OVERWRITES_SD as u16)
    }

    pub fn app_version(&self) -> Option<u32> {
        self.settings.as_ref().map(|s| s.app_version)
    }

    /// Bank 0 holds exactly `firmware`: the settings say so (size, CRC, valid app) and the
    /// flash agrees.
    pub fn bank0_holds(&self, firmware: &[u8]) -> bool {
        let Some(s) = &self.settings else {
            return false;
        };
        let crc = crc32(firmware);
        s.bank_0.bank_code == BankCode::ValidApp
            && s.bank_0.image_size as usize == firmware.len()
            && (s.bank_0.image_crc == crc || s.bank_0.image_crc == 0)
            && self.bank0_flash_crc == Some(crc)
    }

    /// Bank 0 as (size, flash CRC), to recognise the old application later.
    pub fn bank0_identity(&self) -> Option<(u32, u32)> {
        let s = self.settings.as_ref()?;
        Some((s.bank_0.image_size, self.bank0_flash_crc?))
    }

    /// Lines for an iteration's evidence.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.settings {
            Some(s) => out.push(format!(
                "settings: {} app_version {} bank_0 {:?} size {} crc {:#010x} (flash {}) write_offset {}",
                if self.settings_valid { "valid" } else { "INVALID" },
                s.app_version,
                s.bank_0.bank_code,
                s.bank_0.image_size,
                s.bank_0.image_crc,
                self.bank0_flash_crc
                    .map_or("-".to_string(), |c| format!("{c:#010x}")),
                s.write_offset,
            )),
            None => out.push("settings: page does not decode".into()),
        }
        if let Some(b) = self.backup_valid {
            out.push(format!(
                "settings backup: {}",
                if b { "valid" } else { "INVALID" }
            ));
        }
        out.push(format!(
            "GPREGRET {:#04x} RESETREAS {:#010x} SoftDevice {}",
            self.gpregret,
            self.resetreas,
            self.softdevice_fwid
                .map_or("none".to_string(), |f| format!("FWID {f:#06x}"))
        ));
        out
    }
}

/// Read `dut` back with its bootloader's settings layout.
pub fn read_dut<D: super::dut::BenchDut>(dut: &mut D) -> Result<ReadBack, StepFailure> {
    let chip = dut.chip();
    let sdk = dut.bootloader().map(|b| b.0);
    dut.with_probe(|p| ReadBack::read(p, chip, sdk))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::shared::share;
    use crate::drivers::VirtualProbe;

    #[test]
    fn without_a_softdevice_packages_ask_for_none() {
        let mut d = virtual_nrf52::Device::new(Chip::Nrf52832Qfaa, 3);
        virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
        let mut probe = VirtualProbe::new("v", share(d), false);
        let rb = ReadBack::read(&mut probe, Chip::Nrf52832Qfaa, None).unwrap();
        assert_eq!(rb.softdevice_fwid, None, "a blank chip has no SoftDevice");
        assert_eq!(rb.sd_req_default(), 0x0000);
        let with_s132 = ReadBack {
            softdevice_fwid: Some(0x0101),
            ..rb
        };
        assert_eq!(with_s132.sd_req_default(), 0x0101);
    }

    #[test]
    fn resetreas_is_cleared_once_read() {
        let mut d = virtual_nrf52::Device::new(Chip::Nrf52832Qfaa, 3);
        virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
        let mut probe = VirtualProbe::new("v", share(d), false);
        probe.soft_reset().unwrap();
        let first = ReadBack::read(&mut probe, Chip::Nrf52832Qfaa, None).unwrap();
        assert_eq!(first.resetreas, 4, "SREQ from the soft reset");
        // Nothing reset the chip since: the next read-back must not show the old cause.
        let second = ReadBack::read(&mut probe, Chip::Nrf52832Qfaa, None).unwrap();
        assert_eq!(second.resetreas, 0);
        probe.soft_reset().unwrap();
        let third = ReadBack::read(&mut probe, Chip::Nrf52832Qfaa, None).unwrap();
        assert_eq!(third.resetreas, 4);
    }
}
