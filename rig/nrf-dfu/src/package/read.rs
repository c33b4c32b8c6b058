//! Reading a package zip: any nrfutil package, and Android-flavoured manifests.

use super::manifest::ManifestFile;
use super::{ImageKind, Package, PackageImage, ZipTooLarge};
use crate::init_packet::{InitPacket, InitPacketError};
use std::io::{Cursor, Read};

/// No firmware image is anywhere near this; larger entries are refused rather than inflated.
pub const MAX_ENTRY_SIZE: u64 = 16 * 1024 * 1024;

/// What is wrong with a package, naming the file inside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    #[error("not a readable zip archive: {0}")]
    Zip(String),
    #[error("zip entry {name}: {reason}")]
    Entry { name: String, reason: String },
    #[error("zip entry {name} is {size} bytes; refusing more than {max}")]
    EntryTooLarge { name: String, size: u64, max: u64 },
    #[error("the package has no manifest.json")]
    MissingManifest,
    #[error("manifest.json: {0}")]
    ManifestJson(String),
    #[error("manifest.json names {key}.{field} = \"{file}\", which is not in the zip")]
    MissingFile {
        key: &'static str,
        field: &'static str,
        file: String,
    },
    #[error("{file}: {source}")]
    InitPacket {
        file: String,
        source: InitPacketError,
    },
    #[error("manifest.json lists none of application, bootloader, softdevice, softdevice_bootloader{}",
        if other.is_empty() { String::new() } else { format!(" (only {})", other.join(", ")) })]
    NoImages { other: Vec<String> },
    #[error("two {0} images")]
    DuplicateImage(ImageKind),
    #[error("two files named {0}")]
    DuplicateFileName(String),
    #[error("{0}")]
    TooLarge(#[from] ZipTooLarge),
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn read_entry(archive: &mut Archive<'_>, name: &str) -> Result<Option<Vec<u8>>, PackageError> {
    let mut file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(PackageError::Entry {
                name: name.to_string(),
                reason: e.to_string(),
            })
        }
    };
    if file.size() > MAX_ENTRY_SIZE {
        return Err(PackageError::EntryTooLarge {
            name: name.to_string(),
            size: file.size(),
            max: MAX_ENTRY_SIZE,
        });
    }
    let mut data = Vec::with_capacity(file.size() as usize);
    // `take` guards against an entry whose header understates its size.
    (&mut file)
        .take(MAX_ENTRY_SIZE + 1)
        .read_to_end(&mut data)
        .map_err(|e| PackageError::Entry {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
    if data.len() as u64 > MAX_ENTRY_SIZE {
        return Err(PackageError::EntryTooLarge {
            name: name.to_string(),
            size: data.len() as u64,
            max: MAX_ENTRY_SIZE,
        });
    }
    Ok(Some(data))
}

impl Package {
    /// Read a package zip. Every image the manifest names must be present with a well-formed
    /// init packet; images come back in sending order.
    pub fn from_zip(bytes: &[u8]) -> Result<Package, PackageError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| PackageError::Zip(e.to_string()))?;
        let manifest_bytes =
            read_entry(&mut archive, "manifest.json")?.ok_or(PackageError::MissingManifest)?;
        let text = String::from_utf8(manifest_bytes).map_err(|e| {
            PackageError::ManifestJson(format!(
                "not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let manifest = ManifestFile::parse(&text)
            .map_err(|e| PackageError::ManifestJson(e.to_string()))?
            .manifest;
        let slots = [
            (
                ImageKind::SoftdeviceBootloader,
                &manifest.softdevice_bootloader,
            ),
            (ImageKind::Softdevice, &manifest.softdevice),
            (ImageKind::Bootloader, &manifest.bootloader),
            (ImageKind::Application, &manifest.application),
        ];
        let mut images = Vec::new();
        for (kind, entry) in slots {
            let Some(entry) = entry else { continue };
            let key = kind.manifest_key();
            let firmware = read_entry(&mut archive, &entry.bin_file)?.ok_or_else(|| {
                PackageError::MissingFile {
                    key,
                    field: "bin_file",
                    file: entry.bin_file.clone(),
                }
            })?;
            let dat = read_entry(&mut archive, &entry.dat_file)?.ok_or_else(|| {
                PackageError::MissingFile {
                    key,
                    field: "dat_file",
                    file: entry.dat_file.clone(),
                }
            })?;
            let init_packet =
                InitPacket::decode(&dat).map_err(|source| PackageError::InitPacket {
                    file: entry.dat_file.clone(),
                    source,
                })?;
            images.push(PackageImage {
                kind,
                bin_file: entry.bin_file.clone(),
                dat_file: entry.dat_file.clone(),
                firmware,
                init_packet,
                sd_bl_sizes: entry.sd_bl_sizes(),
            });
        }
        let other: Vec<String> = manifest.other.keys().cloned().collect();
        if images.is_empty() {
            return Err(PackageError::NoImages { other });
        }
        let mut package = Package::new(images)?;
        package.ignored_manifest_keys = other;
        Ok(package)
    }
}
