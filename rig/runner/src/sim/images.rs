//! The stand-in image set for the virtual bench (`rig sim images`): Intel HEX files laid out like
//! Nordic's (MBR, S132 with its MBR, bootloaders with their UICR address words, applications), so
//! the same files flash a virtual device through the debug port or feed `nrfutil pkg generate`.
//!
//! Everything is derived from constants and the test key embedded at compile time, so
//! regenerating gives byte-identical files (a test compares with the committed `firmware/sim/`).

use nrf_dfu::image::{write_intel_hex, InsertError, Segments};
use nrf_dfu::signing::{KeyError, PublicKey};
use nrf_dfu::{Chip, SdkVersion};
use std::collections::BTreeMap;
use virtual_nrf52::descriptor::{
    options as bl_options, AppDescriptor, BootloaderDescriptor, Buttonless, MbrDescriptor,
    Transport,
};
use virtual_nrf52::softdevice::STAND_IN_SOFTDEVICES;
use virtual_nrf52::standin::{self, BuildError, DEFAULT_BOOTLOADER_SIZE};
use virtual_nrf52::Segment;

/// The rig's test signing key (`firmware/keys/rig-test-private.pem`), embedded so the generated
/// bootloaders always carry its public key.
pub const TEST_KEY_PEM: &str = include_str!("../../../../firmware/keys/rig-test-private.pem");

/// Name every sample application advertises with.
pub const SAMPLE_APP_NAME: &str = "rig-app";
/// Bank 0 of the S132 6.x/7.x layout (the SoftDevice's end address, 0x26000 in the info struct of
/// the S132 7.2.0 hex of SDK 17.1; `nrf_dfu_bank0_start_addr`). Sample apps are
/// linked here; DFU ignores the address (the bootloader writes bank 0 wherever it is).
pub const SAMPLE_APP_BASE: u32 = 0x26000;
/// Sample application sizes: 6 KB (two data objects) and 9 KB (three objects, the last partial).
pub const APP_A_SIZE: u32 = 0x1800;
pub const APP_B_SIZE: u32 = 0x2400;

/// A stand-in image set could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    #[error("test key: {0}")]
    Key(#[from] KeyError),
    #[error("{file}: {source}")]
    Build { file: String, source: BuildError },
    #[error("{file}: {source}")]
    Layout { file: String, source: InsertError },
    #[error("no stand-in bootloader can be built with {0}")]
    NoBootloader(String),
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    pub name: String,
    pub description: String,
    pub contents: String,
}

/// The SDK release each bootloader profile stands for, as used in file names.
pub fn profile_file_label(sdk: SdkVersion) -> &'static str {
    match sdk {
        SdkVersion::Sdk12 => "12.3",
        SdkVersion::Sdk14 => "14.2",
        SdkVersion::Sdk15_0 => "15.0",
        SdkVersion::Sdk15_2 => "15.2",
        SdkVersion::Sdk15_3 => "15.3",
        SdkVersion::Sdk16 => "16.0",
        SdkVersion::Sdk17 => "17.1",
    }
}

/// Transports an SDK's secure bootloader example exists for: SDK 12 shipped only the BLE
/// `bootloader_secure`; serial Secure DFU appeared with SDK 13/14 (`serial_dfu/nrf_serial_dfu.c`).
pub fn transports(sdk: SdkVersion) -> &'static [Transport] {
    if sdk == SdkVersion::Sdk12 {
        &[Transport::Ble]
    } else {
        &[Transport::Ble, Transport::Uart]
    }
}

/// The public key (`pk[64]` byte order) of the embedded test key.
pub fn test_public_key() -> Result<[u8; 64], KeyError> {
    Ok(PublicKey::from_pem(TEST_KEY_PEM)?.to_pk64())
}

/// The descriptor of a stand-in bootloader of `sdk` over `transport` trusting `public_key`: the
/// SDK example's defaults (hw_version 52, no bonds, dual bank, "DfuTarg").
pub fn bootloader_descriptor(
    sdk: SdkVersion,
    transport: Transport,
    public_key: [u8; 64],
) -> BootloaderDescriptor {
    BootloaderDescriptor {
        transport,
        ..BootloaderDescriptor::sdk_default(sdk, public_key)
    }
}

/// Segments of a stand-in bootloader hex (image, address words, PSELRESET).
pub fn bootloader_segments(desc: &BootloaderDescriptor) -> Result<Vec<Segment>, BuildError> {
    standin::bootloader_segments(desc, Chip::Nrf52832Qfaa, DEFAULT_BOOTLOADER_SIZE)
}

/// The descriptor of sample application `a` (version 1) or `b` (version 2).
pub fn sample_app(version: u32) -> AppDescriptor {
    AppDescriptor {
        name: SAMPLE_APP_NAME.into(),
        version,
        buttonless: Buttonless::Unbonded,
    }
}

fn hex(file: &str, segments: &[Segment]) -> Result<String, ImagesError> {
    let s = Segments::from_runs(segments.iter().map(|(a, d)| (*a, d.as_slice()))).map_err(
        |source| ImagesError::Layout {
            file: file.into(),
            source,
        },
    )?;
    Ok(write_intel_hex(&s))
}

