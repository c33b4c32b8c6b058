use rstest::rstest;

use crate::wire::{Dialect, DialectError, LengthRule, Opcode, ResultCode, Transport};
use crate::SdkVersion::{self, *};

use Transport::{Ble, Uart};

fn dialect(sdk: SdkVersion, transport: Transport) -> Dialect {
    Dialect::new(sdk, transport).expect("stock dialect")
}

/// The opcodes each SDK's transports handle (the sources named in `dialect.rs`), plus 0x08 on
/// BLE 15+ (handled as an empty write, see `is_supported`).
#[rstest]
#[case::ble_12(Sdk12, Ble, &[0x01, 0x02, 0x03, 0x04, 0x06])]
#[case::ble_14(Sdk14, Ble, &[0x01, 0x02, 0x03, 0x04, 0x06])]
#[case::ble_15_0(Sdk15_0, Ble, &[0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C])]
#[case::ble_15_2(Sdk15_2, Ble, &[0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C])]
#[case::ble_15_3_reduced(Sdk15_3, Ble, &[0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x0C])]
#[case::ble_16_reduced(Sdk16, Ble, &[0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x0C])]
#[case::ble_17_reduced(Sdk17, Ble, &[0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x0C])]
#[case::serial_14(Sdk14, Uart, &[0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09])]
#[case::serial_15_0(Sdk15_0, Uart, &[0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C])]
#[case::serial_15_3(Sdk15_3, Uart, &[0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C])]
#[case::serial_17(Sdk17, Uart, &[0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C])]
fn opcode_support(#[case] sdk: SdkVersion, #[case] transport: Transport, #[case] supported: &[u8]) {
    let d = dialect(sdk, transport);
    for op in 0..=u8::MAX {
        assert_eq!(
            d.supports_byte(op),
            supported.contains(&op),
            "{d}: opcode 0x{op:02X}"
        );
    }
}

#[rstest]
#[case::ble_15_3(Sdk15_3)]
#[case::ble_16(Sdk16)]
#[case::ble_17(Sdk17)]
fn ble_without_reduced_supports_everything(#[case] sdk: SdkVersion) {
    let full = Dialect::ble(sdk).with_protocol_reduced(false).unwrap();
    assert!(!full.protocol_reduced());
    for op in Opcode::REQUESTS {
        assert!(full.is_supported(op), "{full}: {op}");
    }
    assert_eq!(
        full.to_string(),
        format!("SDK {} BLE (full protocol)", sdk.label())
    );
}

#[rstest]
#[case::ble_12(Sdk12, Ble, ResultCode::InvalidParameter)]
#[case::ble_14(Sdk14, Ble, ResultCode::InvalidParameter)]
#[case::serial_14(Sdk14, Uart, ResultCode::InvalidParameter)]
#[case::ble_15_0(Sdk15_0, Ble, ResultCode::OpCodeNotSupported)]
#[case::ble_17(Sdk17, Ble, ResultCode::OpCodeNotSupported)]
#[case::serial_17(Sdk17, Uart, ResultCode::OpCodeNotSupported)]
fn unsupported_opcode_result(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] result: ResultCode,
) {
    assert_eq!(dialect(sdk, transport).unsupported_result(), result);
}

#[rstest]
#[case::ble_12(
    Sdk12,
    Ble,
    LengthRule::Exact,
    false,
    ResultCode::UnsupportedType,
    false
)]
#[case::ble_14(
    Sdk14,
    Ble,
    LengthRule::Exact,
    true,
    ResultCode::UnsupportedType,
    false
)]
#[case::serial_14(
    Sdk14,
    Uart,
    LengthRule::Exact,
    true,
    ResultCode::UnsupportedType,
    false
)]
#[case::ble_15_0(
    Sdk15_0,
    Ble,
    LengthRule::FixedOffsets,
    true,
    ResultCode::InvalidObject,
    true
)]
#[case::ble_17(
    Sdk17,
    Ble,
    LengthRule::FixedOffsets,
    true,
    ResultCode::InvalidObject,
    true
)]
#[case::serial_16(
    Sdk16,
    Uart,
    LengthRule::FixedOffsets,
    true,
    ResultCode::InvalidObject,
    true
)]
fn per_version_rules(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] rule: LengthRule,
    #[case] ext: bool,
    #[case] bad_type: ResultCode,
    #[case] sticks: bool,
) {
    let d = dialect(sdk, transport);
    assert_eq!(d.length_rule(), rule);
    assert_eq!(d.has_extended_errors(), ext);
    assert_eq!(d.invalid_object_type_result(), bad_type);
    assert_eq!(d.invalid_type_sticks(), sticks);
}

