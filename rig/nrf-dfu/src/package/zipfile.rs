//! A stored (uncompressed) zip written the way Python's `zipfile` writes one for nrfutil's
//! `ZipFile(filename, 'w').write(path, name)`.
//!
//! Hand-written rather than with the `zip` crate because packages must be byte-identical to
//! nrfutil's: the `zip` crate records a different "version made by", may add extra fields and
//! chooses its own flags, none of which it lets a caller pin. Python's layout is simple: per
//! entry a local header (version needed 20, flags 0 or 0x800 for UTF-8 names, method 0 stored,
//! DOS time, CRC-32, sizes, no extra field) and the data; then central directory records
//! (made by 0x0314 = Unix, 2.0; external attributes 0x81A40000 = regular file, mode 0644) and
//! the end record, no comment.

use super::timestamp::CivilTime;

const LOCAL_HEADER_SIG: u32 = 0x0403_4B50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4B50;
const END_OF_CENTRAL_DIR_SIG: u32 = 0x0605_4B50;
/// `zipfile.DEFAULT_VERSION`.
const VERSION_NEEDED: u16 = 20;
/// create_version 20, create_system 3 (Unix).
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
/// `st_mode` 0o100644 << 16, as `ZipInfo.from_file` records it for nrfutil's temporary files.
const EXTERNAL_ATTR: u32 = 0o100644 << 16;
/// General purpose flag bit 11: the name is UTF-8 (Python sets it only for non-ASCII names).
const FLAG_UTF8: u16 = 0x800;

/// Too much data for a zip without Zip64 (nrfutil's packages are far below this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("zip entry {name} or the archive exceeds 4 GiB / 65535 entries (Zip64 is not written)")]
pub struct ZipTooLarge {
    pub name: String,
}

/// Write `entries` (name, data) in order as a stored zip, every entry stamped with `time`.
pub fn write_stored_zip(
    entries: &[(&str, &[u8])],
    time: CivilTime,
) -> Result<Vec<u8>, ZipTooLarge> {
    let (date, dos_time) = time.to_dos();
    let mut out = Vec::new();
    let mut central = Vec::new();
    let too_large = |name: &str| ZipTooLarge {
        name: name.to_string(),
    };
    for (name, data) in entries {
        let offset = u32::try_from(out.len()).map_err(|_| too_large(name))?;
        let size = u32::try_from(data.len()).map_err(|_| too_large(name))?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_large(name))?;
        let flags = if name.is_ascii() { 0 } else { FLAG_UTF8 };
        let crc = crate::crc::crc32(data);
        // Fields shared by the local and the central header, from "version needed" on.
        let mut common = Vec::with_capacity(26);
        common.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        common.extend_from_slice(&flags.to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // stored
        common.extend_from_slice(&dos_time.to_le_bytes());
        common.extend_from_slice(&date.to_le_bytes());
        common.extend_from_slice(&crc.to_le_bytes());
        common.extend_from_slice(&size.to_le_bytes()); // compressed
        common.extend_from_slice(&size.to_le_bytes()); // uncompressed
        common.extend_from_slice(&name_len.to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // extra length

        out.extend_from_slice(&LOCAL_HEADER_SIG.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(&CENTRAL_HEADER_SIG.to_le_bytes());
        central.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        central.extend_from_slice(&common);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&EXTERNAL_ATTR.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(entries.len()).map_err(|_| too_large("(entry count)"))?;
    let cd_offset = u32::try_from(out.len()).map_err(|_| too_large("(central directory)"))?;
    let cd_size = u32::try_from(central.len()).map_err(|_| too_large("(central directory)"))?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&END_OF_CENTRAL_DIR_SIG.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // this disk
    out.extend_from_slice(&0u16.to_le_bytes()); // disk with the central directory
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    Ok(out)
}
