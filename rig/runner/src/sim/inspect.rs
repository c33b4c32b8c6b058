//! `rig sim inspect`: everything a saved virtual device holds, decoded: UICR, MBR, SoftDevice info
//! struct, bootloader descriptor, settings page and backup (`nrf_dfu_settings_t` field names), the
//! application's CRC against bank_0, and what the next power-on does.

use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::bank0_start;
use nrf_dfu::memory_map::{
    PAGE_SIZE, UICR_APPROTECT, UICR_NRFFW0, UICR_NRFFW1, UICR_PSELRESET0, UICR_PSELRESET1,
};
use nrf_dfu::settings::{CrcReport, SettingsLayout, SettingsPage};
use nrf_dfu::Chip;
use serde::Serialize;
use virtual_nrf52::boot_decision::{self, BootDecision, BootInputs};
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor};
use virtual_nrf52::mbr::MbrKind;
use virtual_nrf52::Code;
use virtual_nrf52::{softdevice, Device, Hardware, SimTime, Status};

#[derive(Debug, Serialize)]
pub struct UicrReport {
    /// NRFFW[0]: bootloader start address (0xFFFFFFFF = unset).
    pub nrffw_0: u32,
    /// NRFFW[1]: MBR parameter page address.
    pub nrffw_1: u32,
    pub pselreset: [u32; 2],
    pub approtect: u32,
}

#[derive(Debug, Serialize)]
pub struct SoftDeviceReport {
    pub name: String,
    pub info_size: u8,
    pub end_address: u32,
    pub fwid: u16,
    pub sd_id: u32,
    pub version: u32,
}

/// A region's content: a stand-in descriptor, or what is there instead.
#[derive(Debug, Serialize)]
#[serde(tag = "content", rename_all = "snake_case")]
pub enum RegionReport<D> {
    Erased,
    Unknown,
    StandIn { descriptor: D },
    Damaged { error: String },
}

