//! The UART surface (SDK 17.1 `nrf_dfu_serial.c`, `nrf_dfu_serial_uart.c`, `slip.c`): SLIP
//! framing, the full opcode set (PING, MTU 131, HW and FW
//! version, PROTOCOL_VERSION, OBJECT_WRITE), OBJECT_WRITE answered only when a PRN is due (PRN
//! counting write frames), bytes taking 10 bit times at the profile's baud rate, and the
//! decoder wedging on an oversized frame.

use crate::common::*;
use crate::support::*;
use nrf_dfu::crc::{crc32, crc32_continue};
use nrf_dfu::wire::{ObjectType, Request, Response};
use nrf_dfu::SdkVersion;
use rstest::rstest;

fn uart_dfu() -> (virtual_nrf52::Device, Host, Bench) {
    let bench = Bench::new(SdkVersion::Sdk17).uart();
    let (dev, host) = dfu(&bench, Link::Uart);
    (dev, host, bench)
}

#[rstest]
#[case::ping(vec![0x09, 0x5A], vec![0x60, 0x09, 0x01, 0x5A])]
#[case::mtu(vec![0x07], vec![0x60, 0x07, 0x01, 0x83, 0x00])]
#[case::protocol_version(vec![0x00], vec![0x60, 0x00, 0x01, 0x01])]
#[case::hardware_version(vec![0x0A], [vec![0x60, 0x0A, 0x01], 0x52832u32.to_le_bytes().to_vec(), 0x4141_4230u32.to_le_bytes().to_vec(), 524_288u32.to_le_bytes().to_vec(), 65_536u32.to_le_bytes().to_vec(), 4096u32.to_le_bytes().to_vec()].concat())]
#[case::firmware_version_bootloader(vec![0x0B, 0x00], [vec![0x60, 0x0B, 0x01, 0x02], 1u32.to_le_bytes().to_vec(), 0x78000u32.to_le_bytes().to_vec(), 0x6000u32.to_le_bytes().to_vec()].concat())]
#[case::firmware_version_softdevice(vec![0x0B, 0x01], [vec![0x60, 0x0B, 0x01, 0x00], 7_002_000u32.to_le_bytes().to_vec(), 0x1000u32.to_le_bytes().to_vec(), 0x26000u32.to_le_bytes().to_vec()].concat())]
#[case::firmware_version_none(vec![0x0B, 0x05], vec![0x60, 0x0B, 0x01, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]
#[case::abort(vec![0x0C], vec![0x60, 0x0C, 0x01])]
fn serial_opcodes(#[case] request: Vec<u8>, #[case] reply: Vec<u8>) {
    let (mut dev, mut host, _) = uart_dfu();
    assert_eq!(raw(&mut host, &mut dev, &request), reply);
}

/// In DFU mode without an app, FW_VERSION image 2 is "unknown"; with a valid app it is the app.
#[test]
fn firmware_version_of_the_app() {
    let bench = Bench::new(SdkVersion::Sdk17).uart();
    let mut dev = bench.build();
    let t = dev.now();
    dev.app_write_gpregret(t, 0xB1).unwrap();
    dev.app_soft_reset(t).unwrap();
    let t = dev.settle(t + secs(5));
    let mut host = Host::uart(t);
    let reply = raw(&mut host, &mut dev, &[0x0B, 0x02]);
    let expected = [
        vec![0x60, 0x0B, 0x01, 0x01],
        1u32.to_le_bytes().to_vec(),
        bench.bank0().to_le_bytes().to_vec(),
        bench.app_size.to_le_bytes().to_vec(),
    ]
    .concat();
    assert_eq!(reply, expected);
}

#[test]
fn object_write_is_answered_only_when_a_prn_is_due() {
    let (mut dev, mut host, bench) = uart_dfu();
    let image = bench.app_sized(2, 0x1000);
    let pkg = app_package(&bench, &image, 2);
    host.prn = 3;
    host.request(&mut dev, &Request::SetPrn { count: 3 }, "prn")
        .unwrap();
    host.send_init(&mut dev, &pkg.init).unwrap();
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    let mut answered = Vec::new();
    for (i, chunk) in image.chunks(64).take(7).enumerate() {
        host.notifications.clear();
        host.write(&mut dev, chunk);
        if let Some(n) = host.notifications.pop() {
            answered.push((i + 1, n));
        }
    }
    let crc_at = |n: usize| {
        [
            vec![0x60, 0x03, 0x01],
            ((n * 64) as u32).to_le_bytes().to_vec(),
            crc32(&image[..n * 64]).to_le_bytes().to_vec(),
        ]
        .concat()
    };
    assert_eq!(answered, vec![(3, crc_at(3)), (6, crc_at(6))]);
}

/// 115200 baud, 8N1: a response is transmitted byte by byte after the request frame arrived.
#[test]
fn uart_bytes_take_ten_bit_times_at_the_profile_baud() {
    let (mut dev, host, _) = uart_dfu();
    let t = host.t;
    let frame = nrf_dfu::slip::encode(&[0x09, 0x11]);
    dev.uart_rx(t, &frame);
    assert!(
        dev.uart_tx(t).is_empty(),
        "nothing before the END byte has arrived"
    );
    let byte = dev.timing().uart.byte_time();
    let arrived = t + byte * frame.len() as u32;
    assert_eq!(dev.next_event_time(), Some(arrived));
    let out = dev.uart_tx(arrived);
    assert_eq!(out.len(), 1);
    let (done, bytes) = &out[0];
    assert_eq!(bytes, &nrf_dfu::slip::encode(&[0x60, 0x09, 0x01, 0x11]));
    assert_eq!(*done, arrived + byte * bytes.len() as u32);
}

