//! The provisioned virtual device (virtual_nrf52::testkit, shared with the runner's tests) and
//! what only the device's own tests need: hand-built init packets and the SWD way into DFU.

use nrf_dfu::init_packet::{
    BootValidation, FwType, Hash, HashType, InitCommand, InitPacket, ValidationType,
};
use sha2::{Digest, Sha256};
use std::time::Duration;
use virtual_nrf52::DebugPort;
use virtual_nrf52::{Device, SimTime};

pub use virtual_nrf52::testkit::{enter_dfu, flash_settings, key, Bench};

pub fn ms(v: u64) -> SimTime {
    Duration::from_millis(v)
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
