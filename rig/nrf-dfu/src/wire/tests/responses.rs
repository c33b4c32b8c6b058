use rstest::rstest;

use super::h;
use crate::wire::{
    ExpectedLen, ExtError, FirmwareType, Opcode, Response, ResponseError, ResponseKind, ResultCode,
};

#[rstest]
#[case::select_command_15_3(Opcode::ObjectSelect, Response::Select { max_size: 512, offset: 0, crc: 0 },
    "60 06 01 00 02 00 00 00 00 00 00 00 00 00 00")]
#[case::select_data_resume(Opcode::ObjectSelect, Response::Select { max_size: 4096, offset: 0x2000, crc: 0xCBF4_3926 },
    "60 06 01 00 10 00 00 00 20 00 00 26 39 f4 cb")]
#[case::crc(Opcode::CrcGet, Response::Crc { offset: 141, crc: 0x1234_5678 }, "60 03 01 8d 00 00 00 78 56 34 12")]
#[case::prn_notification(Opcode::ObjectWrite, Response::Crc { offset: 4096, crc: 0xDEAD_BEEF }, "60 03 01 00 10 00 00 ef be ad de")]
#[case::create(Opcode::ObjectCreate, Response::Create, "60 01 01")]
#[case::execute(Opcode::ObjectExecute, Response::Execute, "60 04 01")]
#[case::set_prn(Opcode::ReceiptNotifSet, Response::SetPrn, "60 02 01")]
#[case::abort(Opcode::Abort, Response::Abort, "60 0c 01")]
#[case::protocol_version(Opcode::ProtocolVersion, Response::ProtocolVersion { version: 1 }, "60 00 01 01")]
#[case::mtu_uart_131(Opcode::MtuGet, Response::Mtu { mtu: 131 }, "60 07 01 83 00")]
#[case::ping(Opcode::Ping, Response::Ping { id: 0x2a }, "60 09 01 2a")]
#[case::hw_nrf52832_qfaa(Opcode::HardwareVersion, Response::HardwareVersion {
        part: 0x52832, variant: 0x4141_4230, rom_size: 524_288, ram_size: 65_536, rom_page_size: 4096 },
    "60 0a 01 32 28 05 00 30 42 41 41 00 00 08 00 00 00 01 00 00 10 00 00")]
#[case::fw_bootloader(Opcode::FirmwareVersion, Response::FirmwareVersion {
        image_type: FirmwareType::Bootloader, version: 1, addr: 0x78000, len: 0x6000 },
    "60 0b 01 02 01 00 00 00 00 80 07 00 00 60 00 00")]
#[case::fw_softdevice_s132_7_2(Opcode::FirmwareVersion, Response::FirmwareVersion {
        image_type: FirmwareType::Softdevice, version: 7_002_000, addr: 0x1000, len: 0x26000 },
    "60 0b 01 00 90 d7 6a 00 00 10 00 00 00 60 02 00")]
#[case::fw_app(Opcode::FirmwareVersion, Response::FirmwareVersion {
        image_type: FirmwareType::Application, version: 3, addr: 0x26000, len: 0x1234 },
    "60 0b 01 01 03 00 00 00 00 60 02 00 34 12 00 00")]
#[case::fw_out_of_range(Opcode::FirmwareVersion, Response::FirmwareVersion {
        image_type: FirmwareType::Unknown, version: 0, addr: 0, len: 0 },
    "60 0b 01 ff 00 00 00 00 00 00 00 00 00 00 00 00")]
#[case::bare_protocol_version(Opcode::ProtocolVersion, Response::Bare { op: Opcode::ProtocolVersion }, "60 00 01")]
#[case::bare_mtu(Opcode::MtuGet, Response::Bare { op: Opcode::MtuGet }, "60 07 01")]
#[case::bare_ping(Opcode::Ping, Response::Bare { op: Opcode::Ping }, "60 09 01")]
#[case::bare_hw(Opcode::HardwareVersion, Response::Bare { op: Opcode::HardwareVersion }, "60 0a 01")]
#[case::bare_fw(Opcode::FirmwareVersion, Response::Bare { op: Opcode::FirmwareVersion }, "60 0b 01")]
#[case::error_insufficient(Opcode::ObjectCreate, Response::Error { op: 0x01, result: ResultCode::InsufficientResources }, "60 01 04")]
#[case::error_not_permitted(Opcode::ObjectExecute, Response::Error { op: 0x04, result: ResultCode::OperationNotPermitted }, "60 04 08")]
#[case::error_reduced(Opcode::MtuGet, Response::Error { op: 0x07, result: ResultCode::OpCodeNotSupported }, "60 07 02")]
#[case::error_invalid_code(Opcode::CrcGet, Response::Error { op: 0x03, result: ResultCode::Invalid }, "60 03 00")]
#[case::error_unknown_code(Opcode::ObjectSelect, Response::Error { op: 0x06, result: ResultCode::Unknown(0x42) }, "60 06 42")]
#[case::write_error_at_prn(Opcode::ObjectWrite, Response::Error { op: 0x03, result: ResultCode::OperationNotPermitted }, "60 03 08")]
#[case::write_refused_by_ble14(Opcode::ObjectWrite, Response::Error { op: 0x08, result: ResultCode::InvalidParameter }, "60 08 03")]
#[case::ext_fw_version(Opcode::ObjectExecute, Response::ExtendedError { op: 0x04, ext: ExtError::FwVersionFailure }, "60 04 0b 05")]
#[case::ext_unknown(Opcode::ObjectExecute, Response::ExtendedError { op: 0x04, ext: ExtError::Unknown(0x33) }, "60 04 0b 33")]
fn response_layouts(#[case] request: Opcode, #[case] response: Response, #[case] wire: &str) {
    assert_eq!(response.encode(), h(wire));
    assert_eq!(Response::decode(&h(wire), request), Ok(response.clone()));
    assert_eq!(response.request_opcode(), h(wire)[1]);
    assert_eq!(response.result().as_u8(), h(wire)[2]);
}

