//! Checklist — timing (docs/notes/flash-timing.md; SDK 17.1 `nrf_dfu_req_handler.c`,
//! `on_data_obj_create_request`, `on_data_obj_execute_request_sched`): page erase and word write
//! times from the timing profile
//! (SoftDevice scheduling added in DFU mode on BLE), CREATE answered before its erase
//! completes, every data EXECUTE answered only when the flash queue has drained, the final
//! EXECUTE hashing the image (and computing the boot validation) before it answers.

use crate::common::*;
use crate::support::*;
use nrf_dfu::wire::{ObjectType, Request};
use nrf_dfu::SdkVersion;
use std::time::Duration;
use virtual_nrf52::{CpuCosts, TimingProfile};

#[test]
fn flash_times_come_from_the_timing_profile() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &bench.app(2), 2);
    dev.record_flash_ops(true);
    let from = host.t;
    create_and_write(&mut host, &mut dev, 4096, &[0xAA; 244]);
    dev.settle(host.t + secs(2));
    let typical = TimingProfile::typical();
    let ops = ops_since(&dev, from);
    let erase = &ops[0];
    assert!(erase.what.starts_with("page erase"), "{ops:?}");
    // DFU mode on BLE: sd_flash_page_erase waits for a gap long enough for a whole erase
    // (docs/notes/flash-timing.md), then erases.
    assert_eq!(
        erase.duration(),
        typical.nvmc.page_erase + typical.softdevice.erase_latency
    );
    let write = &ops[1];
    assert_eq!(
        write.what,
        format!(
            "write of 244 bytes at {:#07x}",
            bench.bank0() + bench.app_size
        )
    );
    // 61 words in 20-byte sd_flash_write calls: 13 calls, each waiting for a gap.
    assert_eq!(
        write.duration(),
        typical.nvmc.word_write * 61 + typical.softdevice.latency_per_op * 13
    );
}

#[test]
fn uart_bootloader_writes_through_the_nvmc_without_softdevice_latency() {
    let bench = Bench::new(SdkVersion::Sdk17).uart();
    let (mut dev, mut host, _) = after_init(&bench, Link::Uart, &bench.app(2), 2);
    dev.record_flash_ops(true);
    let from = host.t;
    create_and_write(&mut host, &mut dev, 4096, &[0x55; 64]);
    dev.settle(host.t + secs(2));
    let typical = TimingProfile::typical();
    let ops = ops_since(&dev, from);
    assert_eq!(ops[0].duration(), typical.nvmc.page_erase);
    assert_eq!(ops[1].duration(), typical.nvmc.word_write * 16);
}

#[test]
fn create_is_answered_before_its_erase_completes() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let (mut dev, host, _) = after_init(&bench, Link::Ble, &bench.app(2), 2);
    dev.record_flash_ops(true);
    let t = host.t;
    let reply = dev
        .dfu_control(t, &Request::create(ObjectType::Data, 4096).encode())
        .expect("reply");
    assert_eq!(reply.bytes, vec![0x60, 0x01, 0x01]);
    assert_eq!(reply.ready_at, t, "answered at once");
    dev.settle(t + secs(1));
    let erase = &ops_since(&dev, t)[0];
    assert!(erase.what.starts_with("page erase") && erase.end > reply.ready_at);
}

#[rstest::rstest]
#[case::sdk15_3(SdkVersion::Sdk15_3)]
#[case::sdk17(SdkVersion::Sdk17)]
fn data_execute_is_answered_when_the_flash_queue_has_drained(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk).app_size(0x3000);
    let image = bench.app_sized(2, 0x3000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    dev.record_flash_ops(true);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.t += ms(400);
    // Packets 5 ms apart (several per connection event): faster than the SoftDevice writes
    // them, so writes are still queued when EXECUTE arrives.
    stream(&mut host, &mut dev, &image[..4096], ms(5));
    let t = host.t;
    let reply = dev
        .dfu_control(t, &Request::Execute.encode())
        .expect("reply");
    assert_eq!(reply.bytes, vec![0x60, 0x04, 0x01]);
    dev.settle(reply.ready_at + secs(1));
    let last_write = ops_since(&dev, t.saturating_sub(secs(2)))
        .into_iter()
        .rfind(|r| r.what.starts_with("write"))
        .expect("writes");
    assert!(
        last_write.end > t,
        "writes were still queued when EXECUTE arrived"
    );
    assert_eq!(reply.ready_at, last_write.end);
}

#[test]
fn sdk12_answers_a_non_final_execute_at_once() {
    let bench = Bench::new(SdkVersion::Sdk12);
    let image = bench.app_sized(2, 0x3000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 4096),
    );
    host.t += ms(400);
    for chunk in image[..4096].chunks(20) {
        host.write(&mut dev, chunk);
        host.t += ms(5);
    }
    let t = host.t;
    let reply = dev
        .dfu_control(t, &Request::Execute.encode())
        .expect("reply");
    assert_eq!(reply.bytes, vec![0x60, 0x04, 0x01]);
    assert_eq!(reply.ready_at, t);
}

/// The final EXECUTE waits for the queue, then SHA-256 over the image and the CRC boot
/// validation, then answers; the settings write starts after the answer.
#[test]
fn final_execute_hashes_the_image_before_answering() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let image = bench.app_sized(2, 0x1000);
    let (mut dev, mut host, _) = after_init(&bench, Link::Ble, &image, 2);
    dev.record_flash_ops(true);
    ask(
        &mut host,
        &mut dev,
        &Request::create(ObjectType::Data, 0x1000),
    );
    host.t += ms(400);
    // Faster than the flash (see above), so the hash waits for the last write.
    stream(&mut host, &mut dev, &image, ms(5));
    let t = host.t;
    let reply = dev
        .dfu_control(t, &Request::Execute.encode())
        .expect("reply");
    assert_eq!(reply.bytes, vec![0x60, 0x04, 0x01]);
    dev.settle(t + secs(10));
    let ops = ops_since(&dev, t.saturating_sub(secs(3)));
    let settings = ops
        .iter()
        .find(|r| r.what == "page erase at 0x7f000")
        .expect("settings write");
    let last_data = ops
        .iter()
        .rfind(|r| r.what.starts_with("write of") && r.start < settings.start)
        .expect("last data write");
    assert_eq!(
        last_data.what,
        format!(
            "write of 192 bytes at {:#07x}",
            bench.bank0() + 0x3000 + 16 * 244
        )
    );
    let cpu = CpuCosts::default();
    assert_eq!(
        reply.ready_at,
        last_data.end + cpu.sha256(0x1000) + cpu.crc32(0x1000)
    );
    assert_eq!(
        settings.start, reply.ready_at,
        "settings are written after the answer"
    );
    let _ = Duration::ZERO;
}
