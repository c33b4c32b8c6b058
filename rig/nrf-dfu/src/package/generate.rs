//! `nrfutil pkg generate` (`__main__.py` `generate` and `package.py` `Package`), rule for rule:
//! defaults, debug mode, version string, `sd_req`/`sd_id` merging (in CPython set order),
//! boot validation, the SoftDevice+bootloader merge and nrfutil's refusals with its words.

use super::pyset::{dedup_like_python, PySet};
use super::read::PackageError;
use super::verify::nordic_sha256;
use super::{ImageKind, Package, PackageImage, SizeMetadata};
use crate::image::ImageErrorKind;
use crate::image::{load_firmware, Firmware, ImageError, Segments};
use crate::init_packet::{
    BootValidation, FwType, Hash, HashType, InitCommand, InitPacket, ValidationType,
};
use crate::signing::SigningKey;

/// An image handed in by name (the name decides the `.bin` name, and for file bytes the format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInput {
    pub file_name: String,
    pub content: ImageContent,
}

/// What an image is made of: a file's bytes, or the image already in memory. Segments and
/// firmware give the package a file's bytes would give (same `.bin`, init packet and
/// signature) without writing and parsing text: a campaign builds a package per update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageContent {
    /// An Intel HEX, ELF or raw binary file, by [`crate::image::ImageFormat::detect`] on the name.
    File(Vec<u8>),
    /// Parsed addresses and bytes (nrfutil's `.hex` rules make the `.bin`).
    Segments(Segments),
    /// The `.bin` itself.
    Firmware(Firmware),
}

impl ImageInput {
    /// A file's bytes.
    pub fn file(file_name: impl Into<String>, bytes: Vec<u8>) -> ImageInput {
        ImageInput {
            file_name: file_name.into(),
            content: ImageContent::File(bytes),
        }
    }

    /// An image as segments, named as the HEX file it would be.
    pub fn segments(file_name: impl Into<String>, segments: Segments) -> ImageInput {
        ImageInput {
            file_name: file_name.into(),
            content: ImageContent::Segments(segments),
        }
    }

    /// Firmware already laid out by nrfutil's rules ([`Firmware::from_segments`]).
    pub fn firmware(file_name: impl Into<String>, firmware: Firmware) -> ImageInput {
        ImageInput {
            file_name: file_name.into(),
            content: ImageContent::Firmware(firmware),
        }
    }

    /// The firmware nrfutil would put in a package for this image.
    fn load(&self) -> Result<Firmware, ImageError> {
        match &self.content {
            ImageContent::File(bytes) => load_firmware(&self.file_name, bytes, 0),
            ImageContent::Segments(s) => Firmware::from_segments(s).map_err(|e| ImageError {
                file: self.file_name.clone(),
                kind: ImageErrorKind::Firmware(e),
            }),
            ImageContent::Firmware(f) => Ok(f.clone()),
        }
    }
}

/// `nrfutil pkg generate` options; `None` = not given (or nrfutil's `none`).
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    pub hw_version: Option<u32>,
    pub application: Option<ImageInput>,
    pub application_version: Option<u32>,
    pub application_version_string: Option<String>,
    pub bootloader: Option<ImageInput>,
    pub bootloader_version: Option<u32>,
    pub softdevice: Option<ImageInput>,
    pub sd_req: Option<Vec<u32>>,
    pub sd_id: Option<Vec<u32>>,
    pub key: Option<SigningKey>,
    pub debug_mode: bool,
    pub app_boot_validation: Option<ValidationType>,
    pub sd_boot_validation: Option<ValidationType>,
    pub external_app: bool,
}

