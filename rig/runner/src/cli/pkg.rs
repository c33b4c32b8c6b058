//! `rig pkg`: nrfutil 6.1.7's `pkg generate` and `pkg display` with the same options, plus
//! `pkg verify`.

use anyhow::{bail, Context};
use nrf_dfu::init_packet::ValidationType;
use nrf_dfu::package::{
    generate_package, CivilTime, GenerateError, GenerateOptions, ImageInput, Package,
};
use nrf_dfu::signing::{PublicKey, SigningKey};
use nrf_dfu::SdkVersion;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum PkgCmd {
    /// Generate a zip file for performing DFU (as `nrfutil pkg generate`).
    ///
    /// .hex (and .elf) images are converted to .bin as nrfutil does: MBR page and UICR dropped,
    /// gaps filled with 0xFF, padded to whole words. Supported combinations: BL, SD, APP,
    /// SD+BL, SD+BL+APP, SD+APP (BL+APP needs two packages). Unsigned packages are
    /// byte-identical to nrfutil's; zip entry times come from SOURCE_DATE_EPOCH (UTC) if set,
    /// else the local time now, as nrfutil stamps them.
    Generate(GenerateArgs),
    /// Display the contents of a .zip package file (as `nrfutil pkg display`).
    Display {
        /// The package.
        zip_file: PathBuf,
        /// Print JSON with dfu-cc.proto field and enum names instead of nrfutil's text.
        #[arg(long)]
        json: bool,
    },
    /// Check a package: image types, hashes and sizes against the binaries, and with --key the
    /// init packet signatures and ECDSA boot-validation signatures. Exits non-zero on a failure.
    Verify {
        /// The package.
        zip_file: PathBuf,
        /// Key to check signatures with: the private key PEM nrfutil signed with, or its
        /// public key PEM (`rig keys display --key pk --format pem`).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Also check each init packet against this SDK's bootloader limits (12, 14, 15.0,
        /// 15.2, 15.3, 16, 17).
        #[arg(long)]
        sdk: Option<SdkVersion>,
    },
}

/// An nrfutil integer (`int_as_text_to_int`): `0x` hex, a leading `0` octal, else decimal;
/// `none` means "not given".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntOrNone(pub Option<u32>);

fn parse_int(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let parsed = if t.len() >= 2 && t[..2].eq_ignore_ascii_case("0x") {
        u32::from_str_radix(&t[2..], 16)
    } else if t.len() > 1 && t.starts_with('0') {
        u32::from_str_radix(&t[1..], 8)
    } else {
        t.parse::<u32>()
    };
    parsed.map_err(|_| format!("{text} is not a valid integer"))
}

fn parse_int_or_none(text: &str) -> Result<IntOrNone, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(IntOrNone(None));
    }
    parse_int(text).map(|v| IntOrNone(Some(v)))
}

/// A comma-separated list of nrfutil integers, or `none`.
fn parse_int_list(text: &str) -> Result<Option<Vec<u32>>, String> {
    if text == "none" {
        return Ok(None);
    }
    text.split(',')
        .map(parse_int)
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// nrfutil's `--app-boot-validation`/`--sd-boot-validation` choices.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
#[value(rename_all = "verbatim")]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum BootValidationArg {
    NO_VALIDATION,
    VALIDATE_GENERATED_CRC,
    VALIDATE_GENERATED_SHA256,
    VALIDATE_ECDSA_P256_SHA256,
}

