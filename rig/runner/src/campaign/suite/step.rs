//! The steps of a suite, one YAML mapping each with a single key naming the step:
//! `flash`, `dfu`, `expect`, `verify`, `power`, `enter_dfu`, `wait`, `inspect`.

use super::fault::Fault;
use super::image_ref::ImageRef;
use crate::campaign::outcome::Outcome;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Program images through SWD.
    Flash(FlashStep),
    /// One over-the-air update, optionally with a fault.
    Dfu(DfuStep),
    /// The outcomes the previous dfu step may have.
    Expect(ExpectStep),
    /// Read the device back through SWD and check it.
    Verify(VerifyStep),
    /// Switch the DUT's power.
    Power(PowerStep),
    /// Put the device into DFU mode.
    EnterDfu(EnterDfu),
    /// Pause.
    Wait(WaitStep),
    /// Reset the device through SWD, optionally leaving a value in GPREGRET first (what an
    /// application that uses GPREGRET for its own flags leaves behind).
    Reset(ResetStep),
    /// Read settings page, UICR, app CRC, GPREGRET, RESETREAS into the iteration's evidence.
    Inspect,
}

impl Step {
    /// The step's key in YAML.
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Flash(_) => StepKind::Flash,
            Step::Dfu(_) => StepKind::Dfu,
            Step::Expect(_) => StepKind::Expect,
            Step::Verify(_) => StepKind::Verify,
            Step::Power(_) => StepKind::Power,
            Step::EnterDfu(_) => StepKind::EnterDfu,
            Step::Wait(_) => StepKind::Wait,
            Step::Inspect => StepKind::Inspect,
            Step::Reset(_) => StepKind::Reset,
        }
    }

    /// The step's own timeout, if it sets one.
    pub fn own_timeout_ms(&self) -> Option<u64> {
        match self {
            Step::Flash(s) => s.timeout_ms,
            Step::Dfu(s) => s.timeout_ms,
            Step::Verify(s) => s.timeout_ms,
            _ => None,
        }
    }
}

/// Step names, for messages and per-kind timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    Flash,
    Dfu,
    Expect,
    Verify,
    Power,
    EnterDfu,
    Wait,
    Inspect,
    Reset,
}

impl StepKind {
    pub fn key(self) -> &'static str {
        match self {
            StepKind::Flash => "flash",
            StepKind::Dfu => "dfu",
            StepKind::Expect => "expect",
            StepKind::Verify => "verify",
            StepKind::Power => "power",
            StepKind::EnterDfu => "enter_dfu",
            StepKind::Wait => "wait",
            StepKind::Inspect => "inspect",
            StepKind::Reset => "reset",
        }
    }
}

/// Program through SWD. Each image is a file or a stand-in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlashStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbr: Option<ImageRef>,
    /// A SoftDevice hex (Nordic's include the MBR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub softdevice: Option<ImageRef>,
    /// A bootloader hex (with its UICR words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootloader: Option<ImageRef>,
    /// An application hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<ImageRef>,
    /// Further hex files, programmed after the named ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ImageRef>,
    /// `all`: mass erase first (UICR included); `pages`: erase only the pages written.
    #[serde(default)]
    pub erase: Erase,
    /// Write a bootloader settings page that marks `app` valid (as `nrfutil settings generate`);
    /// defaults to true when `app` is given, else the bootloader starts in DFU mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl FlashStep {
    /// Every image of the step in programming order.
    pub fn images(&self) -> impl Iterator<Item = &ImageRef> {
        [&self.mbr, &self.softdevice, &self.bootloader, &self.app]
            .into_iter()
            .flatten()
            .chain(self.files.iter())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Erase {
    /// Mass erase (ERASEALL) before programming, UICR included.
    All,
    /// Erase only the pages the images cover.
    #[default]
    Pages,
}

/// One over-the-air update.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DfuStep {
    /// A prebuilt DFU zip (relative to the suite file), sent as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PathBuf>,
    /// An application image to package and sign with the bench key for each iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    /// The init packet's fw_version for `image` (default `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionStrategy>,
    /// SoftDevice FWIDs the package accepts (`--sd-req`); the installed SoftDevice's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd_req: Option<Vec<u16>>,
    /// The DUT's own transport when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// Packet receipt notification interval (0 = off); the client's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prn: Option<u16>,
    /// ATT MTU to request (BLE) or to assume (serial); the profile's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u16>,
    /// Continue the previous dfu step's update from where the bootloader says it stopped.
    /// Without `package` or `image` it sends the previous step's package again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resume: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Flip this byte of the firmware after the package is signed: the image no longer matches
    /// the init packet's hash, which the bootloader must refuse at the final EXECUTE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt_byte: Option<u32>,
    /// On resume, EXECUTE an init packet the device holds whole (default true, as nrfutil and
    /// the mobile libraries do); false checks that the bootloader restored it at boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reexecute_init: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// How the application version is chosen for each iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum VersionStrategy {
    /// One above the installed version, every iteration, so downgrade protection never blocks a
    /// soak.
    Next,
    /// Always this version (an SDK bootloader accepts the same version again by default).
    Fixed(u32),
    /// A debug package (`is_debug`, version 0): a debug bootloader skips the version checks.
    Debug,
}

/// The DFU transport of a suite's images and steps (`ble` or `uart`).
pub use nrf_dfu::wire::Transport;

/// The outcomes the previous dfu step may end in; any other is a `dut.verify.outcome` failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    pub outcome: Vec<Outcome>,
}

