//! Test support shared by the device crate's tests and the runner's (feature `testkit`): a
//! provisioned virtual DUT as a factory flashes it (MBR + stand-in SoftDevice + stand-in Secure
//! DFU bootloader trusting the rig's test key + stand-in application + settings page), packages
//! signed with that key as `nrfutil pkg generate` builds them, and the read-back checks after an
//! update. Not for production code: it panics on anything unexpected, as a test helper should.

use crate::debug_port::{DebugPort, ProgramOptions};
use crate::defects::DefectSet;
use crate::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless, Transport};
use crate::softdevice::{StandInSoftDevice, S132_3_0_0, S132_6_1_1, S132_7_2_0};
use crate::{standin, Device, Segment, SimTime, TimingProfile};
use nrf_dfu::client::{DfuImage, ImageKind};
use nrf_dfu::crc::crc32;
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput};
use nrf_dfu::settings::{Bank, BankCode, BootValidation, SettingsLayout, SettingsPage};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::{Chip, SdkVersion};
use std::time::Duration;

/// The rig's test signing key, read at compile time from the repository.
pub const KEY_PEM: &str = include_str!("../../../firmware/keys/rig-test-private.pem");

/// The chip every testkit DUT is.
pub const CHIP: Chip = Chip::Nrf52832Qfaa;

/// How long a freshly flashed or reset device may run to settle (boot, activation, flash work).
const SETTLE: Duration = Duration::from_secs(60);

/// The test key (`firmware/keys/rig-test-private.pem`).
pub fn key() -> SigningKey {
    SigningKey::from_pem(KEY_PEM).expect("firmware/keys/rig-test-private.pem is a P-256 key")
}

/// What to flash: the SDK's bootloader over BLE (or UART), its SoftDevice, an application.
#[derive(Debug, Clone)]
pub struct Bench {
    pub sdk: SdkVersion,
    pub transport: Transport,
    pub timing: TimingProfile,
    pub defects: DefectSet,
    pub single_bank: bool,
    pub inactivity_ms: Option<u32>,
    pub app_version: u32,
    pub bootloader_version: u32,
    pub app_size: u32,
    pub seed: u64,
    /// Flash an application and settings (false: MBR + SD + bootloader only, DFU mode).
    pub with_app: bool,
    /// The bootloader built with `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1` (SDK 15+).
    pub save_progress: bool,
    /// The bonded build: the bootloader with `NRF_DFU_BLE_REQUIRES_BONDS=1` (14+) and the
    /// application with the bonded buttonless service (8EC90004, `ble_dfu_bonded.c`).
    pub bonded: bool,
}

impl Bench {
    /// A BLE bootloader of `sdk`, application v1 (0x3000 bytes), typical timing, seed 7.
    pub fn new(sdk: SdkVersion) -> Bench {
        Bench {
            sdk,
            transport: Transport::Ble,
            timing: TimingProfile::typical(),
            defects: DefectSet::empty(),
            single_bank: false,
            inactivity_ms: None,
            app_version: 1,
            bootloader_version: 1,
            app_size: 0x3000,
            seed: 7,
            with_app: true,
            save_progress: false,
            bonded: false,
        }
    }

    /// The UART bootloader instead of the BLE one.
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

    pub fn seed(mut self, seed: u64) -> Bench {
        self.seed = seed;
        self
    }

    /// The bonded build (see [`Bench::bonded`]).
    pub fn bonded(mut self) -> Bench {
        self.bonded = true;
        self
    }

    pub fn without_app(mut self) -> Bench {
        self.with_app = false;
        self
    }

    /// The stand-in SoftDevice the SDK's examples use.
    pub fn softdevice(&self) -> StandInSoftDevice {
        match self.sdk {
            SdkVersion::Sdk12 => S132_3_0_0,
            SdkVersion::Sdk16 | SdkVersion::Sdk17 => S132_7_2_0,
            _ => S132_6_1_1,
        }
    }

    /// Start of bank 0: the end of the SoftDevice.
    pub fn bank0(&self) -> u32 {
        self.softdevice().info.end_address
    }

