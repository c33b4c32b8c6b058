//! `rig settings generate|display`: nrfutil 6.1.7's `settings` commands (same options, same
//! output file, same printed summary), plus what nrfutil does not show.

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use nrf_dfu::image::{load_firmware, parse_intel_hex, write_intel_hex, Segments};
use nrf_dfu::settings::{
    generate, locate_settings, BackupPlacement, BootValidationType, Family, GenerateOptions,
    NrfutilSummary, SettingsLayout, SettingsPages, SettingsReport,
};
use nrf_dfu::signing::SigningKey;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SettingsCmd {
    /// Generate a .hex file with bootloader DFU settings (as `nrfutil settings generate`).
    Generate(GenerateArgs),
    /// Display a settings page from a .hex (or a raw page .bin): nrfutil's summary, every field,
    /// CRCs, the backup page and what each SDK's bootloader concludes at boot.
    Display(DisplayArgs),
}

/// The boot validation methods nrfutil offers.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BootValidationArg {
    NoValidation,
    ValidateGeneratedCrc,
    ValidateGeneratedSha256,
    ValidateEcdsaP256Sha256,
}

impl From<BootValidationArg> for BootValidationType {
    fn from(a: BootValidationArg) -> Self {
        match a {
            BootValidationArg::NoValidation => BootValidationType::NoValidation,
            BootValidationArg::ValidateGeneratedCrc => BootValidationType::ValidateCrc,
            BootValidationArg::ValidateGeneratedSha256 => BootValidationType::ValidateSha256,
            BootValidationArg::ValidateEcdsaP256Sha256 => {
                BootValidationType::ValidateEcdsaP256Sha256
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Output Intel HEX file.
    pub hex_file: String,
    /// nRF IC family: NRF52 (nRF52832 QFAA) or NRF52QFAB. nrfutil's NRF51, NRF52810 and NRF52840 are
    /// not nRF52832s and are refused.
    #[arg(long)]
    pub family: String,
    /// The application firmware (.hex, .bin or ELF). Requires --application-version or
    /// --application-version-string.
    #[arg(long)]
    pub application: Option<PathBuf>,
    /// The application version (0x.. hex, 0.. octal, else decimal, as nrfutil reads it).
    #[arg(long, value_parser = nrfutil_int)]
    pub application_version: Option<u32>,
    /// The application version as "x.y.z", stored as x*10000 + y*100 + z (e.g. "2.7.31" → 20731).
    #[arg(long)]
    pub application_version_string: Option<String>,
    /// The bootloader version.
    #[arg(long, value_parser = nrfutil_int)]
    pub bootloader_version: u32,
    /// The bootloader settings version: 1 for SDK 12.0.0 to 15.2.0, 2 for SDK 15.3.0 and later.
    #[arg(long, value_parser = nrfutil_int)]
    pub bl_settings_version: u32,
    /// Settings page address (default: the family's last flash page).
    #[arg(long, value_parser = nrfutil_int)]
    pub start_address: Option<u32>,
    /// Do not write a copy to the settings backup page.
    #[arg(long)]
    pub no_backup: bool,
    /// Address of the backup page (default: one page below the settings). nrfutil 6.1.7 refuses
    /// this option in every case (a bug); the rig honours it.
    #[arg(long, value_parser = nrfutil_int)]
    pub backup_address: Option<u32>,
    /// Boot validation for the application (settings v2; default VALIDATE_GENERATED_CRC).
    #[arg(long, value_enum)]
    pub app_boot_validation: Option<BootValidationArg>,
    /// Boot validation for the SoftDevice (settings v2; default VALIDATE_GENERATED_CRC).
    #[arg(long, value_enum)]
    pub sd_boot_validation: Option<BootValidationArg>,
    /// The SoftDevice firmware (its size goes into sd_size). Needed for --sd-boot-validation.
    #[arg(long)]
    pub softdevice: Option<PathBuf>,
    /// The private signing key (PEM), needed for VALIDATE_ECDSA_P256_SHA256.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// SDK 12 (348 B).
    Sdk12,
    /// settings v1, SDK 13/14 to 15.2 (440 B).
    V1,
    /// settings v2, SDK 15.3+ (896 B).
    V2,
}

#[derive(Args, Debug)]
pub struct DisplayArgs {
    /// Intel HEX as nrfutil writes it (or a flash dump), or a raw .bin of one settings page.
    pub hex_file: PathBuf,
    /// Print the report as JSON (fields named as in nrf_dfu_settings_t).
    #[arg(long)]
    pub json: bool,
    /// Settings page address (default: 0x7F000 or 0x3F000 if present, else the highest page with
    /// data). For a .bin, the address it is shown at.
    #[arg(long, value_parser = nrfutil_int)]
    pub start_address: Option<u32>,
    /// Decode with this layout instead of the one settings_version names.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// For a .bin main page: the backup page as a raw .bin.
    #[arg(long)]
    pub backup: Option<PathBuf>,
}

/// nrfutil's `int_as_text_to_int` followed by its `& 0xffffffff`: "0x.." hex, a leading "0"
/// octal, anything else decimal (Python `int`, so a sign is allowed).
pub fn nrfutil_int(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let bad = || format!("{text} is not a valid integer");
    let value: i128 = if t.len() >= 2 && t[..2].eq_ignore_ascii_case("0x") {
        i128::from_str_radix(&t[2..], 16).map_err(|_| bad())?
    } else if t.starts_with('0') {
        let digits = t
            .strip_prefix("0o")
            .or_else(|| t.strip_prefix("0O"))
            .unwrap_or(t);
        i128::from_str_radix(digits, 8).map_err(|_| bad())?
    } else {
        t.parse::<i128>().map_err(|_| bad())?
    };
    Ok((value & 0xFFFF_FFFF) as u32)
}

/// nrfutil's `convert_version_string_to_int`: "x.y.z" → x*10000 + y*100 + z.
fn version_string(s: &str) -> anyhow::Result<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 {
        bail!("--application-version-string must be on the format x.y.z, got `{s}`");
    }
    let mut total: i128 = 0;
    for (p, w) in parts.iter().zip([10000i128, 100, 1]) {
        let n: i128 = p.trim().parse().with_context(|| {
            format!("--application-version-string `{s}`: `{p}` is not a number")
        })?;
        total += w * n;
    }
    Ok((total & 0xFFFF_FFFF) as u32)
}

const BACKUP_NOTE: &str = "
Note: Generating a DFU settings page with backup page included.
This is only required for bootloaders from nRF5 SDK 15.1 and newer.
If you want to skip backup page generation, use --no-backup option.";

fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{what} {}", path.display()))
}

fn firmware(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = read(path, what)?;
    Ok(load_firmware(&path.to_string_lossy(), &bytes, 0)?.bin)
}

fn run_generate(a: GenerateArgs) -> anyhow::Result<ExitCode> {
    let family: Family = a.family.parse()?;
    let application_version = match (&a.application_version_string, a.application_version) {
        (Some(s), given) => {
            if given.is_some_and(|v| v != 0) {
                println!("Warning: When both application-version-string and application-version are provided, only the string will be used.");
            }
            Some(version_string(s)?)
        }
        (None, v) => v,
    };
    if a.application.is_some() && application_version.is_none() {
        bail!("--application-version or --application-version-string required with application image.");
    }
    let backup = match (a.no_backup, a.backup_address) {
        (true, Some(_)) => bail!("--backup-address: the backup page cannot be given when backup is disabled (--no-backup)"),
        (true, None) => BackupPlacement::None,
        (false, Some(addr)) => BackupPlacement::At(addr),
        (false, None) => BackupPlacement::BelowSettings,
    };
    if !a.no_backup {
        println!("{BACKUP_NOTE}");
    }
    if a.start_address.is_some() && a.backup_address.is_none() {
        println!(
            "WARNING: Using default offset in order to calculate bootloader settings backup page"
        );
    }
    let app_bv = a.app_boot_validation.map(BootValidationType::from);
    let sd_bv = a.sd_boot_validation.map(BootValidationType::from);
    let ecdsa = Some(BootValidationType::ValidateEcdsaP256Sha256);
    let key = if a.bl_settings_version != 1 && (app_bv == ecdsa || sd_bv == ecdsa) {
        let path = a.key_file.as_ref().context(
            "a key file (--key-file) must be given when 'VALIDATE_ECDSA_P256_SHA256' boot validation is used",
        )?;
        let key = SigningKey::from_pem(&String::from_utf8_lossy(&read(path, "key file")?))
            .with_context(|| format!("key file {}", path.display()))?;
        if key.is_nrfutil_default_key() {
            // The same banner `rig pkg generate` prints (nrfutil's display_sec_warning).
            println!("{}", nrf_dfu::package::Warning::DefaultKey.nrfutil_text());
        }
        Some(key)
    } else {
        None
    };
    let app = a
        .application
        .as_ref()
        .map(|p| firmware(p, "application"))
        .transpose()?;
    let sd = a
        .softdevice
        .as_ref()
        .map(|p| firmware(p, "softdevice"))
        .transpose()?;
    let opts = GenerateOptions {
        family,
        application: app.as_deref(),
        application_version,
        bootloader_version: a.bootloader_version,
        bl_settings_version: a.bl_settings_version,
        start_address: a.start_address,
        backup,
        app_boot_validation: app_bv,
        sd_boot_validation: sd_bv,
        softdevice: sd.as_deref(),
    };
    let sign = key.as_ref().map(|k| move |data: &[u8]| k.sign_nordic(data));
    let generated = generate(
        &opts,
        sign.as_ref().map(|f| f as &dyn Fn(&[u8]) -> [u8; 64]),
    )?;
    let segments = Segments::from_runs(
        generated
            .segments()
            .iter()
            .map(|(addr, b)| (*addr, b.as_slice())),
    )?;
    std::fs::write(&a.hex_file, write_intel_hex(&segments))
        .with_context(|| format!("writing {}", a.hex_file))?;
    println!(
        "\nGenerated Bootloader DFU settings .hex file and stored it in: {}",
        a.hex_file
    );
    let summary = NrfutilSummary {
        file: &a.hex_file,
        family: family.arch_str(),
        address: generated.address,
        page: &generated.page,
    };
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

fn pages_from_bin(a: &DisplayArgs, main: Vec<u8>) -> anyhow::Result<SettingsPages> {
    let page = |mut b: Vec<u8>, path: &PathBuf| -> anyhow::Result<Vec<u8>> {
        if b.len() > 4096 {
            bail!(
                "{}: a raw .bin must hold one settings page (at most 4096 bytes), it has {}",
                path.display(),
                b.len()
            );
        }
        b.resize(4096, 0xFF);
        Ok(b)
    };
    let address = a.start_address.unwrap_or(Family::Nrf52.settings_address());
    let backup = a
        .backup
        .as_ref()
        .map(|p| page(read(p, "backup page")?, p))
        .transpose()?;
    Ok(SettingsPages {
        address,
        family: [Family::Nrf52, Family::Nrf52Qfab]
            .into_iter()
            .find(|f| f.settings_address() == address),
        main: page(main, &a.hex_file)?,
        backup_address: address.wrapping_sub(0x1000),
        backup,
    })
}

fn run_display(a: DisplayArgs) -> anyhow::Result<ExitCode> {
    let bytes = read(&a.hex_file, "settings file")?;
    let name = a.hex_file.to_string_lossy().to_string();
    let pages = if name.ends_with(".bin") {
        pages_from_bin(&a, bytes)?
    } else {
        if a.backup.is_some() {
            bail!("--backup is for a raw .bin page; an Intel HEX file carries its own backup page");
        }
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("{name}: not an Intel HEX text file"))?;
        let segments = parse_intel_hex(text).with_context(|| format!("{name}: Intel HEX"))?;
        locate_settings(&segments, a.start_address).with_context(|| name.clone())?
    };
    let layout = a.layout.map(|l| match l {
        LayoutArg::Sdk12 => SettingsLayout::Sdk12,
        LayoutArg::V1 => SettingsLayout::V1,
        LayoutArg::V2 => SettingsLayout::V2,
    });
    let report = SettingsReport::new(&pages, layout).with_context(|| {
        format!(
            "{name}: settings page at {:#010x} (use --layout to force one)",
            pages.address
        )
    })?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text(&name));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: SettingsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SettingsCmd::Generate(a) => run_generate(a),
        SettingsCmd::Display(a) => run_display(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_nrfutil_reads_them() {
        assert_eq!(nrfutil_int("10"), Ok(10));
        assert_eq!(nrfutil_int("0x10"), Ok(16));
        assert_eq!(nrfutil_int("0X7f000"), Ok(0x7F000));
        assert_eq!(nrfutil_int("010"), Ok(8));
        assert_eq!(nrfutil_int("0"), Ok(0));
        assert_eq!(nrfutil_int("-1"), Ok(0xFFFF_FFFF));
        assert_eq!(nrfutil_int("0x1FFFFFFFF"), Ok(0xFFFF_FFFF));
        assert!(nrfutil_int("08").is_err());
        assert!(nrfutil_int("none").is_err());
        assert!(nrfutil_int("1.5").is_err());
    }

    #[test]
    fn version_strings() {
        assert_eq!(version_string("2.7.31").unwrap(), 20731);
        assert_eq!(version_string("1.0.0").unwrap(), 10000);
        assert!(version_string("1.2").is_err());
        assert!(version_string("1.x.3").is_err());
    }
}
