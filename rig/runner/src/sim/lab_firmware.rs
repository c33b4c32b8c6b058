//! `rig lab up --firmware [NAME=]HEX[,HEX...]`: Intel HEX images preloaded into a fresh lab
//! DUT's flash and UICR before its first boot, so an emulated DUT starts running them without
//! a `rig flash`. Parsing is nrf-dfu's (`parse_intel_hex`, as `rig flash` reads HEX); this
//! module adds what a preload must refuse: addresses outside code flash and the UICR, named by
//! file and record line.

use nrf_dfu::image::parse_intel_hex;
use nrf_dfu::memory_map::{UICR_BASE, UICR_SIZE};
use nrf_dfu::Chip;
use std::path::{Path, PathBuf};
use virtual_nrf52::Segment;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FirmwareError {
    #[error("--firmware {path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--firmware {path}: not Intel HEX text (a .hex file is ASCII records; convert an ELF or .bin with objcopy -O ihex)")]
    NotText { path: PathBuf },
    #[error("--firmware {path}: {source}")]
    Hex {
        path: PathBuf,
        source: nrf_dfu::image::HexError,
    },
    #[error("--firmware {path}: holds no data records")]
    Empty { path: PathBuf },
    #[error(
        "--firmware {path}: line {line}: data at {start:#010x}..{end:#010x} is outside the \
         {chip}'s code flash (0x00000000..{flash_end:#010x}) and UICR \
         ({UICR_BASE:#010x}..{uicr_end:#010x}); a preload writes only those"
    )]
    Outside {
        path: PathBuf,
        line: usize,
        start: u64,
        end: u64,
        chip: String,
        flash_end: u32,
        uicr_end: u32,
    },
    #[error("--firmware {spec:?}: {message}")]
    Spec { spec: String, message: String },
}

/// Whether `[start, end)` lies in code flash or in the UICR.
fn writable(chip: Chip, start: u64, end: u64) -> bool {
    end <= chip.flash_size() as u64
        || (start >= UICR_BASE as u64 && end <= (UICR_BASE + UICR_SIZE) as u64)
}

/// The 1-based line of the first data record of `text` (already parsed, so well formed)
/// holding a byte outside flash and UICR, with that record's address range.
fn first_record_outside(chip: Chip, text: &str) -> Option<(usize, u64, u64)> {
    let mut base: u64 = 0;
    for (i, raw) in text.lines().enumerate() {
        let r = raw.trim();
        let Some(hex) = r.strip_prefix(':') else {
            continue;
        };
        let byte = |k: usize| u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok();
        let (Some(len), Some(hi), Some(lo), Some(kind)) = (byte(0), byte(1), byte(2), byte(3))
        else {
            continue;
        };
        let field = || Some(((byte(4)? as u64) << 8) | byte(5)? as u64);
        match kind {
            0x00 => {
                let start = base + (((hi as u64) << 8) | lo as u64);
                let end = start + len as u64;
                if len > 0 && !writable(chip, start, end) {
                    return Some((i + 1, start, end));
                }
            }
            0x02 => base = field()? << 4,
            0x04 => base = field()? << 16,
            0x01 => break,
            _ => {}
        }
    }
    None
}

