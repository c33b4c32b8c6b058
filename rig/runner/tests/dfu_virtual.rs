//! The DFU client end to end against the virtual nRF52832, on tokio's paused clock.
//!
//! The default run takes a sample of the matrix; the whole matrix (every bootloader profile x
//! PRN 0/1/12 x packet size x image size 1 B / 4096 B / 4097 B / 200 KB) is ignored by default:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-shared cargo test -p rig --test dfu_virtual -- --ignored
//! ```

mod support;

use std::time::Duration;

use nrf_dfu::client::{DataPlan, DfuClient, DfuConfig, DfuError, DfuImage, ImageReport, InitPlan};
use nrf_dfu::client::{Link, LinkErrorKind};
use nrf_dfu::SdkVersion::{self, *};
use rig::inproc::{share, BleLinkConfig, LinkCounters, SharedDevice, SimClock};
use rig::inproc::{VirtualBleLink, VirtualSerialLink};
use rstest::rstest;
use support::*;
use virtual_nrf52::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How the test reaches the bootloader.
enum Via {
    /// BLE with this ATT MTU requested (packet payload = MTU - 3, capped by the bootloader).
    Ble(u16),
    Serial,
}

struct Outcome {
    result: Result<Vec<ImageReport>, DfuError>,
    device: SharedDevice,
    counters: LinkCounters,
}

fn bench(sdk: SdkVersion, link: Via) -> Bench {
    match link {
        Via::Ble(_) => Bench::new(sdk),
        Via::Serial => Bench::new(sdk).uart(),
    }
}

async fn drive<T: Link>(
    transport: T,
    config: DfuConfig,
    images: &[DfuImage],
) -> (Result<Vec<ImageReport>, DfuError>, T) {
    let mut client = DfuClient::new(transport, config);
    let result = client.update(images).await;
    (result, client.into_parts().0)
}

/// Send `images` to a freshly provisioned DUT over `link`.
async fn update(bench: &Bench, link: Via, config: DfuConfig, images: &[DfuImage]) -> Outcome {
    let device = share(bench.build_in_dfu());
    let clock = SimClock::for_device(&device.borrow());
    let (result, counters) = match link {
        Via::Ble(att_mtu) => {
            let config_link = BleLinkConfig {
                att_mtu,
                ..BleLinkConfig::default()
            };
            let mut ble = VirtualBleLink::new(device.clone(), clock, config_link);
            ble.connect().await.expect("the bootloader advertises");
            let (result, ble) = drive(ble, config, images).await;
            (result, ble.counters().clone())
        }
        Via::Serial => {
            let serial = VirtualSerialLink::open(device.clone(), clock);
            let (result, serial) = drive(serial, config, images).await;
            (result, serial.counters().clone())
        }
    };
    {
        let mut dev = device.borrow_mut();
        let now = clock.now();
        dev.settle(now + Duration::from_secs(60));
    }
    Outcome {
        result,
        device,
        counters,
    }
}

fn config(prn: u16) -> DfuConfig {
    DfuConfig {
        prn,
        ..DfuConfig::default()
    }
}

/// Update to an image made from `size` source bytes and check what the device holds after.
async fn update_and_check(sdk: SdkVersion, link: Via, prn: u16, size: usize) {
    let bench = bench(sdk, link);
    // 200 KB is a stand-in application that must boot; smaller images are plain payloads.
    let stand_in = size >= 16 * 1024;
    let source = if stand_in {
        bench.app_sized(2, size as u32)
    } else {
        payload(size, 0x5A)
    };
    let image = bench.app_package(source, 2);
    let outcome = update(&bench, link, config(prn), std::slice::from_ref(&image)).await;
    let reports = match outcome.result {
        Ok(reports) => reports,
        Err(e) => panic!(
            "{sdk:?} {link:?} PRN {prn} {size} B: {e}\n({})",
            e.failure_class()
        ),
    };
    let report = &reports[0];
    assert_eq!(report.init, InitPlan::Create);
    assert_eq!(report.data, DataPlan::Start { offset: 0 });
    assert!(report.activation_observed);
    let expected_len = match link {
        Via::Ble(mtu) => usize::from(mtu.min(if sdk <= Sdk14 { 23 } else { 247 })) - 3,
        Via::Serial => {
            if sdk == Sdk14 {
                124
            } else {
                64
            }
        }
    };
    assert_eq!(report.write_len, expected_len);
    let dev = outcome.device.borrow();
    bench.assert_installed(&dev, &image.firmware, 2);
    if stand_in {
        match dev.status() {
            Status::App(app) => assert_eq!(app.version, 2),
            other => panic!("expected app v2 running, got {other:?}"),
        }
    }
    println!(
        "{sdk:?} {link:?} PRN {prn} {size} B: {:?} simulated, {} written, {} packets ({} dropped), {} rewinds, {} CRC retries, {} busy CREATEs",
        report.elapsed,
        report.stats.bytes_written,
        outcome.counters.packets,
        outcome.counters.dropped_packets,
        report.stats.rewinds,
        report.stats.crc_retries,
        report.stats.busy_creates
    );
}

