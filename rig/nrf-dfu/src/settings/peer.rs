//! `peer_data` and `adv_name`: written by the application through SVC calls (bonded / unbonded
//! buttonless DFU), outside both settings CRCs, each with its own CRC-32 over the struct after its
//! first 4 bytes (`nrf_dfu_settings_svci.c`).

use super::layout::{ADV_NAME_LEN, PEER_DATA_LEN};
use crate::crc::crc32;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// State of a CRC-protected area written by the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaStatus {
    /// Every byte is 0xFF: nothing written since the page was erased (the only state in which the
    /// SVC accepts a write).
    Erased,
    /// The stored CRC matches.
    Valid,
    /// Written, but the CRC does not match.
    Invalid,
}

/// `nrf_dfu_peer_data_t` (64 bytes), kept as raw bytes so that padding survives a round trip; the
/// accessors follow `ble_gap_id_key_t` / `ble_gap_enc_key_t` (S132 headers):
///
/// | off | field |
/// |---|---|
/// | 0 | crc |
/// | 4 | ble_id.id_info.irk[16] |
/// | 20 | ble_id.id_addr_info: bit 0 addr_id_peer, bits 1..7 addr_type; addr[6] @21 |
/// | 27 | padding (enc_key is 2-aligned) |
/// | 28 | enc_key.enc_info.ltk[16] |
/// | 44 | enc_key.enc_info: bit 0 lesc, bit 1 auth, bits 2..7 ltk_len |
/// | 45 | padding |
/// | 46 | enc_key.master_id.ediv (u16) |
/// | 48 | enc_key.master_id.rand[8] |
/// | 56 | sys_serv_attr[8] |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerData(pub [u8; PEER_DATA_LEN]);

impl PeerData {
    pub const ERASED: PeerData = PeerData([0xFF; PEER_DATA_LEN]);

    pub(crate) fn decode(b: &[u8]) -> Self {
        let mut raw = [0xFFu8; PEER_DATA_LEN];
        if let Some(src) = b.get(..PEER_DATA_LEN) {
            raw.copy_from_slice(src);
        }
        PeerData(raw)
    }

    pub fn crc(&self) -> u32 {
        u32::from_le_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// CRC-32 over bytes 4..64, as `nrf_dfu_settings_peer_data_is_valid` computes it.
    pub fn compute_crc(&self) -> u32 {
        crc32(&self.0[4..])
    }

    pub fn set_crc(&mut self, crc: u32) {
        self.0[..4].copy_from_slice(&crc.to_le_bytes());
    }

    pub fn status(&self) -> AreaStatus {
        area_status(&self.0, self.crc(), self.compute_crc())
    }

    pub fn irk(&self) -> [u8; 16] {
        arr(&self.0[4..20])
    }
    pub fn addr_id_peer(&self) -> bool {
        self.0[20] & 1 != 0
    }
    pub fn addr_type(&self) -> u8 {
        self.0[20] >> 1
    }
    pub fn addr(&self) -> [u8; 6] {
        arr(&self.0[21..27])
    }
    pub fn ltk(&self) -> [u8; 16] {
        arr(&self.0[28..44])
    }
    pub fn lesc(&self) -> bool {
        self.0[44] & 1 != 0
    }
    pub fn auth(&self) -> bool {
        self.0[44] & 2 != 0
    }
    pub fn ltk_len(&self) -> u8 {
        self.0[44] >> 2
    }
    pub fn ediv(&self) -> u16 {
        u16::from_le_bytes([self.0[46], self.0[47]])
    }
    pub fn rand(&self) -> [u8; 8] {
        arr(&self.0[48..56])
    }
    pub fn sys_serv_attr(&self) -> [u8; 8] {
        arr(&self.0[56..64])
    }
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[..N]);
    out
}

fn area_status(raw: &[u8], stored: u32, computed: u32) -> AreaStatus {
    if raw.iter().all(|&b| b == 0xFF) {
        AreaStatus::Erased
    } else if stored == computed {
        AreaStatus::Valid
    } else {
        AreaStatus::Invalid
    }
}

/// Serialised with the SDK's member names (`ble_id`, `enc_key`, `sys_serv_attr`).
impl Serialize for PeerData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ble_id = serde_json::json!({
            "id_info": { "irk": hex::encode(self.irk()) },
            "id_addr_info": {
                "addr_id_peer": self.addr_id_peer(),
                "addr_type": self.addr_type(),
                "addr": hex::encode(self.addr()),
            },
        });
        let enc_key = serde_json::json!({
            "enc_info": {
                "ltk": hex::encode(self.ltk()),
                "lesc": self.lesc(),
                "auth": self.auth(),
                "ltk_len": self.ltk_len(),
            },
            "master_id": { "ediv": self.ediv(), "rand": hex::encode(self.rand()) },
        });
        let mut st = s.serialize_struct("nrf_dfu_peer_data_t", 5)?;
        st.serialize_field("crc", &self.crc())?;
        st.serialize_field("ble_id", &ble_id)?;
        st.serialize_field("enc_key", &enc_key)?;
        st.serialize_field("sys_serv_attr", &hex::encode(self.sys_serv_attr()))?;
        st.serialize_field("status", &self.status())?;
        st.end()
    }
}

