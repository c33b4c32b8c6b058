//! The unbonded buttonless DFU exchange of nRF5 SDK 14+ (`ble_dfu_unbonded.c`): a write of
//! `<op> [params]` to characteristic 8EC90003 in service 0xFE59 is answered by an indication
//! `20 <op> <result>`. "Enter bootloader" (`01`) succeeds; once the client confirms the
//! indication the application disconnects, sets GPREGRET to 0xB1 and resets.

/// 16-bit UUID of Nordic's DFU service (SIG-assigned to Nordic), also the buttonless service.
pub const DFU_SERVICE_UUID16: u16 = 0xFE59;
/// 8EC90003-F315-4F60-9FB8-838830DAEA50 (buttonless without bonds), little-endian as the
/// SoftDevice's `ble_uuid128_t` takes it.
pub const BUTTONLESS_UNBONDED_UUID128: [u8; 16] = [
    0x50, 0xEA, 0xDA, 0x30, 0x88, 0x83, 0xB8, 0x9F, 0x60, 0x4F, 0x15, 0xF3, 0x03, 0x00, 0xC9, 0x8E,
];
/// GPREGRET value that tells the Secure DFU bootloader to stay in DFU mode
/// (`BOOTLOADER_DFU_START`).
pub const GPREGRET_DFU_START: u8 = 0xB1;
/// Longest request the characteristic takes: op + length + a 20-byte advertising name.
pub const MAX_REQUEST_LEN: u16 = 22;

pub const OP_ENTER_BOOTLOADER: u8 = 0x01;
pub const OP_SET_ADV_NAME: u8 = 0x02;
pub const OP_RESPONSE: u8 = 0x20;

pub const RSP_SUCCESS: u8 = 0x01;
pub const RSP_OP_CODE_NOT_SUPPORTED: u8 = 0x02;

/// What the application does with one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The indication to send.
    pub indication: [u8; 3],
    /// Enter the bootloader once the client confirms the indication.
    pub enter_on_confirm: bool,
}

/// The reply to a write of `request`. Setting the bootloader's advertising name (`02`) needs
/// the bootloader's SVC interface, which this application does not carry: it answers "op code
/// not supported", as it does for an empty write or any other op.
pub const fn reply(request: &[u8]) -> Reply {
    let op = if request.is_empty() { 0 } else { request[0] };
    if op == OP_ENTER_BOOTLOADER {
        Reply {
            indication: [OP_RESPONSE, op, RSP_SUCCESS],
            enter_on_confirm: true,
        }
    } else {
        Reply {
            indication: [OP_RESPONSE, op, RSP_OP_CODE_NOT_SUPPORTED],
            enter_on_confirm: false,
        }
    }
}

/// Whether a CCCD value enables indications (bit 1).
pub const fn indications_enabled(cccd: &[u8]) -> bool {
    !cccd.is_empty() && cccd[0] & 0x02 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_bootloader_is_indicated_as_success() {
        assert_eq!(
            reply(&[0x01]),
            Reply {
                indication: [0x20, 0x01, 0x01],
                enter_on_confirm: true
            }
        );
    }

    #[test]
    fn other_ops_are_not_supported_and_do_not_reset() {
        assert_eq!(
            reply(&[0x02, 3, b'a', b'b', b'c']).indication,
            [0x20, 0x02, 0x02]
        );
        assert!(!reply(&[0x02, 3, b'a', b'b', b'c']).enter_on_confirm);
        assert_eq!(reply(&[0x7F]).indication, [0x20, 0x7F, 0x02]);
        assert_eq!(reply(&[]).indication, [0x20, 0x00, 0x02]);
    }

    #[test]
    fn uuid_bytes_spell_8ec90003() {
        let mut be = BUTTONLESS_UNBONDED_UUID128;
        be.reverse();
        assert_eq!(be[..4], [0x8E, 0xC9, 0x00, 0x03]);
        assert_eq!(be[4..8], [0xF3, 0x15, 0x4F, 0x60]);
        assert_eq!(be[8..], [0x9F, 0xB8, 0x83, 0x88, 0x30, 0xDA, 0xEA, 0x50]);
    }

    #[test]
    fn cccd_indication_bit() {
        assert!(indications_enabled(&[0x02, 0x00]));
        assert!(!indications_enabled(&[0x01, 0x00]));
        assert!(!indications_enabled(&[]));
    }
}