#[rstest]
#[case::create(Opcode::ObjectCreate, Some(6))]
#[case::prn(Opcode::ReceiptNotifSet, Some(3))]
#[case::select(Opcode::ObjectSelect, Some(2))]
#[case::execute(Opcode::ObjectExecute, None)]
#[case::crc(Opcode::CrcGet, None)]
fn sdk12_required_lengths(#[case] op: Opcode, #[case] len: Option<usize>) {
    assert_eq!(Dialect::ble(Sdk12).required_len(op), len);
    assert_eq!(Dialect::ble(Sdk17).required_len(op), None);
}

#[rstest]
#[case::ble_14(Sdk14, Ble, &[])]
#[case::ble_15_0(Sdk15_0, Ble, &[0x00, 0x07, 0x09, 0x0A, 0x0B])]
#[case::ble_15_2(Sdk15_2, Ble, &[0x00, 0x07, 0x09, 0x0A, 0x0B])]
#[case::ble_17_reduced(Sdk17, Ble, &[])]
#[case::serial_17(Sdk17, Uart, &[])]
fn bare_success_responses(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] bare: &[u8],
) {
    let d = dialect(sdk, transport);
    for op in Opcode::REQUESTS {
        assert_eq!(d.sends_bare(op), bare.contains(&op.as_u8()), "{d}: {op}");
    }
}

#[test]
fn ble_17_full_protocol_sends_bare_too() {
    let d = Dialect::ble(Sdk17).with_protocol_reduced(false).unwrap();
    assert!(d.sends_bare(Opcode::MtuGet));
    assert_eq!(d.protocol_version(), None);
}

#[rstest]
#[case::ble_12(Sdk12, Ble, None, None)]
#[case::ble_15_0(Sdk15_0, Ble, None, None)]
#[case::serial_14(Sdk14, Uart, None, Some(257))]
#[case::serial_15_0(Sdk15_0, Uart, Some(1), Some(131))]
#[case::serial_17(Sdk17, Uart, Some(1), Some(131))]
fn protocol_version_and_mtu(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] version: Option<u8>,
    #[case] mtu: Option<u16>,
) {
    let d = dialect(sdk, transport);
    assert_eq!(d.protocol_version(), version);
    assert_eq!(d.serial_mtu(), mtu);
    assert_eq!(d.slip_buffer_len(), mtu.map(usize::from));
}

#[rstest]
#[case::ble_ping(Sdk17, Ble, Opcode::Ping, false)]
#[case::ble_fw_version(Sdk15_0, Ble, Opcode::FirmwareVersion, false)]
#[case::ble_write(Sdk17, Ble, Opcode::ObjectWrite, false)]
#[case::ble_create(Sdk17, Ble, Opcode::ObjectCreate, true)]
#[case::serial_ping(Sdk17, Uart, Opcode::Ping, true)]
#[case::serial_fw_version(Sdk17, Uart, Opcode::FirmwareVersion, true)]
#[case::serial_14_fw_version(Sdk14, Uart, Opcode::FirmwareVersion, false)]
#[case::serial_write(Sdk14, Uart, Opcode::ObjectWrite, true)]
fn parameter_parsing(
    #[case] sdk: SdkVersion,
    #[case] transport: Transport,
    #[case] op: Opcode,
    #[case] parsed: bool,
) {
    assert_eq!(dialect(sdk, transport).parses_parameters(op), parsed);
}

#[test]
fn dialect_construction_rules() {
    assert_eq!(
        Dialect::new(Sdk12, Uart),
        Err(DialectError::NoSerialTransport(Sdk12))
    );
    assert_eq!(
        Dialect::new(Sdk12, Uart).unwrap_err().to_string(),
        "SDK 12 has no Secure DFU serial transport (its bootloader_secure example is BLE only)"
    );
    let err = dialect(Sdk17, Uart)
        .with_protocol_reduced(true)
        .unwrap_err();
    assert_eq!(
        err,
        DialectError::ReducedNotAvailable {
            sdk: Sdk17,
            transport: Uart
        }
    );
    assert_eq!(
        err.to_string(),
        "NRF_DFU_PROTOCOL_REDUCED exists only for BLE bootloaders of SDK 15.3 and later, not SDK 17 serial"
    );
    assert!(Dialect::ble(Sdk15_2).with_protocol_reduced(true).is_err());
    assert!(Dialect::ble(Sdk15_3).protocol_reduced());
    assert!(!Dialect::ble(Sdk15_2).protocol_reduced());
    assert_eq!(Dialect::ble(Sdk17), dialect(Sdk17, Ble));
    assert_eq!(Dialect::all().len(), 13);
    assert!(Dialect::all()
        .iter()
        .all(|d| !(d.sdk() == Sdk12 && d.transport() == Uart)));
}
