//! Builders for stand-in images: byte vectors laid out like real firmware (a vector table, then
//! the descriptor at [`DESCRIPTOR_OFFSET`], then deterministic filler), to be flashed through the
//! debug port or packaged for DFU exactly like real images.

use crate::descriptor::{
    AppDescriptor, BootloaderDescriptor, DescriptorError, MbrDescriptor, DESCRIPTOR_OFFSET,
};
use crate::rng::DeviceRng;
use crate::softdevice::StandInSoftDevice;
use crate::Segment;
use nrf_dfu::crc::crc32;
use nrf_dfu::memory_map::{
    MBR_BOOTLOADER_ADDR_SLOT, RAM_START, SD_INFO_STRUCT_OFFSET, SOFTDEVICE_START, UICR_NRFFW0,
    UICR_PSELRESET0,
};
use nrf_dfu::{Chip, SdkVersion};

/// Bytes of the real MBR image in the SDK's hex (0x000..0xAFF; assumption, the exact length varies
/// by MBR version). The rest of the page, including the 0xFF8/0xFFC slots, stays erased.
pub const MBR_IMAGE_SIZE: u32 = 0xB00;
/// Default stand-in bootloader length: 20 KB of the 24 KB region (a release secure BLE
/// bootloader is in that range; assumption).
pub const DEFAULT_BOOTLOADER_SIZE: u32 = 0x5000;
/// Default stand-in application length.
pub const DEFAULT_APP_SIZE: u32 = 0x8000;
/// The nRF52832 reset pin (P0.21) that SDK builds with `CONFIG_GPIO_AS_PINRESET` route through
/// UICR.PSELRESET.
pub const RESET_PIN: u32 = 21;

/// Vector table entries of the nRF52832: 16 system + 39 peripheral interrupts.
const VECTORS: u32 = 16 + 39;

/// A build request was impossible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("{what}: size {size:#x} must be a multiple of 4 and at least {min:#x}")]
    Size {
        what: &'static str,
        size: u32,
        min: u32,
    },
    #[error("{what}: {size:#x} bytes at {base:#x} do not fit below {limit:#x}")]
    DoesNotFit {
        what: &'static str,
        base: u32,
        size: u32,
        limit: u32,
    },
    #[error(transparent)]
    Descriptor(#[from] DescriptorError),
}

/// A vector-table-shaped header: initial stack pointer at the top of 64 KB RAM, reset handler
/// and every other handler pointing (Thumb bit set) into the image's own code.
fn vector_table(base: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(VECTORS as usize * 4);
    v.extend_from_slice(&(RAM_START + 0x1_0000).to_le_bytes());
    v.extend_from_slice(&(base + DESCRIPTOR_OFFSET + 0x101).to_le_bytes());
    for _ in 2..VECTORS {
        v.extend_from_slice(&(base + DESCRIPTOR_OFFSET + 0x105).to_le_bytes());
    }
    v
}

/// Fill `image` from `from` on with deterministic bytes (seeded by `seed_text`), leaving what is
/// already there before `from`.
fn fill(image: &mut [u8], from: usize, seed_text: &[u8]) {
    let mut rng = DeviceRng::new(crc32(seed_text) as u64 | (image.len() as u64) << 32);
    if from < image.len() {
        rng.fill(&mut image[from..]);
    }
}

/// An image of `size` bytes at `base`: vector table, optional descriptor, filler.
fn image(base: u32, size: u32, descriptor: Option<&[u8]>, seed_text: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; size as usize];
    fill(&mut out, 0, seed_text);
    let vt = vector_table(base);
    out[..vt.len()].copy_from_slice(&vt);
    if let Some(d) = descriptor {
        let at = DESCRIPTOR_OFFSET as usize;
        out[at..at + d.len()].copy_from_slice(d);
    }
    out
}

fn check_size(what: &'static str, base: u32, size: u32, limit: u32) -> Result<(), BuildError> {
    let min = DESCRIPTOR_OFFSET + 0x200;
    if !size.is_multiple_of(4) || size < min {
        return Err(BuildError::Size { what, size, min });
    }
    if base as u64 + size as u64 > limit as u64 {
        return Err(BuildError::DoesNotFit {
            what,
            base,
            size,
            limit,
        });
    }
    Ok(())
}

/// The stand-in MBR: [`MBR_IMAGE_SIZE`] bytes at 0 with its descriptor.
pub fn mbr_image(desc: &MbrDescriptor) -> Vec<u8> {
    image(0, MBR_IMAGE_SIZE, Some(&desc.encode()), b"stand-in MBR")
}

/// A stand-in SoftDevice binary (starts at 0x1000, `bin_size` bytes) with the real info struct at
/// +0x2000. No descriptor: SoftDevices are recognised by their info struct only.
pub fn softdevice_image(sd: &StandInSoftDevice) -> Vec<u8> {
    let mut out = image(SOFTDEVICE_START, sd.bin_size, None, sd.name.as_bytes());
    let info = sd.info.encode();
    let at = SD_INFO_STRUCT_OFFSET as usize;
    out[at..at + info.len()].copy_from_slice(&info);
    out
}

