//! An image named in a suite: a file (Intel HEX, binary or DFU zip) relative to the suite file,
//! or `standin:<name>`, a stand-in image the virtual bench builds for the DUT's chip (the same
//! set `rig sim images` writes to firmware/sim/, so a suite can use either).

use nrf_dfu::wire::Transport;
use nrf_dfu::SdkVersion;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use virtual_nrf52::softdevice::STAND_IN_SOFTDEVICES;

const STANDIN_PREFIX: &str = "standin:";

/// A file or a stand-in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ImageRef {
    /// Relative to the suite file's directory (or absolute).
    File(PathBuf),
    StandIn(StandIn),
}

impl ImageRef {
    /// The file this names, resolved against the suite's directory.
    pub fn resolve(&self, suite_dir: &Path) -> Option<PathBuf> {
        match self {
            ImageRef::File(p) => Some(suite_dir.join(p)),
            ImageRef::StandIn(_) => None,
        }
    }
}

/// A stand-in image by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StandIn {
    /// `mbr`: the MBR alone.
    Mbr,
    /// `s132-7.2.0`: an S132 SoftDevice with the MBR (index into the virtual device's set).
    SoftDevice(&'static str),
    /// `bootloader-17.1-ble`: a Secure DFU bootloader of an SDK profile over a transport, built
    /// with its SDK's `sdk_config.h` defaults, or (`bootloader-17.1-ble-save-progress-in-flash`)
    /// with `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1`, the one other build `rig sim images` writes.
    Bootloader {
        sdk: SdkVersion,
        transport: Transport,
        save_progress: bool,
    },
    /// `app-a` (version 1) or `app-b` (version 2): the sample application.
    App(char),
}

/// The SDK release each bootloader profile stands for in names (as firmware/sim/ file names).
fn profile_release(sdk: SdkVersion) -> &'static str {
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

/// File-name suffix of the save-progress build (`rig sim images`' name for the option).
const SAVE_PROGRESS_SUFFIX: &str = "-save-progress-in-flash";

/// The non-default builds in the stand-in set: SDK 17.1 over BLE with save-progress (what
/// interrupt-recovery sweeps besides the defaults; `sim::images::image_set`).
fn has_save_progress_build(sdk: SdkVersion, t: Transport) -> bool {
    sdk == SdkVersion::Sdk17 && t == Transport::Ble
}

/// SDK 12 shipped only the BLE secure bootloader; serial Secure DFU came with SDK 13/14
/// (SDK 12.3 `examples/dfu/bootloader_secure` has BLE builds only; 14.x adds
/// `serial_dfu/nrf_serial_dfu.c`).
fn has_transport(sdk: SdkVersion, t: Transport) -> bool {
    !(sdk == SdkVersion::Sdk12 && t == Transport::Uart)
}

impl StandIn {
    /// Every stand-in name, for error messages and the schema.
    pub fn all_names() -> Vec<String> {
        let mut names = vec!["mbr".to_string()];
        names.extend(
            STAND_IN_SOFTDEVICES
                .iter()
                .map(|s| format!("s132-{}", s.version_label)),
        );
        for sdk in SdkVersion::ALL {
            for t in [Transport::Ble, Transport::Uart] {
                if has_transport(sdk, t) {
                    names.push(format!("bootloader-{}-{}", profile_release(sdk), t.label()));
                }
            }
        }
        // After the defaults, as `rig sim images` writes them.
        for sdk in SdkVersion::ALL {
            for t in [Transport::Ble, Transport::Uart] {
                if has_save_progress_build(sdk, t) {
                    names.push(format!(
                        "bootloader-{}-{}{SAVE_PROGRESS_SUFFIX}",
                        profile_release(sdk),
                        t.label()
                    ));
                }
            }
        }
        names.push("app-a".into());
        names.push("app-b".into());
        names
    }

    /// The sample application's version (`app-a` is 1, `app-b` is 2).
    pub fn app_version(self) -> Option<u32> {
        match self {
            StandIn::App(c) => Some(c as u32 - 'a' as u32 + 1),
            _ => None,
        }
    }
}

impl fmt::Display for StandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StandIn::Mbr => f.write_str("mbr"),
            StandIn::SoftDevice(v) => write!(f, "s132-{v}"),
            StandIn::Bootloader {
                sdk,
                transport,
                save_progress,
            } => write!(
                f,
                "bootloader-{}-{}{}",
                profile_release(*sdk),
                transport.label(),
                if *save_progress {
                    SAVE_PROGRESS_SUFFIX
                } else {
                    ""
                }
            ),
            StandIn::App(c) => write!(f, "app-{c}"),
        }
    }
}

/// The name is not a stand-in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stand-in `{0}`: expected one of {choices}", choices = StandIn::all_names().join(", "))]
pub struct UnknownStandIn(pub String);

