//! `manifest.json`: which `.bin`/`.dat` pair is which image.
//!
//! Written exactly as nrfutil's `json.dumps(sort_keys=True, indent=4, separators=(',', ': '))`
//! (`manifest.py`): the structs below declare their fields in sorted order, absent images are
//! left out, and non-ASCII is escaped as Python's default `ensure_ascii` does. Read leniently:
//! unknown keys (Android's `softdevice_application` and friends, extra metadata) are kept aside,
//! and Android's `sd_size`/`bl_size` directly inside `softdevice_bootloader` are understood.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub manifest: Manifest,
}

/// The `manifest` object. Field order = key order in the file (sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub application: Option<ManifestEntry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bootloader: Option<ManifestEntry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub softdevice: Option<ManifestEntry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub softdevice_bootloader: Option<ManifestEntry>,
    /// Keys nrfutil does not write (Android's combined images, vendor additions); read, never written.
    #[serde(flatten, skip_serializing)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// One image's files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub bin_file: String,
    pub dat_file: String,
    /// SoftDevice+bootloader only: how `sd_bl.bin` splits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub info_read_only_metadata: Option<SizeMetadata>,
    /// Android's manifest model puts the sizes here directly.
    #[serde(skip_serializing, default)]
    pub sd_size: Option<u32>,
    #[serde(skip_serializing, default)]
    pub bl_size: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeMetadata {
    pub bl_size: u32,
    pub sd_size: u32,
}

impl ManifestEntry {
    /// SoftDevice and bootloader sizes, from nrfutil's `info_read_only_metadata` or Android's keys.
    pub fn sd_bl_sizes(&self) -> Option<SizeMetadata> {
        self.info_read_only_metadata
            .or(match (self.sd_size, self.bl_size) {
                (Some(sd_size), Some(bl_size)) => Some(SizeMetadata { bl_size, sd_size }),
                _ => None,
            })
    }
}

impl ManifestFile {
    /// Parse `manifest.json`.
    pub fn parse(text: &str) -> Result<ManifestFile, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The text nrfutil writes (no trailing newline).
    pub fn to_nrfutil_json(&self) -> String {
        let mut buf = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
        // Serializing plain structs of strings and integers into memory cannot fail.
        if self.serialize(&mut ser).is_err() {
            unreachable!("manifest serialization failed");
        }
        escape_non_ascii(&String::from_utf8_lossy(&buf))
    }
}

/// Python's `ensure_ascii`: every character outside space..`~` that serde_json leaves as is
/// (non-ASCII and DEL) as `\uXXXX`, lowercase hex, UTF-16 surrogate pairs above U+FFFF. Only
/// string contents can hold such characters.
fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && c != '\x7f' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_nrfutils_text() {
        let m = ManifestFile {
            manifest: Manifest {
                softdevice_bootloader: Some(ManifestEntry {
                    bin_file: "sd_bl.bin".into(),
                    dat_file: "sd_bl.dat".into(),
                    info_read_only_metadata: Some(SizeMetadata {
                        bl_size: 20480,
                        sd_size: 131072,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        };
        let want = "{\n    \"manifest\": {\n        \"softdevice_bootloader\": {\n            \"bin_file\": \"sd_bl.bin\",\n            \"dat_file\": \"sd_bl.dat\",\n            \"info_read_only_metadata\": {\n                \"bl_size\": 20480,\n                \"sd_size\": 131072\n            }\n        }\n    }\n}";
        assert_eq!(m.to_nrfutil_json(), want);
        assert_eq!(ManifestFile::parse(want).unwrap(), m);
    }

    #[test]
    fn non_ascii_is_escaped_as_python_does() {
        let m = ManifestFile {
            manifest: Manifest {
                application: Some(ManifestEntry {
                    bin_file: "é𝄞\x7f.bin".into(),
                    dat_file: "a\"b.dat".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        };
        let t = m.to_nrfutil_json();
        assert!(
            t.contains(r#""bin_file": "\u00e9\ud834\udd1e\u007f.bin""#),
            "{t}"
        );
        assert!(t.contains(r#""dat_file": "a\"b.dat""#));
        assert_eq!(ManifestFile::parse(&t).unwrap(), m);
    }

    #[test]
    fn tolerates_android_keys() {
        let text = r#"{"manifest": {"softdevice_bootloader_application": {"bin_file": "x.bin", "dat_file": "x.dat"},
            "softdevice_bootloader": {"bin_file": "sd_bl.bin", "dat_file": "sd_bl.dat", "sd_size": 100, "bl_size": 20}},
            "extra": 1}"#;
        let m = ManifestFile::parse(text).unwrap().manifest;
        assert!(m.other.contains_key("softdevice_bootloader_application"));
        assert_eq!(
            m.softdevice_bootloader.unwrap().sd_bl_sizes(),
            Some(SizeMetadata {
                bl_size: 20,
                sd_size: 100
            })
        );
    }

    fn arb_entry() -> impl Strategy<Value = Option<ManifestEntry>> {
        proptest::option::of(
            (
                "[a-z_.\\u{e9}\\u{1d11e}]{1,12}",
                "[ -~]{1,12}",
                proptest::option::of((any::<u32>(), any::<u32>())),
            )
                .prop_map(|(b, d, md)| ManifestEntry {
                    bin_file: b,
                    dat_file: d,
                    info_read_only_metadata: md
                        .map(|(bl_size, sd_size)| SizeMetadata { bl_size, sd_size }),
                    ..Default::default()
                }),
        )
    }

    proptest! {
        #[test]
        fn round_trip(a in arb_entry(), b in arb_entry(), s in arb_entry(), sb in arb_entry()) {
            let m = ManifestFile { manifest: Manifest { application: a, bootloader: b, softdevice: s, softdevice_bootloader: sb, other: BTreeMap::new() } };
            let t = m.to_nrfutil_json();
            prop_assert!(t.is_ascii());
            let back = ManifestFile::parse(&t).unwrap();
            prop_assert_eq!(&back, &m);
            prop_assert_eq!(back.to_nrfutil_json(), t);
        }
    }
}
