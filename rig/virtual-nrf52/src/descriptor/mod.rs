//! Stand-in image descriptors: how a stand-in MBR, bootloader or application says what it is.
//!
//! Real images carry no such thing; the virtual device recognises a stand-in by a descriptor
//! placed [`DESCRIPTOR_OFFSET`] bytes after the image's start (after its vector table). Every
//! descriptor uses the same frame, little-endian:
//!
//! | Offset | Size | Field |
//! |---|---|---|
//! | 0 | 4 | magic: `"rigM"` (MBR), `"rigB"` (bootloader), `"rigA"` (application), as ASCII bytes |
//! | 4 | 1 | format version (1) |
//! | 5 | 1 | reserved, 0 |
//! | 6 | 2 | body length n |
//! | 8 | n | body (per kind, see [`mbr`], [`bootloader`], [`app`]) |
//! | 8+n | 4 | CRC-32 (IEEE) of bytes 0..8+n |
//!
//! The magic plus the CRC make a false match on random flash content a 2^-64 event.

pub mod app;
pub mod bootloader;
pub mod mbr;
pub mod options;

pub use app::{AppDescriptor, Buttonless};
pub use bootloader::{BootloaderDescriptor, Transport};
pub use mbr::MbrDescriptor;
pub use options::{BuildOption, OptionError};

use nrf_dfu::crc::crc32;

/// Where a descriptor sits relative to its image's start (past a 0xD8-byte nRF52 vector table).
pub const DESCRIPTOR_OFFSET: u32 = 0x200;
/// Frame format version written by this crate.
pub const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 8;

/// Which descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mbr,
    Bootloader,
    App,
}

impl Kind {
    pub fn magic(self) -> [u8; 4] {
        match self {
            Kind::Mbr => *b"rigM",
            Kind::Bootloader => *b"rigB",
            Kind::App => *b"rigA",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Mbr => "MBR descriptor",
            Kind::Bootloader => "bootloader descriptor",
            Kind::App => "application descriptor",
        }
    }
}

/// A descriptor could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptorError {
    #[error("{kind}: magic {found:02x?} is not {expected:?}")]
    BadMagic {
        kind: &'static str,
        expected: &'static str,
        found: [u8; 4],
    },
    #[error("{kind}: format version {found} is not supported (this build reads {FORMAT_VERSION})")]
    UnsupportedVersion { kind: &'static str, found: u8 },
    #[error("{kind}: {need} bytes needed, {have} available")]
    Truncated {
        kind: &'static str,
        need: usize,
        have: usize,
    },
    #[error("{kind}: body length {found} (expected {expected})")]
    BodyLength {
        kind: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("{kind}: CRC {found:#010x} does not match the computed {computed:#010x}")]
    Crc {
        kind: &'static str,
        found: u32,
        computed: u32,
    },
    #[error("{kind}: field `{field}` {reason}")]
    Field {
        kind: &'static str,
        field: &'static str,
        reason: String,
    },
}

/// Wrap `body` in a frame.
pub(crate) fn frame(kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + 4);
    out.extend_from_slice(&kind.magic());
    out.push(FORMAT_VERSION);
    out.push(0);
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// True when `bytes` start with `kind`'s magic (a descriptor is claimed to be there).
pub fn has_magic(kind: Kind, bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&kind.magic()[..])
}

