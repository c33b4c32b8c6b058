//! ATT MTU exchange: what the device answers to a client's Exchange MTU Request (17.1
//! `nrf_dfu_ble.c`, `ble_evt_handler`, `BLE_GATTS_EVT_EXCHANGE_MTU_REQUEST`; 12.3 `nrf_ble_dfu.c`).

use nrf_dfu::SdkVersion;

/// The ATT default MTU (Bluetooth Core Vol 3 Part F 3.2.8); a request below it is treated as it.
pub const ATT_DEFAULT_MTU: u16 = 23;
/// `NRF_SDH_BLE_GATT_MAX_MTU_SIZE` of 15+ bootloaders and of the stand-in application.
pub const MAX_MTU: u16 = 247;

/// The bootloader's reply. 15+: a request of 247 or more gets 247; below that, if (asked − 3) is
/// not a multiple of 4 the reply is lowered so that the payload is floor4(asked − 3) (every flash
/// write stays word-sized), otherwise the reply is the request. 12 and 14 are built for 23.
/// The effective MTU is min(request, reply) = the reply.
pub fn bootloader_mtu_reply(sdk: SdkVersion, asked: u16) -> u16 {
    let max = sdk.ble_max_mtu();
    let asked = asked.max(ATT_DEFAULT_MTU);
    if asked >= max {
        return max;
    }
    let payload = asked - 3;
    if !payload.is_multiple_of(4) {
        payload / 4 * 4 + 3
    } else {
        asked
    }
}

/// The stand-in application's reply: the SDK's `nrf_ble_gatt` module answers
/// min(asked, `NRF_SDH_BLE_GATT_MAX_MTU_SIZE` = 247) with no word-size rule (assumption: the
/// `ble_app_buttonless_dfu` example's configuration).
pub fn app_mtu_reply(asked: u16) -> u16 {
    asked.clamp(ATT_DEFAULT_MTU, MAX_MTU)
}

/// Largest payload of a write or notification at `mtu`.
pub fn payload(mtu: u16) -> usize {
    mtu.max(ATT_DEFAULT_MTU) as usize - 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(SdkVersion::Sdk17, 23, 23)]
    #[case(SdkVersion::Sdk17, 100, 99)]
    #[case(SdkVersion::Sdk17, 185, 183)]
    #[case(SdkVersion::Sdk17, 247, 247)]
    #[case(SdkVersion::Sdk17, 517, 247)]
    #[case(SdkVersion::Sdk15_0, 185, 183)]
    #[case(SdkVersion::Sdk15_3, 104, 103)]
    #[case(SdkVersion::Sdk15_3, 103, 103)]
    #[case(SdkVersion::Sdk16, 10, 23)]
    #[case(SdkVersion::Sdk14, 247, 23)]
    #[case(SdkVersion::Sdk14, 517, 23)]
    #[case(SdkVersion::Sdk12, 185, 23)]
    #[case(SdkVersion::Sdk12, 23, 23)]
    fn bootloader_reply(#[case] sdk: SdkVersion, #[case] asked: u16, #[case] reply: u16) {
        assert_eq!(bootloader_mtu_reply(sdk, asked), reply);
    }

    #[test]
    fn payload_after_the_rule_is_word_sized() {
        for sdk in [SdkVersion::Sdk15_0, SdkVersion::Sdk17] {
            for asked in 23..=600u16 {
                let r = bootloader_mtu_reply(sdk, asked);
                assert!(r <= asked.max(23) && r <= 247);
                assert_eq!(payload(r) % 4, 0, "asked {asked}");
            }
        }
        assert_eq!(payload(183), 180);
        assert_eq!(app_mtu_reply(517), 247);
        assert_eq!(app_mtu_reply(185), 185);
    }
}