impl From<BootValidationArg> for ValidationType {
    fn from(v: BootValidationArg) -> Self {
        match v {
            BootValidationArg::NO_VALIDATION => ValidationType::NoValidation,
            BootValidationArg::VALIDATE_GENERATED_CRC => ValidationType::ValidateGeneratedCrc,
            BootValidationArg::VALIDATE_GENERATED_SHA256 => ValidationType::ValidateSha256,
            BootValidationArg::VALIDATE_ECDSA_P256_SHA256 => {
                ValidationType::ValidateEcdsaP256Sha256
            }
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The zip file to write.
    pub zipfile: PathBuf,
    /// Debug mode switch, enables version check skipping: missing versions become 0xFFFFFFFF,
    /// a missing --sd-req becomes 0xFFFE, and is_debug is set (only debug bootloaders accept it).
    #[arg(long)]
    pub debug_mode: bool,
    /// The application firmware file (.hex, .bin or .elf).
    #[arg(long)]
    pub application: Option<PathBuf>,
    /// The application version (fw_version), e.g. 1, 0x10 or 010 (octal); `none` = not given.
    #[arg(long, value_parser = parse_int_or_none)]
    pub application_version: Option<IntOrNone>,
    /// The application version string, e.g. "2.7.31". Will be converted to an integer, e.g. 20731.
    #[arg(long)]
    pub application_version_string: Option<String>,
    /// The bootloader firmware file.
    #[arg(long)]
    pub bootloader: Option<PathBuf>,
    /// The bootloader version (fw_version of the bootloader or SoftDevice+bootloader image).
    #[arg(long, value_parser = parse_int_or_none)]
    pub bootloader_version: Option<IntOrNone>,
    /// The hardware version the bootloader must report (NRF_DFU_HW_VERSION, 52 for nRF52).
    #[arg(long, value_parser = parse_int_or_none)]
    pub hw_version: Option<IntOrNone>,
    /// The SoftDevice requirements: a comma-separated list of SoftDevice firmware IDs of which
    /// one must be present on the target, e.g. 0x8C,0x91 (S132 3.0.0: 0x8C, 5.0.0: 0x9D,
    /// 6.1.1: 0xB7, 7.2.0: 0x101; 0x00 = no SoftDevice needed, 0xFFFE = any).
    #[arg(long, action = clap::ArgAction::Append)]
    pub sd_req: Vec<String>,
    /// The new SoftDevice's firmware ID(s), used as sd_req of the application when the zip
    /// contains a SoftDevice and an application (and added to the SoftDevice/bootloader sd_req).
    #[arg(long, action = clap::ArgAction::Append)]
    pub sd_id: Vec<String>,
    /// The SoftDevice firmware file.
    #[arg(long)]
    pub softdevice: Option<PathBuf>,
    /// The method of boot validation for the SoftDevice (SDK 15.3+); default VALIDATE_GENERATED_CRC.
    #[arg(long, value_enum)]
    pub sd_boot_validation: Option<BootValidationArg>,
    /// The method of boot validation for the application (SDK 15.3+); default VALIDATE_GENERATED_CRC.
    #[arg(long, value_enum)]
    pub app_boot_validation: Option<BootValidationArg>,
    /// The private (signing) key in PEM format; without it the package is unsigned.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// The application is to be passed through, not applied on the receiving device
    /// (init packet type EXTERNAL_APPLICATION; application-only packages).
    #[arg(long)]
    pub external_app: bool,
}

fn read_image(path: &Option<PathBuf>) -> anyhow::Result<Option<ImageInput>> {
    let Some(path) = path else { return Ok(None) };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(ImageInput::file(path.display().to_string(), bytes)))
}

/// `SOURCE_DATE_EPOCH` (reproducible-builds convention, taken as UTC) or the local time now,
/// which is what Python's zipfile stamps nrfutil's entries with.
fn zip_time() -> anyhow::Result<CivilTime> {
    use chrono::{Datelike, Timelike};
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={v} is not a number of seconds"))?;
        return Ok(CivilTime::from_unix_utc(secs));
    }
    let now = chrono::Local::now();
    Ok(CivilTime {
        year: now.year().clamp(0, u16::MAX as i32) as u16,
        month: now.month() as u8,
        day: now.day() as u8,
        hour: now.hour() as u8,
        minute: now.minute() as u8,
        second: now.second() as u8,
    })
}

/// nrfutil's click usage errors: "Error: ..." and exit status 2.
fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::from(2)
}

fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    if args.sd_req.len() > 1 {
        return Ok(usage_error(
            "Invalid value for sd_req: Please specify SoftDevice requirements as a comma-separated list: --sd-req 0xXXXX,0xYYYY,...",
        ));
    }
    if args.sd_id.len() > 1 {
        return Ok(usage_error(
            "Invalid value for sd_req: Please specify SoftDevice requirements as a comma-separated list: --sd-id 0xXXXX,0xYYYY,...",
        ));
    }
    let list = |v: &[String], name: &str| -> anyhow::Result<Option<Vec<u32>>> {
        match v.first() {
            None => Ok(None),
            Some(s) => parse_int_list(s).map_err(|e| anyhow::anyhow!("--{name}: {e}")),
        }
    };
    let key = match &args.key_file {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read key file {}", p.display()))?;
            Some(SigningKey::from_pem(&text).with_context(|| format!("key file {}", p.display()))?)
        }
    };
    let opts = GenerateOptions {
        hw_version: args.hw_version.and_then(|v| v.0),
        application: read_image(&args.application)?,
        application_version: args.application_version.and_then(|v| v.0),
        application_version_string: args.application_version_string.clone(),
        bootloader: read_image(&args.bootloader)?,
        bootloader_version: args.bootloader_version.and_then(|v| v.0),
        softdevice: read_image(&args.softdevice)?,
        sd_req: list(&args.sd_req, "sd-req")?,
        sd_id: list(&args.sd_id, "sd-id")?,
        key,
        debug_mode: args.debug_mode,
        app_boot_validation: args.app_boot_validation.map(Into::into),
        sd_boot_validation: args.sd_boot_validation.map(Into::into),
        external_app: args.external_app,
    };
    let generated = match generate_package(opts) {
        Ok(g) => g,
        Err(
            e @ (GenerateError::Image(_)
            | GenerateError::Package(_)
            | GenerateError::TooLarge { .. }),
        ) => return Err(e.into()),
        Err(e) => return Ok(usage_error(e)),
    };
    for w in &generated.warnings {
        println!("{}", w.nrfutil_text());
    }
    let zip = generated.package.to_zip(zip_time()?)?;
    std::fs::write(&args.zipfile, zip)
        .with_context(|| format!("cannot write {}", args.zipfile.display()))?;
    println!("Zip created at {}", args.zipfile.display());
    Ok(ExitCode::SUCCESS)
}