/// What Nordic's SoftDevice hex holds: the MBR at 0 and the SoftDevice at 0x1000. The MBR
/// version bundled with each S132 release was not checked; the stand-in uses 2.4.1 for
/// all (its modelled behaviour is the same).
pub fn softdevice_hex_segments(sd: &StandInSoftDevice) -> Vec<Segment> {
    vec![
        (0, mbr_image(&MbrDescriptor::SDK17)),
        (SOFTDEVICE_START, softdevice_image(sd)),
    ]
}

/// A stand-in bootloader of `size` bytes for its region at `chip.bootloader_address()`.
pub fn bootloader_image(
    desc: &BootloaderDescriptor,
    chip: Chip,
    size: u32,
) -> Result<Vec<u8>, BuildError> {
    let base = chip.bootloader_address();
    check_size("bootloader", base, size, chip.mbr_params_address())?;
    let d = desc.encode()?;
    Ok(image(base, size, Some(&d), &d))
}

/// What the SDK's bootloader hex holds: the image, the two address words, and PSELRESET.
///
/// The address words (bootloader start, MBR parameter page) go where the SDK's linker script puts
/// them (`secure_bootloader_gcc_nrf52.ld` of the pca10040 BLE example): SDK 15.3 into the MBR
/// page at 0xFF8/0xFFC, SDK 12 and 17.1 into UICR
/// NRFFW\[0\]/\[1\]; SDK 14, 15.0, 15.2 and 16 are assumed to use UICR as well (unverified).
/// Flashing 0xFF8 with a page-erasing programmer erases the MBR unless the MBR is in the same
/// `program` call (as after `mergehex`) or unwritten bytes are kept.
///
/// PSELRESET\[0..1\] = P0.21 is what `SystemInit` writes on first boot in builds with
/// `CONFIG_GPIO_AS_PINRESET` (the pca10040 Makefiles); here it is part of the image.
pub fn bootloader_segments(
    desc: &BootloaderDescriptor,
    chip: Chip,
    size: u32,
) -> Result<Vec<Segment>, BuildError> {
    let bl = chip.bootloader_address();
    let mut words = Vec::with_capacity(8);
    words.extend_from_slice(&bl.to_le_bytes());
    words.extend_from_slice(&chip.mbr_params_address().to_le_bytes());
    let slot = if desc.profile == SdkVersion::Sdk15_3 {
        MBR_BOOTLOADER_ADDR_SLOT
    } else {
        UICR_NRFFW0
    };
    let mut pselreset = RESET_PIN.to_le_bytes().to_vec();
    pselreset.extend_from_slice(&RESET_PIN.to_le_bytes());
    Ok(vec![
        (bl, bootloader_image(desc, chip, size)?),
        (slot, words),
        (UICR_PSELRESET0, pselreset),
    ])
}

/// A stand-in application of `size` bytes at `base` (the SoftDevice's end address, or 0x1000
/// without a SoftDevice).
pub fn app_image(
    desc: &AppDescriptor,
    chip: Chip,
    base: u32,
    size: u32,
) -> Result<Vec<u8>, BuildError> {
    check_size("application", base, size, chip.bootloader_address())?;
    let d = desc.encode()?;
    Ok(image(base, size, Some(&d), &d))
}

