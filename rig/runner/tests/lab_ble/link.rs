//! The rig's BLE transport in this process, against a lab's DUT on the air: faults the lab
//! injects reach btleplug as they would from the air. libdbus keeps one bus per process
//! (dbus-bus.c `init_connections_unlocked` caches DBUS_SYSTEM_BUS_ADDRESS), so this is the only
//! test in the binary that opens D-Bus itself.

use super::lab::Lab;
use super::on_air;
use nrf_dfu::client::{
    Control, DataPlan, DfuClient, DfuConfig, FnSink, Link, Phase, ProgressEvent,
};
use nrf_dfu::SdkVersion;
use rig::drivers::ble::adapter::find_for;
use rig::drivers::ble::freshness::Wanted;
use rig::drivers::ble::transport::BleTransport;
use std::time::Duration;
use virtual_nrf52::testkit::Bench;

async fn bootloader(l: &Lab) -> BleTransport {
    let (adapter, _) = find_for(&on_air::ble_config(l, "dut-0")).await.unwrap();
    let wanted = Wanted {
        name: Some("DfuTarg".into()),
        ..Default::default()
    };
    BleTransport::connect(adapter, wanted, None, None)
        .await
        .expect("the bootloader on the lab's BLE DUT")
}

#[test]
fn resets_and_power_cuts_under_a_live_link_and_a_link_drop_mid_transfer_then_a_resume_on_a_lab() {
    let _one = crate::one_lab_at_a_time();
    let Some(l) = on_air::up(1, "dut-0") else {
        return;
    };
    // SDK 15.3's BLE bootloader: its RAM progress survives a link loss (16 and 17 go back to
    // what flash holds), so a resume after a link drop continues the data object. Flashed
    // through the lab's SWD like any DUT: probe-rs' flash loader on the lab's core.
    let img = on_air::images(l.tmp.path());
    let f = |n: &str| img.join(n).display().to_string();
    l.rig_ok(&[
        "flash",
        "--dut",
        "dut-0",
        "--erase-all",
        "--allow-erase-all",
        &f("s132-6.1.1.hex"),
        &f("bootloader-15.3-ble.hex"),
    ]);
    let runs = on_air::runs(&l, "dut-0", "DFU mode", Duration::from_secs(20));
    assert!(runs.contains("SDK 15.3 BLE bootloader"), "{runs}");

    let bench = Bench::new(SdkVersion::Sdk15_3);
    let firmware = bench.app_sized(2, 0x4000);
    let image = bench.app_package(firmware.clone(), 2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // A link to the bootloader, then a power cycle of the DUT: the central keeps its link
    // until the supervision timeout, while the bootloader already advertises again at the same
    // address. Closing that link is bounded by DISCONNECT_BOUND (2 s, bluetoothd's own
    // disconnect timer is 2 s too), so the next connect meets the dead link: it must not take
    // it for its own.
    rt.block_on(async {
        let mut t = bootloader(&l).await;
        let o = l.lab(&["power", "dut-0", "cycle"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let _ = t.close().await;
    });

    let sock = l.dir.join("lab.sock");
    let dropped = std::cell::Cell::new(false);
    let first = rt.block_on(async {
        let t = bootloader(&l).await;
        // The lab drops the link once the second data object is being written.
        let sink = FnSink(|e: &ProgressEvent| {
            if e.phase == Phase::Write && e.object_index >= 1 && e.offset > 0x1000 && !dropped.get()
            {
                dropped.set(true);
                let r = rig_lab::control::call(
                    &sock,
                    &rig_lab::control::ControlRequest::LinkDrop {
                        dut: "dut-0".into(),
                    },
                )
                .unwrap();
                assert!(r.ok, "{:?}", r.error);
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
    let report = rt
        .block_on(async {
            let t = bootloader(&l).await;
            let mut client = DfuClient::new(t, DfuConfig::default());
            client.update(std::slice::from_ref(&image)).await
        })
        .expect("the resumed update completes");
    let r = &report[0];
    assert!(
        !matches!(r.data, DataPlan::Start { offset: 0 }),
        "resumed, not restarted: {:?}",
        r.data
    );
    assert!(
        r.stats.bytes_written < firmware.len() as u64,
        "resumed, not restarted: {} of {} bytes sent",
        r.stats.bytes_written,
        firmware.len()
    );
    let runs = on_air::runs(&l, "dut-0", "version 2", Duration::from_secs(20));
    assert!(
        runs.contains("runs application \"app-v2\" version 2"),
        "{runs}"
    );

    // Buttonless entry, a link to the bootloader, then an SWD reset under that link (the
    // campaigns' reset fault): the old app boots and advertises at once, while the dead link
    // lasts until the supervision timeout. Buttonless entry again must see the app go.
    let ble = on_air::ble_config(&l, "dut-0");
    let app: rig::drivers::ble::address::BleAddress =
        ble.address.as_ref().unwrap().parse().unwrap();
    let app_target = Wanted {
        addresses: vec![app],
        ..Default::default()
    };
    let wait = Duration::from_secs(10);
    rt.block_on(async {
        let (adapter, _) = find_for(&ble).await.unwrap();
        let bl =
            rig::drivers::ble::buttonless::enter_if_app(&adapter, app_target.clone(), None, wait)
                .await
                .expect("buttonless entry from the application");
        let mut t = BleTransport::connect(adapter, bl, None, None)
            .await
            .expect("the bootloader at address + 1");
        l.rig_ok(&["reset", "--dut", "dut-0"]);
        let _ = t.close().await;
    });
    let runs = on_air::runs(&l, "dut-0", "version 2", Duration::from_secs(20));
    assert!(runs.contains("runs application"), "{runs}");
    rt.block_on(async {
        let (adapter, _) = find_for(&ble).await.unwrap();
        rig::drivers::ble::buttonless::enter_if_app(&adapter, app_target, None, wait)
            .await
            .expect("buttonless entry again, after a reset under the bootloader's link");
    });
    l.down_and_check_clean();
}
