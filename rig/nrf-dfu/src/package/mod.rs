//! DFU packages (.zip) as nrfutil 6.1.7 writes and reads them (`nordicsemi/dfu/package.py`,
//! `manifest.py`).
//!
//! A [`Package`] holds its images in nrfutil's sending order (SoftDevice+bootloader,
//! SoftDevice, bootloader, application), each with its firmware binary and init packet.

mod display;
mod generate;
pub mod manifest;
mod pyset;
mod read;
mod timestamp;
mod verify;
mod write;
mod zipfile;

pub use generate::{
    bin_file_name, generate_package, parse_version_string, GenerateError, GenerateOptions,
    Generated, ImageContent, ImageInput, Warning,
};
pub use manifest::{Manifest, ManifestEntry, ManifestFile, SizeMetadata};
pub use read::PackageError;
pub use timestamp::CivilTime;
pub use verify::{Check, VerifyReport};
pub use zipfile::{write_stored_zip, ZipTooLarge};

use crate::init_packet::InitPacket;

/// The four image slots a manifest has, in the order nrfutil sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImageKind {
    SoftdeviceBootloader,
    Softdevice,
    Bootloader,
    Application,
}

impl ImageKind {
    pub const ALL: [ImageKind; 4] = [
        ImageKind::SoftdeviceBootloader,
        ImageKind::Softdevice,
        ImageKind::Bootloader,
        ImageKind::Application,
    ];

    /// The key in `manifest.json`.
    pub fn manifest_key(self) -> &'static str {
        match self {
            ImageKind::SoftdeviceBootloader => "softdevice_bootloader",
            ImageKind::Softdevice => "softdevice",
            ImageKind::Bootloader => "bootloader",
            ImageKind::Application => "application",
        }
    }
}

impl std::fmt::Display for ImageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.manifest_key())
    }
}

/// One image of a package.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageImage {
    pub kind: ImageKind,
    /// File names inside the zip.
    pub bin_file: String,
    pub dat_file: String,
    /// The firmware binary as sent in data objects.
    pub firmware: Vec<u8>,
    pub init_packet: InitPacket,
    /// For SoftDevice+bootloader: the split the manifest states.
    pub sd_bl_sizes: Option<SizeMetadata>,
}

/// A DFU package.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    images: Vec<PackageImage>,
    /// Manifest keys that were read but are not one of the four images (Android's combined
    /// images, vendor additions); never written.
    pub ignored_manifest_keys: Vec<String>,
}

impl Package {
    /// A package of `images` (put in sending order). Fails if two images share a kind or a
    /// file name.
    pub fn new(mut images: Vec<PackageImage>) -> Result<Package, PackageError> {
        images.sort_by_key(|i| i.kind);
        for w in images.windows(2) {
            if w[0].kind == w[1].kind {
                return Err(PackageError::DuplicateImage(w[0].kind));
            }
        }
        let mut names: Vec<&str> = vec!["manifest.json"];
        for i in &images {
            for n in [&i.bin_file, &i.dat_file] {
                if names.contains(&n.as_str()) {
                    return Err(PackageError::DuplicateFileName(n.clone()));
                }
                names.push(n);
            }
        }
        Ok(Package {
            images,
            ignored_manifest_keys: Vec::new(),
        })
    }

    /// Images in sending order.
    pub fn images(&self) -> &[PackageImage] {
        &self.images
    }

    pub fn image(&self, kind: ImageKind) -> Option<&PackageImage> {
        self.images.iter().find(|i| i.kind == kind)
    }

    /// The manifest describing these images.
    pub fn manifest(&self) -> ManifestFile {
        let mut m = Manifest::default();
        for i in &self.images {
            let entry = ManifestEntry {
                bin_file: i.bin_file.clone(),
                dat_file: i.dat_file.clone(),
                info_read_only_metadata: i.sd_bl_sizes,
                ..Default::default()
            };
            let slot = match i.kind {
                ImageKind::Application => &mut m.application,
                ImageKind::Bootloader => &mut m.bootloader,
                ImageKind::Softdevice => &mut m.softdevice,
                ImageKind::SoftdeviceBootloader => &mut m.softdevice_bootloader,
            };
            *slot = Some(entry);
        }
        ManifestFile { manifest: m }
    }
}
