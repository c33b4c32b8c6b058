//! Result and extended error codes per version (`nrf_dfu_req_handler.h`,
//! `nrf_dfu_handling_error.h`; 12.3 `dfu_req_handling.c`, 17.1 `nrf_dfu_validation.c` /
//! `nrf_dfu_ver_validation.c`): SDK 12 answers 0x0A for version/hw/sd_req/signature failures and
//! 0x07 for a bad object type; 14+ answer `0B <ext>`; 15.3+ BLE refuses the opcodes of
//! NRF_DFU_PROTOCOL_REDUCED.

use crate::common::*;
use crate::support::*;
use nrf_dfu::init_packet::{HashType, InitCommand, InitPacket, SignatureType};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::SdkVersion;
use rstest::rstest;

/// How to spoil the init packet.
#[derive(Debug, Clone, Copy)]
enum Spoil {
    HwVersion,
    NoHwVersion,
    SdReq,
    Downgrade,
    Unsigned,
    OtherKey,
    SignatureType,
    HashType,
    NoAppSize,
    TooBig,
    IsDebug,
    NoFwVersion,
}

fn spoiled_init(bench: &Bench, how: Spoil) -> Vec<u8> {
    let image = bench.app(2);
    let mut init = app_init(bench, &image, 2);
    match how {
        Spoil::HwVersion => init.hw_version = Some(51),
        Spoil::NoHwVersion => init.hw_version = None,
        Spoil::SdReq => init.sd_req = vec![0x1234],
        Spoil::Downgrade => init.fw_version = Some(0),
        Spoil::Unsigned => return unsigned(init),
        Spoil::OtherKey => {
            let other = SigningKey::from_scalar_bytes(&[7; 32]).unwrap();
            return InitPacket::new_signed(init, &other).encode();
        }
        Spoil::SignatureType => {
            let sig = key().sign_nordic(&prost::Message::encode_to_vec(&init));
            return InitPacket::with_signature(init, SignatureType::Ed25519 as i32, sig.to_vec())
                .encode();
        }
        Spoil::HashType => init.hash.as_mut().unwrap().hash_type = Some(HashType::Sha512 as i32),
        Spoil::NoAppSize => init.app_size = None,
        Spoil::TooBig => init.app_size = Some(0x60000),
        Spoil::IsDebug => init.is_debug = Some(true),
        Spoil::NoFwVersion => init.fw_version = None,
    }
    signed(init)
}

fn execute_init(bench: &Bench, init: &[u8]) -> Vec<u8> {
    let (mut dev, mut host) = dfu(bench, Link::Ble);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Command, init.len() as u32),
    );
    for c in init.chunks(host.payload) {
        host.write(&mut dev, c);
    }
    ask(&mut host, &mut dev, &Request::Execute)
}

#[rstest]
#[case::hw_version(Spoil::HwVersion, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x06])]
#[case::no_hw_version(Spoil::NoHwVersion, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x04])]
#[case::sd_req(Spoil::SdReq, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x07])]
#[case::downgrade(Spoil::Downgrade, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x05])]
#[case::unsigned(Spoil::Unsigned, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x08])]
#[case::other_key(Spoil::OtherKey, &[0x60, 0x04, 0x05], &[0x60, 0x04, 0x05])]
#[case::signature_type(Spoil::SignatureType, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x0B])]
// SDK 12 does not check the hash type at init EXECUTE.
#[case::hash_type(Spoil::HashType, &[0x60, 0x04, 0x01], &[0x60, 0x04, 0x0B, 0x09])]
#[case::no_app_size(Spoil::NoAppSize, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x04])]
#[case::too_big(Spoil::TooBig, &[0x60, 0x04, 0x04], &[0x60, 0x04, 0x04])]
// Release builds: SDK 12 refuses is_debug packets, 15+ ignore the flag (NRF_DFU_DEBUG = 0).
#[case::is_debug(Spoil::IsDebug, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x01])]
#[case::no_fw_version(Spoil::NoFwVersion, &[0x60, 0x04, 0x0A], &[0x60, 0x04, 0x0B, 0x04])]
fn init_execute_failures_per_version(
    #[case] how: Spoil,
    #[case] sdk12: &[u8],
    #[case] sdk15_plus: &[u8],
) {
    for sdk in [SdkVersion::Sdk12, SdkVersion::Sdk15_3, SdkVersion::Sdk17] {
        let bench = Bench::new(sdk);
        let reply = execute_init(&bench, &spoiled_init(&bench, how));
        let expected = if sdk == SdkVersion::Sdk12 {
            sdk12
        } else {
            sdk15_plus
        };
        assert_eq!(reply, expected, "{sdk:?} {how:?}");
    }
}