/// nrfutil's refusals (its messages, where it has one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    #[error("Invalid combination: use two .zip packages instead.")]
    InvalidCombination,
    #[error("Invalid value for application-version-string: Must be on the format x.y.z")]
    VersionStringFormat,
    #[error("Invalid range of firmware argument. [0 - 0xffffffff] is valid range")]
    VersionRange,
    #[error("Application version with no image.")]
    AppVersionWithoutImage,
    #[error("Bootloader version with no image.")]
    BootloaderVersionWithoutImage,
    #[error("--hw-version required.")]
    HwVersionRequired,
    #[error("--sd-req required.")]
    SdReqRequired,
    #[error(
        "--application-version or --application-version-string required with application image."
    )]
    AppVersionRequired,
    #[error("--bootloader-version required with bootloader image.")]
    BootloaderVersionRequired,
    #[error("--sd-id required with softdevice and application images.")]
    SdIdRequired,
    #[error("--external-app requires an application.")]
    ExternalAppWithoutApp,
    #[error("--external-app is only possible for application only DFU packages.")]
    ExternalAppNotAlone,
    /// nrfutil writes a package with an empty manifest here; an empty package can only fail later.
    #[error("no image given: use --application, --bootloader and/or --softdevice")]
    NoImage,
    /// nrfutil fails with an AssertionError here.
    #[error(
        "--{0}-boot-validation VALIDATE_ECDSA_P256_SHA256 signs the image and needs --key-file"
    )]
    EcdsaBootValidationNeedsKey(&'static str),
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error("{0}")]
    Package(#[from] PackageError),
    #[error("{what} is {len} bytes, more than an init packet size field holds")]
    TooLarge { what: String, len: usize },
}

/// Something nrfutil prints a warning banner for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// Both `--application-version` (non-zero) and `--application-version-string` given.
    VersionStringWins,
    DebugMode,
    NoKey,
    /// The key is nrfutil's published default key.
    DefaultKey,
}

/// A generated package and the warnings nrfutil would print, in its order.
#[derive(Debug, Clone)]
pub struct Generated {
    pub package: Package,
    pub warnings: Vec<Warning>,
}

/// `convert_version_string_to_int`: "x.y.z" → x·10000 + y·100 + z.
pub fn parse_version_string(s: &str) -> Result<u32, GenerateError> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 {
        return Err(GenerateError::VersionStringFormat);
    }
    let mut total: u64 = 0;
    for (part, weight) in parts.iter().zip([10_000u64, 100, 1]) {
        let t = part.trim();
        let digits = t.strip_prefix('+').unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GenerateError::VersionStringFormat);
        }
        let n: u64 = digits.parse().map_err(|_| GenerateError::VersionRange)?;
        total = n
            .checked_mul(weight)
            .and_then(|v| v.checked_add(total))
            .ok_or(GenerateError::VersionRange)?;
    }
    u32::try_from(total).map_err(|_| GenerateError::VersionRange)
}

/// The `.bin` name nrfutil gives an image file: its base name with every ".hex" replaced by
/// ".bin". A name without ".hex" keeps a ".bin" ending; any other name (an ELF, say, which
/// nrfutil cannot read) gets its extension replaced by ".bin" so that the `.dat` name differs.
pub fn bin_file_name(file_name: &str) -> String {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    if base.contains(".hex") {
        return base.replace(".hex", ".bin");
    }
    if base.ends_with(".bin") {
        return base.to_string();
    }
    match base.rfind('.') {
        Some(dot) if dot > 0 => format!("{}.bin", &base[..dot]),
        _ => format!("{base}.bin"),
    }
}

/// What one init packet says, before signing.
struct ImagePlan {
    kind: ImageKind,
    fw_type: FwType,
    fw_version: u32,
    sd_req: Vec<u32>,
    validations: Vec<ValidationType>,
    bin_file: String,
    firmware: Vec<u8>,
    /// What an ECDSA boot validation signs when it is not `firmware`: the SoftDevice alone
    /// for SoftDevice+bootloader.
    signed_for_boot: Option<Vec<u8>>,
    sd_bl: Option<SizeMetadata>,
}

fn size_u32(what: &str, len: usize) -> Result<u32, GenerateError> {
    u32::try_from(len).map_err(|_| GenerateError::TooLarge {
        what: what.to_string(),
        len,
    })
}

