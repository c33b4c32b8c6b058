//! Error messages, failure classes, explanations per dialect, image order.

use std::time::Duration;

use rstest::rstest;

use crate::client::explain::explain;
use crate::client::*;
use crate::wire::{ExtError, ObjectType, Opcode, ResultCode};
use crate::SdkVersion;

fn at(phase: Phase, object: Option<ObjectType>, object_index: u32, offset: u32) -> Location {
    Location {
        image_index: 0,
        image_count: 1,
        image_kind: ImageKind::Application,
        phase,
        object,
        object_index,
        offset,
    }
}

#[test]
fn init_execute_extended_error_reads_like_a_sentence() {
    let error = DfuError::rejected(
        at(Phase::Execute, Some(ObjectType::Command), 0, 0),
        Opcode::ObjectExecute,
        ResultCode::ExtError,
        Some(ExtError::SdVersionFailure),
        Some(SdkVersion::Sdk17),
    );
    assert_eq!(
        error.to_string(),
        "init packet EXECUTE failed: result 0x0B EXT_ERROR, extended 0x07 SD_VERSION_FAILURE \
         (sd_req in the init packet does not list the FWID of the installed SoftDevice) at offset 0"
    );
    assert_eq!(
        error.failure_class(),
        "dut.protocol.execute.ext_error.sd_version_failure"
    );
    assert!(!error.is_infrastructure());
}

#[test]
fn data_object_error_names_object_offset_and_image() {
    let mut location = at(Phase::Create, Some(ObjectType::Data), 3, 12288);
    location.image_index = 1;
    location.image_count = 2;
    let error = DfuError::rejected(
        location,
        Opcode::ObjectCreate,
        ResultCode::OperationNotPermitted,
        None,
        None,
    );
    assert_eq!(
        error.to_string(),
        "data object 3 CREATE failed: result 0x08 OPERATION_NOT_PERMITTED (no init packet has been \
         executed, or the object would end beyond the image size the init packet declares) at \
         offset 12288 in image 2 of 2 (application)"
    );
    assert_eq!(
        error.failure_class(),
        "dut.protocol.create.operation_not_permitted"
    );
}

#[rstest]
#[case::sdk12_init_checks(
    Opcode::ObjectExecute, Some(ObjectType::Command), ResultCode::OperationFailed, None, Some(SdkVersion::Sdk12),
    "SDK 12 reports every init packet check (fw_version, hw_version, sd_req, signature) as OPERATION_FAILED")]
#[case::sdk17_init_settings(
    Opcode::ObjectExecute, Some(ObjectType::Command), ResultCode::OperationFailed, None, Some(SdkVersion::Sdk17),
    "the bootloader could not store the accepted init packet (settings write), or its signature length is wrong")]
#[case::ext_wins(
    Opcode::ObjectExecute,
    Some(ObjectType::Data),
    ResultCode::ExtError,
    Some(ExtError::VerificationFailed),
    None,
    "the SHA-256 of the received image differs from the init packet's hash (final EXECUTE)"
)]
#[case::init_too_big_15_3(
    Opcode::ObjectCreate,
    Some(ObjectType::Command),
    ResultCode::InsufficientResources,
    None,
    Some(SdkVersion::Sdk15_3),
    "init packet larger than the bootloader's 512-byte command object"
)]
#[case::init_too_big_14(
    Opcode::ObjectCreate,
    Some(ObjectType::Command),
    ResultCode::InsufficientResources,
    None,
    Some(SdkVersion::Sdk14),
    "init packet larger than the bootloader's 256-byte command object"
)]
#[case::sdk12_erase_refused(
    Opcode::ObjectCreate,
    Some(ObjectType::Data),
    ResultCode::InvalidObject,
    None,
    Some(SdkVersion::Sdk12),
    "the page erase for the object could not be queued (SDK 12)"
)]
#[case::incomplete_data_object(
    Opcode::ObjectExecute,
    Some(ObjectType::Data),
    ResultCode::OperationNotPermitted,
    None,
    Some(SdkVersion::Sdk16),
    "EXECUTE of an incomplete data object: the bytes received differ from the size given to CREATE"
)]
#[case::old_invalid_parameter(
    Opcode::ReceiptNotifSet,
    None,
    ResultCode::InvalidParameter,
    None,
    Some(SdkVersion::Sdk14),
    "a parameter is wrong, or (SDK 12/14) the request has the wrong length or an unknown opcode"
)]
#[case::reduced_opcode_set(
    Opcode::MtuGet,
    None,
    ResultCode::OpCodeNotSupported,
    None,
    Some(SdkVersion::Sdk17),
    "opcode not handled, or removed by NRF_DFU_PROTOCOL_REDUCED (BLE 15.3+ default)"
)]
#[case::fallback_to_result_text(
    Opcode::ObjectSelect, Some(ObjectType::Data), ResultCode::InvalidObject, None, None,
    ResultCode::InvalidObject.explanation())]
