//! `dfu-cc.proto` (package `dfu`, proto2) as prost messages, written by hand so that the build
//! needs no `protoc`. Field numbers, labels and enum values are those of nrfutil 6.1.7's
//! `dfu_cc_pb2.py` (the SDK 15.3+ proto; `ResetCommand` and `OpCode::Reset` are SDK 12's).
//!
//! proto2 `optional` fields are `Option`s, so an explicitly set 0/false is encoded, exactly as
//! nrfutil's Python protobuf does (it sets every field). `required` fields are modelled as
//! `Option` too: prost does not check presence, so [`super::InitPacket::decode`] does, and names
//! the missing field (the bootloader's nanopb decoder rejects such a packet).

/// `dfu.OpCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum OpCode {
    /// SDK 12 only.
    Reset = 0,
    Init = 1,
}

/// `dfu.FwType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum FwType {
    Application = 0,
    Softdevice = 1,
    Bootloader = 2,
    SoftdeviceBootloader = 3,
    /// Not in SDK 12.
    ExternalApplication = 4,
}

/// `dfu.HashType` (bootloaders accept only SHA256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum HashType {
    NoHash = 0,
    Crc = 1,
    Sha128 = 2,
    Sha256 = 3,
    Sha512 = 4,
}

/// `dfu.ValidationType` (SDK 15.3+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ValidationType {
    NoValidation = 0,
    ValidateGeneratedCrc = 1,
    ValidateSha256 = 2,
    ValidateEcdsaP256Sha256 = 3,
}

/// `dfu.SignatureType` (bootloaders accept only ECDSA_P256_SHA256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SignatureType {
    EcdsaP256Sha256 = 0,
    Ed25519 = 1,
}

/// `dfu.Hash`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Hash {
    /// required
    #[prost(enumeration = "HashType", optional, tag = "1")]
    pub hash_type: Option<i32>,
    /// required; nanopb max 32 bytes
    #[prost(bytes = "vec", optional, tag = "2")]
    pub hash: Option<Vec<u8>>,
}

/// `dfu.BootValidation` (SDK 15.3+).
#[derive(Clone, PartialEq, prost::Message)]
pub struct BootValidation {
    /// required
    #[prost(enumeration = "ValidationType", optional, tag = "1")]
    pub r#type: Option<i32>,
    /// required; nanopb max 64 bytes
    #[prost(bytes = "vec", optional, tag = "2")]
    pub bytes: Option<Vec<u8>>,
}

/// `dfu.InitCommand`: what is hashed and signed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InitCommand {
    #[prost(uint32, optional, tag = "1")]
    pub fw_version: Option<u32>,
    #[prost(uint32, optional, tag = "2")]
    pub hw_version: Option<u32>,
    /// `[packed = true]`; nanopb max 4 entries in SDK 12, 16 later.
    #[prost(uint32, repeated, packed = "true", tag = "3")]
    pub sd_req: Vec<u32>,
    #[prost(enumeration = "FwType", optional, tag = "4")]
    pub r#type: Option<i32>,
    #[prost(uint32, optional, tag = "5")]
    pub sd_size: Option<u32>,
    #[prost(uint32, optional, tag = "6")]
    pub bl_size: Option<u32>,
    #[prost(uint32, optional, tag = "7")]
    pub app_size: Option<u32>,
    #[prost(message, optional, tag = "8")]
    pub hash: Option<Hash>,
    #[prost(bool, optional, tag = "9", default = "false")]
    pub is_debug: Option<bool>,
    /// SDK 15.3+; nanopb max 3 entries.
    #[prost(message, repeated, tag = "10")]
    pub boot_validation: Vec<BootValidation>,
}

/// `dfu.ResetCommand` (SDK 12).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResetCommand {
    /// required
    #[prost(uint32, optional, tag = "1")]
    pub timeout: Option<u32>,
}

/// `dfu.Command`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Command {
    #[prost(enumeration = "OpCode", optional, tag = "1")]
    pub op_code: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub init: Option<InitCommand>,
    #[prost(message, optional, tag = "3")]
    pub reset: Option<ResetCommand>,
}

/// `dfu.SignedCommand`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SignedCommand {
    /// required
    #[prost(message, optional, tag = "1")]
    pub command: Option<Command>,
    /// required
    #[prost(enumeration = "SignatureType", optional, tag = "2")]
    pub signature_type: Option<i32>,
    /// required; nanopb max 64 bytes
    #[prost(bytes = "vec", optional, tag = "3")]
    pub signature: Option<Vec<u8>>,
}

/// `dfu.Packet`: the top level of a `.dat` file; exactly one field is present.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Packet {
    #[prost(message, optional, tag = "1")]
    pub command: Option<Command>,
    #[prost(message, optional, tag = "2")]
    pub signed_command: Option<SignedCommand>,
}

/// The proto's own enum value names (as nrfutil and `protoc` spell them).
pub trait ProtoName: Sized {
    fn proto_name(self) -> &'static str;
    /// Parse a proto enum value name.
    fn from_proto_name(name: &str) -> Option<Self>;
}

macro_rules! proto_names {
    ($t:ty { $($v:ident => $n:literal),* $(,)? }) => {
        impl ProtoName for $t {
            fn proto_name(self) -> &'static str {
                match self { $(<$t>::$v => $n),* }
            }
            fn from_proto_name(name: &str) -> Option<Self> {
                match name { $($n => Some(<$t>::$v),)* _ => None }
            }
        }
    };
}

proto_names!(OpCode { Reset => "RESET", Init => "INIT" });
proto_names!(FwType {
    Application => "APPLICATION",
    Softdevice => "SOFTDEVICE",
    Bootloader => "BOOTLOADER",
    SoftdeviceBootloader => "SOFTDEVICE_BOOTLOADER",
    ExternalApplication => "EXTERNAL_APPLICATION",
});
proto_names!(HashType { NoHash => "NO_HASH", Crc => "CRC", Sha128 => "SHA128", Sha256 => "SHA256", Sha512 => "SHA512" });
proto_names!(ValidationType {
    NoValidation => "NO_VALIDATION",
    ValidateGeneratedCrc => "VALIDATE_GENERATED_CRC",
    ValidateSha256 => "VALIDATE_SHA256",
    ValidateEcdsaP256Sha256 => "VALIDATE_ECDSA_P256_SHA256",
});
proto_names!(SignatureType { EcdsaP256Sha256 => "ECDSA_P256_SHA256", Ed25519 => "ED25519" });