/// Build the package `nrfutil pkg generate` would build from `opts`.
pub fn generate_package(opts: GenerateOptions) -> Result<Generated, GenerateError> {
    let mut warnings = Vec::new();
    let (app, bl, sd) = (&opts.application, &opts.bootloader, &opts.softdevice);
    if bl.is_some() && app.is_some() && sd.is_none() {
        return Err(GenerateError::InvalidCombination);
    }
    let mut app_version = match &opts.application_version_string {
        Some(s) => {
            let v = parse_version_string(s)?;
            if opts.application_version.is_some_and(|v| v != 0) {
                warnings.push(Warning::VersionStringWins);
            }
            Some(v)
        }
        None => opts.application_version,
    };
    let mut bl_version = opts.bootloader_version;
    let mut hw_version = opts.hw_version;
    let mut sd_req = opts.sd_req.clone();
    if app_version.is_some() && app.is_none() {
        return Err(GenerateError::AppVersionWithoutImage);
    }
    if bl_version.is_some() && bl.is_none() {
        return Err(GenerateError::BootloaderVersionWithoutImage);
    }
    if opts.debug_mode {
        // Debug bootloaders skip version checks: nrfutil fills in "any".
        warnings.push(Warning::DebugMode);
        app_version.get_or_insert(0xFFFF_FFFF);
        bl_version.get_or_insert(0xFFFF_FFFF);
        hw_version.get_or_insert(0xFFFF_FFFF);
        sd_req.get_or_insert_with(|| vec![0xFFFE]);
    }
    let hw_version = hw_version.ok_or(GenerateError::HwVersionRequired)?;
    if sd_req.is_none() && !opts.external_app {
        return Err(GenerateError::SdReqRequired);
    }
    if app.is_some() && app_version.is_none() {
        return Err(GenerateError::AppVersionRequired);
    }
    if bl.is_some() && bl_version.is_none() {
        return Err(GenerateError::BootloaderVersionRequired);
    }
    if app.is_some() && sd.is_some() && opts.sd_id.is_none() {
        return Err(GenerateError::SdIdRequired);
    }
    if app.is_none() && opts.external_app {
        return Err(GenerateError::ExternalAppWithoutApp);
    }
    if opts.external_app && (sd.is_some() || bl.is_some()) {
        return Err(GenerateError::ExternalAppNotAlone);
    }
    if app.is_none() && bl.is_none() && sd.is_none() {
        return Err(GenerateError::NoImage);
    }
    let app_bv = opts
        .app_boot_validation
        .unwrap_or(ValidationType::ValidateGeneratedCrc);
    let sd_bv = opts
        .sd_boot_validation
        .unwrap_or(ValidationType::ValidateGeneratedCrc);
    if opts.key.is_none() {
        if app.is_some() && app_bv == ValidationType::ValidateEcdsaP256Sha256 {
            return Err(GenerateError::EcdsaBootValidationNeedsKey("app"));
        }
        if sd.is_some() && sd_bv == ValidationType::ValidateEcdsaP256Sha256 {
            return Err(GenerateError::EcdsaBootValidationNeedsKey("sd"));
        }
    }

    // `sd_req_list += set(sd_id_list) - set(sd_req_list)`: the system images also accept the
    // new SoftDevice, so an interrupted SD+App update can be repeated. The application gets
    // the `--sd-id` list alone.
    let mut sd_req_list = sd_req.unwrap_or_default();
    let sd_id_list = match &opts.sd_id {
        Some(ids) => {
            let new_ids = PySet::from_list(ids)
                .difference(&PySet::from_list(&sd_req_list))
                .to_list();
            sd_req_list.extend(new_ids);
            ids.clone()
        }
        None => sd_req_list.clone(),
    };
    match &opts.key {
        None => warnings.push(Warning::NoKey),
        Some(k) if k.is_nrfutil_default_key() => warnings.push(Warning::DefaultKey),
        Some(_) => {}
    }

    let load = ImageInput::load;
    let mut plans = Vec::new();
    if let Some(input) = app {
        let fw = load(input)?;
        plans.push(ImagePlan {
            kind: ImageKind::Application,
            fw_type: if opts.external_app {
                FwType::ExternalApplication
            } else {
                FwType::Application
            },
            fw_version: app_version.unwrap_or(0xFFFF_FFFF),
            sd_req: sd_id_list,
            validations: vec![app_bv],
            bin_file: bin_file_name(&input.file_name),
            signed_for_boot: None,
            firmware: fw.bin,
            sd_bl: None,
        });
    }
    let bl_fw = bl.as_ref().map(load).transpose()?;
    let sd_fw = sd.as_ref().map(load).transpose()?;
    match (sd_fw, bl_fw) {
        (Some(sd_fw), Some(bl_fw)) => {
            let sd_size = size_u32("SoftDevice", sd_fw.len())?;
            let bl_size = size_u32("bootloader", bl_fw.len())?;
            let mut merged = sd_fw.bin.clone();
            merged.extend_from_slice(&bl_fw.bin);
            plans.push(ImagePlan {
                kind: ImageKind::SoftdeviceBootloader,
                fw_type: FwType::SoftdeviceBootloader,
                fw_version: bl_version.unwrap_or(0xFFFF_FFFF),
                sd_req: sd_req_list,
                validations: vec![sd_bv, ValidationType::ValidateGeneratedCrc],
                bin_file: "sd_bl.bin".into(),
                firmware: merged,
                signed_for_boot: Some(sd_fw.bin),
                sd_bl: Some(SizeMetadata { bl_size, sd_size }),
            });
        }
        (sd_fw, bl_fw) => {
            if let (Some(fw), Some(input)) = (bl_fw, bl) {
                plans.push(ImagePlan {
                    kind: ImageKind::Bootloader,
                    fw_type: FwType::Bootloader,
                    fw_version: bl_version.unwrap_or(0xFFFF_FFFF),
                    sd_req: sd_req_list.clone(),
                    validations: vec![ValidationType::ValidateGeneratedCrc],
                    bin_file: bin_file_name(&input.file_name),
                    signed_for_boot: None,
                    firmware: fw.bin,
                    sd_bl: None,
                });
            }
            if let (Some(fw), Some(input)) = (sd_fw, sd) {
                plans.push(ImagePlan {
                    kind: ImageKind::Softdevice,
                    fw_type: FwType::Softdevice,
                    // SoftDevices are never version-checked by fw_version.
                    fw_version: 0xFFFF_FFFF,
                    sd_req: sd_req_list,
                    validations: vec![sd_bv],
                    bin_file: bin_file_name(&input.file_name),
                    signed_for_boot: None,
                    firmware: fw.bin,
                    sd_bl: None,
                });
            }
        }
    }

    let mut images = Vec::new();
    for plan in plans {
        images.push(build_image(
            plan,
            hw_version,
            opts.debug_mode,
            opts.key.as_ref(),
        )?);
    }
    Ok(Generated {
        package: Package::new(images)?,
        warnings,
    })
}

