//! Images from packages.

use crate::client::{DfuImage, ImageKind};
use crate::package::{generate_package, GenerateOptions, ImageInput};
use crate::signing::SigningKey;

const KEY: &str = include_str!("../../../../../firmware/keys/rig-test-private.pem");

#[test]
fn package_images_convert_in_sending_order() {
    let app: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let sd: Vec<u8> = (0..3000u32).map(|i| (i * 3) as u8).collect();
    let generated = generate_package(GenerateOptions {
        hw_version: Some(52),
        application: Some(ImageInput::file("app.bin", app.clone())),
        application_version: Some(2),
        softdevice: Some(ImageInput::file("sd.bin", sd.clone())),
        sd_req: Some(vec![0x0101]),
        sd_id: Some(vec![0x0101]),
        key: Some(SigningKey::from_pem(KEY).expect("test key")),
        ..Default::default()
    })
    .expect("package");
    let images = DfuImage::from_package(&generated.package);
    let kinds: Vec<ImageKind> = images.iter().map(|i| i.kind).collect();
    assert_eq!(kinds, vec![ImageKind::Softdevice, ImageKind::Application]);
    for (image, source) in images.iter().zip(generated.package.images()) {
        assert_eq!(image.firmware, source.firmware);
        assert_eq!(image.init_packet, source.init_packet.encode());
    }
    assert_eq!(images[1].firmware, app);
    assert_eq!(images[0].firmware, sd);
}
