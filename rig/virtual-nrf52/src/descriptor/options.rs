//! The bootloader's `sdk_config.h` build options that change what it does during an update, under
//! their SDK names, with the default each SDK's `examples/dfu/secure_bootloader/pca10040_s132_ble`
//! (12.3: `examples/dfu/bootloader_secure/pca10040`) `config/sdk_config.h` ships.
//!
//! An option exists from the SDK named by [`BuildOption::since`]; before it, the behaviour is
//! fixed in code and the option cannot be set (a clear error, not a silent no-op). Where the
//! behaviour lives:
//!
//! | option | since | behaviour (SDK, file, function) |
//! |---|---|---|
//! | `NRF_DFU_SAVE_PROGRESS_IN_FLASH` (0) | 15.0 | 15.2/15.3/17.1 `nrf_dfu_req_handler.c` `on_data_obj_execute_request_sched`: after a data EXECUTE's response, `nrf_dfu_settings_write[_and_backup]` only when set. 12.3 `dfu_req_handling.c` `nrf_dfu_data_req` writes the settings at every data EXECUTE, always |
//! | `NRF_BL_DFU_INACTIVITY_TIMEOUT_MS` (120000) | 14 | 17.1 `nrf_bootloader.c` `dfu_observer` / `nrf_bootloader_dfu_inactivity_timer_restart`; 0 disables; 12.3 has no timer |
//! | `NRF_DFU_APP_DOWNGRADE_PREVENTION` (1) | 15.0 | 15.2/17.1 `nrf_dfu_ver_validation.c` `fw_version_ok`; 12.3 `dfu_req_handling.c` `dfu_handle_prevalidate` always refuses a lower version |
//! | `NRF_DFU_APP_ACCEPT_SAME_VERSION` (1) | 15.3 | 15.3/17.1 `nrf_dfu_ver_validation.c` `fw_version_ok`; 15.2 accepts `>=`, 12.3 refuses only `<` |
//! | `NRF_DFU_REQUIRE_SIGNED_APP_UPDATE` (1) | 15.0 | 15.2/17.1 `nrf_dfu_validation.c` `signature_required` (application only; bootloader and SoftDevice images always need a signature); 12.3 always checks |
//! | `NRF_DFU_SINGLE_BANK_APP_UPDATES` (0) | 15.0 | 15.2/17.1 `nrf_dfu_validation.c` `use_single_bank` |
//! | `NRF_DFU_BLE_REQUIRES_BONDS` (0) | 14 | 17.1 `nrf_dfu_ble.c` (`#if NRF_DFU_BLE_REQUIRES_BONDS`: encrypted CP/Packet, no address +1, peer data from the app) |
//!
//! `NRF_DFU_SAVE_PROGRESS_IN_FLASH` decides what survives a reset in 15+; on 16/17 it also
//! decides what survives a BLE link loss, because `nrf_bootloader.c` `dfu_observer` reloads the
//! settings from flash (`nrf_dfu_settings_reinit`) on `NRF_DFU_EVT_TRANSPORT_DEACTIVATED`, which
//! 17.1 `nrf_dfu_ble.c` raises on disconnect (15.3's `nrf_dfu_ble.c` does not raise it).

use super::bootloader::BootloaderDescriptor;
use nrf_dfu::SdkVersion;
use std::collections::BTreeMap;
use std::fmt;

/// One option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BuildOption {
    SaveProgressInFlash,
    InactivityTimeoutMs,
    AppDowngradePrevention,
    AppAcceptSameVersion,
    RequireSignedAppUpdate,
    SingleBankAppUpdates,
    BleRequiresBonds,
}

/// An option could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unknown bootloader option `{0}`: expected one of {list}", list = BuildOption::ALL.map(BuildOption::name).join(", "))]
    Unknown(String),
    #[error("{name} does not exist in {sdk} (it appears in {since}); remove it or pick a newer bootloader")]
    NotInSdk {
        name: &'static str,
        sdk: SdkVersion,
        since: SdkVersion,
    },
    #[error("{name} = {value}: {reason}")]
    Value {
        name: &'static str,
        value: u32,
        reason: &'static str,
    },
}

impl BuildOption {
    pub const ALL: [BuildOption; 7] = [
        BuildOption::SaveProgressInFlash,
        BuildOption::InactivityTimeoutMs,
        BuildOption::AppDowngradePrevention,
        BuildOption::AppAcceptSameVersion,
        BuildOption::RequireSignedAppUpdate,
        BuildOption::SingleBankAppUpdates,
        BuildOption::BleRequiresBonds,
    ];

