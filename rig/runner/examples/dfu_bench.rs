//! Issue 4 benchmark: a 200 KB application update of the virtual nRF52832 with the SDK 17.1 BLE
//! bootloader and timing profile, through the rig's own DFU client and virtual BLE link (the
//! same path as `rig dfu` on the virtual bench), against the bound the profile itself sets.
//!
//! `cargo run --release -p rig --example dfu_bench -- [PRN ...]` (default PRN 0, as nrfutil).
//!
//! The simulated time is the client's: first request to the final EXECUTE's answer and the link
//! loss of the activation reset. Its lower bound from the profile alone:
//! bound = max(link time, flash time) + fixed protocol round trips, where
//! - link time: every data packet (object bytes / (ATT MTU − 3)), per object, at the profile's
//!   packets per connection event, one connection interval per event;
//! - flash time: per object one page erase, per packet one fstorage write (split by the SoftDevice
//!   backend into `max_write_bytes` chunks, each waiting `latency_per_op`), plus the settings
//!   page write + backup after the init packet's EXECUTE (17.1), each costed by the model's own
//!   `nvmc::cost`; all of it is serial (one flash queue);
//! - round trips: one connection interval per request answered before any flash work starts
//!   (SET_PRN, SELECT command, CREATE command, CRC_GET, EXECUTE, after the init packet write) and
//!   one for the last EXECUTE's answer: 6 + 1. Between data objects the client's CREATE reaches
//!   the device while the previous object's writes still drain, so no gap is counted there.

#[path = "support/bench_image.rs"]
mod bench_image;

use nrf_dfu::client::{DfuConfig, DfuImage};
use nrf_dfu::memory_map::PAGE_SIZE;
use nrf_dfu::settings::SettingsLayout;
use nrf_dfu::signing::SigningKey;
use nrf_dfu::{Chip, SdkVersion};
use rig::inproc::virtual_dfu::update_virtual;
use rig::inproc::{share, BleLinkConfig};
use std::time::{Duration, Instant};
use virtual_nrf52::descriptor::BootloaderDescriptor;
use virtual_nrf52::nvmc::cost;
use virtual_nrf52::softdevice::S132_7_2_0;
use virtual_nrf52::DebugPort;
use virtual_nrf52::{standin, Device, FlashOp, FlashPath, ProgramOptions, TimingProfile};

const KEY_PEM: &str = include_str!("../../../firmware/keys/rig-test-private.pem");
const CHIP: Chip = Chip::Nrf52832Qfaa;
const APP_SIZE: u32 = 200 * 1024;
const OBJECT: u32 = 4096;
const ATT_MTU: u16 = 247;

fn device(timing: &TimingProfile, pk: [u8; 64]) -> Device {
    let mut d = Device::new(CHIP, 7);
    d.set_timing(timing.clone());
    let mut segs = standin::softdevice_hex_segments(&S132_7_2_0);
    let bl = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, pk);
    segs.extend(standin::bootloader_segments(&bl, CHIP, standin::DEFAULT_BOOTLOADER_SIZE).unwrap());
    let mut port = d.debug(Duration::ZERO);
    port.program(&segs, ProgramOptions::default()).unwrap();
    port.soft_reset().unwrap();
    let t = d.now();
    d.settle(t + Duration::from_secs(60));
    d
}

fn image(key: &SigningKey) -> DfuImage {
    bench_image::bench_image(key, CHIP, &S132_7_2_0, APP_SIZE)
}

struct Bound {
    link: Duration,
    flash: Duration,
    round_trips: Duration,
}

impl Bound {
    fn total(&self) -> Duration {
        self.link.max(self.flash) + self.round_trips
    }
}