/// Raw request -> reply, per version (BLE).
#[rstest]
#[case::bad_object_type(&[0x06, 0x03], &[0x60, 0x06, 0x07], &[0x60, 0x06, 0x05], &[0x60, 0x06, 0x05])]
#[case::unknown_opcode(&[0x55], &[0x60, 0x55, 0x03], &[0x60, 0x55, 0x02], &[0x60, 0x55, 0x02])]
#[case::protocol_version(&[0x00], &[0x60, 0x00, 0x03], &[0x60, 0x00, 0x02], &[0x60, 0x00, 0x02])]
#[case::abort(&[0x0C], &[0x60, 0x0C, 0x03], &[0x60, 0x0C, 0x01], &[0x60, 0x0C, 0x01])]
#[case::create_command_0(&[0x01, 0x01, 0, 0, 0, 0], &[0x60, 0x01, 0x03], &[0x60, 0x01, 0x03], &[0x60, 0x01, 0x03])]
#[case::create_command_300(&[0x01, 0x01, 0x2C, 0x01, 0, 0], &[0x60, 0x01, 0x04], &[0x60, 0x01, 0x01], &[0x60, 0x01, 0x01])]
#[case::create_command_600(&[0x01, 0x01, 0x58, 0x02, 0, 0], &[0x60, 0x01, 0x04], &[0x60, 0x01, 0x04], &[0x60, 0x01, 0x04])]
#[case::create_data_without_init(&[0x01, 0x02, 0, 0x10, 0, 0], &[0x60, 0x01, 0x08], &[0x60, 0x01, 0x08], &[0x60, 0x01, 0x08])]
#[case::short_create(&[0x01, 0x01], &[0x60, 0x01, 0x03], &[0x60, 0x01, 0x03], &[0x60, 0x01, 0x03])]
#[case::select_command(&[0x06, 0x01], &[0x60, 0x06, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], &[0x60, 0x06, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], &[0x60, 0x06, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]
fn requests_per_version(
    #[case] request: &[u8],
    #[case] sdk12: &[u8],
    #[case] sdk15_3: &[u8],
    #[case] sdk17: &[u8],
) {
    for (sdk, expected) in [
        (SdkVersion::Sdk12, sdk12),
        (SdkVersion::Sdk15_3, sdk15_3),
        (SdkVersion::Sdk17, sdk17),
    ] {
        let (mut dev, mut host) = dfu(&Bench::new(sdk), Link::Ble);
        assert_eq!(
            raw(&mut host, &mut dev, request),
            expected,
            "{sdk:?} {request:02x?}"
        );
    }
}

/// The final EXECUTE with a wrong image: 12 INVALID_OBJECT, 15+ ext VERIFICATION_FAILED.
#[rstest]
#[case::sdk12(SdkVersion::Sdk12, vec![0x60, 0x04, 0x05])]
#[case::sdk15_3(SdkVersion::Sdk15_3, vec![0x60, 0x04, 0x0B, 0x0C])]
#[case::sdk17(SdkVersion::Sdk17, vec![0x60, 0x04, 0x0B, 0x0C])]
fn hash_mismatch_at_final_execute(#[case] sdk: SdkVersion, #[case] expected: Vec<u8>) {
    let bench = Bench::new(sdk);
    let image = bench.app_sized(2, 0x1000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    let mut wrong = image.clone();
    wrong[0x300] ^= 0xFF;
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    host.t += ms(400);
    for c in wrong.chunks(host.payload) {
        host.write(&mut dev, c);
        host.t += ms(10);
    }
    assert_eq!(ask(&mut host, &mut dev, &Request::Execute), expected);
    dev.settle(host.t + secs(60));
    assert_eq!(
        app_version(&dev),
        Some(1),
        "old app kept (dual bank), {:?}",
        dev.status()
    );
}

/// The extended error byte is read and cleared: each failure reports its own code once.
#[test]
fn extended_error_is_read_and_cleared() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host) = dfu(&bench, Link::Ble);
    for (how, ext) in [
        (Spoil::HwVersion, 0x06),
        (Spoil::SdReq, 0x07),
        (Spoil::HwVersion, 0x06),
    ] {
        let init = spoiled_init(&bench, how);
        ask(
            &mut host,
            &mut dev,
            &Request::create(ObjectType::Command, init.len() as u32),
        );
        for c in init.chunks(host.payload) {
            host.write(&mut dev, c);
        }
        assert_eq!(
            ask(&mut host, &mut dev, &Request::Execute),
            vec![0x60, 0x04, 0x0B, ext]
        );
    }
    // A plain failure in between carries no extended byte.
    assert_eq!(
        raw(&mut host, &mut dev, &[0x01, 0x01, 0, 0, 0, 0]),
        vec![0x60, 0x01, 0x03]
    );
    let _ = InitCommand::default();
}