fn build_image(
    plan: ImagePlan,
    hw_version: u32,
    debug: bool,
    key: Option<&SigningKey>,
) -> Result<PackageImage, GenerateError> {
    let len = size_u32(&plan.bin_file, plan.firmware.len())?;
    let (sd_size, bl_size, app_size) = match (plan.kind, plan.sd_bl) {
        (ImageKind::Application, _) => (0, 0, len),
        (ImageKind::Softdevice, _) => (len, 0, 0),
        (ImageKind::Bootloader, _) => (0, len, 0),
        (ImageKind::SoftdeviceBootloader, Some(m)) => (m.sd_size, m.bl_size, 0),
        (ImageKind::SoftdeviceBootloader, None) => (0, 0, 0),
    };
    let boot_validation = plan
        .validations
        .iter()
        .map(|v| BootValidation {
            r#type: Some(*v as i32),
            bytes: Some(match (v, key) {
                (ValidationType::ValidateEcdsaP256Sha256, Some(k)) => k
                    .sign_nordic(plan.signed_for_boot.as_deref().unwrap_or(&plan.firmware))
                    .to_vec(),
                _ => Vec::new(),
            }),
        })
        .collect();
    // `InitPacketPB`: an empty list means "any SoftDevice", then `list(set(...))`.
    let sd_req = if plan.sd_req.is_empty() {
        vec![0xFFFE]
    } else {
        plan.sd_req
    };
    let init = InitCommand {
        fw_version: Some(plan.fw_version),
        hw_version: Some(hw_version),
        sd_req: dedup_like_python(&sd_req),
        r#type: Some(plan.fw_type as i32),
        sd_size: Some(sd_size),
        bl_size: Some(bl_size),
        app_size: Some(app_size),
        hash: Some(Hash {
            hash_type: Some(HashType::Sha256 as i32),
            hash: Some(nordic_sha256(&plan.firmware)),
        }),
        is_debug: Some(debug),
        boot_validation,
    };
    let init_packet = match key {
        Some(k) => InitPacket::new_signed(init, k),
        None => InitPacket::new_unsigned(init),
    };
    Ok(PackageImage {
        kind: plan.kind,
        dat_file: plan.bin_file.replace(".bin", ".dat"),
        bin_file: plan.bin_file,
        firmware: plan.firmware,
        init_packet,
        sd_bl_sizes: plan.sd_bl,
    })
}