fn bound(timing: &TimingProfile, firmware: u32) -> Bound {
    let ble = timing.clone().with_sdk_link(SdkVersion::Sdk17).ble;
    let payload = u32::from(ATT_MTU - 3);
    let bank0 = S132_7_2_0.info.end_address;
    let (mut link, mut flash) = (Duration::ZERO, Duration::ZERO);
    let mut offset = 0;
    while offset < firmware {
        let len = OBJECT.min(firmware - offset);
        link += ble.bytes_time(u64::from(len), ATT_MTU);
        let page = (bank0 + offset) / PAGE_SIZE * PAGE_SIZE;
        flash += cost(
            &FlashOp::ErasePage { addr: page },
            FlashPath::SoftDevice,
            timing,
        );
        let mut p = 0;
        while p < len {
            let n = payload.min(len - p);
            let op = FlashOp::write_bytes(bank0 + offset + p, &vec![0; n as usize]).unwrap();
            flash += cost(&op, FlashPath::SoftDevice, timing);
            p += n;
        }
        offset += len;
    }
    // 17.1 after the init packet's EXECUTE: settings page, then its backup (erase + write each).
    let settings = SettingsLayout::for_sdk(SdkVersion::Sdk17).size();
    for page in [CHIP.settings_address(), CHIP.mbr_params_address()] {
        flash += cost(
            &FlashOp::ErasePage { addr: page },
            FlashPath::SoftDevice,
            timing,
        );
        let op = FlashOp::write_bytes(page, &vec![0; settings]).unwrap();
        flash += cost(&op, FlashPath::SoftDevice, timing);
    }
    let round_trips = ble.connection_interval * (6 + 1);
    Bound {
        link,
        flash,
        round_trips,
    }
}

fn main() {
    let prns: Vec<u16> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let prns = if prns.is_empty() { vec![0] } else { prns };
    let key = SigningKey::from_pem(KEY_PEM).unwrap();
    let timing = TimingProfile::typical().with_sdk_link(SdkVersion::Sdk17);
    let img = image(&key);
    let b = bound(&timing, img.firmware.len() as u32);
    println!(
        "profile {:?} (SDK 17.1 BLE link), {} B application, ATT MTU {ATT_MTU}",
        timing.name,
        img.firmware.len()
    );
    println!(
        "bound: link {:.3} s, flash {:.3} s, round trips {:.3} s -> {:.3} s",
        b.link.as_secs_f64(),
        b.flash.as_secs_f64(),
        b.round_trips.as_secs_f64(),
        b.total().as_secs_f64()
    );
    let mut off_target = false;
    for prn in prns {
        let dev = share(device(&timing, key.public_key().to_pk64()));
        dev.borrow_mut().record_flash_ops(true);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let wall = Instant::now();
        let config = DfuConfig {
            prn,
            sdk: Some(SdkVersion::Sdk17),
            ..DfuConfig::default()
        };
        let out = rt
            .block_on(update_virtual(
                &dev,
                std::slice::from_ref(&img),
                config,
                BleLinkConfig::default(),
                (),
            ))
            .expect("the bootloader advertises");
        let reports = out.result.expect("the update succeeds");
        if std::env::var_os("DFU_BENCH_JOURNAL").is_some() {
            let d = dev.borrow();
            let j = d.flash_op_journal();
            let busy: Duration = j.iter().map(|r| r.end - r.start).sum();
            println!(
                "journal: {} flash ops, busy {:.3} s, first {:?}, last {:?}",
                j.len(),
                busy.as_secs_f64(),
                j.first().map(|r| (r.start, &r.what)),
                j.last().map(|r| (r.end, &r.what))
            );
            for r in j.iter().filter(|r| !r.what.contains("244 bytes")) {
                println!(
                    "  {:>10.4} {:>10.4} {}",
                    r.start.as_secs_f64(),
                    r.end.as_secs_f64(),
                    r.what
                );
            }
        }
        let r = &reports[0];
        let sim = out.elapsed.as_secs_f64();
        let bound = b.total().as_secs_f64();
        println!(
            "PRN {prn}: simulated {sim:.3} s ({:.0} B/s), bound {bound:.3} s, {:+.2} % above the bound; {} packets, {} dropped, {} rewinds, {} CRC retries, {} busy CREATEs; wall {:.2} s; device: {:?}",
            img.firmware.len() as f64 / sim,
            (sim / bound - 1.0) * 100.0,
            out.counters.packets,
            out.counters.dropped_packets,
            r.stats.rewinds,
            r.stats.crc_retries,
            r.stats.busy_creates,
            wall.elapsed().as_secs_f64(),
            out.status,
        );
        // Below the bound means the bound (or the model) is wrong; the target is within 5 %.
        off_target |= sim < bound || sim > bound * 1.05;
    }
    if off_target {
        eprintln!("simulated time outside [bound, bound + 5 %]");
        std::process::exit(1);
    }
}