impl FromStr for StandIn {
    type Err = UnknownStandIn;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownStandIn(s.to_string());
        match s {
            "mbr" => return Ok(StandIn::Mbr),
            "app-a" => return Ok(StandIn::App('a')),
            "app-b" => return Ok(StandIn::App('b')),
            _ => {}
        }
        if let Some(v) = s.strip_prefix("s132-") {
            return STAND_IN_SOFTDEVICES
                .iter()
                .find(|sd| sd.version_label == v)
                .map(|sd| StandIn::SoftDevice(sd.version_label))
                .ok_or_else(unknown);
        }
        let rest = s.strip_prefix("bootloader-").ok_or_else(unknown)?;
        let (rest, save_progress) = match rest.strip_suffix(SAVE_PROGRESS_SUFFIX) {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let (release, transport) = rest.rsplit_once('-').ok_or_else(unknown)?;
        let transport = [Transport::Ble, Transport::Uart]
            .into_iter()
            .find(|t| t.label() == transport)
            .ok_or_else(unknown)?;
        let sdk = SdkVersion::ALL
            .into_iter()
            .find(|v| profile_release(*v) == release)
            .ok_or_else(unknown)?;
        if !has_transport(sdk, transport)
            || (save_progress && !has_save_progress_build(sdk, transport))
        {
            return Err(unknown());
        }
        Ok(StandIn::Bootloader {
            sdk,
            transport,
            save_progress,
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::File(p) => write!(f, "{}", p.display()),
            ImageRef::StandIn(s) => write!(f, "{STANDIN_PREFIX}{s}"),
        }
    }
}

impl FromStr for ImageRef {
    type Err = UnknownStandIn;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix(STANDIN_PREFIX) {
            Some(name) => Ok(ImageRef::StandIn(name.parse()?)),
            None => Ok(ImageRef::File(PathBuf::from(s))),
        }
    }
}

impl From<ImageRef> for String {
    fn from(r: ImageRef) -> String {
        r.to_string()
    }
}

impl TryFrom<String> for ImageRef {
    type Error = UnknownStandIn;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            return Err(UnknownStandIn(s));
        }
        s.parse()
    }
}

impl JsonSchema for ImageRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ImageRef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let standins: Vec<String> = StandIn::all_names()
            .into_iter()
            .map(|n| format!("{STANDIN_PREFIX}{n}"))
            .collect();
        schemars::json_schema!({
            "description": "A file relative to the suite file (Intel HEX, binary or DFU zip), or `standin:<name>` for a stand-in image the virtual bench builds for the DUT's chip",
            "anyOf": [
                { "type": "string", "enum": standins },
                { "type": "string", "minLength": 1, "not": { "pattern": "^standin:" } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("mbr", StandIn::Mbr)]
    #[case("s132-3.0.0", StandIn::SoftDevice("3.0.0"))]
    #[case("s132-7.2.0", StandIn::SoftDevice("7.2.0"))]
    #[case("bootloader-12.3-ble", StandIn::Bootloader { sdk: SdkVersion::Sdk12, transport: Transport::Ble, save_progress: false })]
    #[case("bootloader-15.3-uart", StandIn::Bootloader { sdk: SdkVersion::Sdk15_3, transport: Transport::Uart, save_progress: false })]
    #[case("bootloader-17.1-ble", StandIn::Bootloader { sdk: SdkVersion::Sdk17, transport: Transport::Ble, save_progress: false })]
    #[case("bootloader-17.1-ble-save-progress-in-flash", StandIn::Bootloader { sdk: SdkVersion::Sdk17, transport: Transport::Ble, save_progress: true })]
    #[case("app-a", StandIn::App('a'))]
    #[case("app-b", StandIn::App('b'))]
    fn stand_in_names(#[case] name: &str, #[case] s: StandIn) {
        assert_eq!(name.parse::<StandIn>().unwrap(), s);
        assert_eq!(s.to_string(), name);
        assert!(StandIn::all_names().contains(&name.to_string()));
    }

    #[rstest]
    #[case("bootloader-12.3-uart")] // SDK 12 had no serial Secure DFU
    #[case("bootloader-17-ble")] // names use the release, as the files do
    #[case("s132-5.0.0")]
    #[case("app-c")]
    #[case("bootloader-17.1")]
    #[case("bootloader-15.3-ble-save-progress-in-flash")] // not in the stand-in set
    fn unknown_stand_ins(#[case] name: &str) {
        let e = name.parse::<StandIn>().unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("bootloader-17.1-ble"), "{e}");
    }

    #[test]
    fn image_refs() {
        let f: ImageRef =
            crate::campaign::suite::yaml::from_str("../firmware/sim/app-a.hex").unwrap();
        assert_eq!(f, ImageRef::File("../firmware/sim/app-a.hex".into()));
        assert_eq!(
            f.resolve(Path::new("/s")),
            Some(PathBuf::from("/s/../firmware/sim/app-a.hex"))
        );
        let s: ImageRef = crate::campaign::suite::yaml::from_str("standin:app-b").unwrap();
        assert_eq!(s, ImageRef::StandIn(StandIn::App('b')));
        assert_eq!(s.resolve(Path::new("/s")), None);
        assert_eq!(
            crate::campaign::suite::yaml::to_string(&s).unwrap().trim(),
            "standin:app-b"
        );
        assert!(crate::campaign::suite::yaml::from_str::<ImageRef>("standin:app-z").is_err());
        assert!(crate::campaign::suite::yaml::from_str::<ImageRef>("''").is_err());
        assert_eq!(StandIn::App('a').app_version(), Some(1));
        assert_eq!(StandIn::App('b').app_version(), Some(2));
    }
}