    /// The `sdk_config.h` name.
    pub fn name(self) -> &'static str {
        match self {
            BuildOption::SaveProgressInFlash => "NRF_DFU_SAVE_PROGRESS_IN_FLASH",
            BuildOption::InactivityTimeoutMs => "NRF_BL_DFU_INACTIVITY_TIMEOUT_MS",
            BuildOption::AppDowngradePrevention => "NRF_DFU_APP_DOWNGRADE_PREVENTION",
            BuildOption::AppAcceptSameVersion => "NRF_DFU_APP_ACCEPT_SAME_VERSION",
            BuildOption::RequireSignedAppUpdate => "NRF_DFU_REQUIRE_SIGNED_APP_UPDATE",
            BuildOption::SingleBankAppUpdates => "NRF_DFU_SINGLE_BANK_APP_UPDATES",
            BuildOption::BleRequiresBonds => "NRF_DFU_BLE_REQUIRES_BONDS",
        }
    }

    pub fn from_name(name: &str) -> Result<BuildOption, OptionError> {
        BuildOption::ALL
            .into_iter()
            .find(|o| o.name() == name.trim())
            .ok_or_else(|| OptionError::Unknown(name.to_string()))
    }

    /// The first SDK whose bootloader has the option (table above; 14 for the two the 14.2
    /// `sdk_config.h` already carries in this model, unverified beyond it).
    pub fn since(self) -> SdkVersion {
        match self {
            BuildOption::InactivityTimeoutMs | BuildOption::BleRequiresBonds => SdkVersion::Sdk14,
            BuildOption::AppAcceptSameVersion => SdkVersion::Sdk15_3,
            _ => SdkVersion::Sdk15_0,
        }
    }

    pub fn exists_in(self, sdk: SdkVersion) -> bool {
        sdk >= self.since()
    }

    /// The value `sdk`'s example `sdk_config.h` ships (all SDKs that have it agree).
    pub fn sdk_default(self) -> u32 {
        match self {
            BuildOption::SaveProgressInFlash => 0,
            BuildOption::InactivityTimeoutMs => 120_000,
            BuildOption::AppDowngradePrevention => 1,
            BuildOption::AppAcceptSameVersion => 1,
            BuildOption::RequireSignedAppUpdate => 1,
            BuildOption::SingleBankAppUpdates => 0,
            BuildOption::BleRequiresBonds => 0,
        }
    }

    /// The value in force in `d`.
    pub fn get(self, d: &BootloaderDescriptor) -> u32 {
        match self {
            BuildOption::SaveProgressInFlash => d.save_progress_in_flash as u32,
            BuildOption::InactivityTimeoutMs => d.inactivity_timeout_ms,
            BuildOption::AppDowngradePrevention => d.app_downgrade_prevention as u32,
            BuildOption::AppAcceptSameVersion => d.app_accept_same_version as u32,
            BuildOption::RequireSignedAppUpdate => d.require_signed_app_update as u32,
            BuildOption::SingleBankAppUpdates => d.single_bank as u32,
            BuildOption::BleRequiresBonds => d.requires_bonds as u32,
        }
    }

    /// Build `d` with the option set to `value`.
    pub fn set(self, d: &mut BootloaderDescriptor, value: u32) -> Result<(), OptionError> {
        if !self.exists_in(d.profile) {
            return Err(OptionError::NotInSdk {
                name: self.name(),
                sdk: d.profile,
                since: self.since(),
            });
        }
        let flag = || match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(OptionError::Value {
                name: self.name(),
                value,
                reason: "must be 0 or 1",
            }),
        };
        match self {
            BuildOption::SaveProgressInFlash => d.save_progress_in_flash = flag()?,
            BuildOption::InactivityTimeoutMs => {
                // 17.1 nrf_bootloader.c STATIC_ASSERT: 100 ms or more, or 0 (disabled).
                if value != 0 && value < 100 {
                    return Err(OptionError::Value {
                        name: self.name(),
                        value,
                        reason: "must be 0 (no timeout) or at least 100 ms",
                    });
                }
                d.inactivity_timeout_ms = value
            }
            BuildOption::AppDowngradePrevention => d.app_downgrade_prevention = flag()?,
            BuildOption::AppAcceptSameVersion => d.app_accept_same_version = flag()?,
            BuildOption::RequireSignedAppUpdate => d.require_signed_app_update = flag()?,
            BuildOption::SingleBankAppUpdates => d.single_bank = flag()?,
            BuildOption::BleRequiresBonds => d.requires_bonds = flag()?,
        }
        Ok(())
    }
}

