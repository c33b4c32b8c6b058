//! A JSON view of an init packet with dfu-cc.proto's field names and enum value names (an
//! enum value the proto does not define is shown as its number). Bytes are lowercase hex, in
//! the order they are stored (hash and signatures little-endian, as nrfutil displays them).

use super::{
    enum_name, FwType, HashType, InitCommand, InitPacket, OpCode, SignatureType, ValidationType,
};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitPacketJson {
    /// "signed_command" or "command": which `Packet` field carries the command.
    pub packet: &'static str,
    pub op_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub init: InitCommandJson,
    /// Length of the whole packet in bytes.
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitCommandJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fw_version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hw_version: Option<u32>,
    pub sd_req: Vec<u32>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub fw_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sd_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bl_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_debug: Option<bool>,
    pub boot_validation: Vec<BootValidationJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashJson {
    pub hash_type: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootValidationJson {
    #[serde(rename = "type")]
    pub validation_type: String,
    pub bytes: String,
}

fn hex(b: &[u8]) -> String {
    crate::signing::hex_lower(b)
}

impl InitCommandJson {
    pub fn from_command(c: &InitCommand) -> Self {
        InitCommandJson {
            fw_version: c.fw_version,
            hw_version: c.hw_version,
            sd_req: c.sd_req.clone(),
            fw_type: c.r#type.map(enum_name::<FwType>),
            sd_size: c.sd_size,
            bl_size: c.bl_size,
            app_size: c.app_size,
            hash: c.hash.as_ref().map(|h| HashJson {
                hash_type: enum_name::<HashType>(h.hash_type.unwrap_or_default()),
                hash: hex(h.hash.as_deref().unwrap_or_default()),
            }),
            is_debug: c.is_debug,
            boot_validation: c
                .boot_validation
                .iter()
                .map(|b| BootValidationJson {
                    validation_type: enum_name::<ValidationType>(b.r#type.unwrap_or_default()),
                    bytes: hex(b.bytes.as_deref().unwrap_or_default()),
                })
                .collect(),
        }
    }
}

impl InitPacketJson {
    pub fn from_packet(p: &InitPacket) -> Self {
        let signature = p.signature();
        InitPacketJson {
            packet: if p.is_signed() {
                "signed_command"
            } else {
                "command"
            },
            op_code: enum_name::<OpCode>(OpCode::Init as i32),
            signature_type: signature.map(|(t, _)| enum_name::<SignatureType>(t)),
            signature: signature.map(|(_, s)| hex(s)),
            init: InitCommandJson::from_command(p.init_command()),
            size: p.as_bytes().len(),
        }
    }
}
