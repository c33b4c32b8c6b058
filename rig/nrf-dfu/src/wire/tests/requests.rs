use rstest::rstest;

use super::h;
use crate::wire::{ObjectType, Opcode, Request, RequestError};

#[rstest]
#[case::protocol_version(Request::ProtocolVersion, "00")]
#[case::create_command_141(Request::create(ObjectType::Command, 141), "01 01 8d 00 00 00")]
#[case::create_data_4096(Request::create(ObjectType::Data, 4096), "01 02 00 10 00 00")]
#[case::create_bad_type(Request::Create { object_type: 3, size: 0x1234_5678 }, "01 03 78 56 34 12")]
#[case::prn_0(Request::SetPrn { count: 0 }, "02 00 00")]
#[case::prn_12(Request::SetPrn { count: 12 }, "02 0c 00")]
#[case::prn_max(Request::SetPrn { count: 0xFFFF }, "02 ff ff")]
#[case::crc_get(Request::CrcGet, "03")]
#[case::execute(Request::Execute, "04")]
#[case::select_command(Request::select(ObjectType::Command), "06 01")]
#[case::select_data(Request::select(ObjectType::Data), "06 02")]
#[case::mtu_get(Request::MtuGet, "07")]
#[case::write_empty(Request::Write { data: vec![] }, "08")]
#[case::write_data(Request::Write { data: vec![0x12, 0x0a, 0xc0] }, "08 12 0a c0")]
#[case::ping(Request::Ping { id: 0x2a }, "09 2a")]
#[case::hw_version(Request::HardwareVersion, "0a")]
#[case::fw_version_bootloader(Request::FirmwareVersion { image: 0 }, "0b 00")]
#[case::fw_version_app(Request::FirmwareVersion { image: 2 }, "0b 02")]
#[case::abort(Request::Abort, "0c")]
fn request_layouts(#[case] request: Request, #[case] wire: &str) {
    assert_eq!(request.encode(), h(wire));
    assert_eq!(request.encoded_len(), h(wire).len());
    assert_eq!(Request::decode(&h(wire)), Ok(request.clone()));
    assert_eq!(request.opcode().as_u8(), h(wire)[0]);
}

#[rstest]
#[case::empty(
    "",
    RequestError::Empty,
    "empty control-point request: there is no opcode byte"
)]
#[case::unused_05(
    "05",
    RequestError::UnknownOpcode(0x05),
    "0x05 is not a request opcode (0x05 is unused, 0x60 is the response opcode)"
)]
#[case::response_opcode(
    "60 06 01",
    RequestError::UnknownOpcode(0x60),
    "0x60 is not a request opcode (0x05 is unused, 0x60 is the response opcode)"
)]
#[case::create_short("01 02 00 10 00", RequestError::Length { op: Opcode::ObjectCreate, len: 5, expected: 6 }, "CREATE request is 5 bytes, expected 6")]
#[case::select_long("06 01 00", RequestError::Length { op: Opcode::ObjectSelect, len: 3, expected: 2 }, "SELECT request is 3 bytes, expected 2")]
#[case::prn_short("02 0c", RequestError::Length { op: Opcode::ReceiptNotifSet, len: 2, expected: 3 }, "SET_PRN request is 2 bytes, expected 3")]
#[case::execute_long("04 00", RequestError::Length { op: Opcode::ObjectExecute, len: 2, expected: 1 }, "EXECUTE request is 2 bytes, expected 1")]
#[case::ping_short("09", RequestError::Length { op: Opcode::Ping, len: 1, expected: 2 }, "PING request is 1 byte, expected 2")]
fn malformed_requests(#[case] wire: &str, #[case] err: RequestError, #[case] message: &str) {
    let got = Request::decode(&h(wire)).unwrap_err();
    assert_eq!(got, err);
    assert_eq!(got.to_string(), message);
}

#[test]
fn object_type_accessors() {
    let bad = Request::Select { object_type: 0x07 };
    assert_eq!(bad.raw_object_type(), Some(0x07));
    assert_eq!(bad.object_type(), None);
    let data = Request::create(ObjectType::Data, 10);
    assert_eq!(data.raw_object_type(), Some(2));
    assert_eq!(data.object_type(), Some(ObjectType::Data));
    assert_eq!(Request::Execute.raw_object_type(), None);
    assert_eq!(Request::Execute.object_type(), None);
}

#[test]
fn encode_into_appends() {
    let mut buf = vec![0xAA];
    Request::Ping { id: 1 }.encode_into(&mut buf);
    assert_eq!(buf, h("aa 09 01"));
}
