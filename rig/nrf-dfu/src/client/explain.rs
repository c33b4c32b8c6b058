//! What a result code means for the request and object it answers, per SDK where they differ
//! (codes: `nrf_dfu_result_t` in 17.1 `dfu/nrf_dfu_req_handler.h`, `nrf_dfu_ext_error_code_t` in
//! `dfu/nrf_dfu_handling_error.h`; causes: SDK 12.3 `dfu_req_handling.c`, 17.1
//! `nrf_dfu_req_handler.c`, `nrf_dfu_validation.c` and `nrf_dfu_ver_validation.c`).

use crate::wire::{ExtError, ObjectType, Opcode, ResultCode};
use crate::SdkVersion;

/// One line on why a bootloader answers `op` on `object` with `result` (and `ext`).
/// `sdk` is the bootloader's version when the caller knows it.
pub fn explain(
    op: Opcode,
    object: Option<ObjectType>,
    result: ResultCode,
    ext: Option<ExtError>,
    sdk: Option<SdkVersion>,
) -> &'static str {
    use ObjectType::{Command, Data};
    use Opcode::{ObjectCreate as Create, ObjectExecute as Execute};
    use ResultCode::*;

    if let Some(ext) = ext {
        return ext.explanation();
    }
    let sdk12 = sdk == Some(SdkVersion::Sdk12);
    let before15 = sdk.is_some_and(|v| v < SdkVersion::Sdk15_0);
    match (op, object, result) {
        (Execute, Some(Command), OperationFailed) if sdk12 => {
            "SDK 12 reports every init packet check (fw_version, hw_version, sd_req, signature) as OPERATION_FAILED"
        }
        (Execute, Some(Command), OperationNotPermitted) => {
            "EXECUTE of an incomplete init packet: the bytes received differ from the size given to CREATE"
        }
        (Execute, Some(Command), InsufficientResources) => {
            "the image does not fit: no bank can hold the size the init packet declares"
        }
        (Execute, Some(Command), InvalidObject) => {
            "init packet rejected: it does not decode, or its signature does not verify"
        }
        (Execute, Some(Command), OperationFailed) => {
            "the bootloader could not store the accepted init packet (settings write), or its signature length is wrong"
        }
        (Create, Some(Command), InsufficientResources) => {
            if sdk.is_some_and(|v| v >= SdkVersion::Sdk15_3) {
                "init packet larger than the bootloader's 512-byte command object"
            } else if sdk.is_some() {
                "init packet larger than the bootloader's 256-byte command object"
            } else {
                "init packet larger than the bootloader's command object (256 B up to SDK 15.2, 512 B from 15.3)"
            }
        }
        (Create, Some(Data), OperationNotPermitted) => {
            "no init packet has been executed, or the object would end beyond the image size the init packet declares"
        }
        (Create, Some(Data), InvalidParameter) => {
            "object size 0, or not a multiple of 4096 although it is not the last object"
        }
        (Create, Some(Data), InsufficientResources) => "data object larger than 4096 bytes",
        (Create, Some(Data), InvalidObject) if sdk12 => {
            "the page erase for the object could not be queued (SDK 12)"
        }
        (Create, Some(Data), InvalidObject) => "the flash erase for the object was refused",
        (Execute, Some(Data), OperationNotPermitted) => {
            "EXECUTE of an incomplete data object: the bytes received differ from the size given to CREATE"
        }
        (Execute, Some(Data), InvalidObject) => {
            "post-validation failed: the received image was rejected after its last object (boot validation, SoftDevice checks)"
        }
        (Execute, Some(Data), OperationFailed) => {
            "the bootloader failed to hash the image or to store the settings after the last object"
        }
        (_, _, InvalidParameter) if before15 => {
            "a parameter is wrong, or (SDK 12/14) the request has the wrong length or an unknown opcode"
        }
        (_, _, OpCodeNotSupported) if sdk.is_some_and(|v| v >= SdkVersion::Sdk15_3) => {
            "opcode not handled, or removed by NRF_DFU_PROTOCOL_REDUCED (BLE 15.3+ default)"
        }
        _ => result.explanation(),
    }
}
