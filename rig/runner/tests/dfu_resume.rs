//! Interrupted updates against the virtual nRF52832: the client's resume decisions meet the device
//! state each bootloader version really leaves (docs/notes/interrupted-transfers.md;
//! Android-DFU-Library #252), and a fault planted through the progress hook lands exactly where it
//! was aimed.

mod support;

use std::time::Duration;

use nrf_dfu::client::{
    Control, DataPlan, DfuClient, DfuConfig, DfuError, FnSink, InitPlan, LinkErrorKind, Phase,
    ProgressEvent, ProgressSink, Waiting,
};
use nrf_dfu::wire::ObjectType;
use nrf_dfu::wire::Opcode;
use nrf_dfu::SdkVersion::{self, *};
use rig::inproc::{share, BleLinkConfig, SharedDevice, SimClock, VirtualBleLink};
use rstest::rstest;
use support::*;
use virtual_nrf52::{Status, TimingProfile};

/// Three objects and a bit, so there is an object boundary inside the image.
const SIZE: usize = 3 * 4096 + 100;

/// A DUT whose flash keeps up with the link (no dropped packets), so offsets are exact.
fn fast_bench(sdk: SdkVersion) -> Bench {
    Bench {
        timing: TimingProfile::best_case(),
        ..Bench::new(sdk)
    }
}

async fn connected(bench: &Bench) -> (SharedDevice, SimClock, VirtualBleLink) {
    let device = share(bench.build_in_dfu());
    let clock = SimClock::for_device(&device.borrow());
    let mut link = VirtualBleLink::new(device.clone(), clock, BleLinkConfig::default());
    link.connect().await.expect("the bootloader advertises");
    (device, clock, link)
}

/// Stop the client before the first event matching `phase`, data object `object`, `offset`.
fn abort_at(phase: Phase, object: u32, offset: u32) -> impl FnMut(&ProgressEvent) -> Control {
    move |e| {
        let hit = e.phase == phase
            && e.object == Some(ObjectType::Data)
            && e.object_index == object
            && e.offset == offset;
        if hit {
            Control::Abort
        } else {
            Control::Continue
        }
    }
}

fn settle(device: &SharedDevice, clock: SimClock) {
    let now = clock.now();
    device.borrow_mut().settle(now + Duration::from_secs(60));
}

#[rstest]
#[case::sdk12(Sdk12)]
#[case::sdk15_2(Sdk15_2)]
#[case::sdk17(Sdk17)]
#[tokio::test(start_paused = true)]
async fn resumes_inside_an_object_on_the_same_connection(#[case] sdk: SdkVersion) {
    let bench = fast_bench(sdk);
    let image = bench.app_package(payload(SIZE, 3), 2);
    let (device, clock, link) = connected(&bench).await;
    let write_len = if sdk <= Sdk14 { 20 } else { 244 };
    let stop = 4096 + 3 * write_len;

    let mut first = DfuClient::with_sink(
        link,
        DfuConfig::default(),
        FnSink(abort_at(Phase::Write, 1, stop)),
    );
    let error = first
        .update(std::slice::from_ref(&image))
        .await
        .expect_err("aborted");
    let at = error.location().expect("located").clone();
    assert!(matches!(error, DfuError::Aborted { .. }), "{error}");
    assert_eq!(
        (at.phase, at.object_index, at.offset),
        (Phase::Write, 1, stop)
    );

    let mut second = DfuClient::new(first.into_parts().0, DfuConfig::default());
    let report = second.update_image(&image).await.expect("resumed update");
    assert_eq!(report.init, InitPlan::ExecuteOnly);
    assert_eq!(
        report.data,
        DataPlan::ContinueObject {
            offset: stop,
            object_start: 4096
        }
    );
    settle(&device, clock);
    bench.assert_installed(&device.borrow(), &image.firmware, 2);
}

/// Android-DFU-Library issue #252: the device has a CREATE for the next object but no
/// data, so the resume EXECUTE at the boundary is refused with 0x08; the client carries on.
#[rstest]
#[case::sdk12(Sdk12)]
#[case::sdk15_0(Sdk15_0)]
#[case::sdk17(Sdk17)]
#[tokio::test(start_paused = true)]
async fn boundary_execute_refused_after_an_empty_create(#[case] sdk: SdkVersion) {
    let bench = fast_bench(sdk);
    let image = bench.app_package(payload(SIZE, 4), 2);
    let (device, clock, link) = connected(&bench).await;

    // The first write of object 2 comes right after its CREATE was answered.
    let mut first = DfuClient::with_sink(
        link,
        DfuConfig::default(),
        FnSink(abort_at(Phase::Write, 2, 8192)),
    );
    first
        .update(std::slice::from_ref(&image))
        .await
        .expect_err("aborted");

    let mut second = DfuClient::new(first.into_parts().0, DfuConfig::default());
    let report = second.update_image(&image).await.expect("resumed update");
    assert_eq!(report.data, DataPlan::ExecuteAtBoundary { offset: 8192 });
    assert_eq!(report.stats.already_executed, 1);
    settle(&device, clock);
    bench.assert_installed(&device.borrow(), &image.firmware, 2);
}

