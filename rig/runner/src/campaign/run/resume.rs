//! What a bootloader build keeps of an interrupted transfer, by its SDK's rules, and how the
//! resume that followed compares: the offset it continued from, the bytes sent twice, and
//! whether a `restarted` was a failure because a resume was due.
//!
//! The rules, per fault (SDK sources):
//! - reset or power cut: the RAM state is gone; the bootloader restarts from its settings page.
//!   SDK 12.3 writes the page at every data EXECUTE (`dfu_req_handling.c` `nrf_dfu_data_req`);
//!   15+ writes it at the init EXECUTE and, after a data EXECUTE, only with
//!   `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1` (17.1 `nrf_dfu_req_handler.c`
//!   `on_data_obj_execute_request_sched`). What the page holds after the fault decides: it is
//!   read back, so a cut that hit the page write itself (SDK 12 has no backup) is not a miss.
//! - BLE link drop: 16 and 17 reload the settings from flash on
//!   `NRF_DFU_EVT_TRANSPORT_DEACTIVATED` (17.1 `nrf_bootloader.c` `dfu_observer` ->
//!   `nrf_dfu_settings_reinit`, raised by `nrf_dfu_ble.c` on disconnect), so they keep what a
//!   reset keeps; 12.3 and 15.x keep the RAM state (15.3 `nrf_dfu_ble.c` raises no such event),
//!   so the client continues inside the object it was sending.
//! - A 16/17 link drop reloads the settings while the bootloader runs on: the write queued after
//!   the last data EXECUTE may not be in flash yet, and 17.1 `nrf_dfu_settings.c`
//!   `nrf_dfu_settings_reinit` takes the progress from the backup page
//!   (`settings_forbidden_parts_copy_from_backup`), written last. Only the save before it (after
//!   the EXECUTE of the object before last) is sure to be there.

use crate::campaign::suite::FaultAction;
use nrf_dfu::client::{DataPlan, ImageReport};
use nrf_dfu::SdkVersion;
use virtual_nrf52::descriptor::{options, BootloaderDescriptor, Transport};

/// Data object size the Secure DFU bootloaders announce (SELECT max_size, 4096 in every SDK).
const OBJECT: u32 = 4096;

/// What survives a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Only the init packet: the data starts again at 0.
    Nothing,
    /// What the settings page holds.
    Flash,
    /// Everything received (RAM state kept).
    Ram,
}

impl Kept {
    pub fn label(self) -> &'static str {
        match self {
            Kept::Nothing => "nothing",
            Kept::Flash => "flash",
            Kept::Ram => "ram",
        }
    }
}

/// Whether `build` reloads its settings from flash on `action` while it keeps running (16/17
/// over BLE on a link drop), rather than at a reboot.
pub fn reloads_while_running(build: &BootloaderDescriptor, action: FaultAction) -> bool {
    matches!(action, FaultAction::LinkDrop)
        && build.transport == Transport::Ble
        && build.profile >= SdkVersion::Sdk16
}

/// The rule of `build` for `action` (module docs).
pub fn kept(build: &BootloaderDescriptor, action: FaultAction) -> Kept {
    let saves = build.profile == SdkVersion::Sdk12 || build.save_progress_in_flash;
    let persisted = if saves { Kept::Flash } else { Kept::Nothing };
    match action {
        FaultAction::LinkDrop
            if build.transport == Transport::Ble && build.profile >= SdkVersion::Sdk16 =>
        {
            persisted
        }
        FaultAction::LinkDrop => Kept::Ram,
        _ => persisted,
    }
}

/// Where the planned fault hit an update, and what its bootloader kept.
#[derive(Debug, Clone)]
pub struct FaultPoint {
    pub kept: Kept,
    /// 0-based data object the client was in, when the fault hit the data transfer.
    pub data_object: Option<u32>,
    /// The client's firmware offset then (0 before the data transfer).
    pub offset: u32,
    /// `firmware_image_offset_last` of a valid settings page with a stored init command, read
    /// back after the fault.
    pub persisted: Option<u32>,
    /// The interrupted update activated anyway (nothing left to resume).
    pub updated: bool,
    /// The bootloader reloaded its settings while it kept running (a 16/17 BLE link drop): the
    /// settings write after the last data EXECUTE may still have been queued then, so only
    /// the save before it is sure (module docs).
    pub reloaded_while_running: bool,
    /// SDK and options of the build, for the record.
    pub build: String,
}

impl FaultPoint {
    /// The offset a resume must reach at least, when the build's rule keeps any firmware.
    pub fn due_from(&self) -> Option<u32> {
        if self.updated {
            return None;
        }
        match self.kept {
            Kept::Nothing => None,
            Kept::Flash if self.reloaded_while_running => {
                // In object k the save of object k-1's EXECUTE can be queued behind nothing
                // sure; the save of object k-2's was drained before object k-1's EXECUTE was
                // answered (17.1 `on_data_obj_execute_request_sched` waits for an idle queue).
                let sure = self
                    .data_object
                    .filter(|&k| k >= 2)
                    .map(|k| (k - 1) * OBJECT)?;
                self.persisted.map(|p| p.min(sure)).filter(|&o| o > 0)
            }
            Kept::Flash => self.persisted.filter(|&o| o > 0),
            // Every object before the one being sent was executed and is held in RAM.
            Kept::Ram => self.data_object.filter(|&k| k >= 1).map(|k| k * OBJECT),
        }
    }
}