/// Every file of the set, in the order the README lists them (README.txt last).
pub fn image_set() -> Result<Vec<ImageFile>, ImagesError> {
    let pk = test_public_key()?;
    let mut files = Vec::new();
    let mut push =
        |name: String, description: String, segments: &[Segment]| -> Result<(), ImagesError> {
            let contents = hex(&name, segments)?;
            files.push(ImageFile {
                name,
                description,
                contents,
            });
            Ok(())
        };
    let mbr = MbrDescriptor::SDK17;
    push(
        "mbr.hex".into(),
        format!("stand-in MBR {} alone (0x0..{:#x}), for layouts without a SoftDevice (UART bootloaders)", mbr.version_text(), standin::MBR_IMAGE_SIZE),
        &[(0, standin::mbr_image(&mbr))],
    )?;
    for sd in STAND_IN_SOFTDEVICES {
        push(
            format!("s132-{}.hex", sd.version_label),
            format!(
                "stand-in {} with the MBR, as Nordic ships it: FWID {:#x}, end {:#x}, version {}, {} bytes from 0x1000",
                sd.name, sd.info.fwid, sd.info.end_address, sd.info.version, sd.bin_size
            ),
            &standin::softdevice_hex_segments(&sd),
        )?;
    }
    for sdk in SdkVersion::ALL {
        for &t in transports(sdk) {
            let desc = bootloader_descriptor(sdk, t, pk);
            let (name, description, segs) = bootloader_file(&desc)?;
            push(name, description, &segs)?;
        }
    }
    // The build interrupt-recovery sweeps besides the SDK defaults: 17.1 saving its progress
    // after every data object.
    let mut desc = bootloader_descriptor(SdkVersion::Sdk17, Transport::Ble, pk);
    desc.save_progress_in_flash = true;
    let (name, description, segs) = bootloader_file(&desc)?;
    push(name, description, &segs)?;
    for (file, version, size) in [("app-a.hex", 1, APP_A_SIZE), ("app-b.hex", 2, APP_B_SIZE)] {
        let d = sample_app(version);
        let img = standin::app_image(&d, Chip::Nrf52832Qfaa, SAMPLE_APP_BASE, size).map_err(
            |source| ImagesError::Build {
                file: file.into(),
                source,
            },
        )?;
        push(
            file.into(),
            format!(
                "stand-in application \"{}\" version {version}, {size} bytes at {SAMPLE_APP_BASE:#x}, buttonless DFU without bonds (characteristic 8EC90003); advertises its name and its version as manufacturer data (company 0x0059, u32 LE); package it with --application-version {version}",
                d.name
            ),
            &[(SAMPLE_APP_BASE, img)],
        )?;
    }
    let readme = readme(&files);
    files.push(ImageFile {
        name: "README.txt".into(),
        description: "this list".into(),
        contents: readme,
    });
    Ok(files)
}

/// File name of a stand-in bootloader: `bootloader-<release>-<transport>` and one
/// `-<option>` per option that differs from the SDK default (`save-progress-in-flash`,
/// `inactivity-timeout-ms-0`: the option name without its `NRF_DFU_`/`NRF_BL_DFU_` prefix).
pub fn bootloader_file_name(desc: &BootloaderDescriptor) -> String {
    let mut name = format!(
        "bootloader-{}-{}",
        profile_file_label(desc.profile),
        desc.transport.label()
    );
    for (opt, v) in bl_options::non_default(desc) {
        let slug = opt
            .trim_start_matches("NRF_BL_DFU_")
            .trim_start_matches("NRF_DFU_")
            .to_lowercase()
            .replace('_', "-");
        name.push('-');
        name.push_str(&slug);
        if v != 1 {
            name.push_str(&format!("-{v}"));
        }
    }
    name.push_str(".hex");
    name
}

fn bootloader_file(
    desc: &BootloaderDescriptor,
) -> Result<(String, String, Vec<Segment>), ImagesError> {
    let name = bootloader_file_name(desc);
    let segs = bootloader_segments(desc).map_err(|source| ImagesError::Build {
        file: name.clone(),
        source,
    })?;
    let words = if desc.profile == SdkVersion::Sdk15_3 {
        "0xFF8/0xFFC in the MBR page"
    } else {
        "UICR NRFFW[0]/[1]"
    };
    let over = match desc.transport {
        Transport::Ble => "BLE (\"DfuTarg\", MTU rule of its SDK)",
        Transport::Uart => "UART (SLIP, 115200 baud, no SoftDevice needed)",
    };
    let description = format!(
        "stand-in Secure DFU bootloader, SDK {} over {over}, at 0x78000 with the bootloader/MBR-params address words at {words} and PSELRESET = P0.21; trusts firmware/keys/rig-test-private.pem; sdk_config: {}",
        profile_file_label(desc.profile),
        bl_options::describe(desc)
    );
    Ok((name, description, segs))
}