/// Check the frame at the start of `bytes` and return its body (of exactly `body_len` bytes).
pub(crate) fn unframe(kind: Kind, bytes: &[u8], body_len: usize) -> Result<&[u8], DescriptorError> {
    let k = kind.name();
    let header = bytes.get(..HEADER_LEN).ok_or(DescriptorError::Truncated {
        kind: k,
        need: HEADER_LEN,
        have: bytes.len(),
    })?;
    if !has_magic(kind, header) {
        let expected = match kind {
            Kind::Mbr => "rigM",
            Kind::Bootloader => "rigB",
            Kind::App => "rigA",
        };
        return Err(DescriptorError::BadMagic {
            kind: k,
            expected,
            found: [header[0], header[1], header[2], header[3]],
        });
    }
    if header[4] != FORMAT_VERSION {
        return Err(DescriptorError::UnsupportedVersion {
            kind: k,
            found: header[4],
        });
    }
    if header[5] != 0 {
        return Err(DescriptorError::Field {
            kind: k,
            field: "reserved",
            reason: format!("is {:#04x}, not 0", header[5]),
        });
    }
    let n = u16::from_le_bytes([header[6], header[7]]) as usize;
    if n != body_len {
        return Err(DescriptorError::BodyLength {
            kind: k,
            found: n,
            expected: body_len,
        });
    }
    let total = HEADER_LEN + n + 4;
    let all = bytes.get(..total).ok_or(DescriptorError::Truncated {
        kind: k,
        need: total,
        have: bytes.len(),
    })?;
    let computed = crc32(&all[..HEADER_LEN + n]);
    let t = &all[HEADER_LEN + n..];
    let found = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
    if found != computed {
        return Err(DescriptorError::Crc {
            kind: k,
            found,
            computed,
        });
    }
    Ok(&all[HEADER_LEN..HEADER_LEN + n])
}

/// Encoded size of a frame with a `body_len`-byte body.
pub const fn framed_len(body_len: usize) -> usize {
    HEADER_LEN + body_len + 4
}

/// Little helpers to read fixed fields out of a body already checked for length.
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Decode a zero-padded text field of `len` bytes whose real length is `n`.
pub(crate) fn text(
    kind: Kind,
    field: &'static str,
    raw: &[u8],
    n: usize,
    max: usize,
) -> Result<String, DescriptorError> {
    let bad = |reason: String| DescriptorError::Field {
        kind: kind.name(),
        field,
        reason,
    };
    if n > max {
        return Err(bad(format!("length {n} exceeds {max}")));
    }
    if raw[n..].iter().any(|&b| b != 0) {
        return Err(bad("has bytes after its length".into()));
    }
    String::from_utf8(raw[..n].to_vec()).map_err(|_| bad("is not UTF-8".into()))
}

/// Encode a text field zero-padded to `max` bytes (callers check the length first).
pub(crate) fn padded(s: &str, max: usize) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.resize(max, 0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frame_layout() {
        let f = frame(Kind::App, &[1, 2, 3]);
        assert_eq!(&f[..4], b"rigA");
        assert_eq!(f[4], 1);
        assert_eq!(&f[6..8], &[3, 0]);
        assert_eq!(&f[8..11], &[1, 2, 3]);
        assert_eq!(f.len(), framed_len(3));
        assert_eq!(unframe(Kind::App, &f, 3).unwrap(), &[1, 2, 3]);
    }

    #[test]
    fn frame_errors_name_the_problem() {
        let mut f = frame(Kind::Mbr, &[9; 4]);
        assert!(matches!(
            unframe(Kind::App, &f, 4),
            Err(DescriptorError::BadMagic { .. })
        ));
        assert!(matches!(
            unframe(Kind::Mbr, &f, 5),
            Err(DescriptorError::BodyLength {
                found: 4,
                expected: 5,
                ..
            })
        ));
        assert!(matches!(
            unframe(Kind::Mbr, &f[..10], 4),
            Err(DescriptorError::Truncated {
                need: 16,
                have: 10,
                ..
            })
        ));
        f[9] ^= 1;
        let e = unframe(Kind::Mbr, &f, 4).unwrap_err();
        assert!(matches!(e, DescriptorError::Crc { .. }));
        assert!(e.to_string().starts_with("MBR descriptor: CRC"));
        let mut r = frame(Kind::Mbr, &[9; 4]);
        r[5] = 1;
        assert!(matches!(
            unframe(Kind::Mbr, &r, 4),
            Err(DescriptorError::Field {
                field: "reserved",
                ..
            })
        ));
        let mut g = frame(Kind::Mbr, &[9; 4]);
        g[4] = 2;
        assert!(matches!(
            unframe(Kind::Mbr, &g, 4),
            Err(DescriptorError::UnsupportedVersion { found: 2, .. })
        ));
    }

    proptest! {
        #[test]
        fn garbage_never_decodes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            for kind in [Kind::Mbr, Kind::Bootloader, Kind::App] {
                prop_assert!(unframe(kind, &bytes, bytes.len().saturating_sub(12)).is_err() || has_magic(kind, &bytes));
            }
        }
    }
}