/// Stopped before EXECUTE of a complete object: the resume EXECUTE executes it.
#[rstest]
#[case::sdk15_2(Sdk15_2)]
#[case::sdk17(Sdk17)]
#[tokio::test(start_paused = true)]
async fn boundary_execute_executes_a_complete_object(#[case] sdk: SdkVersion) {
    let bench = fast_bench(sdk);
    let image = bench.app_package(payload(SIZE, 5), 2);
    let (device, clock, link) = connected(&bench).await;

    let mut first = DfuClient::with_sink(
        link,
        DfuConfig::default(),
        FnSink(abort_at(Phase::Execute, 1, 8192)),
    );
    first
        .update(std::slice::from_ref(&image))
        .await
        .expect_err("aborted");

    let mut second = DfuClient::new(first.into_parts().0, DfuConfig::default());
    let report = second.update_image(&image).await.expect("resumed update");
    assert_eq!(report.data, DataPlan::ExecuteAtBoundary { offset: 8192 });
    assert_eq!(report.stats.already_executed, 0);
    settle(&device, clock);
    bench.assert_installed(&device.borrow(), &image.firmware, 2);
}

/// A BLE disconnect mid-object: SDK 12 and 15.x keep their RAM state, so the transfer goes on
/// inside the object; 16 and 17 revert to the flash state (no data saved), so it restarts at 0
/// with the init packet still valid (docs/notes/interrupted-transfers.md, "After a link loss
/// without a reset").
#[rstest]
#[case::sdk12(Sdk12, DataPlan::ContinueObject { offset: 4096 + 3 * 20, object_start: 4096 })]
#[case::sdk15_2(Sdk15_2, DataPlan::ContinueObject { offset: 4096 + 3 * 244, object_start: 4096 })]
#[case::sdk16(Sdk16, DataPlan::Start { offset: 0 })]
#[case::sdk17(Sdk17, DataPlan::Start { offset: 0 })]
#[tokio::test(start_paused = true)]
async fn reconnect_after_a_link_drop(#[case] sdk: SdkVersion, #[case] expected: DataPlan) {
    let bench = fast_bench(sdk);
    let image = bench.app_package(payload(SIZE, 6), 2);
    let (device, clock, link) = connected(&bench).await;
    let write_len = if sdk <= Sdk14 { 20 } else { 244 };

    let mut first = DfuClient::with_sink(
        link,
        DfuConfig::default(),
        FnSink(abort_at(Phase::Write, 1, 4096 + 3 * write_len)),
    );
    first
        .update(std::slice::from_ref(&image))
        .await
        .expect_err("aborted");
    let mut link = first.into_parts().0;
    nrf_dfu::client::Link::reconnect(&mut link)
        .await
        .expect("reconnect");
    assert_eq!(link.counters().connections, 2);

    let mut second = DfuClient::new(link, DfuConfig::default());
    let report = second.update_image(&image).await.expect("resumed update");
    assert_eq!(report.init, InitPlan::ExecuteOnly);
    assert_eq!(report.data, expected);
    settle(&device, clock);
    bench.assert_installed(&device.borrow(), &image.firmware, 2);
}

/// A fault plan: cut the power for 100 ms just before EXECUTE of data object `object`.
struct PowerCut {
    device: SharedDevice,
    clock: SimClock,
    object: u32,
    fired: Option<Duration>,
}

impl ProgressSink for PowerCut {
    async fn on_progress(&mut self, e: &ProgressEvent) -> Control {
        if self.fired.is_none()
            && e.phase == Phase::Execute
            && e.object == Some(ObjectType::Data)
            && e.object_index == self.object
        {
            let now = self.clock.now();
            self.fired = Some(now);
            self.device.borrow_mut().power_off(now);
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.device.borrow_mut().power_on(self.clock.now());
        }
        Control::Continue
    }
}