/// `rig sim images --option NAME=VALUE...`: the stand-in bootloaders of every SDK and transport
/// that has all of `options`, built with them (no README: the default set's README lists those).
pub fn bootloaders_with(options: &BTreeMap<String, u32>) -> Result<Vec<ImageFile>, ImagesError> {
    let pk = test_public_key()?;
    let mut files = Vec::new();
    for sdk in SdkVersion::ALL {
        for &t in transports(sdk) {
            let mut desc = bootloader_descriptor(sdk, t, pk);
            if bl_options::apply(&mut desc, options).is_err() {
                continue;
            }
            let (name, description, segs) = bootloader_file(&desc)?;
            let contents = hex(&name, &segs)?;
            files.push(ImageFile {
                name,
                description,
                contents,
            });
        }
    }
    if files.is_empty() {
        let list = options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Say why: the first SDK-independent error (unknown name, bad value) if there is one.
        let why = bl_options::check(SdkVersion::Sdk17, options)
            .err()
            .map_or(list.clone(), |e| format!("{list}: {e}"));
        return Err(ImagesError::NoBootloader(why));
    }
    Ok(files)
}

fn readme(files: &[ImageFile]) -> String {
    let mut out = String::from(
        "Stand-in images for the rig's virtual nRF52832, written by `rig sim images --out DIR`.\n\
         They are not real firmware: each carries a descriptor 0x200 bytes into its image that tells\n\
         the virtual device what it is (rig/virtual-nrf52/src/descriptor/). Regenerating gives\n\
         identical files.\n\n",
    );
    for f in files {
        out.push_str(&format!("{}\n    {}\n", f.name, f.description));
    }
    out.push_str("README.txt\n    this list\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::image::parse_intel_hex;
    use virtual_nrf52::descriptor::DESCRIPTOR_OFFSET;

    fn file<'a>(set: &'a [ImageFile], name: &str) -> &'a ImageFile {
        set.iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn set_lists_every_profile_and_transport() {
        let set = image_set().unwrap();
        let names: Vec<&str> = set.iter().map(|f| f.name.as_str()).collect();
        for n in [
            "mbr.hex",
            "s132-3.0.0.hex",
            "s132-6.1.1.hex",
            "s132-7.2.0.hex",
            "bootloader-12.3-ble.hex",
            "bootloader-15.3-uart.hex",
            "bootloader-17.1-ble.hex",
            "bootloader-17.1-uart.hex",
            "bootloader-17.1-ble-save-progress-in-flash.hex",
            "app-a.hex",
            "app-b.hex",
            "README.txt",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        assert!(!names.contains(&"bootloader-12.3-uart.hex"));
        // MBR, SoftDevices, SDK-default bootloaders, 17.1 with save-progress, apps, README.
        assert_eq!(names.len(), 1 + 3 + 13 + 1 + 2 + 1);
        let readme = &file(&set, "README.txt").contents;
        for n in names {
            assert!(readme.contains(n), "README lists {n}");
        }
    }

    #[test]
    fn bootloader_17_1_carries_the_test_key_and_uicr_words() {
        let set = image_set().unwrap();
        let s = parse_intel_hex(&file(&set, "bootloader-17.1-uart.hex").contents).unwrap();
        let d = BootloaderDescriptor::decode(&s.read(0x78000 + DESCRIPTOR_OFFSET, 112)).unwrap();
        assert_eq!(d.profile, SdkVersion::Sdk17);
        assert_eq!(d.transport, Transport::Uart);
        assert_eq!(d.public_key, test_public_key().unwrap());
        assert_eq!(
            s.read(0x1000_1014, 8),
            [0x00, 0x80, 0x07, 0x00, 0x00, 0xE0, 0x07, 0x00]
        );
        let s153 = parse_intel_hex(&file(&set, "bootloader-15.3-ble.hex").contents).unwrap();
        assert_eq!(
            s153.read(0xFF8, 8),
            [0x00, 0x80, 0x07, 0x00, 0x00, 0xE0, 0x07, 0x00]
        );
        assert_eq!(s153.get(0x1000_1014), None);
    }

    #[test]
    fn sample_apps_differ_in_version_and_content() {
        let set = image_set().unwrap();
        let a = parse_intel_hex(&file(&set, "app-a.hex").contents).unwrap();
        let b = parse_intel_hex(&file(&set, "app-b.hex").contents).unwrap();
        let da = AppDescriptor::decode(&a.read(SAMPLE_APP_BASE + DESCRIPTOR_OFFSET, 52)).unwrap();
        let db = AppDescriptor::decode(&b.read(SAMPLE_APP_BASE + DESCRIPTOR_OFFSET, 52)).unwrap();
        assert_eq!(
            (da.name.as_str(), da.version, da.buttonless),
            ("rig-app", 1, Buttonless::Unbonded)
        );
        assert_eq!((db.name.as_str(), db.version), ("rig-app", 2));
        assert_eq!(a.len(), APP_A_SIZE as usize);
        assert_eq!(b.len(), APP_B_SIZE as usize);
        assert_ne!(
            a.read(SAMPLE_APP_BASE + 0x400, 64),
            b.read(SAMPLE_APP_BASE + 0x400, 64)
        );
    }
}
