//! DFU end to end through btleplug on the virtual BlueZ: buttonless entry and the re-find at
//! address + 1, `rig dfu` by name and by address, a link drop mid-transfer and the resume.
//! The BlueZ source of each rule is named in rig/virtual-bluez.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Central, Peripheral as _, ScanFilter};
use nrf_dfu::SdkVersion;
use std::time::Duration;
use support::Bench;
use virtual_bluez::Fault;

#[test]
fn buttonless_entry_finds_the_unbonded_bootloader_at_address_plus_one() {
    let Some((l, _)) = app_lab() else { return };
    let app_addr = address_of(&l.devices[0]);
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        let target = rig::drivers::ble::buttonless::enter(&a, &app, None)
            .await
            .unwrap();
        let want: rig::drivers::ble::address::BleAddress = app_addr.parse().unwrap();
        assert_eq!(target.addresses, vec![want.bootloader()]);
        let (id, s) = rig::drivers::ble::scan::find_fresh(&a, &target, WAIT)
            .await
            .unwrap();
        assert_eq!(s.name.as_deref(), Some("DfuTarg"));
        assert_ne!(id, app.id(), "a new device object");
        // The application's object stays (it was connected: not temporary), disconnected.
        let ids: Vec<_> = a
            .peripherals()
            .await
            .unwrap()
            .iter()
            .map(|p| p.id())
            .collect();
        assert!(ids.contains(&app.id()));
        assert!(!app.is_connected().await.unwrap());
    });
}

#[test]
fn rig_dfu_package_by_name_over_the_virtual_bluez() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build_in_dfu());
    let dir = tempfile::tempdir().unwrap();
    let bf = bench_file(dir.path(), &l);
    let app = bench.app_sized(2, 0x3000);
    let generated = nrf_dfu::package::generate_package(nrf_dfu::package::GenerateOptions {
        hw_version: Some(52),
        application: Some(nrf_dfu::package::ImageInput::file("app.bin", app.clone())),
        application_version: Some(2),
        sd_req: Some(vec![u32::from(bench.softdevice().info.fwid)]),
        key: Some(support::key()),
        ..Default::default()
    })
    .unwrap();
    let zip = generated
        .package
        .to_zip(nrf_dfu::package::CivilTime {
            year: 2026,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        })
        .unwrap();
    let pkg = dir.path().join("app.zip");
    std::fs::write(&pkg, zip).unwrap();
    let (ok, out) = rig_cmd(
        dir.path(),
        &[
            "dfu",
            pkg.to_str().unwrap(),
            "--name",
            "DfuTarg",
            "--bench",
            bf.to_str().unwrap(),
        ],
    );
    assert!(ok, "rig dfu failed:\n{out}");
    assert!(out.contains("DFU done: 1 image(s)"), "{out}");
    // Let the bootloader activate and boot the new app, then read the device back.
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &app, 2);
}

#[test]
fn rig_dfu_image_to_an_app_address_enters_dfu_buttonless_and_refinds_at_plus_one() {
    let Some(mut l) = default_lab() else { return };
    let bench = Bench::new(SdkVersion::Sdk17);
    l.add(bench.build());
    let app_addr = address_of(&l.devices[0]);
    let (ok, out, app) = rig_dfu_app_v2(&l, &bench, &app_addr);
    assert!(ok, "rig dfu failed:\n{out}");
    let plus_one: rig::drivers::ble::address::BleAddress = app_addr.parse().unwrap();
    assert!(
        out.contains(&format!("bootloader expected at {}", plus_one.bootloader())),
        "{out}"
    );
    assert!(out.contains("DFU done: 1 image(s)"), "{out}");
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &app, 2);
}

#[test]
fn a_link_drop_mid_transfer_is_resumed_over_btleplug() {
    use nrf_dfu::client::{Control, DfuClient, DfuConfig, FnSink, Phase, ProgressEvent};
    let Some(mut l) = default_lab() else { return };
    // SDK 15.3: its RAM progress survives a link loss (16/17 revert to the flash state, the
    // device model's `revert_on_link_loss`).
    let bench = Bench::new(SdkVersion::Sdk15_3);
    let radio = l.add(bench.build_in_dfu());
    let firmware = support::payload(0x4000, 3);
    let image = bench.app_package(firmware.clone(), 2);
    let ble = l.ble_config();
    let vb = &l.vb;
    let dropped = std::cell::Cell::new(false);
    let first = l.rt.block_on(async {
        let (adapter, _) = rig::drivers::ble::adapter::find_for(&ble).await.unwrap();
        let wanted = rig::drivers::ble::freshness::Wanted {
            name: Some("DfuTarg".into()),
            ..Default::default()
        };
        let t = rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, None, None)
            .await
            .unwrap();
        // Drop the link once the second data object is being written.
        let sink = FnSink(|e: &ProgressEvent| {
            if e.phase == Phase::Write && e.object_index >= 1 && e.offset > 0x1000 && !dropped.get()
            {
                dropped.set(true);
                vb.fault(radio, Fault::LinkDrop).unwrap();
            }
            Control::Continue
        });
        let mut client = DfuClient::with_sink(t, DfuConfig::default(), sink);
        client.update(std::slice::from_ref(&image)).await
    });
    assert!(dropped.get(), "the fault fired");
    let e = first.expect_err("the first attempt loses its link");
    assert!(
        e.to_string().contains("link") || e.to_string().contains("disconnect"),
        "{e}"
    );
    // Resume: a new connection, the device reports what it has, the rest is sent.
    let report =
        l.rt.block_on(async {
            let (adapter, _) = rig::drivers::ble::adapter::find_for(&ble).await.unwrap();
            let wanted = rig::drivers::ble::freshness::Wanted {
                name: Some("DfuTarg".into()),
                ..Default::default()
            };
            let t =
                rig::drivers::ble::transport::BleTransport::connect(adapter, wanted, None, None)
                    .await
                    .unwrap();
            let mut client = DfuClient::new(t, DfuConfig::default());
            client.update(std::slice::from_ref(&image)).await
        })
        .expect("the resumed update completes");
    let r = &report[0];
    assert!(
        !matches!(r.data, nrf_dfu::client::DataPlan::Start { offset: 0 }),
        "resumed, not restarted: {:?}",
        r.data
    );
    assert!(
        r.stats.bytes_written < firmware.len() as u64,
        "resumed, not restarted: {} of {} bytes sent",
        r.stats.bytes_written,
        firmware.len()
    );
    std::thread::sleep(l.wall(Duration::from_secs(5)));
    let d = l.devices[0].lock().unwrap();
    bench.assert_installed(&d, &firmware, 2);
}