impl Warning {
    /// The banner nrfutil prints (`display_*_warning` in `__main__.py`), or its one-line warning.
    pub fn nrfutil_text(self) -> &'static str {
        match self {
            Warning::VersionStringWins => {
                "Warning: When both application-version-string and application-version are provided, only the string will be used."
            }
            Warning::DebugMode => DEBUG_BANNER,
            Warning::NoKey => NOKEY_BANNER,
            Warning::DefaultKey => DEFAULT_KEY_BANNER,
        }
    }
}

#[cfg(test)]
const BANNER_TOP: &str = "
|===============================================================|
|##      ##    ###    ########  ##    ## #### ##    ##  ######  |
|##  ##  ##   ## ##   ##     ## ###   ##  ##  ###   ## ##    ## |
|##  ##  ##  ##   ##  ##     ## ####  ##  ##  ####  ## ##       |
|##  ##  ## ##     ## ########  ## ## ##  ##  ## ## ## ##   ####|
|##  ##  ## ######### ##   ##   ##  ####  ##  ##  #### ##    ## |
|##  ##  ## ##     ## ##    ##  ##   ###  ##  ##   ### ##    ## |
| ###  ###  ##     ## ##     ## ##    ## #### ##    ##  ######  |
|===============================================================|
";

macro_rules! banner {
    ($body:literal) => {
        concat!(
            "
|===============================================================|
|##      ##    ###    ########  ##    ## #### ##    ##  ######  |
|##  ##  ##   ## ##   ##     ## ###   ##  ##  ###   ## ##    ## |
|##  ##  ##  ##   ##  ##     ## ####  ##  ##  ####  ## ##       |
|##  ##  ## ##     ## ########  ## ## ##  ##  ## ## ## ##   ####|
|##  ##  ## ######### ##   ##   ##  ####  ##  ##  #### ##    ## |
|##  ##  ## ##     ## ##    ##  ##   ###  ##  ##   ### ##    ## |
| ###  ###  ##     ## ##     ## ##    ## #### ##    ##  ######  |
|===============================================================|
",
            $body,
            "|===============================================================|
"
        )
    };
}

const DEBUG_BANNER: &str = banner!(
    "|You are generating a package with the debug bit enabled in the |
|init packet. This is only compatible with a debug bootloader   |
|and is not suitable for production.                            |
"
);
const NOKEY_BANNER: &str = banner!(
    "|You are not providing a signature key, which means the DFU     |
|files will not be signed, and are vulnerable to tampering.     |
|This is only compatible with a signature-less bootloader and is|
|not suitable for production environments.                      |
"
);
const DEFAULT_KEY_BANNER: &str = banner!(
    "|The security key you provided is insecure, as it part of a     |
|known set of keys that have been widely distributed. Do NOT use|
|it in your final product or your DFU procedure may be          |
|compromised and at risk of malicious attacks.                  |
"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_share_nrfutils_top() {
        for w in [Warning::DebugMode, Warning::NoKey, Warning::DefaultKey] {
            assert!(w.nrfutil_text().starts_with(BANNER_TOP));
            assert!(w
                .nrfutil_text()
                .ends_with("|===============================================================|\n"));
        }
    }

    #[test]
    fn version_strings() {
        assert_eq!(parse_version_string("2.7.31"), Ok(20731));
        assert_eq!(parse_version_string("0.0.0"), Ok(0));
        assert_eq!(
            parse_version_string("1.2"),
            Err(GenerateError::VersionStringFormat)
        );
        assert_eq!(
            parse_version_string("1.x.3"),
            Err(GenerateError::VersionStringFormat)
        );
        assert_eq!(
            parse_version_string("-1.0.0"),
            Err(GenerateError::VersionStringFormat)
        );
        assert_eq!(
            parse_version_string("429496.72.96"),
            Err(GenerateError::VersionRange)
        );
        assert_eq!(parse_version_string("429496.72.95"), Ok(u32::MAX));
    }

    #[test]
    fn bin_names_follow_nrfutil() {
        assert_eq!(bin_file_name("/x/y/app.hex"), "app.bin");
        assert_eq!(bin_file_name("a.hex.b.hex"), "a.bin.b.bin");
        assert_eq!(bin_file_name("raw.bin"), "raw.bin");
        assert_eq!(bin_file_name("fw.elf"), "fw.bin");
        assert_eq!(bin_file_name("firmware"), "firmware.bin");
    }
}
