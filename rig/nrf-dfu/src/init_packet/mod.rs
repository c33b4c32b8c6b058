//! The init packet (`.dat` file, command object): a `dfu.Packet` protobuf (`dfu-cc.proto` in SDK
//! 17.1 `components/libraries/bootloader/dfu/` and pc-nrfutil 6.1.7 `nordicsemi/dfu/`).
//!
//! [`InitPacket`] keeps the bytes it was decoded from: the init command inside is hashed and
//! signed as those exact bytes, so verification never depends on re-encoding.

mod json;
mod limits;
pub mod proto;
mod wire_walk;

pub use json::{BootValidationJson, HashJson, InitCommandJson, InitPacketJson};
pub use limits::LimitError;
pub use proto::{
    BootValidation, Command, FwType, Hash, HashType, InitCommand, OpCode, Packet, ProtoName,
    ResetCommand, SignatureType, SignedCommand, ValidationType,
};

use crate::signing::{PublicKey, SignatureError, SigningKey};
use prost::Message;
use std::ops::Range;
use wire_walk::{unique_field, WalkError};

/// An init packet that is not a well-formed `dfu.Packet` carrying an init command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InitPacketError {
    #[error("init packet is not a valid dfu.Packet protobuf: {0}")]
    Protobuf(String),
    #[error("init packet has neither Packet.command nor Packet.signed_command")]
    NoCommand,
    #[error("init packet has both Packet.command and Packet.signed_command")]
    BothCommands,
    #[error("init packet: required field {0} is missing")]
    MissingField(String),
    #[error("init packet: field {0} appears more than once")]
    DuplicateField(&'static str),
    #[error("init packet: Command.op_code is {0}, expected INIT")]
    NotInit(String),
    #[error("init packet: Command.init is missing")]
    NoInitCommand,
}

/// Why a signature check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("init packet is not signed")]
    Unsigned,
    #[error("SignedCommand.signature_type is {0}; only ECDSA_P256_SHA256 can be verified")]
    UnsupportedSignatureType(String),
    #[error("SignedCommand.signature: {0}")]
    Signature(#[from] SignatureError),
}

/// A decoded (or freshly built) init packet together with its encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct InitPacket {
    packet: Packet,
    raw: Vec<u8>,
    init_range: Range<usize>,
}

/// The name of enum value `v`, or the number if the proto does not define it.
pub fn enum_name<E: ProtoName + TryFrom<i32>>(v: i32) -> String {
    E::try_from(v)
        .map(|e| e.proto_name().to_string())
        .unwrap_or_else(|_| v.to_string())
}

impl InitPacket {
    /// Decode a `.dat` / command object. Checks what the bootloader's nanopb decode checks:
    /// protobuf syntax, required fields, exactly one of command/signed_command, op code INIT
    /// with an init command. Field values (sizes, versions, limits) are not judged here; see
    /// [`InitPacket::check_limits`].
    pub fn decode(bytes: &[u8]) -> Result<InitPacket, InitPacketError> {
        let packet = Packet::decode(bytes).map_err(|e| InitPacketError::Protobuf(e.to_string()))?;
        let init_range = locate_init_command(bytes, &packet)?;
        check_required(&packet)?;
        Ok(InitPacket {
            packet,
            raw: bytes.to_vec(),
            init_range,
        })
    }

    /// An unsigned packet (`Packet.command`), encoded as nrfutil encodes it.
    pub fn new_unsigned(init: InitCommand) -> InitPacket {
        let command = Command {
            op_code: Some(OpCode::Init as i32),
            init: Some(init),
            reset: None,
        };
        Self::from_packet(Packet {
            command: Some(command),
            signed_command: None,
        })
    }

    /// A packet signed with `key`: ECDSA P-256 over SHA-256 of the encoded init command.
    pub fn new_signed(init: InitCommand, key: &SigningKey) -> InitPacket {
        let signature = key.sign_nordic(&init.encode_to_vec());
        Self::with_signature(
            init,
            SignatureType::EcdsaP256Sha256 as i32,
            signature.to_vec(),
        )
    }

    /// A `signed_command` packet with the given signature bytes, valid or not (for tests and
    /// fault injection that need a packet with a wrong or foreign signature).
    pub fn with_signature(
        init: InitCommand,
        signature_type: i32,
        signature: Vec<u8>,
    ) -> InitPacket {
        let command = Command {
            op_code: Some(OpCode::Init as i32),
            init: Some(init),
            reset: None,
        };
        let signed = SignedCommand {
            command: Some(command),
            signature_type: Some(signature_type),
            signature: Some(signature),
        };
        Self::from_packet(Packet {
            command: None,
            signed_command: Some(signed),
        })
    }

    fn from_packet(packet: Packet) -> InitPacket {
        let raw = packet.encode_to_vec();
        // The packet was built above with command, op code INIT, init command and (if signed)
        // every SignedCommand field, so its encoding always has the shape being located.
        let init_range = locate_init_command(&raw, &packet).unwrap_or_else(|e| {
            unreachable!("freshly encoded init packet has no init command: {e}")
        });
        InitPacket {
            packet,
            raw,
            init_range,
        }
    }

