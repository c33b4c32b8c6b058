//! A provisioned virtual device: MBR + SoftDevice + stand-in bootloader (with the rig test key)
//! + stand-in application + settings page, as a factory would flash it; and signed packages.

use nrf_dfu::crc::crc32;
use nrf_dfu::init_packet::{
    BootValidation, FwType, Hash, HashType, InitCommand, InitPacket, ValidationType,
};
use nrf_dfu::settings::{
    Bank, BankCode, BootValidation as SettingsBv, SettingsLayout, SettingsPage,
};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::{Chip, SdkVersion};
use sha2::{Digest, Sha256};
use std::time::Duration;
use virtual_nrf52::debug_port::{DebugPort, ProgramOptions};
use virtual_nrf52::defects::DefectSet;
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless, Transport};
use virtual_nrf52::softdevice::{StandInSoftDevice, S132_3_0_0, S132_6_1_1, S132_7_2_0};
use virtual_nrf52::{standin, Device, Segment, SimTime};

/// The rig's test signing key, read at compile time from the repository.
pub const KEY_PEM: &str = include_str!("../../../../firmware/keys/rig-test-private.pem");

pub fn key() -> SigningKey {
    SigningKey::from_pem(KEY_PEM).expect("firmware/keys/rig-test-private.pem is a P-256 key")
}

pub fn ms(v: u64) -> SimTime {
    Duration::from_millis(v)
}

/// What to flash.
#[derive(Debug, Clone)]
pub struct Bench {
    pub sdk: SdkVersion,
    pub transport: Transport,
    pub defects: DefectSet,
    pub single_bank: bool,
    pub inactivity_ms: Option<u32>,
    pub app_version: u32,
    pub bootloader_version: u32,
    pub app_size: u32,
    pub seed: u64,
    /// Flash an application and settings (false: MBR + SD + bootloader only, DFU mode).
    pub with_app: bool,
}

impl Bench {
    pub fn new(sdk: SdkVersion) -> Bench {
        Bench {
            sdk,
            transport: Transport::Ble,
            defects: DefectSet::empty(),
            single_bank: false,
            inactivity_ms: None,
            app_version: 1,
            bootloader_version: 1,
            app_size: 0x3000,
            seed: 7,
            with_app: true,
        }
    }

    pub fn uart(mut self) -> Bench {
        self.transport = Transport::Uart;
        self
    }

    pub fn defects(mut self, d: DefectSet) -> Bench {
        self.defects = d;
        self
    }

    pub fn app_size(mut self, size: u32) -> Bench {
        self.app_size = size;
        self
    }

    pub fn without_app(mut self) -> Bench {
        self.with_app = false;
        self
    }

    pub fn softdevice(&self) -> StandInSoftDevice {
        match self.sdk {
            SdkVersion::Sdk12 => S132_3_0_0,
            SdkVersion::Sdk16 | SdkVersion::Sdk17 => S132_7_2_0,
            _ => S132_6_1_1,
        }
    }

    pub fn bank0(&self) -> u32 {
        self.softdevice().info.end_address
    }

    pub fn descriptor(&self) -> BootloaderDescriptor {
        let mut d = BootloaderDescriptor::sdk_default(self.sdk, key().public_key().to_pk64());
        d.transport = self.transport;
        d.defects = self.defects;
        d.single_bank = self.single_bank;
        if let Some(ms) = self.inactivity_ms {
            d.inactivity_timeout_ms = ms;
        }
        d
    }

    /// The stand-in application image `version` (its size: `app_size`).
    pub fn app(&self, version: u32) -> Vec<u8> {
        self.app_sized(version, self.app_size)
    }

    pub fn app_sized(&self, version: u32, size: u32) -> Vec<u8> {
        let d = AppDescriptor {
            name: format!("app-v{version}"),
            version,
            buttonless: Buttonless::Unbonded,
        };
        standin::app_image(&d, Chip::Nrf52832Qfaa, self.bank0(), size).expect("stand-in app fits")
    }

    /// The settings page a factory writes with `nrfutil settings generate` for `app`.
    pub fn settings(&self, app: Option<&[u8]>) -> Vec<u8> {
        let layout = SettingsLayout::for_sdk(self.sdk);
        let mut s = SettingsPage::defaults(layout);
        s.bootloader_version = self.bootloader_version;
        if let Some(app) = app {
            s.app_version = self.app_version;
            s.bank_0 = Bank {
                image_size: app.len() as u32,
                image_crc: crc32(app),
                bank_code: BankCode::ValidApp,
            };
            if let Some(v2) = s.v2_mut() {
                v2.boot_validation_app = SettingsBv::crc(app);
            }
        }
        s.fix_crcs();
        s.encode()
    }

