//! The two devices of a differential run, flashed alike: Nordic's MBR and the user's genuine
//! bootloader on the emulated core, and the behavioural model of the same SDK's UART
//! bootloader with the stand-in MBR. Neither has a SoftDevice (the SDK's UART test images run
//! without one), so bank 0 starts at 0x1000 on both and their flash can be compared address
//! for address.

use nrf_dfu::signing::PublicKey;
use nrf_dfu::{Chip, SdkVersion};
use virtual_nrf52::descriptor::{BootloaderDescriptor, Transport};
use virtual_nrf52::{standin, DebugPort, Device, ProgramOptions, Segment};

/// The chip the SDK's nrf52832 UART test images are built for.
pub const CHIP: Chip = Chip::Nrf52832Qfaa;

/// A bad input file, named.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
}

fn bad(file: &str, reason: impl Into<String>) -> ImageError {
    ImageError::File {
        file: file.to_string(),
        reason: reason.into(),
    }
}

/// An Intel HEX file's contents as programmable segments (`file` names it in errors).
pub fn hex_segments(file: &str, text: &str) -> Result<Vec<Segment>, ImageError> {
    let segs = nrf_dfu::image::parse_intel_hex(text).map_err(|e| bad(file, e.to_string()))?;
    if segs.is_empty() {
        return Err(bad(file, "the Intel HEX file holds no data records"));
    }
    Ok(segs.runs().map(|(a, b)| (a, b.to_vec())).collect())
}

/// How the genuine bootloader came to trust the run's key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeyPatch {
    /// Its `pk[64]` already is the key (built with it, or patched by
    /// scripts/bootloader-with-key.py).
    AlreadyTrusted { address: u32 },
    /// Its `pk[64]` (another key) was replaced in memory, as scripts/bootloader-with-key.py
    /// does it on disk.
    Replaced { address: u32 },
}

/// The P-256 generator as `pk[64]` stores a point (reverse(X) ‖ reverse(Y)): micro-ecc keeps
/// it in flash too, so it is not the key.
fn generator_pk64() -> [u8; 64] {
    let gx = hex::decode("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296")
        .expect("hex");
    let gy = hex::decode("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5")
        .expect("hex");
    let mut out = [0u8; 64];
    for i in 0..32 {
        out[i] = gx[31 - i];
        out[32 + i] = gy[31 - i];
    }
    out
}

/// 4-aligned 64-byte windows of `segments` (`dfu_public_key.c`'s `pk` is `__ALIGN(4)`).
fn windows(segments: &[Segment]) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
    segments.iter().enumerate().flat_map(|(si, (addr, bytes))| {
        let first = (4 - (*addr as usize % 4)) % 4;
        (first..bytes.len().saturating_sub(63))
            .step_by(4)
            .map(move |i| (si, i, addr + i as u32))
    })
}

/// The bootloader `segments` trusting `key`: unchanged when its `pk[64]` already is the key,
/// else with the one P-256 public key in it (the 4-aligned point that is not the generator)
/// replaced, every other byte kept: a firm's own build differs from Nordic's test image only
/// there (SDK 17.0.2 `dfu_public_key.c`).
pub fn trusting(
    file: &str,
    mut segments: Vec<Segment>,
    key: &PublicKey,
) -> Result<(Vec<Segment>, KeyPatch), ImageError> {
    let want = key.to_pk64();
    let trusted = windows(&segments)
        .find(|&(s, i, _)| segments[s].1[i..i + 64] == want)
        .map(|(_, _, address)| address);
    if let Some(address) = trusted {
        return Ok((segments, KeyPatch::AlreadyTrusted { address }));
    }
    let g = generator_pk64();
    let found: Vec<(usize, usize, u32)> = windows(&segments)
        .filter(|&(s, i, _)| {
            let w: &[u8; 64] = segments[s].1[i..i + 64].try_into().expect("64 bytes");
            *w != g && PublicKey::from_pk64(w).is_ok()
        })
        .collect();
    match found.as_slice() {
        [(s, i, address)] => {
            segments[*s].1[*i..*i + 64].copy_from_slice(&want);
            Ok((segments, KeyPatch::Replaced { address: *address }))
        }
        [] => Err(bad(
            file,
            "no P-256 public key (dfu_public_key.c's pk[64]) found in the image: is it a Secure DFU bootloader?",
        )),
        many => Err(bad(
            file,
            format!(
                "{} P-256 points in the image ({}): cannot tell which is the bootloader's key; \
                 build it with the key's public half (nrfutil keys display --format code) instead",
                many.len(),
                many.iter()
                    .map(|(_, _, a)| format!("{a:#x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Flash `segments` into a fresh device (the emulated core or the models), reset, settle.
fn flashed(segments: &[Segment], emulated: bool, seed: u64) -> Result<Device, String> {
    let mut d = Device::new(CHIP, seed);
    d.set_emulated_cpu(emulated);
    d.program(segments, ProgramOptions::default())
        .map_err(|e| format!("program: {e}"))?;
    d.soft_reset().map_err(|e| format!("reset: {e}"))?;
    Ok(d)
}

/// What both devices get besides their bootloader: an application in bank 0 with its
/// settings page (main and backup copy), for scenarios that start from an installed app.
#[derive(Debug, Clone, Default)]
pub struct Preinstalled {
    pub segments: Vec<Segment>,
}

/// The genuine side: Nordic's MBR and the (key-patched) bootloader on the emulated core.
pub fn genuine_device(
    mbr: &[Segment],
    bootloader: &[Segment],
    extra: &Preinstalled,
    seed: u64,
) -> Result<Device, String> {
    let mut segs = mbr.to_vec();
    segs.extend_from_slice(bootloader);
    segs.extend_from_slice(&extra.segments);
    flashed(&segs, true, seed)
}

/// The model's bootloader: SDK 17's UART build as the SDK's pca10040 UART example configures
/// it (dual bank, no progress saved in flash, downgrade prevention), trusting `key`.
pub fn model_descriptor(key: &PublicKey) -> BootloaderDescriptor {
    let mut d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, key.to_pk64());
    d.transport = Transport::Uart;
    d
}

/// The model side: the stand-in MBR and the model bootloader `desc`, no SoftDevice.
pub fn model_device(
    desc: &BootloaderDescriptor,
    extra: &Preinstalled,
    seed: u64,
) -> Result<Device, String> {
    let mut segs = standin::stack_segments(
        CHIP,
        None,
        Some((desc, standin::DEFAULT_BOOTLOADER_SIZE)),
        None,
    )
    .map_err(|e| format!("stand-in images: {e}"))?;
    segs.extend_from_slice(&extra.segments);
    flashed(&segs, false, seed)
}
