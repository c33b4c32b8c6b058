//! Bonds and link encryption as the host sees them: who may connect, who may write what on an
//! unencrypted link, what pairing and re-encryption answer, and the Service Changed indication
//! a bonded bootloader sends. No cryptography: a bond's keys are numbers derived from the two
//! addresses, compared for equality; the SMP exchange is only counted in connection events.
//!
//! - The stand-in application pairs as the SDK's `ble_app_buttonless_dfu` example configures
//!   Peer Manager (Just Works: bond, no MITM, no LESC, I/O capabilities none) and keeps one bond
//!   per central address (Peer Manager's flash records; here in the BLE model, so a chip erase
//!   does not clear them: not modelled).
//! - Its bonded buttonless characteristic (8EC90004) needs an encrypted link to write the value
//!   or the CCCD (SDK 17.1 `ble_dfu_bonded.c` `ble_dfu_buttonless_char_add`: `write_access` and
//!   `cccd_write_access` `SEC_JUST_WORKS`).
//! - A bootloader built with `NRF_DFU_BLE_REQUIRES_BONDS` (17.1 `nrf_dfu_ble.c`) keeps the
//!   application's address, whitelists the peer in `peer_data` (`advertising_start`), rejects
//!   pairing (`BLE_GAP_EVT_SEC_PARAMS_REQUEST`: `BLE_GAP_SEC_STATUS_PAIRING_NOT_SUPP`), answers
//!   the peer's encryption request with the LTK when the EDIV matches
//!   (`BLE_GAP_EVT_SEC_INFO_REQUEST`), needs encryption for Control Point and Packet writes
//!   (`dfu_ctrl_pt_add`, `dfu_pkt_char_add`: `write_perm` level 2), and once the link is
//!   encrypted restores the system attributes from `peer_data` and indicates Service Changed
//!   over `m_dfu.service_handle..0xFFFF` (`BLE_GAP_EVT_CONN_SEC_UPDATE` → `service_changed_send`;
//!   nothing is sent when the restored CCCD does not enable indications).
//! - An unencrypted write to an attribute that needs encryption gets ATT 0x0F (Insufficient
//!   Encryption) when the server holds an LTK for the peer and 0x05 (Insufficient
//!   Authentication) when it holds none (Core v5.3 Vol 3 Part C 10.3.1, "Responding to a
//!   service request"): the central's stack reacts to 0x05 by pairing and to 0x0F by
//!   encrypting with the key it has (BlueZ src/shared/att.c `change_security`).

use super::att::AttError;
use super::connection::{Connection, Role, CCCD_INDICATE};
use super::gatt::Characteristic;
use super::uuid::{self, sig16, BUTTONLESS_BONDED, CONTROL_POINT, PACKET};
use crate::descriptor::Buttonless;
use crate::status::Status;
use nrf_dfu::settings::PeerData;
use std::time::Duration;

/// The keys a bond leaves with the central: the peripheral's LTK with its EDIV and Rand (LE
/// legacy pairing distributes them in Encryption Information / Central Identification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BondKeys {
    pub ltk: [u8; 16],
    pub ediv: u16,
    pub rand: [u8; 8],
}

impl BondKeys {
    /// Deterministic keys for a bond between `peripheral` and `central` (a stand-in for SMP's
    /// random values: same addresses, same keys, so a journal repeats).
    pub fn derive(peripheral: [u8; 6], central: [u8; 6]) -> BondKeys {
        let mut x = 0xcbf2_9ce4_8422_2325u64;
        for b in peripheral.iter().chain(central.iter()) {
            x = (x ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3);
        }
        let mut ltk = [0u8; 16];
        ltk[..8].copy_from_slice(&x.to_le_bytes());
        ltk[8..].copy_from_slice(&x.rotate_left(29).to_le_bytes());
        BondKeys {
            ltk,
            ediv: (x >> 48) as u16 | 1,
            rand: x.rotate_left(11).to_le_bytes(),
        }
    }
}

/// Connection events an encryption start takes (LL_ENC_REQ/RSP, LL_START_ENC_REQ/RSP: Core
/// Vol 6 Part B 5.1.3.1).
pub const ENCRYPT_EVENTS: u32 = 2;
/// Connection events a Just Works legacy pairing takes before encryption: Pairing Request and
/// Response, Confirm and Random both ways (Core Vol 3 Part H 2.3.5.5 and 3.5), plus the key
/// distribution after it.
pub const PAIRING_EVENTS: u32 = 4 + ENCRYPT_EVENTS + 1;

/// SMP Pairing Failed reasons (Core Vol 3 Part H 3.5.5).
pub const SMP_PAIRING_NOT_SUPPORTED: u8 = 0x05;
/// HCI error when the peripheral has no key for the EDIV/Rand asked (LL_REJECT_IND).
pub const HCI_PIN_OR_KEY_MISSING: u8 = 0x06;

