use std::collections::HashSet;

use rstest::rstest;

use crate::wire::{ExtError, FirmwareType, ObjectType, Opcode, ResultCode};

#[rstest]
#[case(0x00, ResultCode::Invalid, "INVALID")]
#[case(0x01, ResultCode::Success, "SUCCESS")]
#[case(0x02, ResultCode::OpCodeNotSupported, "OP_CODE_NOT_SUPPORTED")]
#[case(0x03, ResultCode::InvalidParameter, "INVALID_PARAMETER")]
#[case(0x04, ResultCode::InsufficientResources, "INSUFFICIENT_RESOURCES")]
#[case(0x05, ResultCode::InvalidObject, "INVALID_OBJECT")]
#[case(0x06, ResultCode::InvalidSignature, "INVALID_SIGNATURE")]
#[case(0x07, ResultCode::UnsupportedType, "UNSUPPORTED_TYPE")]
#[case(0x08, ResultCode::OperationNotPermitted, "OPERATION_NOT_PERMITTED")]
#[case(0x0A, ResultCode::OperationFailed, "OPERATION_FAILED")]
#[case(0x0B, ResultCode::ExtError, "EXT_ERROR")]
#[case(0x09, ResultCode::Unknown(0x09), "UNKNOWN")]
#[case(0x0C, ResultCode::Unknown(0x0C), "UNKNOWN")]
#[case(0xFF, ResultCode::Unknown(0xFF), "UNKNOWN")]
fn result_codes(#[case] value: u8, #[case] code: ResultCode, #[case] name: &str) {
    assert_eq!(ResultCode::from_u8(value), code);
    assert_eq!(code.as_u8(), value);
    assert_eq!(code.name(), name);
    assert_eq!(code.to_string(), format!("0x{value:02X} {name}"));
}

#[rstest]
#[case(0x00, ExtError::NoError, "NO_ERROR")]
#[case(0x01, ExtError::InvalidErrorCode, "INVALID_ERROR_CODE")]
#[case(0x02, ExtError::WrongCommandFormat, "WRONG_COMMAND_FORMAT")]
#[case(0x03, ExtError::UnknownCommand, "UNKNOWN_COMMAND")]
#[case(0x04, ExtError::InitCommandInvalid, "INIT_COMMAND_INVALID")]
#[case(0x05, ExtError::FwVersionFailure, "FW_VERSION_FAILURE")]
#[case(0x06, ExtError::HwVersionFailure, "HW_VERSION_FAILURE")]
#[case(0x07, ExtError::SdVersionFailure, "SD_VERSION_FAILURE")]
#[case(0x08, ExtError::SignatureMissing, "SIGNATURE_MISSING")]
#[case(0x09, ExtError::WrongHashType, "WRONG_HASH_TYPE")]
#[case(0x0A, ExtError::HashFailed, "HASH_FAILED")]
#[case(0x0B, ExtError::WrongSignatureType, "WRONG_SIGNATURE_TYPE")]
#[case(0x0C, ExtError::VerificationFailed, "VERIFICATION_FAILED")]
#[case(0x0D, ExtError::InsufficientSpace, "INSUFFICIENT_SPACE")]
#[case(0x0E, ExtError::FwAlreadyPresent, "FW_ALREADY_PRESENT")]
#[case(0x0F, ExtError::Unknown(0x0F), "UNKNOWN")]
#[case(0xFF, ExtError::Unknown(0xFF), "UNKNOWN")]
fn ext_errors(#[case] value: u8, #[case] code: ExtError, #[case] name: &str) {
    assert_eq!(ExtError::from_u8(value), code);
    assert_eq!(code.as_u8(), value);
    assert_eq!(code.name(), name);
}

#[test]
fn every_byte_round_trips_through_both_code_types() {
    for v in 0..=u8::MAX {
        assert_eq!(ResultCode::from_u8(v).as_u8(), v);
        assert_eq!(ExtError::from_u8(v).as_u8(), v);
        assert_eq!(FirmwareType::from_u8(v).as_u8(), v);
    }
}