    pub fn descriptor(&self) -> BootloaderDescriptor {
        let mut d = BootloaderDescriptor::sdk_default(self.sdk, key().public_key().to_pk64());
        d.transport = self.transport;
        d.defects = self.defects;
        d.single_bank = self.single_bank;
        d.save_progress_in_flash = self.save_progress;
        d.requires_bonds = self.bonded;
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
            buttonless: if self.bonded {
                Buttonless::Bonded
            } else {
                Buttonless::Unbonded
            },
        };
        standin::app_image(&d, CHIP, self.bank0(), size).expect("stand-in app fits")
    }

    /// The settings page a factory writes with `nrfutil settings generate` for `app`.
    pub fn factory_settings(&self, app: Option<&[u8]>) -> Vec<u8> {
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
                v2.boot_validation_app = BootValidation::crc(app);
            }
        }
        s.fix_crcs();
        s.encode()
    }

    /// Flash everything through the debug port and let the device boot until it settles: the
    /// application runs (and advertises), or without one the bootloader waits in DFU mode.
    pub fn build(&self) -> Device {
        let mut dev = Device::new(CHIP, self.seed);
        dev.set_timing(self.timing.clone());
        let mut segs: Vec<Segment> = standin::softdevice_hex_segments(&self.softdevice());
        segs.extend(
            standin::bootloader_segments(
                &self.descriptor(),
                CHIP,
                standin::DEFAULT_BOOTLOADER_SIZE,
            )
            .expect("bootloader"),
        );
        let app = self.app(self.app_version);
        let settings = self.factory_settings(self.with_app.then_some(&app[..]));
        if self.with_app {
            segs.push((self.bank0(), app));
        }
        segs.push((CHIP.settings_address(), settings.clone()));
        if self.sdk.has_settings_backup() {
            segs.push((CHIP.mbr_params_address(), settings));
        }
        {
            let mut port = dev.debug(SimTime::ZERO);
            port.program(&segs, ProgramOptions::default())
                .expect("program");
            port.soft_reset().expect("reset");
        }
        dev.settle(SETTLE);
        dev
    }

    /// [`Bench::build`], then into DFU mode the way the application does (buttonless entry).
    pub fn build_in_dfu(&self) -> Device {
        let mut dev = self.build();
        let t = dev.now();
        dev.app_enter_bootloader(t).expect("the application runs");
        let t = dev.now();
        dev.settle(t + SETTLE);
        dev
    }

    /// An application package for `source` as `nrfutil pkg generate --hw-version 52 --sd-req
    /// <installed SD> --application-version <version> --key-file rig-test-private.pem` makes it.
    pub fn app_package(&self, source: Vec<u8>, version: u32) -> DfuImage {
        let generated = generate_package(GenerateOptions {
            hw_version: Some(52),
            application: Some(ImageInput::file("app.bin", source)),
            application_version: Some(version),
            sd_req: Some(vec![u32::from(self.softdevice().info.fwid)]),
            key: Some(key()),
            ..Default::default()
        })
        .expect("nrfutil accepts the options");
        let images = DfuImage::from_package(&generated.package);
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].kind, ImageKind::Application);
        images.into_iter().next().expect("one image")
    }

    /// A SoftDevice + application package (`--softdevice sd.bin --sd-req <installed> --sd-id
    /// <installed> --application app.bin`), in sending order.
    pub fn sd_app_package(&self, sd: Vec<u8>, app: Vec<u8>, version: u32) -> Vec<DfuImage> {
        let fwid = u32::from(self.softdevice().info.fwid);
        let generated = generate_package(GenerateOptions {
            hw_version: Some(52),
            softdevice: Some(ImageInput::file("sd.bin", sd)),
            application: Some(ImageInput::file("app.bin", app)),
            application_version: Some(version),
            sd_req: Some(vec![fwid]),
            sd_id: Some(vec![fwid]),
            key: Some(key()),
            ..Default::default()
        })
        .expect("nrfutil accepts the options");
        DfuImage::from_package(&generated.package)
    }

    /// The settings page flash holds now.
    pub fn flash_settings(&self, dev: &Device) -> SettingsPage {
        flash_settings(dev, self.sdk)
    }

    /// After an update: bank 0 holds `firmware`, and the settings say so.
    pub fn assert_installed(&self, dev: &Device, firmware: &[u8], version: u32) {
        let s = self.flash_settings(dev);
        assert_eq!(s.bank_0.bank_code, BankCode::ValidApp, "bank 0 code");
        assert_eq!(s.bank_0.image_size, firmware.len() as u32, "bank 0 size");
        assert_eq!(s.bank_0.image_crc, crc32(firmware), "bank 0 CRC");
        assert_eq!(s.app_version, version, "app_version");
        assert_eq!(
            dev.read_flash(self.bank0(), firmware.len() as u32),
            firmware,
            "bank 0 contents"
        );
    }
}

/// The running app's buttonless entry (GPREGRET 0xB1 + reset; SDK 12: settings flag + reset);
/// the device then settles in DFU mode.
pub fn enter_dfu(dev: &mut Device, t: SimTime) -> SimTime {
    dev.app_enter_bootloader(t).expect("an app runs");
    dev.settle(t + SETTLE)
}

/// The settings page of `sdk`'s layout as flash holds it now.
pub fn flash_settings(dev: &Device, sdk: SdkVersion) -> SettingsPage {
    let layout = SettingsLayout::for_sdk(sdk);
    let bytes = dev.read_flash(CHIP.settings_address(), layout.size() as u32);
    SettingsPage::decode(&bytes, layout).expect("settings decode")
}

/// A test image of `len` bytes that is not a stand-in application (it boots silently).
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}