/// The peer data the bonded buttonless service hands to the bootloader for `central` (17.1
/// `ble_dfu_bonded.c` `retrieve_peer_data`: the peer's identity (IRK and identity address),
/// the application's own LTK, and the system attributes of this connection). The IRK is derived
/// like the keys (not zero, so the bootloader whitelists the peer). `sys_serv_attr` holds the
/// Service Changed CCCD as a (handle, value) pair, little-endian; the SoftDevice's trailing CRC
/// is not modelled.
pub fn peer_data(central: [u8; 6], keys: &BondKeys, sc_cccd: Option<(u16, u16)>) -> PeerData {
    let mut raw = [0u8; 64];
    let irk = BondKeys::derive(central, central).ltk;
    raw[4..20].copy_from_slice(&irk);
    // addr_id_peer = 1, addr_type = 0 (public: the adapter's address).
    raw[20] = 1;
    raw[21..27].copy_from_slice(&central);
    raw[28..44].copy_from_slice(&keys.ltk);
    raw[44] = 16 << 2;
    raw[46..48].copy_from_slice(&keys.ediv.to_le_bytes());
    raw[48..56].copy_from_slice(&keys.rand);
    if let Some((h, v)) = sc_cccd {
        raw[56..58].copy_from_slice(&h.to_le_bytes());
        raw[58..60].copy_from_slice(&v.to_le_bytes());
    }
    let mut p = PeerData(raw);
    p.set_crc(p.compute_crc());
    p
}

/// The keys the bootloader holds for its bonded peer.
pub fn keys_of(peer: &PeerData) -> BondKeys {
    BondKeys {
        ltk: peer.ltk(),
        ediv: peer.ediv(),
        rand: peer.rand(),
    }
}

/// The Service Changed CCCD restored from `peer` (handle, value), if any.
pub fn restored_sc_cccd(peer: &PeerData) -> Option<(u16, u16)> {
    let a = peer.sys_serv_attr();
    let h = u16::from_le_bytes([a[0], a[1]]);
    let v = u16::from_le_bytes([a[2], a[3]]);
    (h != 0 && h != 0xFFFF).then_some((h, v))
}

/// Whether the bootloader in `status` accepts a connection from `central`: without bonds from
/// anyone; with bonds only from the whitelisted peer.
pub fn whitelisted(status: &Status, central: Option<[u8; 6]>) -> bool {
    match status {
        Status::Bootloader(b) if b.requires_bonds => match (&b.peer, central) {
            (Some(p), Some(c)) => p.addr() == c,
            _ => false,
        },
        _ => true,
    }
}

/// Whether writing `ch` (its value, or its CCCD when `cccd`) needs an encrypted link.
pub fn needs_encryption(role: &Role, ch: &Characteristic, cccd: bool) -> bool {
    match role {
        Role::App {
            buttonless: Buttonless::Bonded,
        } => ch.uuid == BUTTONLESS_BONDED,
        Role::Bootloader {
            requires_bonds: true,
            ..
        } => !cccd && (ch.uuid == CONTROL_POINT || ch.uuid == PACKET),
        _ => false,
    }
}

/// The ATT error for an unencrypted write that needs encryption: 0x0F when the server holds a
/// key for the peer, 0x05 when it holds none.
pub fn unencrypted_error(has_key: bool, handle: u16) -> AttError {
    if has_key {
        AttError::InsufficientEncryption(handle)
    } else {
        AttError::InsufficientAuthentication(handle)
    }
}

/// The Service Changed characteristic's value and CCCD handles in a connection's table.
pub fn service_changed_handles(c: &Connection) -> Option<(u16, u16)> {
    let ch = c.gatt.characteristic(&sig16(uuid::SERVICE_CHANGED_16))?;
    Some((ch.value_handle, ch.cccd_handle?))
}

/// The Service Changed value a bonded bootloader indicates: its DFU service's start handle to
/// 0xFFFF (`sd_ble_gatts_service_changed(m_conn_handle, m_dfu.service_handle, 0xFFFF)`).
pub fn service_changed_value(c: &Connection) -> Option<Vec<u8>> {
    let dfu = c
        .gatt
        .services
        .iter()
        .find(|s| s.uuid == sig16(uuid::DFU_SERVICE_16))?;
    let mut v = dfu.start_handle.to_le_bytes().to_vec();
    v.extend_from_slice(&0xFFFFu16.to_le_bytes());
    Some(v)
}

/// Whether a restored CCCD value enables indications.
pub fn indicates(v: u16) -> bool {
    v & CCCD_INDICATE != 0
}

/// Duration of `n` connection events on `c`.
pub fn events(c: &Connection, n: u32) -> Duration {
    c.link.interval * n
}