/// Read-back checks through SWD; each one given is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyStep {
    /// Settings page (and backup, where the SDK has one) has a valid CRC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_valid: Option<bool>,
    /// Bank 0 size and CRC match the image last sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank0_matches_image: Option<bool>,
    /// The settings page's app_version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<ExpectedVersion>,
    /// What runs after a reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<Running>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl VerifyStep {
    pub fn checks_anything(&self) -> bool {
        self.settings_valid.is_some()
            || self.bank0_matches_image.is_some()
            || self.app_version.is_some()
            || self.running.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ExpectedVersion {
    /// The version of the package the last dfu step sent.
    Sent,
    /// The version installed before the last dfu step.
    Previous,
    /// Exactly this version.
    Exactly(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Running {
    NewApp,
    OldApp,
    Bootloader,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerStep {
    pub action: PowerAction,
    /// Off time of a `cycle` (default 500 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PowerAction {
    Cycle,
    Off,
    On,
}

/// How the device is put into DFU mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EnterDfu {
    /// The app's buttonless DFU characteristic (BLE).
    Buttonless,
    /// GPREGRET = 0xB1 and a soft reset through SWD.
    Swd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetStep {
    /// Written to GPREGRET (through SWD) before the soft reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpregret: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    pub ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::suite::fault::{FaultAction, FaultAt};
    use crate::campaign::suite::image_ref::StandIn;

    #[test]
    fn steps_read_from_yaml() {
        let yaml = r#"
- flash: { softdevice: ../firmware/sim/s132-7.2.0.hex, bootloader: standin:bootloader-17.1-ble, erase: all }
- enter_dfu: buttonless
- dfu: { image: ../firmware/sim/app-b.hex, version: next, prn: 12, mtu: 247, sd_req: [0x101], fault: { action: reset, at: { percent: 50 } } }
- expect: { outcome: [old-app-running, dfu-mode] }
- dfu: { resume: true }
- dfu: { image: standin:app-a, version: { fixed: 1 } }
- dfu: { package: pkg.zip, transport: uart }
- verify: { settings_valid: true, app_version: sent, running: new-app }
- verify: { app_version: { exactly: 7 } }
- power: { action: cycle, off_ms: 300 }
- wait: { ms: 250 }
- inspect
"#;
        let steps: Vec<Step> = crate::campaign::suite::yaml::from_str(yaml).unwrap();
        let kinds: Vec<&str> = steps.iter().map(|s| s.kind().key()).collect();
        assert_eq!(
            kinds,
            [
                "flash",
                "enter_dfu",
                "dfu",
                "expect",
                "dfu",
                "dfu",
                "dfu",
                "verify",
                "verify",
                "power",
                "wait",
                "inspect"
            ]
        );
        let Step::Flash(f) = &steps[0] else { panic!() };
        assert_eq!(f.erase, Erase::All);
        assert_eq!(f.images().count(), 2);
        assert_eq!(
            f.bootloader,
            Some(ImageRef::StandIn("bootloader-17.1-ble".parse().unwrap()))
        );
        let Step::Dfu(d) = &steps[2] else { panic!() };
        assert_eq!(d.version, Some(VersionStrategy::Next));
        assert_eq!((d.prn, d.mtu), (Some(12), Some(247)));
        assert_eq!(d.sd_req, Some(vec![0x101]));
        assert_eq!(d.fault.as_ref().unwrap().action, FaultAction::Reset);
        assert_eq!(d.fault.as_ref().unwrap().at, FaultAt::Percent(50.0));
        let Step::Expect(e) = &steps[3] else { panic!() };
        assert_eq!(e.outcome, [Outcome::OldAppRunning, Outcome::DfuMode]);
        let Step::Dfu(d) = &steps[4] else { panic!() };
        assert!(d.resume && d.image.is_none());
        let Step::Dfu(d) = &steps[5] else { panic!() };
        assert_eq!(d.version, Some(VersionStrategy::Fixed(1)));
        assert_eq!(d.image, Some(ImageRef::StandIn(StandIn::App('a'))));
        let Step::Dfu(d) = &steps[6] else { panic!() };
        assert_eq!(d.transport, Some(Transport::Uart));
        let Step::Verify(v) = &steps[7] else { panic!() };
        assert_eq!(v.running, Some(Running::NewApp));
        assert_eq!(v.app_version, Some(ExpectedVersion::Sent));
        let Step::Verify(v) = &steps[8] else { panic!() };
        assert_eq!(v.app_version, Some(ExpectedVersion::Exactly(7)));
        assert_eq!(
            steps[9],
            Step::Power(PowerStep {
                action: PowerAction::Cycle,
                off_ms: Some(300)
            })
        );
        assert_eq!(steps[10], Step::Wait(WaitStep { ms: 250 }));
        // Round trip through YAML keeps every step.
        let again: Vec<Step> = crate::campaign::suite::yaml::from_str(
            &crate::campaign::suite::yaml::to_string(&steps).unwrap(),
        )
        .unwrap();
        assert_eq!(again, steps);
    }

    #[test]
    fn unknown_keys_are_errors() {
        for (yaml, want) in [
            (
                "- flash: { app: a.hex, fault: { action: reset, at: { percent: 1 } } }",
                "unknown field `fault`",
            ),
            ("- dfu: { image: a.hex, prm: 1 }", "unknown field `prm`"),
            ("- reboot: {}", "unknown variant `reboot`"),
            (
                "- expect: { outcome: [bricke] }",
                "unknown variant `bricke`",
            ),
            (
                "- power: { action: off, off_ms: 1, extra: 2 }",
                "unknown field `extra`",
            ),
        ] {
            let e = crate::campaign::suite::yaml::from_str::<Vec<Step>>(yaml).unwrap_err();
            assert!(e.to_string().contains(want), "{yaml}: {e}");
            assert!(e.location().is_some(), "{yaml}: no location");
        }
    }
}
