//! A provisioned virtual DUT (MBR + SoftDevice + stand-in bootloader with the rig's test key +
//! application v1 + settings, as a factory flashes it), put into DFU mode the way its app does;
//! application packages built as `nrfutil pkg generate` builds them; and the read-back checks.

#![allow(dead_code)]

use std::time::Duration;

use nrf_dfu::client::{DfuImage, ImageKind};
use nrf_dfu::crc::crc32;
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput};
use nrf_dfu::settings::{Bank, BankCode, BootValidation, SettingsLayout, SettingsPage};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::{Chip, SdkVersion};
use virtual_nrf52::debug_port::{DebugPort, ProgramOptions};
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless, Transport};
use virtual_nrf52::softdevice::{StandInSoftDevice, S132_3_0_0, S132_6_1_1, S132_7_2_0};
use virtual_nrf52::{standin, Device, Segment, SimTime, TimingProfile};

pub const KEY_PEM: &str = include_str!("../../../../firmware/keys/rig-test-private.pem");
pub const CHIP: Chip = Chip::Nrf52832Qfaa;

pub fn key() -> SigningKey {
    SigningKey::from_pem(KEY_PEM).expect("firmware/keys/rig-test-private.pem")
}

/// What the DUT is.
#[derive(Debug, Clone)]
pub struct Bench {
    pub sdk: SdkVersion,
    pub transport: Transport,
    pub timing: TimingProfile,
    pub seed: u64,
    /// Built with `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1` (SDK 15+).
    pub save_progress: bool,
}

impl Bench {
    pub fn ble(sdk: SdkVersion) -> Bench {
        Bench {
            sdk,
            transport: Transport::Ble,
            timing: TimingProfile::typical(),
            seed: 11,
            save_progress: false,
        }
    }

    pub fn uart(sdk: SdkVersion) -> Bench {
        Bench {
            transport: Transport::Uart,
            ..Bench::ble(sdk)
        }
    }

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

    fn descriptor(&self) -> BootloaderDescriptor {
        let mut d = BootloaderDescriptor::sdk_default(self.sdk, key().public_key().to_pk64());
        d.transport = self.transport;
        d.save_progress_in_flash = self.save_progress;
        d
    }

    pub fn stand_in_app(&self, version: u32, size: u32) -> Vec<u8> {
        let d = AppDescriptor {
            name: format!("app-v{version}"),
            version,
            buttonless: Buttonless::Unbonded,
        };
        standin::app_image(&d, CHIP, self.bank0(), size).expect("stand-in app fits")
    }

    /// Flash the stack with app v1 and its settings, boot, and enter DFU mode through the app.
    pub fn build(&self) -> Device {
        let mut dev = self.build_app();
        let t = dev.now();
        dev.app_enter_bootloader(t).expect("app v1 runs");
        let t = dev.now();
        dev.settle(t + Duration::from_secs(60));
        dev
    }

    /// Flash the stack with app v1 and its settings and boot: app v1 runs (and advertises).
    pub fn build_app(&self) -> Device {
        let mut dev = Device::new(CHIP, self.seed);
        dev.set_timing(self.timing.clone());
        let app = self.stand_in_app(1, 0x3000);
        let layout = SettingsLayout::for_sdk(self.sdk);
        let mut s = SettingsPage::defaults(layout);
        s.bootloader_version = 1;
        s.app_version = 1;
        s.bank_0 = Bank {
            image_size: app.len() as u32,
            image_crc: crc32(&app),
            bank_code: BankCode::ValidApp,
        };
        if let Some(v2) = s.v2_mut() {
            v2.boot_validation_app = BootValidation::crc(&app);
        }
        s.fix_crcs();
        let settings = s.encode();
        let mut segs: Vec<Segment> = standin::softdevice_hex_segments(&self.softdevice());
        segs.extend(
            standin::bootloader_segments(
                &self.descriptor(),
                CHIP,
                standin::DEFAULT_BOOTLOADER_SIZE,
            )
            .expect("bootloader"),
        );
        segs.push((self.bank0(), app));
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
        dev.settle(Duration::from_secs(60));
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
    pub fn settings(&self, dev: &Device) -> SettingsPage {
        let layout = SettingsLayout::for_sdk(self.sdk);
        let bytes = dev.read_flash(CHIP.settings_address(), layout.size() as u32);
        SettingsPage::decode(&bytes, layout).expect("settings decode")
    }

    /// After an update: bank 0 holds `firmware`, and the settings say so.
    pub fn assert_installed(&self, dev: &Device, firmware: &[u8], version: u32) {
        let s = self.settings(dev);
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

/// A test image of `len` bytes that is not a stand-in application (it boots silently).
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}