#[rstest]
#[case::unused_opcode_not_supported(0x05, "60 05 02", Response::Error { op: 0x05, result: ResultCode::OpCodeNotSupported })]
#[case::sdk12_unknown_opcode(0x0c, "60 0c 03", Response::Error { op: 0x0c, result: ResultCode::InvalidParameter })]
#[case::response_opcode_echoed(0x60, "60 60 02", Response::Error { op: 0x60, result: ResultCode::OpCodeNotSupported })]
fn error_answers_to_unknown_opcodes(
    #[case] request: u8,
    #[case] wire: &str,
    #[case] response: Response,
) {
    assert_eq!(
        Response::decode_raw(&h(wire), request),
        Ok(response.clone())
    );
    assert_eq!(response.encode(), h(wire));
}

#[rstest]
#[case::select_short(Opcode::ObjectSelect, "60 06 01 00 10 00 00",
    ResponseError::Length { what: ResponseKind::Success(Opcode::ObjectSelect), len: 7, expected: ExpectedLen::Exactly(15) },
    "SELECT response is 7 bytes, expected 15")]
#[case::crc_long(Opcode::CrcGet, "60 03 01 00 00 00 00 00 00 00 00 00",
    ResponseError::Length { what: ResponseKind::Success(Opcode::CrcGet), len: 12, expected: ExpectedLen::Exactly(11) },
    "CRC_GET response is 12 bytes, expected 11")]
#[case::create_with_payload(Opcode::ObjectCreate, "60 01 01 00",
    ResponseError::Length { what: ResponseKind::Success(Opcode::ObjectCreate), len: 4, expected: ExpectedLen::Exactly(3) },
    "CREATE response is 4 bytes, expected 3")]
#[case::mtu_half(Opcode::MtuGet, "60 07 01 83",
    ResponseError::Length { what: ResponseKind::Success(Opcode::MtuGet), len: 4, expected: ExpectedLen::FullOrBare(5) },
    "MTU_GET response is 4 bytes, expected 5 (or 3 for the bare BLE form)")]
#[case::prn_short(Opcode::ObjectWrite, "60 03 01",
    ResponseError::Length { what: ResponseKind::Success(Opcode::ObjectWrite), len: 3, expected: ExpectedLen::Exactly(11) },
    "WRITE response is 3 bytes, expected 11")]
#[case::ext_missing_code(Opcode::ObjectExecute, "60 04 0b",
    ResponseError::Length { what: ResponseKind::Extended { op: 0x04 }, len: 3, expected: ExpectedLen::Exactly(4) },
    "extended error response to 0x04 (EXECUTE) is 3 bytes, expected 4")]
#[case::error_too_long(Opcode::ObjectCreate, "60 01 04 00",
    ResponseError::Length { what: ResponseKind::Error { op: 0x01, result: ResultCode::InsufficientResources }, len: 4, expected: ExpectedLen::Exactly(3) },
    "error response (0x04 INSUFFICIENT_RESOURCES) to 0x01 (CREATE) is 4 bytes, expected 3")]
#[case::not_a_response(Opcode::CrcGet, "03 01 00",
    ResponseError::NotAResponse { first: 0x03 }, "response starts with 0x03, not the response opcode 0x60")]
#[case::other_opcode(Opcode::ObjectExecute, "60 01 01",
    ResponseError::OtherOpcode { request: 0x04, expected: 0x04, got: 0x01 },
    "response answers opcode 0x01 (CREATE), but the request was 0x04 (EXECUTE)")]
#[case::prn_must_be_crc(Opcode::ObjectWrite, "60 08 01",
    ResponseError::OtherOpcode { request: 0x08, expected: 0x03, got: 0x08 },
    "response answers opcode 0x08 (WRITE), but a 0x08 (WRITE) request is answered as 0x03 (CRC_GET)")]
#[case::truncated(Opcode::CrcGet, "60 03", ResponseError::Truncated { len: 2 },
    "response is 2 bytes, shorter than the 3-byte header `60 <opcode> <result>`")]
#[case::empty(Opcode::CrcGet, "", ResponseError::Truncated { len: 0 },
    "response is 0 bytes, shorter than the 3-byte header `60 <opcode> <result>`")]
fn malformed_responses(
    #[case] request: Opcode,
    #[case] wire: &str,
    #[case] err: ResponseError,
    #[case] message: &str,
) {
    let got = Response::decode(&h(wire), request).unwrap_err();
    assert_eq!(got, err);
    assert_eq!(got.to_string(), message);
}

#[test]
fn success_to_unknown_opcode_has_no_layout() {
    let err = Response::decode_raw(&h("60 05 01"), 0x05).unwrap_err();
    assert_eq!(err, ResponseError::NoLayout { op: 0x05 });
    assert_eq!(
        err.to_string(),
        "success response to opcode 0x05 (unknown) has no defined layout"
    );
}

#[test]
fn success_flags() {
    assert!(Response::Create.is_success());
    assert!(Response::Bare { op: Opcode::Ping }.is_success());
    assert!(!Response::Error {
        op: 1,
        result: ResultCode::InvalidParameter
    }
    .is_success());
    assert_eq!(
        Response::ExtendedError {
            op: 4,
            ext: ExtError::HwVersionFailure
        }
        .result(),
        ResultCode::ExtError
    );
}
