mod support;

use nrf_dfu::SdkVersion;
use support::*;
use virtual_nrf52::Status;

#[test]
fn app_update_over_ble_on_17_1() {
    let bench = Bench::new(SdkVersion::Sdk17);
    let mut dev = bench.build();
    match dev.status() {
        Status::App(a) => assert_eq!(a.version, 1),
        other => panic!("{other:?} {:?}", dev.silent_reason()),
    }
    let now = dev.now();
    let t = enter_dfu(&mut dev, now);
    assert!(matches!(dev.status(), Status::Bootloader(_)), "{:?}", dev.status());
    let app2 = bench.app(2);
    let mut host = Host::ble(t);
    host.update(&mut dev, &app_package(&bench, &app2, 2)).expect("update");
    dev.settle(host.t + ms(60_000));
    match dev.status() {
        Status::App(a) => assert_eq!(a.version, 2),
        other => panic!("{other:?} {:?}", dev.silent_reason()),
    }
    println!("sim time {:?}", dev.now());
}
