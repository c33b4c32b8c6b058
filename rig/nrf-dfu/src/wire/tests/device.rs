use rstest::rstest;

use super::h;
use crate::wire::{
    DeviceDecode, DeviceRequest, Dialect, FirmwareType, Request, Response, Transport,
};
use crate::SdkVersion::{self, *};

use Transport::{Ble, Uart};

fn decode(sdk: SdkVersion, transport: Transport, raw: &str, stale: &str) -> DeviceDecode {
    Dialect::new(sdk, transport)
        .expect("stock dialect")
        .device_decode_with_stale(&h(raw), &h(stale))
}

/// Requests the bootloader refuses at once, with the exact reply bytes.
#[rstest]
#[case::ble17_unused_05(Sdk17, Ble, "05", "60 05 02")]
#[case::ble17_response_opcode(Sdk17, Ble, "60", "60 60 02")]
#[case::ble17_reduced_protocol_version(Sdk17, Ble, "00", "60 00 02")]
#[case::ble15_3_reduced_mtu(Sdk15_3, Ble, "07", "60 07 02")]
#[case::ble16_reduced_ping(Sdk16, Ble, "09 01", "60 09 02")]
#[case::ble17_reduced_hw(Sdk17, Ble, "0a", "60 0a 02")]
#[case::ble17_reduced_fw(Sdk17, Ble, "0b 00", "60 0b 02")]
#[case::ble12_unused_05(Sdk12, Ble, "05", "60 05 03")]
#[case::ble12_abort(Sdk12, Ble, "0c", "60 0c 03")]
#[case::ble12_protocol_version(Sdk12, Ble, "00", "60 00 03")]
#[case::ble14_write_on_cp(Sdk14, Ble, "08 01 02", "60 08 03")]
#[case::ble12_select_long(Sdk12, Ble, "06 01 00", "60 06 03")]
#[case::ble12_select_short(Sdk12, Ble, "06", "60 06 03")]
#[case::ble12_create_short(Sdk12, Ble, "01 01 00 10 00", "60 01 03")]
#[case::ble14_prn_long(Sdk14, Ble, "02 00 00 00", "60 02 03")]
#[case::serial14_ping_short(Sdk14, Uart, "09", "60 09 03")]
#[case::serial14_protocol_version(Sdk14, Uart, "00", "60 00 03")]
#[case::serial14_hw_version(Sdk14, Uart, "0a", "60 0a 03")]
#[case::serial14_abort(Sdk14, Uart, "0c", "60 0c 03")]
#[case::serial17_unused_05(Sdk17, Uart, "05", "60 05 02")]
#[case::serial15_0_unknown_0d(Sdk15_0, Uart, "0d", "60 0d 02")]
fn refused_with_exact_reply(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] raw: &str,
    #[case] reply: &str,
) {
    match decode(sdk, transport, raw, "") {
        DeviceDecode::Reply { response, bytes } => {
            assert_eq!(bytes, h(reply));
            assert_eq!(response.encode(), h(reply));
            assert_eq!(Response::decode_raw(&bytes, h(raw)[0]), Ok(response));
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Requests handed to the request handler, including how 15+ reads short messages.
#[rstest]
#[case::ble17_select(Sdk17, Ble, "06 01", "", Request::Select { object_type: 1 }, 0)]
#[case::ble17_select_bad_type_kept_raw(Sdk17, Ble, "06 09", "", Request::Select { object_type: 9 }, 0)]
#[case::ble17_select_short_reads_zero(Sdk17, Ble, "06", "", Request::Select { object_type: 0 }, 1)]
#[case::ble17_select_short_reads_stale(Sdk17, Ble, "06", "06 02", Request::Select { object_type: 2 }, 1)]
#[case::ble17_create_short_reads_stale(Sdk17, Ble, "01 02 00", "01 01 00 10 00 00",
    Request::Create { object_type: 2, size: 0x1000 }, 3)]
#[case::ble17_create_long_ignores_extra(Sdk17, Ble, "01 02 00 10 00 00 ff ff", "", Request::Create { object_type: 2, size: 4096 }, 0)]
#[case::ble17_prn_short(Sdk17, Ble, "02 0c", "", Request::SetPrn { count: 12 }, 1)]
#[case::ble17_execute_long(Sdk17, Ble, "04 aa", "", Request::Execute, 0)]
#[case::ble17_abort(Sdk17, Ble, "0c", "", Request::Abort, 0)]
#[case::ble17_write_on_cp_is_empty(Sdk17, Ble, "08 aa bb", "", Request::Write { data: vec![] }, 0)]
#[case::ble15_0_protocol_version(Sdk15_0, Ble, "00", "", Request::ProtocolVersion, 0)]
#[case::ble15_0_ping_id_not_parsed(Sdk15_0, Ble, "09 2a", "", Request::Ping { id: 0 }, 0)]
#[case::ble15_2_fw_image_not_parsed(Sdk15_2, Ble, "0b 02", "", Request::FirmwareVersion { image: 0 }, 0)]
#[case::ble12_execute_extra_ignored(Sdk12, Ble, "04 ff", "", Request::Execute, 0)]
#[case::ble12_create_exact(Sdk12, Ble, "01 01 8d 00 00 00", "", Request::Create { object_type: 1, size: 141 }, 0)]
#[case::ble12_empty_write_stale_execute(Sdk12, Ble, "", "04", Request::Execute, 1)]
#[case::serial14_ping(Sdk14, Uart, "09 05", "", Request::Ping { id: 5 }, 0)]
#[case::serial14_write(Sdk14, Uart, "08 01 02 03", "", Request::Write { data: vec![1, 2, 3] }, 0)]
#[case::serial14_mtu(Sdk14, Uart, "07", "", Request::MtuGet, 0)]
#[case::serial17_write(Sdk17, Uart, "08 aa bb", "", Request::Write { data: vec![0xaa, 0xbb] }, 0)]
#[case::serial17_write_empty_payload(Sdk17, Uart, "08", "", Request::Write { data: vec![] }, 0)]
#[case::serial17_fw_version(Sdk17, Uart, "0b 01", "", Request::FirmwareVersion { image: 1 }, 0)]
#[case::serial17_ping(Sdk17, Uart, "09 2a", "", Request::Ping { id: 0x2a }, 0)]
#[case::serial17_ping_short_stale(Sdk17, Uart, "09", "09 07", Request::Ping { id: 7 }, 1)]
#[case::serial17_hw_version(Sdk17, Uart, "0a", "", Request::HardwareVersion, 0)]
#[case::serial17_empty_frame_stale_crc(Sdk17, Uart, "", "03", Request::CrcGet, 1)]
fn handed_to_request_handler(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] raw: &str,
    #[case] stale: &str,
    #[case] request: Request,
    #[case] stale_bytes: usize,
) {
    assert_eq!(
        decode(sdk, transport, raw, stale),
        DeviceDecode::Request(DeviceRequest {
            request,
            stale_bytes
        })
    );
}