/// One HEX file's bytes, checked to fall in `chip`'s code flash or UICR.
pub fn load_hex(path: &Path, chip: Chip) -> Result<Vec<Segment>, FirmwareError> {
    let bytes = std::fs::read(path).map_err(|source| FirmwareError::Read {
        path: path.into(),
        source,
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| FirmwareError::NotText { path: path.into() })?;
    let segs = parse_intel_hex(&text).map_err(|source| FirmwareError::Hex {
        path: path.into(),
        source,
    })?;
    if segs.is_empty() {
        return Err(FirmwareError::Empty { path: path.into() });
    }
    if let Some((line, start, end)) = first_record_outside(chip, &text) {
        return Err(FirmwareError::Outside {
            path: path.into(),
            line,
            start,
            end,
            chip: chip.to_string(),
            flash_end: chip.flash_size(),
            uicr_end: UICR_BASE + UICR_SIZE,
        });
    }
    Ok(segs.runs().map(|(a, b)| (a, b.to_vec())).collect())
}

/// Which files go into which DUT: every `--firmware` value is `[NAME=]HEX[,HEX...]`; a value
/// without `NAME=` goes into every DUT of `duts`. A DUT's files in the order given.
pub fn parse_spec(
    values: &[String],
    duts: &[String],
) -> Result<Vec<(String, Vec<PathBuf>)>, FirmwareError> {
    let mut out: Vec<(String, Vec<PathBuf>)> = duts.iter().map(|d| (d.clone(), vec![])).collect();
    for v in values {
        let spec_err = |message: String| FirmwareError::Spec {
            spec: v.clone(),
            message,
        };
        // NAME= only when what precedes '=' names no path (a file name may hold '=').
        let (target, files) = match v.split_once('=') {
            Some((n, f)) if !n.is_empty() && !n.contains('/') && !n.contains('.') => {
                if !duts.iter().any(|d| d == n) {
                    return Err(spec_err(format!(
                        "no DUT named {n:?} in this lab (it has: {})",
                        duts.join(", ")
                    )));
                }
                (Some(n), f)
            }
            _ => (None, v.as_str()),
        };
        let files: Vec<PathBuf> = files
            .split(',')
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .collect();
        if files.is_empty() {
            return Err(spec_err(
                "names no file: give [NAME=]HEX[,HEX...], e.g. mbr.hex,bootloader.hex".into(),
            ));
        }
        for (name, list) in out.iter_mut() {
            if target.is_none_or(|t| t == name) {
                list.extend(files.iter().cloned());
            }
        }
    }
    out.retain(|(_, l)| !l.is_empty());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::image::{write_intel_hex, Segments};

    fn hex_file(dir: &Path, name: &str, runs: &[(u32, &[u8])]) -> PathBuf {
        let mut s = Segments::new();
        for (a, b) in runs {
            s.insert(*a, b).unwrap();
        }
        let p = dir.join(name);
        std::fs::write(&p, write_intel_hex(&s)).unwrap();
        p
    }

    #[test]
    fn flash_and_uicr_records_load_and_anything_else_is_named_by_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        let ok = hex_file(
            d.path(),
            "ok.hex",
            &[
                (0x1000, &[1, 2, 3, 4]),
                (0x1000_1014, &[0x00, 0x80, 0x07, 0x00]),
            ],
        );
        let segs = load_hex(&ok, Chip::Nrf52832Qfaa).unwrap();
        assert_eq!(
            segs,
            vec![
                (0x1000, vec![1, 2, 3, 4]),
                (0x1000_1014, vec![0x00, 0x80, 0x07, 0x00])
            ]
        );
        // 0x40000 is past a QFAB's 256 KB but inside a QFAA's 512 KB.
        let high = hex_file(d.path(), "high.hex", &[(0x1000, &[9]), (0x4_0000, &[7])]);
        assert!(load_hex(&high, Chip::Nrf52832Qfaa).is_ok());
        let e = load_hex(&high, Chip::Nrf52832Qfab).unwrap_err().to_string();
        assert!(
            e.contains("high.hex: line 4: data at 0x00040000..0x00040001"),
            "{e}"
        );
        assert!(e.contains("code flash (0x00000000..0x00040000)"), "{e}");
        // RAM is not flash.
        let ram = hex_file(d.path(), "ram.hex", &[(0x2000_0000, &[1, 2])]);
        let e = load_hex(&ram, Chip::Nrf52832Qfaa).unwrap_err().to_string();
        assert!(
            e.contains("ram.hex: line 2: data at 0x20000000..0x20000002"),
            "{e}"
        );
    }

    #[test]
    fn unreadable_and_malformed_files_say_which_and_where() {
        let d = tempfile::tempdir().unwrap();
        let e = load_hex(&d.path().join("none.hex"), Chip::Nrf52832Qfaa)
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.hex: cannot read it"), "{e}");
        let bad = d.path().join("bad.hex");
        std::fs::write(&bad, ":020000040000FA\n:0400000001020304F1\n:00000001FF\n").unwrap();
        let e = load_hex(&bad, Chip::Nrf52832Qfaa).unwrap_err().to_string();
        assert!(e.contains("bad.hex: line 2: bad checksum"), "{e}");
        let bin = d.path().join("bin.hex");
        std::fs::write(&bin, [0xFFu8, 0xFE, 0x00]).unwrap();
        let e = load_hex(&bin, Chip::Nrf52832Qfaa).unwrap_err().to_string();
        assert!(e.contains("not Intel HEX text"), "{e}");
        let empty = d.path().join("empty.hex");
        std::fs::write(&empty, ":00000001FF\n").unwrap();
        let e = load_hex(&empty, Chip::Nrf52832Qfaa)
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds no data"), "{e}");
    }

    #[test]
    fn a_spec_names_its_dut_or_goes_to_every_dut() {
        let duts = ["dut-0".to_string(), "dut-1".to_string()];
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let got = parse_spec(&v(&["mbr.hex", "dut-1=a.hex,b.hex"]), &duts).unwrap();
        assert_eq!(
            got,
            vec![
                ("dut-0".into(), vec![PathBuf::from("mbr.hex")]),
                (
                    "dut-1".into(),
                    vec!["mbr.hex".into(), "a.hex".into(), "b.hex".into()]
                ),
            ]
        );
        // A path with '=' in it is a path.
        let got = parse_spec(&v(&["dir/x=1.hex"]), &duts).unwrap();
        assert_eq!(got[0].1, vec![PathBuf::from("dir/x=1.hex")]);
        let e = parse_spec(&v(&["dut-7=a.hex"]), &duts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"dut-7=a.hex\": no DUT named \"dut-7\""), "{e}");
        let e = parse_spec(&v(&["dut-0="]), &duts).unwrap_err().to_string();
        assert!(e.contains("names no file"), "{e}");
    }
}