#[test]
fn named_lists_are_complete_and_explanations_distinct() {
    let named: HashSet<u8> = ResultCode::NAMED.iter().map(|c| c.as_u8()).collect();
    let known: HashSet<u8> = (0..=u8::MAX)
        .filter(|v| !matches!(ResultCode::from_u8(*v), ResultCode::Unknown(_)))
        .collect();
    assert_eq!(named, known);
    let explanations: HashSet<&str> = ResultCode::NAMED.iter().map(|c| c.explanation()).collect();
    assert_eq!(explanations.len(), ResultCode::NAMED.len());

    let named: HashSet<u8> = ExtError::NAMED.iter().map(|c| c.as_u8()).collect();
    let known: HashSet<u8> = (0..=u8::MAX)
        .filter(|v| !matches!(ExtError::from_u8(*v), ExtError::Unknown(_)))
        .collect();
    assert_eq!(named, known);
    let explanations: HashSet<&str> = ExtError::NAMED.iter().map(|c| c.explanation()).collect();
    assert_eq!(explanations.len(), ExtError::NAMED.len());
}

#[rstest]
#[case(ResultCode::InsufficientResources, "4096")]
#[case(ResultCode::OpCodeNotSupported, "REDUCED")]
#[case(ResultCode::OperationNotPermitted, "init packet")]
#[case(ResultCode::UnsupportedType, "SDK 12/14")]
fn result_explanations_name_typical_causes(#[case] code: ResultCode, #[case] mention: &str) {
    assert!(
        code.explanation().contains(mention),
        "{}: {}",
        code.name(),
        code.explanation()
    );
}

#[rstest]
#[case(ExtError::FwVersionFailure, "version too low")]
#[case(ExtError::HwVersionFailure, "52")]
#[case(ExtError::SdVersionFailure, "sd_req")]
#[case(ExtError::VerificationFailed, "SHA-256")]
fn ext_explanations_name_typical_causes(#[case] code: ExtError, #[case] mention: &str) {
    assert!(
        code.explanation().contains(mention),
        "{}: {}",
        code.name(),
        code.explanation()
    );
}

#[rstest]
#[case(0x00, Some(Opcode::ProtocolVersion), "PROTOCOL_VERSION")]
#[case(0x01, Some(Opcode::ObjectCreate), "OBJECT_CREATE")]
#[case(0x02, Some(Opcode::ReceiptNotifSet), "RECEIPT_NOTIF_SET")]
#[case(0x03, Some(Opcode::CrcGet), "CRC_GET")]
#[case(0x04, Some(Opcode::ObjectExecute), "OBJECT_EXECUTE")]
#[case(0x05, None, "")]
#[case(0x06, Some(Opcode::ObjectSelect), "OBJECT_SELECT")]
#[case(0x07, Some(Opcode::MtuGet), "MTU_GET")]
#[case(0x08, Some(Opcode::ObjectWrite), "OBJECT_WRITE")]
#[case(0x09, Some(Opcode::Ping), "PING")]
#[case(0x0A, Some(Opcode::HardwareVersion), "HARDWARE_VERSION")]
#[case(0x0B, Some(Opcode::FirmwareVersion), "FIRMWARE_VERSION")]
#[case(0x0C, Some(Opcode::Abort), "ABORT")]
#[case(0x0D, None, "")]
#[case(0x60, Some(Opcode::Response), "RESPONSE")]
fn opcodes(#[case] value: u8, #[case] op: Option<Opcode>, #[case] name: &str) {
    assert_eq!(Opcode::from_u8(value), op);
    if let Some(op) = op {
        assert_eq!(op.as_u8(), value);
        assert_eq!(op.name(), name);
    }
}

#[test]
fn object_and_firmware_types() {
    assert_eq!(ObjectType::try_from(1), Ok(ObjectType::Command));
    assert_eq!(ObjectType::try_from(2), Ok(ObjectType::Data));
    let err = ObjectType::try_from(3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "object type 0x03 is neither 1 (command object) nor 2 (data object)"
    );
    assert_eq!(FirmwareType::from_u8(0x00), FirmwareType::Softdevice);
    assert_eq!(FirmwareType::from_u8(0x01), FirmwareType::Application);
    assert_eq!(FirmwareType::from_u8(0x02), FirmwareType::Bootloader);
    assert_eq!(FirmwareType::from_u8(0xFF), FirmwareType::Unknown);
    assert_eq!(FirmwareType::from_u8(0x07), FirmwareType::Other(7));
}
