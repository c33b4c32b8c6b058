//! What each SDK's bootloader accepts in an init packet: the nanopb field limits compiled into
//! it (`dfu-cc.options`) and the command object size SELECT reports (`INIT_COMMAND_MAX_SIZE` in
//! `nrf_dfu_types.h`: 256 bytes up to SDK 15.2, 512 from 15.3).

use super::{enum_name, FwType, InitPacket};
use crate::sdk::SdkVersion;

/// Largest `Hash.hash` (nanopb `max_size:32`, all SDKs).
pub const MAX_HASH_LEN: usize = 32;
/// Largest `SignedCommand.signature` (nanopb `max_size:64`, all SDKs).
pub const MAX_SIGNATURE_LEN: usize = 64;
/// Largest `BootValidation.bytes` (nanopb `max_size:64`, SDK 15.3+).
pub const MAX_BOOT_VALIDATION_BYTES: usize = 64;

/// A field the given SDK's bootloader would not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    #[error("init packet is {size} bytes; the {sdk} bootloader takes at most {max}")]
    TooBig {
        size: usize,
        max: u32,
        sdk: SdkVersion,
    },
    #[error("{field} has {count} entries; the {sdk} bootloader takes at most {max}")]
    TooMany {
        field: &'static str,
        count: usize,
        max: usize,
        sdk: SdkVersion,
    },
    #[error("{field} is {len} bytes; at most {max} fit")]
    TooLong {
        field: String,
        len: usize,
        max: usize,
    },
    #[error("InitCommand.type {0} does not exist in {1}")]
    TypeNotInSdk(String, SdkVersion),
}

impl InitPacket {
    /// Check the packet against `sdk`'s limits: total size (256 B up to 15.2, 512 B from 15.3),
    /// `sd_req` entries (4 in SDK 12, 16 later), hash ≤ 32 B, signature ≤ 64 B,
    /// `boot_validation` ≤ 3 entries of ≤ 64 B from 15.3 on, and no EXTERNAL_APPLICATION in 12.
    ///
    /// Before 15.3 `boot_validation` (field 10) is unknown to the bootloader's nanopb decoder,
    /// which skips unknown fields: nrfutil 6 packages (which always carry it) are accepted
    /// there, so it is not an error; it only counts towards the total size.
    pub fn check_limits(&self, sdk: SdkVersion) -> Result<(), LimitError> {
        let max = sdk.max_init_packet_size();
        if self.as_bytes().len() > max as usize {
            return Err(LimitError::TooBig {
                size: self.as_bytes().len(),
                max,
                sdk,
            });
        }
        let init = self.init_command();
        if init.sd_req.len() > sdk.max_sd_req() {
            return Err(LimitError::TooMany {
                field: "InitCommand.sd_req",
                count: init.sd_req.len(),
                max: sdk.max_sd_req(),
                sdk,
            });
        }
        if let Some(len) = init
            .hash
            .as_ref()
            .and_then(|h| h.hash.as_ref())
            .map(Vec::len)
        {
            if len > MAX_HASH_LEN {
                return Err(LimitError::TooLong {
                    field: "Hash.hash".into(),
                    len,
                    max: MAX_HASH_LEN,
                });
            }
        }
        if let Some((_, sig)) = self.signature() {
            if sig.len() > MAX_SIGNATURE_LEN {
                return Err(LimitError::TooLong {
                    field: "SignedCommand.signature".into(),
                    len: sig.len(),
                    max: MAX_SIGNATURE_LEN,
                });
            }
        }
        if sdk >= SdkVersion::Sdk15_3 {
            let max_bv = sdk.max_boot_validations();
            if init.boot_validation.len() > max_bv {
                return Err(LimitError::TooMany {
                    field: "InitCommand.boot_validation",
                    count: init.boot_validation.len(),
                    max: max_bv,
                    sdk,
                });
            }
            for (i, bv) in init.boot_validation.iter().enumerate() {
                let len = bv.bytes.as_ref().map_or(0, Vec::len);
                if len > MAX_BOOT_VALIDATION_BYTES {
                    return Err(LimitError::TooLong {
                        field: format!("InitCommand.boot_validation[{i}].bytes"),
                        len,
                        max: MAX_BOOT_VALIDATION_BYTES,
                    });
                }
            }
        }
        if sdk == SdkVersion::Sdk12 && init.r#type == Some(FwType::ExternalApplication as i32) {
            return Err(LimitError::TypeNotInSdk(
                enum_name::<FwType>(FwType::ExternalApplication as i32),
                sdk,
            ));
        }
        Ok(())
    }
}
