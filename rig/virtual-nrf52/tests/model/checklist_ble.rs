//! Checklist — BLE, the bootloader side (SDK 17.1 `nrf_dfu_ble.c`): address + 1 on byte 0 without
//! carry, "DfuTarg", the 16-deep flash queue with silent drops, PRN notifications formatted as
//! CRC_GET responses, and what a disconnect does to RAM progress per version
//! (docs/notes/interrupted-transfers.md, "After a link loss without a reset"). Advertising timing,
//! the CCCD gate and the MTU rule are the BLE surface's (B2).

use crate::common::*;
use crate::support::*;
use nrf_dfu::crc::crc32;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;
use virtual_nrf52::Ficr;
use virtual_nrf52::{DropReason, Status};

fn bootloader(dev: &virtual_nrf52::Device) -> virtual_nrf52::BootloaderStatus {
    match dev.status() {
        Status::Bootloader(b) => b,
        other => panic!("{other:?}"),
    }
}

/// A seed whose FICR address has byte 0 = 0xFF, to see the wrap without carry.
fn seed_with_lsb_ff() -> u64 {
    (0..100_000)
        .find(|&s| Ficr::new(Chip::Nrf52832Qfaa, s).ble_address()[0] == 0xFF)
        .expect("a seed")
}

#[rstest]
#[case::ordinary(7)]
#[case::wraps(seed_with_lsb_ff())]
fn bootloader_address_is_ficr_plus_one_on_byte_0_without_carry(#[case] seed: u64) {
    let bench = Bench {
        seed,
        ..Bench::new(SdkVersion::Sdk17)
    };
    let (dev, _) = dfu(&bench, Link::Ble);
    let ficr = Ficr::new(Chip::Nrf52832Qfaa, seed).ble_address();
    let mut expected = ficr;
    expected[0] = ficr[0].wrapping_add(1);
    assert_eq!(bootloader(&dev).ble_address, expected);
    assert_eq!(bootloader(&dev).ble_address[1..], ficr[1..], "no carry");
}

#[test]
fn bonded_bootloader_keeps_the_ficr_address() {
    let mut bench = Bench::new(SdkVersion::Sdk17);
    bench.with_app = false;
    let mut desc = bench.descriptor();
    desc.requires_bonds = true;
    let mut dev = bench.build();
    // Reflash the bootloader with the bonds option.
    let t = dev.now();
    {
        use virtual_nrf52::DebugPort;
        let segs = virtual_nrf52::standin::bootloader_segments(
            &desc,
            Chip::Nrf52832Qfaa,
            virtual_nrf52::standin::DEFAULT_BOOTLOADER_SIZE,
        )
        .unwrap();
        let mut port = dev.debug(t);
        port.program(&segs[..1], Default::default()).unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(t + secs(5));
    assert_eq!(
        bootloader(&dev).ble_address,
        dev.hardware().ficr().ble_address()
    );
}

#[test]
fn advertising_name_is_dfutarg_unless_the_app_set_one() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (dev, _) = dfu(&bench, Link::Ble);
    assert_eq!(bootloader(&dev).adv_name, "DfuTarg");
    let mut dev = bench.build();
    let t = dev.now();
    let written = dev.app_set_adv_name(t, b"Rig0042").expect("set name");
    let t = enter_dfu(&mut dev, written);
    assert_eq!(bootloader(&dev).adv_name, "Rig0042");
    // Leaving DFU mode into the app erases it again (17.1 additional erase).
    dev.dfu_control(t, &[0x0C]);
    dev.settle(t + secs(5));
    let now = dev.now();
    enter_dfu(&mut dev, now);
    assert_eq!(bootloader(&dev).adv_name, "DfuTarg");
}

/// Right after a data CREATE (erase still running) a burst fills the 16-entry fstorage queue:
/// the erase and 15 writes; later packets are dropped silently and the offset stops there.
#[test]
fn flash_queue_of_16_drops_packets_silently() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, host, _) = after_init(&bench, Link::Ble, &image, 2);
    let t = host.t;
    dev.dfu_control(t, &Request::create(ObjectType::Data, 4096).encode())
        .expect("create");
    let outcomes: Vec<_> = image[..4096]
        .chunks(244)
        .map(|c| dev.dfu_packet(t, c))
        .collect();
    assert!(
        outcomes[..15].iter().all(|o| o.is_accepted()),
        "{outcomes:?}"
    );
    assert!(
        outcomes[15..]
            .iter()
            .all(|o| o.dropped == Some(DropReason::FlashQueueFull)),
        "{outcomes:?}"
    );
    let reply = dev.dfu_control(t, &Request::CrcGet.encode()).unwrap();
    let offset = u32::from_le_bytes(reply.bytes[3..7].try_into().unwrap());
    let crc = u32::from_le_bytes(reply.bytes[7..11].try_into().unwrap());
    assert_eq!(offset, 15 * 244);
    assert_eq!(crc, crc32(&image[..15 * 244]));
}

#[test]
fn prn_notifications_are_crc_get_responses_every_n_packets() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    ask(&mut host, &mut dev, &Request::SetPrn { count: 4 });
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.t += ms(400);
    let mut seen = Vec::new();
    for (i, chunk) in image[..244 * 9].chunks(244).enumerate() {
        let out = dev.dfu_packet(host.t, chunk);
        host.t += ms(20);
        if let Some(n) = out.notification {
            seen.push((i + 1, n.bytes));
        }
    }
    let expect = |n: usize| {
        let mut b = vec![0x60, 0x03, 0x01];
        b.extend_from_slice(&((n * 244) as u32).to_le_bytes());
        b.extend_from_slice(&crc32(&image[..n * 244]).to_le_bytes());
        b
    };
    assert_eq!(seen, vec![(4, expect(4)), (8, expect(8))]);
    // CREATE restarts the count.
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.t += ms(400);
    let counts: Vec<bool> = image[..244 * 4]
        .chunks(244)
        .map(|c| {
            let n = dev.dfu_packet(host.t, c).notification.is_some();
            host.t += ms(20);
            n
        })
        .collect();
    assert_eq!(counts, vec![false, false, false, true]);
}

/// Table 8.8: after a disconnect mid-object, 16/17 fall back to the flash state (offset 0 by
/// default), 12 and 15.x keep RAM (resume inside the object); the valid init stays.
#[rstest]
#[case::sdk12(SdkVersion::Sdk12, true)]
#[case::sdk15_0(SdkVersion::Sdk15_0, true)]
#[case::sdk15_3(SdkVersion::Sdk15_3, true)]
#[case::sdk16(SdkVersion::Sdk16, false)]
#[case::sdk17(SdkVersion::Sdk17, false)]
fn link_loss_reverts_ram_progress_on_16_and_17_only(#[case] sdk: SdkVersion, #[case] kept: bool) {
    let bench = Bench::new(sdk);
    let image = bench.app_sized(2, 0x2000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    let payload = host.payload;
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.t += ms(400);
    for chunk in image[..payload * 10].chunks(payload) {
        host.write(&mut dev, chunk);
        host.t += ms(20);
    }
    dev.dfu_link_lost(host.t);
    host.t += secs(1);
    let sel = ask(&mut host, &mut dev, &Request::select(ObjectType::Data));
    let offset = u32::from_le_bytes(sel[7..11].try_into().unwrap());
    // SDK 12 keeps data in 256-byte buffers: 200 bytes received, all counted.
    assert_eq!(offset, if kept { (payload * 10) as u32 } else { 0 });
    // The init packet is still valid: a data object can be created.
    let create = ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    assert_eq!(create, vec![0x60, 0x01, 0x01]);
}