/// A frame longer than the 131-byte buffer wedges the decoder: nothing answers until a reset.
#[test]
fn oversized_frame_wedges_the_serial_decoder_until_reset() {
    let (mut dev, mut host, _) = uart_dfu();
    let mut big = vec![0x08];
    big.extend_from_slice(&[0x33; 200]);
    dev.uart_rx(host.t, &nrf_dfu::slip::encode(&big));
    host.t += secs(1);
    assert!(dev.uart_wedged());
    assert_eq!(host.send_raw(&mut dev, &[0x09, 0x01]), None, "wedged");
    let t = host.t;
    dev.debug(t).soft_reset_for_test();
    let t = dev.settle(t + secs(5));
    let mut host = Host::uart(t);
    if !in_dfu_mode(&dev) {
        let t = enter_dfu_swd(&mut dev, t);
        host = Host::uart(t);
    }
    assert_eq!(
        raw(&mut host, &mut dev, &[0x09, 0x01]),
        vec![0x60, 0x09, 0x01, 0x01]
    );
}

/// A whole update over UART with PRN 4.
#[test]
fn uart_update_with_prn() {
    let (mut dev, mut host, bench) = uart_dfu();
    host.prn = 4;
    host.update(&mut dev, &app_package(&bench, &bench.app(2), 2))
        .expect("update");
    dev.settle(host.t + secs(30));
    assert_eq!(app_version(&dev), Some(2));
    assert!(!host.notifications.is_empty());
}

/// nrfutil 6.1.7's serial update (`dfu_transport_serial.py`): PRN 0, each request waits for
/// its reply, an object's OBJECT_WRITE frames go out back to back (64 bytes each), and CRC_GET
/// comes only once the object is complete, with no resend. The UART bootloader's NVMC flash
/// work is synchronous (SDK 15.x/17.1 `nrf_fstorage_nvmc.c`), so the CREATE reply waits for
/// the page erase, no frame is lost, and every object is complete at its first CRC_GET.
#[rstest]
#[case::sdk15_3(SdkVersion::Sdk15_3)]
#[case::sdk17(SdkVersion::Sdk17)]
fn uart_update_streamed_back_to_back_like_nrfutil(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk).uart();
    let (mut dev, mut host) = dfu(&bench, Link::Uart);
    dev.record_flash_ops(true);
    let image = bench.app_sized(2, 0x2A40);
    let pkg = app_package(&bench, &image, 2);
    host.request(&mut dev, &Request::SetPrn { count: 0 }, "prn")
        .expect("prn");
    host.send_init(&mut dev, &pkg.init).expect("init");
    let mut crc = 0;
    for (i, object) in image.chunks(4096).enumerate() {
        let asked = host.t;
        host.request(
            &mut dev,
            &Request::create(ObjectType::Data, object.len() as u32),
            "create data",
        )
        .expect("create");
        // Dual bank: the object's page is in bank 1, wherever that starts.
        let erase_end = ops_since(&dev, asked)
            .iter()
            .find(|op| op.what.starts_with("page erase"))
            .map(|op| op.end)
            .unwrap_or_else(|| panic!("object {i}: its page erase not done when CREATE answered"));
        assert!(
            host.t >= erase_end,
            "object {i}: CREATE answered before its erase"
        );
        for chunk in object.chunks(64) {
            host.write(&mut dev, chunk);
        }
        crc = crc32_continue(crc, object);
        let end = (i * 4096 + object.len()) as u32;
        let got = host
            .request(&mut dev, &Request::CrcGet, "crc")
            .expect("crc");
        assert_eq!(got, Response::Crc { offset: end, crc }, "object {i}");
        host.request(&mut dev, &Request::Execute, "execute data")
            .expect("execute");
    }
    dev.settle(host.t + secs(30));
    assert_eq!(app_version(&dev), Some(2));
    assert_eq!(dev.read_flash(bench.bank0(), image.len() as u32), image);
}

trait SoftReset {
    fn soft_reset_for_test(self);
}

impl SoftReset for virtual_nrf52::DebugSession<'_> {
    fn soft_reset_for_test(mut self) {
        use virtual_nrf52::DebugPort;
        self.soft_reset().expect("reset");
    }
}

/// Without a radio the rig learns which image runs from the test app's version block at the top
/// of RAM (firmware/testapp/src/info_block.rs), read over SWD: the stand-in app fills it as the
/// test app does, and the bootloader's stack overwrites it.
#[test]
fn the_app_fills_the_version_block_and_the_bootloader_overwrites_it() {
    use virtual_nrf52::info_block;
    let bench = Bench::new(SdkVersion::Sdk17).uart();
    let mut dev = bench.build();
    let t = dev.settle(dev.now() + secs(2));
    assert_eq!(app_version(&dev), Some(1));
    assert_eq!(info_block::version(dev.hardware()), Some(1));
    let o = info_block::offset(dev.hardware());
    assert_eq!(o, 0xFFF0, "the last 16 bytes of a QFAA's 64 KB RAM");
    assert_eq!(
        &dev.hardware().ram()[o..o + 4],
        b"RIGA",
        "the magic in memory order"
    );
    dev.app_write_gpregret(t, 0xB1).unwrap();
    dev.app_soft_reset(t).unwrap();
    dev.settle(t + secs(5));
    assert!(in_dfu_mode(&dev));
    assert_eq!(info_block::version(dev.hardware()), None);
}
