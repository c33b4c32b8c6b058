//! The package the DFU benchmarks send: a stand-in application of `size` bytes at the end of
//! `sd`, version 2, signed as `nrfutil pkg generate --hw-version 52 --sd-req <sd>` signs it.

use nrf_dfu::client::DfuImage;
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::Chip;
use virtual_nrf52::descriptor::{AppDescriptor, Buttonless};
use virtual_nrf52::softdevice::StandInSoftDevice;
use virtual_nrf52::standin;

pub fn bench_image(key: &SigningKey, chip: Chip, sd: &StandInSoftDevice, size: u32) -> DfuImage {
    let desc = AppDescriptor {
        name: "bench".into(),
        version: 2,
        buttonless: Buttonless::Unbonded,
    };
    let app = standin::app_image(&desc, chip, sd.info.end_address, size).unwrap();
    let g = generate_package(GenerateOptions {
        hw_version: Some(52),
        application: Some(ImageInput::file("app.bin", app)),
        application_version: Some(2),
        sd_req: Some(vec![u32::from(sd.info.fwid)]),
        key: Some(key.clone()),
        ..Default::default()
    })
    .unwrap();
    DfuImage::from_package(&g.package).remove(0)
}
