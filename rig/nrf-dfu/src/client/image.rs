//! What the client sends: one image = one init packet + one firmware binary (facts §4.1).

use std::fmt;

/// The kind of image, which fixes the order a multi-image update is sent in.
///
/// nrfutil 6.1.7 (`dfu.py`, `_dfu_send_images`) and Android send a package's images as
/// SoftDevice+bootloader, SoftDevice, bootloader, application, each in its own DFU session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImageKind {
    SoftDeviceBootloader,
    SoftDevice,
    Bootloader,
    Application,
}

impl ImageKind {
    /// Every kind, in the order a package's images are sent.
    pub const SEND_ORDER: [ImageKind; 4] = [
        ImageKind::SoftDeviceBootloader,
        ImageKind::SoftDevice,
        ImageKind::Bootloader,
        ImageKind::Application,
    ];

    /// Short name used in messages, progress and journals.
    pub fn label(self) -> &'static str {
        match self {
            ImageKind::SoftDeviceBootloader => "softdevice+bootloader",
            ImageKind::SoftDevice => "softdevice",
            ImageKind::Bootloader => "bootloader",
            ImageKind::Application => "application",
        }
    }
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One image of an update: the init packet (a serialized, usually signed `dfu.Packet`) and the
/// firmware bytes exactly as the init packet's size fields and hash describe them (nrfutil pads
/// binaries to a multiple of 4 bytes; the client sends what it is given, facts §9 item 4).
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
}

/// The images in the order they must be sent (stable for equal kinds).
pub fn send_order(images: &[DfuImage]) -> Vec<&DfuImage> {
    let mut ordered: Vec<&DfuImage> = images.iter().collect();
    ordered.sort_by_key(|image| image.kind);
    ordered
}
