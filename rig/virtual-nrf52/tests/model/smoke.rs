use crate::support;

use nrf_dfu::SdkVersion;
use rstest::rstest;
use support::*;
use virtual_nrf52::Status;

fn app_version(dev: &virtual_nrf52::Device) -> u32 {
    match dev.status() {
        Status::App(a) => a.version,
        other => panic!("{other:?} {:?}", dev.silent_reason()),
    }
}

#[rstest]
#[case::ble_12(SdkVersion::Sdk12, Link::Ble)]
#[case::ble_14(SdkVersion::Sdk14, Link::Ble)]
#[case::ble_15_0(SdkVersion::Sdk15_0, Link::Ble)]
#[case::ble_15_2(SdkVersion::Sdk15_2, Link::Ble)]
#[case::ble_15_3(SdkVersion::Sdk15_3, Link::Ble)]
#[case::ble_16(SdkVersion::Sdk16, Link::Ble)]
#[case::ble_17(SdkVersion::Sdk17, Link::Ble)]
#[case::uart_15_3(SdkVersion::Sdk15_3, Link::Uart)]
#[case::uart_17(SdkVersion::Sdk17, Link::Uart)]
fn app_update_completes(#[case] sdk: SdkVersion, #[case] link: Link) {
    let mut bench = Bench::new(sdk);
    if link == Link::Uart {
        bench = bench.uart();
    }
    let mut dev = bench.build();
    assert_eq!(app_version(&dev), 1);
    let now = dev.now();
    let t = enter_dfu(&mut dev, now);
    assert!(
        matches!(dev.status(), Status::Bootloader(_)),
        "{:?}",
        dev.status()
    );
    let app2 = bench.app(2);
    let mut host = Host::for_link(link, t);
    if sdk <= SdkVersion::Sdk14 {
        host.payload = 20;
        host.packet_gap = ms(5);
    }
    host.update(&mut dev, &app_package(&bench, &app2, 2))
        .expect("update");
    dev.settle(host.t + ms(60_000));
    assert_eq!(app_version(&dev), 2);
    println!("{sdk:?} {link:?}: sim time {:?}", dev.now());
}