    /// Flash everything through the debug port and let the device boot until it settles.
    pub fn build(&self) -> Device {
        let mut dev = Device::new(Chip::Nrf52832Qfaa, self.seed);
        dev.set_timing(virtual_nrf52::TimingProfile::typical());
        let mut segs: Vec<Segment> = standin::softdevice_hex_segments(&self.softdevice());
        segs.extend(
            standin::bootloader_segments(
                &self.descriptor(),
                Chip::Nrf52832Qfaa,
                standin::DEFAULT_BOOTLOADER_SIZE,
            )
            .expect("bootloader"),
        );
        let app = self.app(self.app_version);
        let settings = self.settings(self.with_app.then_some(&app[..]));
        if self.with_app {
            segs.push((self.bank0(), app));
        }
        segs.push((Chip::Nrf52832Qfaa.settings_address(), settings.clone()));
        if self.sdk.has_settings_backup() {
            segs.push((Chip::Nrf52832Qfaa.mbr_params_address(), settings));
        }
        {
            let mut port = dev.debug(SimTime::ZERO);
            port.program(&segs, ProgramOptions::default())
                .expect("program");
            port.soft_reset().expect("reset");
        }
        dev.settle(Duration::from_secs(60));
        dev
    }
}

/// An init command for `image` as nrfutil 6.1.7 writes it for an application.
pub fn app_init(bench: &Bench, image: &[u8], version: u32) -> InitCommand {
    let mut hash: Vec<u8> = Sha256::digest(image).to_vec();
    hash.reverse();
    InitCommand {
        fw_version: Some(version),
        hw_version: Some(52),
        sd_req: vec![bench.softdevice().info.fwid as u32],
        r#type: Some(FwType::Application as i32),
        sd_size: Some(0),
        bl_size: Some(0),
        app_size: Some(image.len() as u32),
        hash: Some(Hash {
            hash_type: Some(HashType::Sha256 as i32),
            hash: Some(hash),
        }),
        is_debug: Some(false),
        boot_validation: vec![BootValidation {
            r#type: Some(ValidationType::ValidateGeneratedCrc as i32),
            bytes: Some(vec![]),
        }],
    }
}

/// A DFU package: init packet and firmware image.
#[derive(Debug, Clone)]
pub struct Package {
    pub init: Vec<u8>,
    pub image: Vec<u8>,
}

pub fn signed(init: InitCommand) -> Vec<u8> {
    InitPacket::new_signed(init, &key()).encode()
}

pub fn unsigned(init: InitCommand) -> Vec<u8> {
    InitPacket::new_unsigned(init).encode()
}

/// A signed application package for `image`.
pub fn app_package(bench: &Bench, image: &[u8], version: u32) -> Package {
    Package {
        init: signed(app_init(bench, image, version)),
        image: image.to_vec(),
    }
}

/// The running app's buttonless entry (GPREGRET 0xB1 + reset; SDK 12: settings flag + reset);
/// the device then settles in DFU mode.
pub fn enter_dfu(dev: &mut Device, t: SimTime) -> SimTime {
    dev.app_enter_bootloader(t).expect("an app runs");
    dev.settle(t + Duration::from_secs(60))
}

/// The rig's way through SWD: GPREGRET = 0xB1 and a soft reset (14+).
pub fn enter_dfu_swd(dev: &mut Device, t: SimTime) -> SimTime {
    {
        let mut port = dev.debug(t);
        port.write_memory_raw(nrf_dfu::memory_map::POWER_GPREGRET, &[0xB1, 0, 0, 0])
            .expect("GPREGRET");
        port.soft_reset().expect("reset");
    }
    dev.settle(t + Duration::from_secs(60))
}

/// The settings page as flash holds it now.
pub fn flash_settings(dev: &Device, sdk: SdkVersion) -> SettingsPage {
    let layout = SettingsLayout::for_sdk(sdk);
    let bytes = dev.read_flash(Chip::Nrf52832Qfaa.settings_address(), layout.size() as u32);
    SettingsPage::decode(&bytes, layout).expect("settings decode")
}