    /// The packet's bytes (what goes into the `.dat` file and the command object).
    pub fn encode(&self) -> Vec<u8> {
        self.raw.clone()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    pub fn packet(&self) -> &Packet {
        &self.packet
    }

    fn command(&self) -> &Command {
        let c = match (&self.packet.command, &self.packet.signed_command) {
            (Some(c), _) => Some(c),
            (None, Some(s)) => s.command.as_ref(),
            (None, None) => None,
        };
        c.unwrap_or_else(|| unreachable!("decode() guarantees a command"))
    }

    /// The init command.
    pub fn init_command(&self) -> &InitCommand {
        self.command()
            .init
            .as_ref()
            .unwrap_or_else(|| unreachable!("decode() guarantees Command.init"))
    }

    /// Exactly the encoded init command bytes embedded in the packet: what is hashed and signed.
    pub fn init_command_bytes(&self) -> &[u8] {
        &self.raw[self.init_range.clone()]
    }

    pub fn is_signed(&self) -> bool {
        self.packet.signed_command.is_some()
    }

    /// Signature type (raw enum value) and bytes, if signed.
    pub fn signature(&self) -> Option<(i32, &[u8])> {
        let s = self.packet.signed_command.as_ref()?;
        Some((
            s.signature_type.unwrap_or_default(),
            s.signature.as_deref().unwrap_or_default(),
        ))
    }

    /// Check the signature over [`InitPacket::init_command_bytes`] with `key`.
    pub fn verify(&self, key: &PublicKey) -> Result<(), VerifyError> {
        let (kind, sig) = self.signature().ok_or(VerifyError::Unsigned)?;
        if kind != SignatureType::EcdsaP256Sha256 as i32 {
            return Err(VerifyError::UnsupportedSignatureType(enum_name::<
                SignatureType,
            >(kind)));
        }
        key.verify_nordic(self.init_command_bytes(), sig)?;
        Ok(())
    }

    /// JSON view with dfu-cc.proto field and enum names.
    pub fn to_json(&self) -> InitPacketJson {
        InitPacketJson::from_packet(self)
    }
}

/// Check the packet's shape and find the init command's bytes: exactly one of
/// command/signed_command, each message on the path present once, op code INIT.
fn locate_init_command(bytes: &[u8], packet: &Packet) -> Result<Range<usize>, InitPacketError> {
    let walk = |range: Range<usize>, tag: u32, name: &'static str| {
        unique_field(&bytes[range.clone()], range.start, tag).map_err(|e| match e {
            WalkError::Duplicate => InitPacketError::DuplicateField(name),
            WalkError::Malformed => InitPacketError::Protobuf(format!("cannot walk {name}")),
        })
    };
    let whole = 0..bytes.len();
    let unsigned = walk(whole.clone(), 1, "Packet.command")?;
    let signed = walk(whole, 2, "Packet.signed_command")?;
    let (command, command_range) = match (&packet.command, &packet.signed_command, unsigned, signed)
    {
        (Some(_), Some(_), _, _) => return Err(InitPacketError::BothCommands),
        (Some(c), None, Some(r), None) => (c, r),
        (None, Some(s), None, Some(sr)) => {
            let missing = |f: &str| InitPacketError::MissingField(format!("SignedCommand.{f}"));
            let c = s.command.as_ref().ok_or_else(|| missing("command"))?;
            let r = walk(sr, 1, "SignedCommand.command")?.ok_or_else(|| missing("command"))?;
            if s.signature_type.is_none() {
                return Err(missing("signature_type"));
            }
            if s.signature.is_none() {
                return Err(missing("signature"));
            }
            (c, r)
        }
        _ => return Err(InitPacketError::NoCommand),
    };
    match command.op_code {
        Some(op) if op == OpCode::Init as i32 => {}
        Some(op) => return Err(InitPacketError::NotInit(enum_name::<OpCode>(op))),
        None => return Err(InitPacketError::MissingField("Command.op_code".into())),
    }
    if command.init.is_none() {
        return Err(InitPacketError::NoInitCommand);
    }
    walk(command_range, 2, "Command.init")?.ok_or(InitPacketError::NoInitCommand)
}

/// Required fields inside the init command (nanopb rejects a packet missing one).
fn check_required(packet: &Packet) -> Result<(), InitPacketError> {
    let command = packet.command.as_ref().or(packet
        .signed_command
        .as_ref()
        .and_then(|s| s.command.as_ref()));
    let Some(init) = command.and_then(|c| c.init.as_ref()) else {
        return Err(InitPacketError::NoInitCommand);
    };
    let missing = |f: String| Err(InitPacketError::MissingField(f));
    if let Some(h) = &init.hash {
        if h.hash_type.is_none() {
            return missing("Hash.hash_type".into());
        }
        if h.hash.is_none() {
            return missing("Hash.hash".into());
        }
    }
    for (i, bv) in init.boot_validation.iter().enumerate() {
        if bv.r#type.is_none() {
            return missing(format!("InitCommand.boot_validation[{i}].type"));
        }
        if bv.bytes.is_none() {
            return missing(format!("InitCommand.boot_validation[{i}].bytes"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
