//! `rig keys`: nrfutil 6.1.7's `keys generate` and `keys display`, same options, same output.

use anyhow::Context;
use nrf_dfu::package::CivilTime;
use nrf_dfu::signing::display::{key_display_text, DisplayError, KeyFormat, KeyPart};
use nrf_dfu::signing::SigningKey;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum KeysCmd {
    /// Generate a private key and store it in a file in PEM format.
    Generate {
        /// Where to write the key ("EC PRIVATE KEY" PEM, as nrfutil writes it).
        key_file: PathBuf,
    },
    /// Display the private key that is stored in a file in PEM format or a public key derived from it.
    Display {
        /// The private key PEM file.
        key_file: PathBuf,
        /// (pk|sk) Display the public key (pk) or the private key (sk).
        #[arg(long, value_enum)]
        key: KeyArg,
        /// (hex|code|pem) Display the key in hexadecimal format (hex), C code (code), or PEM
        /// (pem) format; dbgcode is C code guarded for debug bootloaders.
        #[arg(long, value_enum)]
        format: FormatArg,
        /// If provided, save the output in file out_file.
        #[arg(long = "out_file")]
        out_file: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum KeyArg {
    Pk,
    Sk,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum FormatArg {
    Hex,
    Code,
    Pem,
    Dbgcode,
}

/// nrfutil's `query_func`: "[y/N]", empty = no, loops on anything else; end of input = no.
fn confirm_overwrite(path: &Path) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    loop {
        println!(
            "File found at {}. Do you want to overwrite the file?  [y/N]",
            path.display()
        );
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(false);
        }
        match line.trim().to_lowercase().as_str() {
            "" | "n" | "no" => return Ok(false),
            "y" | "yes" => return Ok(true),
            _ => println!("Please respond with y/n"),
        }
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // nrfutil leaves the key world-readable (umask); a private key should not be.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn now_local() -> CivilTime {
    use chrono::{Datelike, Timelike};
    let now = chrono::Local::now();
    CivilTime {
        year: now.year().clamp(0, u16::MAX as i32) as u16,
        month: now.month() as u8,
        day: now.day() as u8,
        hour: now.hour() as u8,
        minute: now.minute() as u8,
        second: now.second() as u8,
    }
}

pub fn run(cmd: KeysCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCmd::Generate { key_file } => {
            if key_file.exists() && !confirm_overwrite(&key_file)? {
                println!("Key generation aborted.");
                return Ok(ExitCode::SUCCESS);
            }
            let key = SigningKey::generate()?;
            write_private(&key_file, &key.to_pem()?)?;
            println!(
                "Generated private key and stored it in: {}",
                key_file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        KeysCmd::Display {
            key_file,
            key,
            format,
            out_file,
        } => {
            if !key_file.is_file() {
                anyhow::bail!("File not found: {}", key_file.display());
            }
            let text = std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            let sk = SigningKey::from_pem(&text)
                .with_context(|| format!("key file {}", key_file.display()))?;
            if sk.is_nrfutil_default_key() {
                println!("{}", nrf_dfu::package::Warning::DefaultKey.nrfutil_text());
            }
            let part = match key {
                KeyArg::Pk => KeyPart::Public,
                KeyArg::Sk => KeyPart::Private,
            };
            let format = match format {
                FormatArg::Hex => KeyFormat::Hex,
                FormatArg::Code => KeyFormat::Code,
                FormatArg::Pem => KeyFormat::Pem,
                FormatArg::Dbgcode => KeyFormat::DebugCode,
            };
            let out = match key_display_text(&sk, part, format, now_local()) {
                Ok(t) => t,
                Err(e @ DisplayError::PrivateKeyAsCode) => {
                    eprintln!("Error: {e}");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            };
            match out_file {
                None => println!("{out}"),
                Some(p) => std::fs::write(&p, out)
                    .with_context(|| format!("cannot write {}", p.display()))?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
