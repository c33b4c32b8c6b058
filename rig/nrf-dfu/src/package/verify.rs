//! Checking a package as a bootloader would: firmware hash, size fields, init packet
//! signature and ECDSA boot-validation signatures.

use super::{ImageKind, Package, PackageImage};
use crate::init_packet::{enum_name, FwType, HashType, ValidationType};
use crate::signing::PublicKey;
use sha2::{Digest, Sha256};

/// One check on one image: `Ok(detail)` passed, `Err(reason)` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub image: ImageKind,
    pub what: &'static str,
    pub result: Result<String, String>,
}

/// All checks of a package, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub checks: Vec<Check>,
}

impl VerifyReport {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.result.is_ok())
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.result.is_err())
    }
}

/// SHA-256 of `data`, byte-reversed as init packets store it.
pub(crate) fn nordic_sha256(data: &[u8]) -> Vec<u8> {
    let mut h = Sha256::digest(data).to_vec();
    h.reverse();
    h
}

fn expected_types(kind: ImageKind) -> &'static [FwType] {
    match kind {
        ImageKind::Application => &[FwType::Application, FwType::ExternalApplication],
        ImageKind::Bootloader => &[FwType::Bootloader],
        ImageKind::Softdevice => &[FwType::Softdevice],
        ImageKind::SoftdeviceBootloader => &[FwType::SoftdeviceBootloader],
    }
}

fn check_type(img: &PackageImage) -> Result<String, String> {
    let t = img.init_packet.init_command().r#type.unwrap_or_default();
    let name = enum_name::<FwType>(t);
    if expected_types(img.kind).iter().any(|e| *e as i32 == t) {
        Ok(name)
    } else {
        Err(format!(
            "InitCommand.type is {name}, but the manifest lists the image as {}",
            img.kind
        ))
    }
}

fn check_hash(img: &PackageImage) -> Result<String, String> {
    let Some(hash) = &img.init_packet.init_command().hash else {
        return Err("InitCommand.hash is missing".into());
    };
    let t = hash.hash_type.unwrap_or_default();
    if t != HashType::Sha256 as i32 {
        return Err(format!(
            "Hash.hash_type is {}; bootloaders accept only SHA256",
            enum_name::<HashType>(t)
        ));
    }
    let want = nordic_sha256(&img.firmware);
    if hash.hash.as_deref() == Some(&want[..]) {
        Ok(format!("SHA256 of {} matches", img.bin_file))
    } else {
        Err(format!(
            "Hash.hash does not match the SHA256 of {}",
            img.bin_file
        ))
    }
}

fn check_sizes(img: &PackageImage) -> Result<String, String> {
    let init = img.init_packet.init_command();
    let len = img.firmware.len() as u64;
    let (sd, bl, app) = (
        init.sd_size.unwrap_or_default() as u64,
        init.bl_size.unwrap_or_default() as u64,
        init.app_size.unwrap_or_default() as u64,
    );
    let (field, stated) = match img.kind {
        ImageKind::Application => ("app_size", app),
        ImageKind::Bootloader => ("bl_size", bl),
        ImageKind::Softdevice => ("sd_size", sd),
        ImageKind::SoftdeviceBootloader => {
            if let Some(m) = img.sd_bl_sizes {
                if (m.sd_size as u64, m.bl_size as u64) != (sd, bl) {
                    return Err(format!(
                        "manifest says sd_size {} and bl_size {}, init packet {sd} and {bl}",
                        m.sd_size, m.bl_size
                    ));
                }
            }
            ("sd_size + bl_size", sd + bl)
        }
    };
    if !len.is_multiple_of(4) {
        return Err(format!(
            "{} is {len} bytes, not a whole number of words",
            img.bin_file
        ));
    }
    if stated == len {
        Ok(format!("{field} = {len}"))
    } else {
        Err(format!(
            "InitCommand.{field} is {stated}, but {} is {len} bytes",
            img.bin_file
        ))
    }
}

fn check_signature(img: &PackageImage, key: Option<&PublicKey>) -> Result<String, String> {
    match (key, img.init_packet.is_signed()) {
        (None, true) => Ok("signed, not checked (no key given)".into()),
        (None, false) => Ok("unsigned".into()),
        (Some(_), false) => Err("init packet is not signed".into()),
        (Some(k), true) => img
            .init_packet
            .verify(k)
            .map(|()| "ECDSA_P256_SHA256 signature valid".into())
            .map_err(|e| e.to_string()),
    }
}

/// The bytes a boot-validation signature covers: the binary, or for SoftDevice+bootloader
/// only the SoftDevice part (nrfutil signs the SD binary there).
fn boot_validation_data(img: &PackageImage) -> Result<&[u8], String> {
    if img.kind != ImageKind::SoftdeviceBootloader {
        return Ok(&img.firmware);
    }
    let sd = img.init_packet.init_command().sd_size.unwrap_or_default() as usize;
    img.firmware
        .get(..sd)
        .ok_or_else(|| format!("sd_size {sd} is beyond {}", img.bin_file))
}

fn check_boot_validation(
    img: &PackageImage,
    key: Option<&PublicKey>,
) -> Vec<Result<String, String>> {
    let init = img.init_packet.init_command();
    init.boot_validation
        .iter()
        .enumerate()
        .map(|(i, bv)| {
            let t = bv.r#type.unwrap_or_default();
            let bytes = bv.bytes.as_deref().unwrap_or_default();
            let name = enum_name::<ValidationType>(t);
            if t != ValidationType::ValidateEcdsaP256Sha256 as i32 {
                return Ok(format!("[{i}] {name}: computed by the device"));
            }
            let Some(k) = key else {
                return Ok(format!("[{i}] {name}: not checked (no key given)"));
            };
            let data = boot_validation_data(img)?;
            k.verify_nordic(data, bytes)
                .map(|()| format!("[{i}] {name}: signature valid"))
                .map_err(|e| format!("boot_validation[{i}] {name}: {e}"))
        })
        .collect()
}

impl Package {
    /// Check every image: init type matches the manifest slot, hash and size fields match the
    /// binary, and (with `key`) the init packet and ECDSA boot-validation signatures verify.
    pub fn verify(&self, key: Option<&PublicKey>) -> VerifyReport {
        let mut checks = Vec::new();
        for img in self.images() {
            let mut push = |what, result| {
                checks.push(Check {
                    image: img.kind,
                    what,
                    result,
                })
            };
            push("type", check_type(img));
            push("hash", check_hash(img));
            push("size", check_sizes(img));
            push("signature", check_signature(img, key));
            for r in check_boot_validation(img, key) {
                push("boot_validation", r);
            }
        }
        VerifyReport { checks }
    }
}
