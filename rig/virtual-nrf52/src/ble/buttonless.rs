//! The buttonless DFU characteristic's wire format (application side; SDK 17.1 `ble_dfu.h`,
//! `ble_dfu_buttonless_op_code_t` / `ble_dfu_buttonless_rsp_code_t`): request
//! `<op> [params]`, response by indication `20 <op> <rsp>`.

/// Longest advertising name the bootloader takes (settings `adv_name`;
/// `NRF_DFU_ADV_NAME_MAX_LENGTH` in 17.1 `ble_dfu_unbonded.c`).
pub const MAX_ADV_NAME: usize = 20;
/// First byte of every response indication.
pub const RESPONSE_OP: u8 = 0x20;

/// What the client asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonlessRequest {
    /// `01`: enter the bootloader.
    EnterBootloader,
    /// `02 <len> <name>`: the name the bootloader advertises with (unbonded variant only). The
    /// raw name bytes are kept; the length byte is checked when the request is handled.
    SetAdvName { len: u8, name: Vec<u8> },
    /// Any other op code (answered with 0x02 "op code not supported").
    Unknown(u8),
}

/// Response codes (`ble_dfu_buttonless_rsp_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ButtonlessResponse {
    Success = 0x01,
    OpCodeNotSupported = 0x02,
    OperationFailed = 0x04,
    InvalidAdvName = 0x05,
    Busy = 0x06,
    NotBonded = 0x07,
}

impl ButtonlessRequest {
    /// Decode a write. An empty write carries no op code and is answered as op 0 not supported.
    pub fn decode(bytes: &[u8]) -> ButtonlessRequest {
        match bytes {
            [0x01, ..] => ButtonlessRequest::EnterBootloader,
            [0x02, len, name @ ..] => ButtonlessRequest::SetAdvName {
                len: *len,
                name: name.to_vec(),
            },
            [0x02] => ButtonlessRequest::SetAdvName {
                len: 0,
                name: Vec::new(),
            },
            [op, ..] => ButtonlessRequest::Unknown(*op),
            [] => ButtonlessRequest::Unknown(0),
        }
    }

    pub fn op(&self) -> u8 {
        match self {
            ButtonlessRequest::EnterBootloader => 0x01,
            ButtonlessRequest::SetAdvName { .. } => 0x02,
            ButtonlessRequest::Unknown(op) => *op,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            ButtonlessRequest::EnterBootloader => vec![0x01],
            ButtonlessRequest::SetAdvName { len, name } => [&[0x02, *len][..], name].concat(),
            ButtonlessRequest::Unknown(op) => vec![*op],
        }
    }

    /// The name of a set-adv-name request if its length byte is 1..=20 and matches the bytes
    /// sent (the SDK copies `len` bytes; a name that is not there is invalid).
    pub fn valid_adv_name(len: u8, name: &[u8]) -> Option<&[u8]> {
        let n = len as usize;
        (1..=MAX_ADV_NAME)
            .contains(&n)
            .then(|| name.get(..n))
            .flatten()
    }
}

/// The indication answering `op`.
pub fn indication(op: u8, rsp: ButtonlessResponse) -> [u8; 3] {
    [RESPONSE_OP, op, rsp as u8]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests() {
        assert_eq!(
            ButtonlessRequest::decode(&[0x01]),
            ButtonlessRequest::EnterBootloader
        );
        assert_eq!(
            ButtonlessRequest::decode(b"\x02\x04Targ"),
            ButtonlessRequest::SetAdvName {
                len: 4,
                name: b"Targ".to_vec()
            }
        );
        assert_eq!(
            ButtonlessRequest::decode(&[0x07]),
            ButtonlessRequest::Unknown(7)
        );
        assert_eq!(
            indication(0x01, ButtonlessResponse::Success),
            [0x20, 0x01, 0x01]
        );
        assert_eq!(
            indication(0x02, ButtonlessResponse::InvalidAdvName),
            [0x20, 0x02, 0x05]
        );
        assert_eq!(
            ButtonlessRequest::valid_adv_name(4, b"Targ"),
            Some(&b"Targ"[..])
        );
        assert_eq!(ButtonlessRequest::valid_adv_name(0, b""), None);
        assert_eq!(ButtonlessRequest::valid_adv_name(21, &[b'a'; 21]), None);
        assert_eq!(ButtonlessRequest::valid_adv_name(5, b"Targ"), None);
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..30)) {
            let r = ButtonlessRequest::decode(&bytes);
            let e = r.encode();
            prop_assert_eq!(ButtonlessRequest::decode(&e), r.clone());
            prop_assert_eq!(r.op(), bytes[0]);
        }
    }
}