/// Everything for one device in one `program` call, as a merged hex would hold it: the MBR (with
/// the SoftDevice when one is given), the bootloader with its address words, and the
/// application at bank 0 (the SoftDevice's end, or 0x1000).
pub fn stack_segments(
    chip: Chip,
    softdevice: Option<&StandInSoftDevice>,
    bootloader: Option<(&BootloaderDescriptor, u32)>,
    app: Option<(&AppDescriptor, u32)>,
) -> Result<Vec<Segment>, BuildError> {
    let mut segs = match softdevice {
        Some(sd) => softdevice_hex_segments(sd),
        None => vec![(0, mbr_image(&MbrDescriptor::SDK17))],
    };
    if let Some((desc, size)) = bootloader {
        segs.extend(bootloader_segments(desc, chip, size)?);
    }
    if let Some((desc, size)) = app {
        let base = softdevice.map_or(SOFTDEVICE_START, |sd| sd.info.end_address);
        segs.push((base, app_image(desc, chip, base, size)?));
    }
    Ok(segs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{Buttonless, MbrDescriptor};
    use crate::softdevice::{S132_3_0_0, S132_7_2_0, STAND_IN_SOFTDEVICES};
    use nrf_dfu::memory_map::SoftDeviceInfo;
    use rstest::rstest;

    fn word(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn mbr_image_shape() {
        let m = mbr_image(&MbrDescriptor::SDK17);
        assert_eq!(m.len(), 0xB00);
        assert_eq!(word(&m, 0), 0x2001_0000);
        assert_eq!(word(&m, 4) & 1, 1, "Thumb reset vector");
        assert!(word(&m, 4) < 0x1000, "reset handler inside the MBR page");
        assert_eq!(
            MbrDescriptor::decode(&m[0x200..]).unwrap(),
            MbrDescriptor::SDK17
        );
        assert_eq!(m, mbr_image(&MbrDescriptor::SDK17), "deterministic");
    }

    #[rstest]
    #[case(S132_3_0_0)]
    #[case(crate::softdevice::S132_6_1_1)]
    #[case(S132_7_2_0)]
    fn softdevice_images_carry_the_real_info_struct(#[case] sd: StandInSoftDevice) {
        let img = softdevice_image(&sd);
        assert_eq!(img.len() as u32, sd.bin_size);
        assert_eq!(SoftDeviceInfo::parse(&img, 0x1000), Some(sd.info));
        assert_eq!(word(&img, 0x2004), 0x51B1_E5DB);
        let segs = softdevice_hex_segments(&sd);
        assert_eq!(segs[0].0, 0);
        assert_eq!(segs[1].0, 0x1000);
    }

    #[test]
    fn softdevice_images_differ() {
        let imgs: Vec<Vec<u8>> = STAND_IN_SOFTDEVICES.iter().map(softdevice_image).collect();
        assert_ne!(imgs[1][0x100..0x200], imgs[2][0x100..0x200]);
    }

    #[rstest]
    #[case(SdkVersion::Sdk15_3, 0xFF8)]
    #[case(SdkVersion::Sdk17, 0x1000_1014)]
    #[case(SdkVersion::Sdk12, 0x1000_1014)]
    fn bootloader_segments_place_address_words(#[case] sdk: SdkVersion, #[case] slot: u32) {
        let d = BootloaderDescriptor::sdk_default(sdk, [1; 64]);
        let segs = bootloader_segments(&d, Chip::Nrf52832Qfaa, DEFAULT_BOOTLOADER_SIZE).unwrap();
        assert_eq!(segs[0].0, 0x78000);
        assert_eq!(
            BootloaderDescriptor::decode(&segs[0].1[0x200..]).unwrap(),
            d
        );
        assert_eq!(
            segs[1],
            (
                slot,
                [0x78000u32.to_le_bytes(), 0x7E000u32.to_le_bytes()].concat()
            )
        );
        assert_eq!(segs[2].0, 0x1000_1200);
    }

    #[test]
    fn qfab_bootloader_lives_lower() {
        let d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk12, [1; 64]);
        let segs = bootloader_segments(&d, Chip::Nrf52832Qfab, DEFAULT_BOOTLOADER_SIZE).unwrap();
        assert_eq!(segs[0].0, 0x38000);
        assert_eq!(&segs[1].1[4..8], &0x3E000u32.to_le_bytes());
    }

    #[test]
    fn stack_without_softdevice_puts_the_app_at_0x1000() {
        let a = AppDescriptor {
            name: "uart-app".into(),
            version: 1,
            buttonless: Buttonless::None,
        };
        let mut d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [1; 64]);
        d.transport = crate::descriptor::Transport::Uart;
        let segs = stack_segments(
            Chip::Nrf52832Qfaa,
            None,
            Some((&d, 0x4000)),
            Some((&a, 0x2000)),
        )
        .unwrap();
        let addrs: Vec<u32> = segs.iter().map(|s| s.0).collect();
        assert_eq!(addrs, vec![0, 0x78000, 0x1000_1014, 0x1000_1200, 0x1000]);
        let with_sd = stack_segments(
            Chip::Nrf52832Qfaa,
            Some(&S132_3_0_0),
            None,
            Some((&a, 0x2000)),
        )
        .unwrap();
        assert_eq!(
            with_sd.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![0, 0x1000, 0x1F000]
        );
    }

    #[test]
    fn sizes_are_checked() {
        let d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [1; 64]);
        assert!(matches!(
            bootloader_image(&d, Chip::Nrf52832Qfaa, 0x7000),
            Err(BuildError::DoesNotFit { .. })
        ));
        assert!(matches!(
            bootloader_image(&d, Chip::Nrf52832Qfaa, 0x5001),
            Err(BuildError::Size { .. })
        ));
        let a = AppDescriptor {
            name: "app".into(),
            version: 1,
            buttonless: Buttonless::Unbonded,
        };
        let img = app_image(&a, Chip::Nrf52832Qfaa, 0x26000, DEFAULT_APP_SIZE).unwrap();
        assert_eq!(word(&img, 4), 0x26000 + 0x301);
        assert_eq!(AppDescriptor::decode(&img[0x200..]).unwrap(), a);
        assert!(app_image(&a, Chip::Nrf52832Qfab, 0x26000, 0x20000).is_err());
    }
}