#[rstest]
#[case::sdk17_ble_1_byte(Sdk17, Via::Ble(247), 0, 1)]
#[case::sdk17_ble_one_object(Sdk17, Via::Ble(247), 0, 4096)]
#[case::sdk17_ble_prn12(Sdk17, Via::Ble(247), 12, 4097)]
#[case::sdk17_ble_mtu23_prn1(Sdk17, Via::Ble(23), 1, 4097)]
#[case::sdk15_2_ble(Sdk15_2, Via::Ble(247), 0, 4097)]
#[case::sdk12_ble(Sdk12, Via::Ble(247), 0, 4097)]
#[case::sdk17_uart(Sdk17, Via::Serial, 0, 4097)]
#[case::sdk15_3_uart_prn12(Sdk15_3, Via::Serial, 12, 4096)]
#[case::sdk17_ble_200k(Sdk17, Via::Ble(247), 0, 200 * 1024)]
#[tokio::test(start_paused = true)]
async fn sample(#[case] sdk: SdkVersion, #[case] link: Via, #[case] prn: u16, #[case] size: usize) {
    update_and_check(sdk, link, prn, size).await;
}

#[rstest]
#[tokio::test(start_paused = true)]
#[ignore = "full matrix (slow): cargo test -p rig --test dfu_virtual -- --ignored"]
async fn matrix_ble(
    #[values(Sdk12, Sdk14, Sdk15_0, Sdk15_2, Sdk15_3, Sdk16, Sdk17)] sdk: SdkVersion,
    #[values(23, 247)] mtu: u16,
    #[values(0, 1, 12)] prn: u16,
    #[values(1, 4096, 4097, 200 * 1024)] size: usize,
) {
    update_and_check(sdk, Via::Ble(mtu), prn, size).await;
}

#[rstest]
#[tokio::test(start_paused = true)]
#[ignore = "full matrix (slow): cargo test -p rig --test dfu_virtual -- --ignored"]
async fn matrix_uart(
    #[values(Sdk14, Sdk15_0, Sdk15_2, Sdk15_3, Sdk16, Sdk17)] sdk: SdkVersion,
    #[values(0, 1, 12)] prn: u16,
    #[values(1, 4096, 4097, 200 * 1024)] size: usize,
) {
    update_and_check(sdk, Via::Serial, prn, size).await;
}

#[tokio::test(start_paused = true)]
async fn timeout_when_the_device_is_silent() {
    // The device powers off right after the connection: every wait must end in a timeout or a
    // link loss, never hang.
    let bench = Bench::new(Sdk17);
    let device = share(bench.build_in_dfu());
    let clock = SimClock::for_device(&device.borrow());
    let mut ble = VirtualBleLink::new(device.clone(), clock, BleLinkConfig::default());
    ble.connect().await.expect("connect");
    device.borrow_mut().power_off(clock.now());
    let image = bench.app_package(payload(100, 1), 2);
    let (result, _) = drive(ble, DfuConfig::default(), &[image]).await;
    let error = result.expect_err("a dead device cannot be updated");
    match &error {
        DfuError::Link { source, .. } => assert_eq!(source.kind, LinkErrorKind::LinkLost),
        DfuError::Timeout { .. } => {}
        other => panic!("unexpected {other}"),
    }
    assert!(!error.is_infrastructure(), "{error}");
}
