//! The bench file and the bench it describes: load (with file:line:column errors), pick a DUT,
//! open its backends. No bench file means the virtual bench with one device, `virtual-0`.

pub mod open;
pub mod schema;
pub mod virtual_bench;

pub use schema::{BenchFile, Dut, PowerConfig};

use std::path::{Path, PathBuf};

/// The name of the virtual bench's default DUT.
pub const DEFAULT_VIRTUAL_DUT: &str = "virtual-0";

/// A bench file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no DUT named {wanted:?} on this bench (it has: {have})")]
    UnknownDut { wanted: String, have: String },
    #[error("this bench has {count} DUTs ({have}): choose one with --dut")]
    ChooseDut { count: usize, have: String },
}

/// Parse bench file text; `path` names it in errors.
pub fn parse(path: &Path, text: &str) -> Result<BenchFile, BenchError> {
    let bench: BenchFile = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        // serde_yaml appends " at line L column C" to some messages; the prefix carries it.
        let msg = e.to_string();
        let message = match msg.find(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        BenchError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    })?;
    if bench.duts.is_empty() {
        return Err(BenchError::Invalid {
            path: path.to_path_buf(),
            message: "`duts` is empty: name at least one DUT".into(),
        });
    }
    Ok(bench)
}

pub fn load(path: &Path) -> Result<BenchFile, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// The bench without a file: one virtual nRF52832 (QFAA) named `name`.
pub fn virtual_bench(name: &str) -> BenchFile {
    let mut duts = std::collections::BTreeMap::new();
    duts.insert(
        name.to_string(),
        Dut {
            chip: nrf_dfu::Chip::Nrf52832Qfaa,
            is_virtual: true,
            bootloader: None,
            probe: None,
            ble: None,
            serial: None,
            power: Some(PowerConfig::Virtual),
        },
    );
    BenchFile { lab: None, duts }
}

impl BenchFile {
    /// The DUT `wanted`, or the only one.
    pub fn dut(&self, wanted: Option<&str>) -> Result<(&str, &Dut), BenchError> {
        let have = || self.duts.keys().cloned().collect::<Vec<_>>().join(", ");
        match wanted {
            Some(w) => self
                .duts
                .get_key_value(w)
                .map(|(k, d)| (k.as_str(), d))
                .ok_or_else(|| BenchError::UnknownDut {
                    wanted: w.to_string(),
                    have: have(),
                }),
            None if self.duts.len() == 1 => {
                let (k, d) = self.duts.iter().next().expect("one DUT");
                Ok((k.as_str(), d))
            }
            None => Err(BenchError::ChooseDut {
                count: self.duts.len(),
                have: have(),
            }),
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