impl<D: Clone> RegionReport<D> {
    fn from_code(c: &Code<D>) -> Self {
        match c {
            Code::Erased => RegionReport::Erased,
            Code::Unknown => RegionReport::Unknown,
            Code::StandIn(d) => RegionReport::StandIn {
                descriptor: d.clone(),
            },
            Code::Damaged(e) => RegionReport::Damaged {
                error: e.to_string(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BootloaderReport {
    pub address: u32,
    #[serde(flatten)]
    pub region: RegionReport<BootloaderDescriptor>,
    /// The `sdk_config.h` options the stand-in was built with, by their SDK names (the ones
    /// its SDK has).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sdk_config: std::collections::BTreeMap<String, u32>,
}

/// One settings page decoded, or why it could not be.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum PageReport {
    Decoded {
        address: u32,
        layout: SettingsLayout,
        settings: Box<SettingsPage>,
        crcs: CrcReport,
    },
    Erased {
        address: u32,
        erased: bool,
    },
    Undecodable {
        address: u32,
        error: String,
    },
}

#[derive(Debug, Serialize)]
pub struct AppReport {
    /// Bank 0 start: the SoftDevice's end, or 0x1000 without one.
    pub address: u32,
    #[serde(flatten)]
    pub region: RegionReport<AppDescriptor>,
    /// CRC-32 over bank_0.image_size bytes at `address` (absent without a decodable settings page
    /// or when the image would run past the end of flash).
    pub computed_crc: Option<u32>,
    /// bank_0.image_crc from the settings page.
    pub bank_0_crc: Option<u32>,
    pub crc_matches: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct InspectReport {
    pub chip: String,
    pub uicr: UicrReport,
    pub mbr: Option<String>,
    pub softdevice: Option<SoftDeviceReport>,
    pub bootloader: Option<BootloaderReport>,
    pub settings: PageReport,
    pub settings_backup: PageReport,
    pub application: AppReport,
    /// What the next power-on does (GPREGRET 0).
    pub next_boot: BootDecision,
    pub next_boot_text: String,
    /// The same question answered by running the device model: power on a copy and let it
    /// boot (activation, resets included) until only the inactivity timer is pending.
    pub boot_simulation: BootSimulation,
}

/// What the device model does after a power-on.
#[derive(Debug, Serialize)]
pub struct BootSimulation {
    /// `off`, `silent`, `bootloader` or `app`.
    pub state: &'static str,
    pub text: String,
    /// Device time until it got there (boot-time flash work, activation copies, resets).
    pub seconds: f64,
}

/// How long a simulated boot may take (an SD+BL activation is the longest, about 13 s).
const BOOT_LIMIT: SimTime = SimTime::from_secs(60);

fn simulate_boot(hw: &Hardware) -> BootSimulation {
    let mut d = Device::from_hardware(hw.clone(), hw.identity_seed());
    d.power_on(SimTime::ZERO);
    let t = d.settle(BOOT_LIMIT);
    let (state, text) = match d.status() {
        Status::Off => ("off", "off".to_string()),
        Status::Silent => ("silent", format!("silent ({:?})", d.silent_reason())),
        Status::Bootloader(b) => {
            let why = d
                .dfu_enter_reason()
                .map(|r| format!(" because {r:?}"))
                .unwrap_or_default();
            (
                "bootloader",
                format!(
                    "DFU mode, SDK {} over {}{why}, advertising name \"{}\"",
                    super::images::profile_file_label(b.sdk),
                    b.transport,
                    b.adv_name
                ),
            )
        }
        Status::App(a) => ("app", format!("runs \"{}\" version {}", a.name, a.version)),
    };
    BootSimulation {
        state,
        text,
        seconds: t.as_secs_f64(),
    }
}

fn page_report(bytes: &[u8], address: u32, layout: Option<SettingsLayout>) -> PageReport {
    if bytes.iter().all(|&b| b == 0xFF) {
        return PageReport::Erased {
            address,
            erased: true,
        };
    }
    let layout = match layout
        .map(Ok)
        .unwrap_or_else(|| SettingsLayout::detect(bytes))
    {
        Ok(l) => l,
        Err(e) => {
            return PageReport::Undecodable {
                address,
                error: e.to_string(),
            }
        }
    };
    match SettingsPage::decode(bytes, layout) {
        Ok(settings) => PageReport::Decoded {
            address,
            layout,
            crcs: settings.check_crcs(),
            settings: Box::new(settings),
        },
        Err(e) => PageReport::Undecodable {
            address,
            error: e.to_string(),
        },
    }
}

fn word(dev: &Hardware, addr: u32) -> u32 {
    dev.memory().read_word(addr).unwrap_or(0xFFFF_FFFF)
}

/// Inspect a device (normally loaded from a state file).
pub fn inspect(dev: &Hardware) -> Result<InspectReport, nrf_dfu::settings::SettingsError> {
    let chip = dev.chip();
    let inv = dev.installed();
    let mem = dev.memory();
    let next_boot = boot_decision::decide(mem, chip, &BootInputs::POWER_ON)?;
    let layout = inv
        .bootloader_descriptor()
        .map(|b| SettingsLayout::for_sdk(b.profile));
    let page = |addr: u32| {
        mem.code
            .read(addr, PAGE_SIZE)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    let settings = page_report(
        &page(chip.settings_address()),
        chip.settings_address(),
        layout,
    );
    let settings_backup = page_report(
        &page(chip.mbr_params_address()),
        chip.mbr_params_address(),
        layout,
    );
    let app_address = bank0_start(inv.softdevice.as_ref());
    // The bank_0 the bootloader acts on: after its settings init when it is a stand-in, else the page as stored.
    let bank_0 = next_boot
        .settings
        .as_ref()
        .map(|s| s.bank_0)
        .or(match &settings {
            PageReport::Decoded { settings, .. } => Some(settings.bank_0),
            _ => None,
        });
    let computed_crc =
        bank_0.and_then(|b| mem.code.read(app_address, b.image_size).ok().map(crc32));
    let bank_0_crc = bank_0.map(|b| b.image_crc);
    let next_boot_text = next_boot.next.to_string();
    Ok(InspectReport {
        chip: chip_name(chip).to_string(),
        uicr: UicrReport {
            nrffw_0: word(dev, UICR_NRFFW0),
            nrffw_1: word(dev, UICR_NRFFW1),
            pselreset: [word(dev, UICR_PSELRESET0), word(dev, UICR_PSELRESET1)],
            approtect: word(dev, UICR_APPROTECT),
        },
        mbr: inv.mbr.map(|m| match m {
            MbrKind::StandIn(d) => format!("stand-in MBR {}", d.version_text()),
            MbrKind::Nordic => "MBR without descriptor (Nordic's)".into(),
        }),
        softdevice: inv.softdevice.map(|sd| SoftDeviceReport {
            name: softdevice::describe(&sd),
            info_size: sd.info_size,
            end_address: sd.end_address,
            fwid: sd.fwid,
            sd_id: sd.sd_id,
            version: sd.version,
        }),
        bootloader: inv.bootloader.as_ref().map(|s| BootloaderReport {
            address: s.address,
            region: RegionReport::from_code(&s.code),
            sdk_config: match &s.code {
                Code::StandIn(d) => virtual_nrf52::descriptor::options::in_force(d)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                _ => Default::default(),
            },
        }),
        settings,
        settings_backup,
        application: AppReport {
            address: app_address,
            region: RegionReport::from_code(&inv.app.code),
            crc_matches: computed_crc.zip(bank_0_crc).map(|(c, b)| c == b),
            computed_crc,
            bank_0_crc,
        },
        next_boot,
        next_boot_text,
        boot_simulation: simulate_boot(dev),
    })
}

fn page_text(name: &str, p: &PageReport, out: &mut Vec<String>) {
    match p {
        PageReport::Erased { address, .. } => out.push(format!("{name} at {address:#x}: erased")),
        PageReport::Undecodable { address, error } => {
            out.push(format!("{name} at {address:#x}: {error}"))
        }
        PageReport::Decoded {
            address,
            layout,
            settings: s,
            crcs,
        } => {
            out.push(format!(
                "{name} at {address:#x} ({layout}): crc {:#010x} {:?}",
                s.crc, crcs.crc.status
            ));
            out.push(format!(
                "  settings_version {}, app_version {}, bootloader_version {}, enter_buttonless_dfu {}",
                s.settings_version, s.app_version, s.bootloader_version, s.enter_buttonless_dfu
            ));
            for (n, b) in [("bank_0", &s.bank_0), ("bank_1", &s.bank_1)] {
                let code = b
                    .bank_code
                    .name()
                    .map_or_else(|| format!("{:#x}", b.bank_code.code()), str::to_string);
                out.push(format!(
                    "  {n}: {code}, image_size {}, image_crc {:#010x}",
                    b.image_size, b.image_crc
                ));
            }
            let p = &s.progress;
            out.push(format!(
                "  write_offset {:#x}, sd_size {}, progress: command {}/{} crc {:#010x}, data object {}, image offset {} (last {}), crc {:#010x} (last {:#010x})",
                s.write_offset, s.sd_size, p.command_offset, p.command_size, p.command_crc, p.data_object_size,
                p.firmware_image_offset, p.firmware_image_offset_last, p.firmware_image_crc, p.firmware_image_crc_last
            ));
            if let Some(v2) = s.v2() {
                let bv = |v: &nrf_dfu::settings::BootValidation| {
                    v.kind.name().unwrap_or("unknown").to_string()
                };
                out.push(format!(
                    "  boot_validation: softdevice {}, app {}, bootloader {}",
                    bv(&v2.boot_validation_softdevice),
                    bv(&v2.boot_validation_app),
                    bv(&v2.boot_validation_bootloader)
                ));
            }
        }
    }
}

impl InspectReport {
    /// The text `rig sim inspect` prints.
    pub fn text(&self) -> String {
        let mut out = vec![format!("chip: {}", self.chip)];
        let u = &self.uicr;
        out.push(format!(
            "UICR: NRFFW[0] {:#010x}, NRFFW[1] {:#010x}, PSELRESET {:#010x}/{:#010x}, APPROTECT {:#010x}",
            u.nrffw_0, u.nrffw_1, u.pselreset[0], u.pselreset[1], u.approtect
        ));
        out.push(format!("MBR: {}", self.mbr.as_deref().unwrap_or("none")));
        out.push(match &self.softdevice {
            Some(sd) => format!(
                "SoftDevice: {} (FWID {:#x}, id {}, version {}, end {:#x})",
                sd.name, sd.fwid, sd.sd_id, sd.version, sd.end_address
            ),
            None => "SoftDevice: none".into(),
        });
        out.push(match &self.bootloader {
            None => "bootloader: none configured".into(),
            Some(b) => format!("bootloader at {:#x}: {}", b.address, match &b.region {
                RegionReport::StandIn { descriptor: d } => format!(
                    "stand-in SDK {} over {}, \"{}\", hw_version {}, bonds {}, inactivity {} ms, key {}…",
                    super::images::profile_file_label(d.profile), d.transport, d.adv_name, d.hw_version, d.requires_bonds, d.inactivity_timeout_ms, hex::encode(&d.public_key[..8])
                ),
                other => region_text(other),
            }),
        });
        if let Some(RegionReport::StandIn { descriptor: d }) =
            self.bootloader.as_ref().map(|b| &b.region)
        {
            out.push(format!(
                "bootloader sdk_config: {}",
                virtual_nrf52::descriptor::options::describe(d)
            ));
        }
        page_text("settings", &self.settings, &mut out);
        page_text("settings backup", &self.settings_backup, &mut out);
        let a = &self.application;
        out.push(format!(
            "application at {:#x}: {}",
            a.address,
            match &a.region {
                RegionReport::StandIn { descriptor: d } => format!(
                    "stand-in \"{}\" version {} buttonless {:?}",
                    d.name, d.version, d.buttonless
                ),
                other => region_text(other),
            }
        ));
        if let (Some(c), Some(b)) = (a.computed_crc, a.bank_0_crc) {
            out.push(format!(
                "  CRC over bank_0.image_size: {c:#010x} ({} bank_0.image_crc {b:#010x})",
                if c == b { "matches" } else { "DIFFERS from" }
            ));
        }
        if self.next_boot.pending_bootloader_copy {
            out.push("MBR: a bootloader copy (COPY_BL) is pending and runs first".into());
        }
        if let Some(o) = &self.next_boot.settings_outcome {
            out.push(format!("settings init at boot: {o}"));
        }
        out.push(format!("next power-on: {}", self.next_boot_text));
        out.push(format!(
            "device model after power-on: {} (after {:.3} s)",
            self.boot_simulation.text, self.boot_simulation.seconds
        ));
        out.join("\n") + "\n"
    }
}

fn region_text<D>(r: &RegionReport<D>) -> String {
    match r {
        RegionReport::Erased => "erased".into(),
        RegionReport::Unknown => "code without a stand-in descriptor".into(),
        RegionReport::StandIn { .. } => "stand-in".into(),
        RegionReport::Damaged { error } => format!("damaged descriptor ({error})"),
    }
}

/// The chip variant name used on the command line.
pub fn chip_name(c: Chip) -> &'static str {
    match c {
        Chip::Nrf52832Qfaa => "nrf52832-qfaa",
        Chip::Nrf52832Qfab => "nrf52832-qfab",
    }
}
