//! What the client sends: one image = one init packet + one firmware binary (pc-nrfutil 6.1.7
//! `nordicsemi/dfu/dfu.py`, `Dfu._dfu_send_image`).

pub use crate::package::ImageKind;
use crate::package::{Package, PackageImage};

/// One image of an update: the init packet (a serialized, usually signed `dfu.Packet`) and the
/// firmware bytes exactly as the init packet's size fields and hash describe them (nrfutil pads
/// binaries to a multiple of 4 bytes; the client sends what it is given: an unpadded binary makes
/// the last object short and its EXECUTE fail with 0x08, knurling-rs/nrfdfu-rs issue #6).
///
/// [`ImageKind`]'s order is the order images are sent in: SoftDevice+bootloader, SoftDevice,
/// bootloader, application (nrfutil 6.1.7 `dfu.py`, Android), each in its own DFU session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfuImage {
    pub kind: ImageKind,
    pub init_packet: Vec<u8>,
    pub firmware: Vec<u8>,
}

impl DfuImage {
    pub fn new(kind: ImageKind, init_packet: Vec<u8>, firmware: Vec<u8>) -> DfuImage {
        DfuImage {
            kind,
            init_packet,
            firmware,
        }
    }

    /// Every image of a package, in sending order.
    pub fn from_package(package: &Package) -> Vec<DfuImage> {
        package.images().iter().map(DfuImage::from).collect()
    }
}

impl From<&PackageImage> for DfuImage {
    fn from(image: &PackageImage) -> DfuImage {
        DfuImage {
            kind: image.kind,
            init_packet: image.init_packet.encode(),
            firmware: image.firmware.clone(),
        }
    }
}

/// The images in the order they must be sent (stable for equal kinds).
pub fn send_order(images: &[DfuImage]) -> Vec<&DfuImage> {
    let mut ordered: Vec<&DfuImage> = images.iter().collect();
    ordered.sort_by_key(|image| image.kind);
    ordered
}