impl fmt::Display for BuildOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Set every `name = value` of `options` on `d` (names as in `sdk_config.h`).
pub fn apply(
    d: &mut BootloaderDescriptor,
    options: &BTreeMap<String, u32>,
) -> Result<(), OptionError> {
    for (name, value) in options {
        BuildOption::from_name(name)?.set(d, *value)?;
    }
    Ok(())
}

/// Check `options` against an SDK without a descriptor at hand (a lab DUT's declared build).
pub fn check(sdk: SdkVersion, options: &BTreeMap<String, u32>) -> Result<(), OptionError> {
    let mut d = BootloaderDescriptor::sdk_default(sdk, [0; 64]);
    apply(&mut d, options)
}

/// The options that exist in `d`'s SDK with their values, in table order.
pub fn in_force(d: &BootloaderDescriptor) -> Vec<(&'static str, u32)> {
    BuildOption::ALL
        .into_iter()
        .filter(|o| o.exists_in(d.profile))
        .map(|o| (o.name(), o.get(d)))
        .collect()
}

/// `NAME=value, ...` of [`in_force`]; SDK 12 has none of them ("none (SDK 12.3 fixed behaviour)").
pub fn describe(d: &BootloaderDescriptor) -> String {
    let v = in_force(d);
    if v.is_empty() {
        return format!("none ({} has no such options)", d.profile);
    }
    v.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Only the options that differ from the SDK default (short labels: file names, case names).
pub fn non_default(d: &BootloaderDescriptor) -> Vec<(&'static str, u32)> {
    BuildOption::ALL
        .into_iter()
        .filter(|o| o.exists_in(d.profile) && o.get(d) != o.sdk_default())
        .map(|o| (o.name(), o.get(d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(SdkVersion::Sdk12, 0)]
    #[case(SdkVersion::Sdk14, 2)]
    #[case(SdkVersion::Sdk15_2, 6)]
    #[case(SdkVersion::Sdk15_3, 7)]
    #[case(SdkVersion::Sdk17, 7)]
    fn options_per_sdk_with_shipped_defaults(#[case] sdk: SdkVersion, #[case] n: usize) {
        let d = BootloaderDescriptor::sdk_default(sdk, [0; 64]);
        let v = in_force(&d);
        assert_eq!(v.len(), n);
        for (name, value) in v {
            assert_eq!(
                BuildOption::from_name(name).unwrap().sdk_default(),
                value,
                "{name}"
            );
        }
        assert!(non_default(&d).is_empty());
    }

    #[test]
    fn set_and_refuse() {
        let mut d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [0; 64]);
        let m = BTreeMap::from([("NRF_DFU_SAVE_PROGRESS_IN_FLASH".to_string(), 1)]);
        apply(&mut d, &m).unwrap();
        assert!(d.save_progress_in_flash);
        assert_eq!(non_default(&d), vec![("NRF_DFU_SAVE_PROGRESS_IN_FLASH", 1)]);
        assert!(describe(&d).starts_with(
            "NRF_DFU_SAVE_PROGRESS_IN_FLASH=1, NRF_BL_DFU_INACTIVITY_TIMEOUT_MS=120000"
        ));
        let e = check(SdkVersion::Sdk12, &m).unwrap_err().to_string();
        assert!(
            e.contains("does not exist in SDK 12") && e.contains("15.0"),
            "{e}"
        );
        let e = check(
            SdkVersion::Sdk15_2,
            &BTreeMap::from([("NRF_DFU_APP_ACCEPT_SAME_VERSION".into(), 0)]),
        )
        .unwrap_err();
        assert!(matches!(e, OptionError::NotInSdk { .. }));
        let e = check(
            SdkVersion::Sdk17,
            &BTreeMap::from([("NRF_DFU_SAVE_PROGRESS".into(), 1)]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown bootloader option"));
        let e = check(
            SdkVersion::Sdk17,
            &BTreeMap::from([("NRF_DFU_SINGLE_BANK_APP_UPDATES".into(), 2)]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("must be 0 or 1"));
        let e = check(
            SdkVersion::Sdk17,
            &BTreeMap::from([("NRF_BL_DFU_INACTIVITY_TIMEOUT_MS".into(), 50)]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("at least 100"));
    }
}
