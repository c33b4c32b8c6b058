//! A bootloader build as rule switches: everything the model does differently per SDK version (each
//! switch names its source) or per build option (the descriptor) or per injected defect is decided
//! here once, so the handler reads switches instead of comparing versions.

use crate::defects::{Defect, DefectSet};
use crate::descriptor::{BootloaderDescriptor, Transport};
use nrf_dfu::settings::SettingsLayout;
use nrf_dfu::wire::Dialect;
use nrf_dfu::SdkVersion;
use std::time::Duration;

/// How GPREGRET requests DFU mode (`dfu_enter_check` in `nrf_bootloader.c`) and how it is cleared
/// on entry (`dfu_enter_flags_clear`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpregretRule {
    /// SDK 12: GPREGRET is not looked at.
    Ignored,
    /// SDK 14: GPREGRET == 0xB1 exactly; cleared to 0 (clearing value assumed).
    Exact,
    /// SDK 15.0/15.2: any bit of 0xB1 set; the 0xB1 bits are cleared bitwise.
    AnyBitClearBitwise,
    /// SDK 15.3/16: any bit of 0xB1 set; cleared only when `(g & 0xF8) == 0xB0` (15.3
    /// `nrf_bootloader.c`: a stray 0x01 sends every reset into DFU mode; 17 checks the mask).
    AnyBitClearOnPattern,
    /// SDK 17: `(g & 0xF9) == 0xB1`; cleared (`g &= !0xB1`) when `(g & 0xF8) == 0xB0`.
    Masked,
}

impl GpregretRule {
    /// The rule of `sdk`'s default build.
    pub fn for_sdk(sdk: SdkVersion) -> GpregretRule {
        match sdk {
            SdkVersion::Sdk12 => GpregretRule::Ignored,
            SdkVersion::Sdk14 => GpregretRule::Exact,
            SdkVersion::Sdk15_0 | SdkVersion::Sdk15_2 => GpregretRule::AnyBitClearBitwise,
            SdkVersion::Sdk15_3 | SdkVersion::Sdk16 => GpregretRule::AnyBitClearOnPattern,
            SdkVersion::Sdk17 => GpregretRule::Masked,
        }
    }

    /// Whether `g` asks for DFU mode.
    pub fn enters(self, g: u8) -> bool {
        match self {
            GpregretRule::Ignored => false,
            GpregretRule::Exact => g == 0xB1,
            GpregretRule::AnyBitClearBitwise | GpregretRule::AnyBitClearOnPattern => g & 0xB1 != 0,
            GpregretRule::Masked => g & 0xF9 == 0xB1,
        }
    }

    /// GPREGRET after the bootloader cleared its DFU request on entering DFU mode.
    pub fn cleared(self, g: u8) -> u8 {
        match self {
            GpregretRule::Ignored => g,
            GpregretRule::Exact => 0,
            GpregretRule::AnyBitClearBitwise => g & !0xB1,
            GpregretRule::AnyBitClearOnPattern | GpregretRule::Masked => {
                if g & 0xF8 == 0xB0 {
                    g & !0xB1
                } else {
                    g
                }
            }
        }
    }
}

/// How result codes are formed (`nrf_dfu_res_code_t` of 12.3; `nrf_dfu_result_t` and extended
/// errors from 13/14 on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultStyle {
    /// SDK 12: no extended errors; version/hw/sd_req/signature-type failures are 0x0A.
    Sdk12,
    /// SDK 14+: `0x0B <ext>` for init command failures.
    Extended,
}