#[tokio::test(start_paused = true)]
async fn power_cut_before_execute_then_recovery() {
    let sdk = Sdk17;
    let bench = fast_bench(sdk);
    let image = bench.app_package(payload(SIZE, 7), 2);
    let (device, clock, link) = connected(&bench).await;

    let sink = PowerCut {
        device: device.clone(),
        clock,
        object: 1,
        fired: None,
    };
    let mut first = DfuClient::with_sink(link, DfuConfig::default(), sink);
    let error = first
        .update(std::slice::from_ref(&image))
        .await
        .expect_err("power cut");
    let (mut link, sink) = first.into_parts();
    let cut_at = sink.fired.expect("the cut fired");
    // The device died silently: the 5 s response timeout fires before the central's 6 s
    // supervision timeout would report the lost link.
    match &error {
        DfuError::Timeout { at, waiting, after } => {
            assert_eq!(*waiting, Waiting::Response(Opcode::ObjectExecute));
            assert_eq!(*after, Duration::from_secs(5));
            assert_eq!(
                (at.phase, at.object_index, at.offset),
                (Phase::Execute, 1, 8192)
            );
        }
        other => panic!("expected a response timeout, got {other}"),
    }
    assert_eq!(error.failure_class(), "dut.timeout.execute");
    // Off for 100 ms, then EXECUTE goes out at the next connection event (15 ms interval).
    let waited = clock.now() - cut_at;
    assert!(
        waited >= Duration::from_millis(5100) && waited <= Duration::from_millis(5115),
        "{waited:?}"
    );
    // The link is gone for good: the next wait on it reports the loss.
    assert_eq!(
        nrf_dfu::client::Link::receive(&mut link)
            .await
            .expect_err("dead link")
            .kind,
        LinkErrorKind::LinkLost
    );
    assert!(clock.now() - cut_at >= Duration::from_secs(6));

    // Dual bank: the old application still boots. Enter DFU through it again and resume.
    settle(&device, clock);
    assert!(
        matches!(device.borrow().status(), Status::App(ref a) if a.version == 1),
        "{:?}",
        device.borrow().status()
    );
    device
        .borrow_mut()
        .app_enter_bootloader(clock.now())
        .expect("app v1 runs");
    nrf_dfu::client::Link::reconnect(&mut link)
        .await
        .expect("reconnect to the bootloader");
    let mut second = DfuClient::new(link, DfuConfig::default());
    let report = second.update_image(&image).await.expect("second update");
    // The executed init packet was saved and re-executed at boot; data restarts at 0.
    assert_eq!(report.init, InitPlan::ExecuteOnly);
    assert_eq!(report.data, DataPlan::Start { offset: 0 });
    settle(&device, clock);
    bench.assert_installed(&device.borrow(), &image.firmware, 2);
}

/// A SoftDevice and an application in one update: two DFU sessions, the device activating the
/// SoftDevice and coming back in DFU mode (app still valid: continuation) in between.
async fn softdevice_then_application(sdk: SdkVersion) {
    let bench = fast_bench(sdk);
    let sd = virtual_nrf52::standin::softdevice_image(&bench.softdevice());
    let app = bench.app_sized(2, 20_000);
    let images = bench.sd_app_package(sd.clone(), app.clone(), 2);
    let (device, clock, link) = connected(&bench).await;
    let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = events.clone();
    let sink = FnSink(move |e: &ProgressEvent| {
        if matches!(e.phase, Phase::Setup | Phase::Activation | Phase::Done) {
            log.borrow_mut()
                .push((e.image_index, e.image_kind, e.phase));
        }
        Control::Continue
    });
    let mut client = DfuClient::with_sink(link, DfuConfig::default(), sink);
    let reports = client.update(&images).await.expect("SD + app update");
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.activation_observed));
    use nrf_dfu::client::ImageKind::{Application, Softdevice};
    assert_eq!(
        *events.borrow(),
        vec![
            (0, Softdevice, Phase::Setup),
            (0, Softdevice, Phase::Activation),
            (0, Softdevice, Phase::Done),
            (1, Application, Phase::Setup),
            (1, Application, Phase::Activation),
            (1, Application, Phase::Done),
        ]
    );
    assert_eq!(client.transport().counters().connections, 2);
    settle(&device, clock);
    let dev = device.borrow();
    assert_eq!(dev.read_flash(0x1000, sd.len() as u32), sd);
    bench.assert_installed(&dev, &app, 2);
    assert!(
        matches!(dev.status(), Status::App(ref a) if a.version == 2),
        "{:?} {:?}",
        dev.status(),
        dev.dfu_enter_reason()
    );
}

#[tokio::test(start_paused = true)]
async fn softdevice_then_application_sdk15_2() {
    softdevice_then_application(Sdk15_2).await;
}

/// As on 15.2; the 17.1 boot check validates the SoftDevice over `s_dfu_settings.sd_size`
/// (`nrf_bootloader.c`, `app_is_valid`), so the app stays valid after the SoftDevice update.
#[tokio::test(start_paused = true)]
async fn softdevice_then_application_sdk17() {
    softdevice_then_application(Sdk17).await;
}