fn explanations(
    #[case] op: Opcode,
    #[case] object: Option<ObjectType>,
    #[case] result: ResultCode,
    #[case] ext: Option<ExtError>,
    #[case] sdk: Option<SdkVersion>,
    #[case] expected: &str,
) {
    assert_eq!(explain(op, object, result, ext, sdk), expected);
}

#[rstest]
#[case::timeout(
    DfuError::Timeout { at: at(Phase::Execute, Some(ObjectType::Data), 2, 12288), waiting: Waiting::Response(Opcode::ObjectExecute), after: Duration::from_secs(5) },
    "data object 2 execute: no response to EXECUTE within 5 s at offset 12288",
    "dut.timeout.execute", false)]
#[case::activation(
    DfuError::Timeout { at: at(Phase::Activation, None, 0, 4096), waiting: Waiting::LinkLoss, after: Duration::from_millis(1500) },
    "activation activation: the device did not reset (link still up) within 1.500 s at offset 4096",
    "dut.timeout.activation", false)]
#[case::link_lost(
    DfuError::Link { at: at(Phase::Write, Some(ObjectType::Data), 1, 5000), op: Some(Opcode::ObjectWrite), source: LinkError::link_lost("disconnected (reason 0x08)") },
    "data object 1 WRITE: link lost: disconnected (reason 0x08) at offset 5000",
    "dut.link_lost.write", false)]
#[case::adapter_io(
    DfuError::Link { at: at(Phase::Select, Some(ObjectType::Command), 0, 0), op: Some(Opcode::ObjectSelect), source: LinkError::io("hci0: no such device") },
    "init packet SELECT: I/O error: hci0: no such device at offset 0",
    "infra.transport.io", true)]
#[case::crc(
    DfuError::CrcMismatch { at: at(Phase::CrcCheck, Some(ObjectType::Data), 0, 4096), attempts: 3, device_offset: 4096, device_crc: 0x1234, expected_crc: 0xABCD },
    "data object 0: CRC mismatch after 3 attempts: device reports offset 4096 CRC 0x00001234, expected 0x0000ABCD",
    "dut.protocol.crc.crc_mismatch", false)]
#[case::rewinds(
    DfuError::TooManyRewinds { at: at(Phase::CrcCheck, Some(ObjectType::Data), 1, 8192), rewinds: 8, device_offset: 7000, sent: 8192 },
    "data object 1: bytes lost again after 8 rewinds (device at offset 7000 of 8192 sent)",
    "dut.protocol.crc.bytes_lost", false)]
#[case::violation(
    DfuError::Protocol { at: at(Phase::Select, Some(ObjectType::Data), 0, 0), op: None, violation: Violation::ZeroMaxSize },
    "data object 0 select: protocol violation: SELECT reports a maximum object size of 0 at offset 0",
    "dut.protocol.select.violation", false)]
#[case::aborted(
    DfuError::Aborted { at: at(Phase::Execute, Some(ObjectType::Data), 4, 20480) },
    "aborted by the progress sink before data object 4 execute at offset 20480",
    "aborted", false)]
#[case::invalid_image(
    DfuError::InvalidImage { image_index: 0, kind: ImageKind::Bootloader, reason: "the firmware is empty".into() },
    "image 1 (bootloader) cannot be sent: the firmware is empty",
    "infra.input.image", true)]
fn other_errors(
    #[case] error: DfuError,
    #[case] message: &str,
    #[case] class: &str,
    #[case] infrastructure: bool,
) {
    assert_eq!(error.to_string(), message);
    assert_eq!(error.failure_class(), class);
    assert_eq!(error.is_infrastructure(), infrastructure);
}

#[test]
fn images_go_in_nrfutil_order() {
    let image = |kind, tag: u8| DfuImage::new(kind, vec![tag], vec![tag]);
    let images = vec![
        image(ImageKind::Application, 1),
        image(ImageKind::Bootloader, 2),
        image(ImageKind::Softdevice, 3),
        image(ImageKind::SoftdeviceBootloader, 4),
        image(ImageKind::Application, 5),
    ];
    let order: Vec<(ImageKind, u8)> = send_order(&images)
        .iter()
        .map(|i| (i.kind, i.init_packet[0]))
        .collect();
    assert_eq!(
        order,
        vec![
            (ImageKind::SoftdeviceBootloader, 4),
            (ImageKind::Softdevice, 3),
            (ImageKind::Bootloader, 2),
            (ImageKind::Application, 1),
            (ImageKind::Application, 5),
        ]
    );
}

#[rstest]
#[case(20, 20)]
#[case(244, 244)]
#[case(182, 180)]
#[case(127, 124)]
#[case(64, 64)]
#[case(3, 3)]
fn payloads_are_whole_words(#[case] len: usize, #[case] expected: usize) {
    assert_eq!(crate::client::session::word_aligned(len), expected);
}