/// One bootloader build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub sdk: SdkVersion,
    pub transport: Transport,
    pub dialect: Dialect,
    pub layout: SettingsLayout,
    pub hw_version: u32,
    /// `pk[64]` as the bootloader holds it (little-endian halves).
    pub public_key: [u8; 64],
    pub requires_bonds: bool,
    pub adv_name: String,
    pub defects: DefectSet,
    pub results: ResultStyle,
    /// Largest command object (SELECT max_size): 256 up to 15.2, 512 from 15.3.
    pub max_init_size: u32,
    /// Settings written with a backup copy (15.2+; off with `no-settings-backup`).
    pub settings_backup: bool,
    pub gpregret: GpregretRule,
    /// settings.enter_buttonless_dfu enters DFU mode: 12/14 always, 15+ only with
    /// `NRF_BL_DFU_ENTER_METHOD_BUTTONLESS` (default 0).
    pub settings_flag_enters_dfu: bool,
    /// `NRF_BL_DFU_INACTIVITY_TIMEOUT_MS` (none in SDK 12, or when the descriptor says 0).
    pub inactivity_timeout: Option<Duration>,
    /// `NRF_BL_DFU_CONTINUATION_TIMEOUT_MS`: DFU mode after an SD activation with a valid app.
    pub continuation_timeout: Duration,
    /// The settings are written after every data EXECUTE: always in SDK 12 (12.3
    /// `dfu_req_handling.c` `nrf_dfu_data_req`, before the response), with
    /// `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1` in 15+ (17.1 `nrf_dfu_req_handler.c`
    /// `on_data_obj_execute_request_sched`, after the response).
    pub save_progress_every_execute: bool,
    /// 16/17: RAM progress reverts to the flash state when the BLE link drops (table 8.8).
    pub revert_on_link_loss: bool,
    /// BLE 15+: RX buffers for Packet writes (4096 / (MTU - 3) + 1 = 17 at MTU 247).
    pub rx_buffers: Option<usize>,
    /// fstorage queue entries (16; SDK 12's fstorage `FS_QUEUE_SIZE` 4, unverified).
    pub flash_queue_depth: usize,
    /// Activation copy step in pages (`NRF_BL_FW_COPY_PROGRESS_STORE_STEP` 8; SDK 12: 1).
    pub copy_step_pages: u32,
    /// SDK 12 erases each source page after copying it (12.3 `nrf_dfu_utils.c`,
    /// `nrf_dfu_app_continue`).
    pub copy_erases_source: bool,
    /// `NRF_DFU_SINGLE_BANK_APP_UPDATES`.
    pub single_bank: bool,
    /// 17.1 writes the MBR slots 0xFF8/0xFFC at boot when they are erased
    /// (`nrf_bootloader_mbr_addrs_populate` in `nrf_bootloader_info.c`).
    pub populate_mbr_slots: bool,
    /// 17.1 skips CRC boot validation after a System OFF wake or with GPREGRET2 = 0xA9.
    pub crc_skip_on_wake: bool,
    /// SDK 12 buffers data in 256-byte chunks before storing them (`dfu_req_handling.c`).
    pub sdk12_data_path: bool,
    /// `NRF_DFU_APP_DOWNGRADE_PREVENTION` (build option, default 1; 0 with `accept-downgrade`).
    pub downgrade_prevention: bool,
    /// `NRF_DFU_APP_ACCEPT_SAME_VERSION` (build option from 15.3, default 1; earlier SDKs accept).
    pub accept_same_version: bool,
    /// `NRF_DFU_REQUIRE_SIGNED_APP_UPDATE` (build option from 15.0, default 1; SDK 12 always).
    pub require_signed_app: bool,
    /// `NRF_DFU_DEBUG_VERSION` (15.2+ `nrf_dfu_ver_validation_check`): `is_debug` init commands
    /// skip the hw_version, sd_req and fw_version checks.
    pub debug_version: bool,
    /// The bootloader writes its settings backup before starting the app (15.2+).
    pub backup_before_app_start: bool,
}