/// `nrf_dfu_adv_name_t` (28 bytes): the advertising name the unbonded buttonless service hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdvName {
    pub crc: u32,
    pub name: [u8; 20],
    pub len: u32,
}

impl AdvName {
    pub const ERASED: AdvName = AdvName {
        crc: 0xFFFF_FFFF,
        name: [0xFF; 20],
        len: 0xFFFF_FFFF,
    };

    pub(crate) fn decode(b: &[u8]) -> Self {
        let mut raw = [0xFFu8; ADV_NAME_LEN];
        if let Some(src) = b.get(..ADV_NAME_LEN) {
            raw.copy_from_slice(src);
        }
        AdvName {
            crc: u32::from_le_bytes(arr(&raw[0..4])),
            name: arr(&raw[4..24]),
            len: u32::from_le_bytes(arr(&raw[24..28])),
        }
    }

    pub fn to_bytes(&self) -> [u8; ADV_NAME_LEN] {
        let mut raw = [0u8; ADV_NAME_LEN];
        raw[0..4].copy_from_slice(&self.crc.to_le_bytes());
        raw[4..24].copy_from_slice(&self.name);
        raw[24..28].copy_from_slice(&self.len.to_le_bytes());
        raw
    }

    /// CRC-32 over `name` and `len` (the struct after its CRC).
    pub fn compute_crc(&self) -> u32 {
        crc32(&self.to_bytes()[4..])
    }

    pub fn status(&self) -> AreaStatus {
        area_status(&self.to_bytes(), self.crc, self.compute_crc())
    }

    /// The name bytes the bootloader would advertise (`len` clipped to the 20-byte buffer).
    pub fn name_bytes(&self) -> &[u8] {
        let n = usize::try_from(self.len)
            .unwrap_or(usize::MAX)
            .min(self.name.len());
        &self.name[..n]
    }

    /// A valid entry for `name` (at most 20 bytes are kept), CRC included.
    pub fn new(name: &[u8]) -> Self {
        let mut buf = [0u8; 20];
        let n = name.len().min(20);
        buf[..n].copy_from_slice(&name[..n]);
        let mut a = AdvName {
            crc: 0,
            name: buf,
            len: n as u32,
        };
        a.crc = a.compute_crc();
        a
    }
}

impl Serialize for AdvName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("nrf_dfu_adv_name_t", 5)?;
        st.serialize_field("crc", &self.crc)?;
        st.serialize_field("name", &hex::encode(self.name))?;
        st.serialize_field("len", &self.len)?;
        st.serialize_field("text", &String::from_utf8_lossy(self.name_bytes()))?;
        st.serialize_field("status", &self.status())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_areas() {
        assert_eq!(PeerData::ERASED.status(), AreaStatus::Erased);
        assert_eq!(AdvName::ERASED.status(), AreaStatus::Erased);
        assert_eq!(AdvName::ERASED.to_bytes(), [0xFF; ADV_NAME_LEN]);
    }

    #[test]
    fn adv_name_crc() {
        let a = AdvName::new(b"RigTarg");
        assert_eq!(a.status(), AreaStatus::Valid);
        assert_eq!(a.name_bytes(), b"RigTarg");
        assert_eq!(a.crc, crc32(&a.to_bytes()[4..]));
        let mut bad = a;
        bad.len = 3;
        assert_eq!(bad.status(), AreaStatus::Invalid);
        assert_eq!(AdvName::decode(&a.to_bytes()), a);
    }

    #[test]
    fn peer_data_fields() {
        let mut raw = [0u8; PEER_DATA_LEN];
        raw[4..20].copy_from_slice(&[0x11; 16]);
        raw[20] = (1 << 1) | 1; // addr_type 1 (random static), addr_id_peer
        raw[21..27].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        raw[44] = (16 << 2) | 0b10; // ltk_len 16, auth
        raw[46..48].copy_from_slice(&0x1234u16.to_le_bytes());
        raw[56..64].copy_from_slice(&[9; 8]);
        let mut p = PeerData(raw);
        assert_eq!(p.status(), AreaStatus::Invalid);
        p.set_crc(p.compute_crc());
        assert_eq!(p.status(), AreaStatus::Valid);
        assert!(p.addr_id_peer());
        assert_eq!(p.addr_type(), 1);
        assert_eq!(p.addr(), [1, 2, 3, 4, 5, 6]);
        assert!(p.auth() && !p.lesc());
        assert_eq!(p.ltk_len(), 16);
        assert_eq!(p.ediv(), 0x1234);
        assert_eq!(p.sys_serv_attr(), [9; 8]);
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json["enc_key"]["master_id"]["ediv"], 0x1234);
        assert_eq!(json["ble_id"]["id_addr_info"]["addr"], "010203040506");
        assert_eq!(json["status"], "valid");
    }
}