/// `nRF5 SDK 17.1 BLE, NRF_DFU_SAVE_PROGRESS_IN_FLASH=1, ...`
pub fn describe_build(b: &BootloaderDescriptor) -> String {
    let over = match b.transport {
        Transport::Ble => "BLE",
        Transport::Uart => "UART",
    };
    format!("{} {over}: {}", b.profile, options::describe(b))
}

/// The firmware offset the resumed transfer started from, for an image of `size` bytes.
pub fn resume_offset(reports: &[ImageReport], size: u32) -> u32 {
    match reports.first().map(|r| &r.data) {
        Some(DataPlan::Start { offset })
        | Some(DataPlan::ContinueObject { offset, .. })
        | Some(DataPlan::ExecuteAtBoundary { offset }) => *offset,
        Some(DataPlan::ExecuteFinal) => size,
        Some(DataPlan::RestartImage) | None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn build(sdk: SdkVersion, save: bool) -> BootloaderDescriptor {
        let mut d = BootloaderDescriptor::sdk_default(sdk, [0; 64]);
        d.save_progress_in_flash = save;
        d
    }

    #[rstest]
    #[case(SdkVersion::Sdk12, false, FaultAction::Reset, Kept::Flash)]
    #[case(SdkVersion::Sdk12, false, FaultAction::LinkDrop, Kept::Ram)]
    #[case(SdkVersion::Sdk15_3, false, FaultAction::Reset, Kept::Nothing)]
    #[case(SdkVersion::Sdk15_3, false, FaultAction::PowerCut { off_ms: 200 }, Kept::Nothing)]
    #[case(SdkVersion::Sdk15_3, false, FaultAction::LinkDrop, Kept::Ram)]
    #[case(SdkVersion::Sdk15_3, true, FaultAction::Reset, Kept::Flash)]
    #[case(SdkVersion::Sdk17, false, FaultAction::Reset, Kept::Nothing)]
    #[case(SdkVersion::Sdk17, false, FaultAction::LinkDrop, Kept::Nothing)]
    #[case(SdkVersion::Sdk17, true, FaultAction::Reset, Kept::Flash)]
    #[case(SdkVersion::Sdk17, true, FaultAction::LinkDrop, Kept::Flash)]
    #[case(SdkVersion::Sdk16, false, FaultAction::LinkDrop, Kept::Nothing)]
    fn rules_per_build_and_fault(
        #[case] sdk: SdkVersion,
        #[case] save: bool,
        #[case] action: FaultAction,
        #[case] k: Kept,
    ) {
        assert_eq!(kept(&build(sdk, save), action), k);
    }

    #[test]
    fn due_only_when_something_was_kept_and_not_activated() {
        let fp = |kept, data_object, persisted, updated| FaultPoint {
            kept,
            data_object,
            offset: 5000,
            persisted,
            updated,
            reloaded_while_running: false,
            build: String::new(),
        };
        assert_eq!(fp(Kept::Ram, Some(1), None, false).due_from(), Some(4096));
        assert_eq!(fp(Kept::Ram, Some(0), None, false).due_from(), None);
        assert_eq!(fp(Kept::Ram, None, None, false).due_from(), None);
        assert_eq!(
            fp(Kept::Flash, Some(2), Some(4096), false).due_from(),
            Some(4096)
        );
        assert_eq!(fp(Kept::Flash, Some(2), Some(0), false).due_from(), None);
        assert_eq!(fp(Kept::Flash, Some(2), Some(4096), true).due_from(), None);
        assert_eq!(
            fp(Kept::Nothing, Some(2), Some(4096), false).due_from(),
            None
        );
    }

    #[test]
    fn a_reload_while_running_only_counts_the_save_before_last() {
        let fp = |data_object, persisted| FaultPoint {
            kept: Kept::Flash,
            data_object: Some(data_object),
            offset: data_object * OBJECT + 100,
            persisted: Some(persisted),
            updated: false,
            reloaded_while_running: true,
            build: String::new(),
        };
        // In object 1 the save of object 0 may still be queued: no resume is due.
        assert_eq!(fp(1, 4096).due_from(), None);
        // In object 2 the save after object 0 is sure; the one after object 1 is not.
        assert_eq!(fp(2, 8192).due_from(), Some(4096));
        assert_eq!(fp(3, 12288).due_from(), Some(8192));
        assert!(reloads_while_running(
            &build(SdkVersion::Sdk17, true),
            FaultAction::LinkDrop
        ));
        assert!(!reloads_while_running(
            &build(SdkVersion::Sdk17, true),
            FaultAction::Reset
        ));
        assert!(!reloads_while_running(
            &build(SdkVersion::Sdk15_3, true),
            FaultAction::LinkDrop
        ));
    }
}