impl Profile {
    /// The build described by `d`, with `defects` in effect.
    pub fn new(d: &BootloaderDescriptor, defects: DefectSet) -> Profile {
        let sdk = d.profile;
        let transport = d.transport;
        let wire_transport = transport;
        // SDK 12 has no serial transport; a UART 12 descriptor speaks the 14 serial dialect.
        let dialect = Dialect::new(sdk, wire_transport).unwrap_or_else(|_| {
            Dialect::new(SdkVersion::Sdk14, wire_transport).unwrap_or(Dialect::ble(sdk))
        });
        let ble = transport == Transport::Ble;
        let mut gpregret = GpregretRule::for_sdk(sdk);
        if defects.has(Defect::GpregretLoop) && gpregret != GpregretRule::Ignored {
            gpregret = GpregretRule::AnyBitClearOnPattern;
        }
        let mtu = sdk.ble_max_mtu() as usize;
        Profile {
            sdk,
            transport,
            dialect,
            layout: SettingsLayout::for_sdk(sdk),
            hw_version: d.hw_version,
            public_key: d.public_key,
            requires_bonds: d.requires_bonds,
            adv_name: d.adv_name.clone(),
            defects,
            results: if sdk.has_extended_errors() {
                ResultStyle::Extended
            } else {
                ResultStyle::Sdk12
            },
            max_init_size: sdk.max_init_packet_size(),
            settings_backup: sdk.has_settings_backup() && !defects.has(Defect::NoSettingsBackup),
            gpregret,
            settings_flag_enters_dfu: sdk <= SdkVersion::Sdk14,
            inactivity_timeout: (sdk != SdkVersion::Sdk12 && d.inactivity_timeout_ms != 0)
                .then(|| Duration::from_millis(d.inactivity_timeout_ms as u64)),
            continuation_timeout: Duration::from_secs(10),
            save_progress_every_execute: sdk == SdkVersion::Sdk12 || d.save_progress_in_flash,
            revert_on_link_loss: sdk >= SdkVersion::Sdk16 && ble,
            rx_buffers: (ble && sdk >= SdkVersion::Sdk15_0).then(|| 4096 / (mtu - 3) + 1),
            flash_queue_depth: if sdk == SdkVersion::Sdk12 { 4 } else { 16 },
            copy_step_pages: if sdk == SdkVersion::Sdk12 { 1 } else { 8 },
            copy_erases_source: sdk == SdkVersion::Sdk12,
            single_bank: d.single_bank,
            populate_mbr_slots: sdk >= SdkVersion::Sdk17,
            crc_skip_on_wake: sdk >= SdkVersion::Sdk17,
            sdk12_data_path: sdk == SdkVersion::Sdk12,
            downgrade_prevention: d.app_downgrade_prevention
                && !defects.has(Defect::AcceptDowngrade),
            accept_same_version: d.app_accept_same_version,
            require_signed_app: d.require_signed_app_update || sdk == SdkVersion::Sdk12,
            debug_version: d.debug_version && sdk >= SdkVersion::Sdk15_2,
            backup_before_app_start: sdk.has_settings_backup()
                && !defects.has(Defect::NoSettingsBackup),
        }
    }

    pub fn has(&self, d: Defect) -> bool {
        self.defects.has(d)
    }

    /// Flash path in DFU mode: BLE builds run the SoftDevice (`sd_flash_*`), UART builds are
    /// MBR-only and drive the NVMC (17.1 `nrf_dfu_flash.c`, `nrf_dfu_flash_init`). Boot-time
    /// work always uses the NVMC.
    pub fn dfu_flash_path(&self) -> crate::nvmc::FlashPath {
        match self.transport {
            Transport::Ble => crate::nvmc::FlashPath::SoftDevice,
            Transport::Uart => crate::nvmc::FlashPath::Nvmc,
        }
    }