fn read_package(path: &PathBuf) -> anyhow::Result<Package> {
    let bytes =
        std::fs::read(path).with_context(|| format!("Package {} not found.", path.display()))?;
    Package::from_zip(&bytes).with_context(|| format!("package {}", path.display()))
}

#[derive(Serialize)]
struct ImageJson {
    #[serde(rename = "type")]
    kind: String,
    bin_file: String,
    dat_file: String,
    bin_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    info_read_only_metadata: Option<nrf_dfu::package::SizeMetadata>,
    init_packet: nrf_dfu::init_packet::InitPacketJson,
}

#[derive(Serialize)]
struct PackageJson {
    package: String,
    images: Vec<ImageJson>,
    ignored_manifest_keys: Vec<String>,
}

fn display(zip_file: PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let pkg = read_package(&zip_file)?;
    if !json {
        println!("{}", pkg.nrfutil_display(&zip_file.display().to_string()));
        return Ok(ExitCode::SUCCESS);
    }
    let view = PackageJson {
        package: zip_file.display().to_string(),
        images: pkg
            .images()
            .iter()
            .map(|i| ImageJson {
                kind: i.kind.manifest_key().to_string(),
                bin_file: i.bin_file.clone(),
                dat_file: i.dat_file.clone(),
                bin_size: i.firmware.len(),
                info_read_only_metadata: i.sd_bl_sizes,
                init_packet: i.init_packet.to_json(),
            })
            .collect(),
        ignored_manifest_keys: pkg.ignored_manifest_keys.clone(),
    };
    println!("{}", serde_json::to_string(&view)?);
    Ok(ExitCode::SUCCESS)
}

fn verify(
    zip_file: PathBuf,
    key: Option<PathBuf>,
    sdk: Option<SdkVersion>,
) -> anyhow::Result<ExitCode> {
    let pkg = read_package(&zip_file)?;
    let key = match key {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read key {}", p.display()))?;
            Some(PublicKey::from_pem(&text).with_context(|| format!("key {}", p.display()))?)
        }
    };
    let report = pkg.verify(key.as_ref());
    let mut failed = 0;
    for c in &report.checks {
        match &c.result {
            Ok(detail) => println!("{} {}: OK ({detail})", c.image, c.what),
            Err(reason) => {
                failed += 1;
                println!("{} {}: FAILED: {reason}", c.image, c.what);
            }
        }
    }
    if let Some(sdk) = sdk {
        for img in pkg.images() {
            match img.init_packet.check_limits(sdk) {
                Ok(()) => println!("{} limits: OK ({sdk})", img.kind),
                Err(e) => {
                    failed += 1;
                    println!("{} limits: FAILED: {e}", img.kind);
                }
            }
        }
    }
    if failed > 0 {
        bail!("{}: {failed} check(s) failed", zip_file.display());
    }
    println!("{}: all checks passed", zip_file.display());
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: PkgCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        PkgCmd::Generate(args) => generate(args),
        PkgCmd::Display { zip_file, json } => display(zip_file, json),
        PkgCmd::Verify { zip_file, key, sdk } => verify(zip_file, key, sdk),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::init_packet::ProtoName;

    #[test]
    fn nrfutil_integers() {
        assert_eq!(parse_int("0x8C"), Ok(0x8C));
        assert_eq!(parse_int("0X101"), Ok(0x101));
        assert_eq!(parse_int("010"), Ok(8));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(parse_int("52"), Ok(52));
        assert_eq!(parse_int("08"), Err("08 is not a valid integer".into()));
        assert_eq!(parse_int_or_none("none"), Ok(IntOrNone(None)));
        assert_eq!(parse_int_list("0x8C,0x91"), Ok(Some(vec![0x8C, 0x91])));
        assert_eq!(parse_int_list("none"), Ok(None));
        assert!(parse_int_list("0x8C,zz").is_err());
        assert_eq!(
            ValidationType::from(BootValidationArg::VALIDATE_GENERATED_SHA256).proto_name(),
            "VALIDATE_SHA256"
        );
    }
}