#[test]
fn serial_empty_frame_with_stale_write_underflows() {
    assert_eq!(
        decode(Sdk17, Uart, "", "08 00"),
        DeviceDecode::WriteLengthUnderflow
    );
    assert_eq!(
        decode(Sdk14, Uart, "", "08"),
        DeviceDecode::WriteLengthUnderflow
    );
    // BLE never uses the length of a control-point write for OBJECT_WRITE.
    assert_eq!(
        decode(Sdk17, Ble, "", "08"),
        DeviceDecode::Request(DeviceRequest {
            request: Request::Write { data: vec![] },
            stale_bytes: 1
        })
    );
}

#[test]
fn device_decode_reads_zeros_without_stale_buffer() {
    let d = Dialect::ble(Sdk17);
    assert_eq!(
        d.device_decode(&h("01 01")),
        DeviceDecode::Request(DeviceRequest {
            request: Request::Create {
                object_type: 1,
                size: 0
            },
            stale_bytes: 4
        })
    );
    assert_eq!(
        d.device_decode(&[]),
        DeviceDecode::Reply {
            response: Response::Error {
                op: 0,
                result: crate::wire::ResultCode::OpCodeNotSupported
            },
            bytes: h("60 00 02")
        }
    );
}

#[rstest]
#[case::ble15_0_protocol_version_bare(Sdk15_0, Ble, Response::ProtocolVersion { version: 1 }, "60 00 01")]
#[case::ble15_2_mtu_bare(Sdk15_2, Ble, Response::Mtu { mtu: 247 }, "60 07 01")]
#[case::ble15_0_ping_bare(Sdk15_0, Ble, Response::Ping { id: 0 }, "60 09 01")]
#[case::ble15_0_hw_bare(Sdk15_0, Ble, Response::HardwareVersion { part: 0x52832, variant: 0, rom_size: 0, ram_size: 0, rom_page_size: 0 }, "60 0a 01")]
#[case::ble15_0_fw_bare(Sdk15_0, Ble, Response::FirmwareVersion { image_type: FirmwareType::Bootloader, version: 1, addr: 0x78000, len: 0x6000 }, "60 0b 01")]
#[case::serial17_protocol_version(Sdk17, Uart, Response::ProtocolVersion { version: 1 }, "60 00 01 01")]
#[case::serial17_mtu(Sdk17, Uart, Response::Mtu { mtu: 131 }, "60 07 01 83 00")]
#[case::serial17_ping(Sdk17, Uart, Response::Ping { id: 9 }, "60 09 01 09")]
#[case::ble17_select_full(Sdk17, Ble, Response::Select { max_size: 4096, offset: 0, crc: 0 }, "60 06 01 00 10 00 00 00 00 00 00 00 00 00 00")]
#[case::ble14_crc_full(Sdk14, Ble, Response::Crc { offset: 20, crc: 1 }, "60 03 01 14 00 00 00 01 00 00 00")]
#[case::ble15_0_error_unchanged(Sdk15_0, Ble, Response::Error { op: 0x07, result: crate::wire::ResultCode::OperationFailed }, "60 07 0a")]
#[case::ble17_ext_error(Sdk17, Ble, Response::ExtendedError { op: 0x04, ext: crate::wire::ExtError::SdVersionFailure }, "60 04 0b 07")]
fn responses_on_the_wire(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] response: Response,
    #[case] wire: &str,
) {
    let d = Dialect::new(sdk, transport).unwrap();
    assert_eq!(d.encode_response(&response), h(wire));
}