    /// Largest ATT MTU of the BLE build (`NRF_SDH_BLE_GATT_MAX_MTU_SIZE` 247 in 15+;
    /// `GATT_MTU_SIZE_DEFAULT` 23 in 12.3 `nrf_ble_dfu.c`).
    pub fn max_att_mtu(&self) -> u16 {
        self.sdk.ble_max_mtu()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn profile(sdk: SdkVersion) -> Profile {
        Profile::new(
            &BootloaderDescriptor::sdk_default(sdk, [0; 64]),
            DefectSet::empty(),
        )
    }

    #[rstest]
    #[case(GpregretRule::Masked, 0xB1, true, 0x00)]
    #[case(GpregretRule::Masked, 0xB3, true, 0x02)]
    #[case(GpregretRule::Masked, 0xB7, true, 0x06)]
    #[case(GpregretRule::Masked, 0x01, false, 0x01)]
    #[case(GpregretRule::Masked, 0xB0, false, 0x00)]
    #[case(GpregretRule::AnyBitClearOnPattern, 0x01, true, 0x01)]
    #[case(GpregretRule::AnyBitClearOnPattern, 0xB1, true, 0x00)]
    #[case(GpregretRule::AnyBitClearOnPattern, 0x80, true, 0x80)]
    #[case(GpregretRule::AnyBitClearBitwise, 0x01, true, 0x00)]
    #[case(GpregretRule::AnyBitClearBitwise, 0xFF, true, 0x4E)]
    #[case(GpregretRule::Exact, 0xB1, true, 0x00)]
    #[case(GpregretRule::Exact, 0xB3, false, 0x00)]
    #[case(GpregretRule::Ignored, 0xB1, false, 0xB1)]
    fn gpregret_rules(
        #[case] rule: GpregretRule,
        #[case] g: u8,
        #[case] enters: bool,
        #[case] cleared: u8,
    ) {
        assert_eq!(rule.enters(g), enters);
        assert_eq!(rule.cleared(g), cleared);
    }

    #[rstest]
    #[case(SdkVersion::Sdk12, GpregretRule::Ignored, None, false, true)]
    #[case(SdkVersion::Sdk14, GpregretRule::Exact, None, false, true)]
    #[case(
        SdkVersion::Sdk15_0,
        GpregretRule::AnyBitClearBitwise,
        Some(17),
        false,
        false
    )]
    #[case(
        SdkVersion::Sdk15_2,
        GpregretRule::AnyBitClearBitwise,
        Some(17),
        true,
        false
    )]
    #[case(
        SdkVersion::Sdk15_3,
        GpregretRule::AnyBitClearOnPattern,
        Some(17),
        true,
        false
    )]
    #[case(
        SdkVersion::Sdk16,
        GpregretRule::AnyBitClearOnPattern,
        Some(17),
        true,
        false
    )]
    #[case(SdkVersion::Sdk17, GpregretRule::Masked, Some(17), true, false)]
    fn switches_per_sdk(
        #[case] sdk: SdkVersion,
        #[case] g: GpregretRule,
        #[case] rx: Option<usize>,
        #[case] backup: bool,
        #[case] flag: bool,
    ) {
        let p = profile(sdk);
        assert_eq!(p.gpregret, g);
        assert_eq!(p.rx_buffers, rx);
        assert_eq!(p.settings_backup, backup);
        assert_eq!(p.settings_flag_enters_dfu, flag);
        assert_eq!(p.inactivity_timeout.is_none(), sdk == SdkVersion::Sdk12);
        assert_eq!(p.revert_on_link_loss, sdk >= SdkVersion::Sdk16);
    }

    #[test]
    fn defects_flip_switches() {
        let d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [0; 64]);
        let set = DefectSet::empty()
            .with(Defect::NoSettingsBackup)
            .with(Defect::GpregretLoop)
            .with(Defect::AcceptDowngrade);
        let p = Profile::new(&d, set);
        assert!(!p.settings_backup);
        assert_eq!(p.gpregret, GpregretRule::AnyBitClearOnPattern);
        assert!(!p.downgrade_prevention);
    }

    #[test]
    fn build_options_flip_switches() {
        let mut d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [0; 64]);
        let p = Profile::new(&d, DefectSet::empty());
        assert!(!p.save_progress_every_execute && p.downgrade_prevention && p.require_signed_app);
        d.save_progress_in_flash = true;
        d.app_downgrade_prevention = false;
        d.app_accept_same_version = false;
        d.require_signed_app_update = false;
        let p = Profile::new(&d, DefectSet::empty());
        assert!(p.save_progress_every_execute);
        assert!(!p.downgrade_prevention && !p.accept_same_version && !p.require_signed_app);
        // SDK 12 saves progress and checks signatures whatever the descriptor says.
        let mut d12 = BootloaderDescriptor::sdk_default(SdkVersion::Sdk12, [0; 64]);
        d12.require_signed_app_update = false;
        let p = Profile::new(&d12, DefectSet::empty());
        assert!(p.save_progress_every_execute && p.require_signed_app);
    }
}
