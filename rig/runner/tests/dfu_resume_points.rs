//! Resume points (issue: "interrupt at every object boundary and one byte either side, by link
//! drop and by reset, and the update then completes with the right image in bank 0").
//!
//! Image: 3 × 4096 + 1000 bytes (three full data objects and a partial one). Cut points: the
//! device holds exactly `k·4096 − 4`, `k·4096` and `k·4096 + 4` firmware bytes, k = 1..3.
//!
//! Why ±4 and not ±1: the issue asks for one byte either side, but a device cannot hold an odd
//! byte count short of the image end. Its data writes go through `nrf_fstorage`, which refuses
//! a length that is not a multiple of 4 (the virtual device models this: `FlashOp::write_bytes`
//! → `DropReason::UnalignedLength`, the write is not stored). A first attempt that cut at ±1
//! saw the device report the previous chunk end (−1) or the boundary (+1), so ±1 cuts are the
//! boundary cases again; one word either side is the nearest distinct point.
//!
//! How the cut lands on an exact byte: the client writes word-aligned chunks (244 B on BLE,
//! 64 B on serial) counted from each object's start, so the progress hook (one event per chunk)
//! can never stop it at an odd offset. The hook therefore only publishes the image offset of
//! the chunk about to be written; [`Cut`], a pass-through transport, hands the device the
//! chunk's first `target − offset` bytes (a shorter write is a valid OBJECT_WRITE), then asks
//! CRC_GET and asserts the device reports exactly `target` bytes with our CRC, and only then
//! injects the fault and fails the client with a lost link. A cut at an object boundary lets
//! the chunk that ends there through and strikes at the client's next request (its CRC_GET
//! before EXECUTE), so that object is complete but not executed.
//!
//! Faults and what each version does (docs/notes/interrupted-transfers.md):
//! - link drop: BLE disconnect (the device sees the link go); 16/17 revert RAM progress to the
//!   settings page, which holds the executed init packet but no data offset, so data restarts
//!   at 0; 15.x keeps its RAM state, so the client resumes inside the object (or EXECUTEs at
//!   the boundary). Serial: the port closes and reopens; the UART transport has no connection,
//!   so every version keeps its RAM state.
//! - reset: soft reset (SYSRESETREQ) of the device. The setup is dual bank (app v1 stays valid
//!   in bank 0 while the new image goes to bank 1), so the device boots app v1 again, whose
//!   buttonless service re-enters DFU mode, as the rig does on hardware. 15+ saved the executed
//!   init packet in the settings page and re-execute it at boot; the data restarts at 0.
//!
//! Every case asserts the client's resume decision against that rule, then that bank 0 is
//! VALID_APP with the image's size and CRC and holds the image.
//!
//! The whole matrix (17.1 and 15.3 × BLE/serial × both faults × 9 points = 72 cases) runs by
//! default in under a second of test time in debug, so nothing is ignored.

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use nrf_dfu::client::{
    Control, DataPlan, DfuClient, DfuConfig, FnSink, ImageReport, InitPlan, Link, LinkError, Phase,
    ProgressEvent,
};
use nrf_dfu::crc::crc32;
use nrf_dfu::settings::offset;
use nrf_dfu::wire::ObjectType;
use nrf_dfu::wire::Transport;
use nrf_dfu::SdkVersion::{self, *};
use rig::inproc::{
    share, BleLinkConfig, SharedDevice, SimClock, VirtualBleLink, VirtualSerialLink,
};
use rstest::rstest;
use support::*;
use virtual_nrf52::{DebugPort, ResetKind, Status, TimingProfile};

const OBJECT: u32 = 4096;
const SIZE: usize = 3 * OBJECT as usize + 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    LinkDrop,
    Reset,
}

/// A transport that lets exactly `target` firmware bytes reach the device, then fails.
struct Cut<T> {
    inner: T,
    /// Image offset of the data chunk the client is about to write (set by the progress hook).
    at: Rc<Cell<Option<u32>>>,
    target: u32,
    firmware_crc: u32,
    device: SharedDevice,
    clock: SimClock,
    fault: Fault,
    /// The device holds `target` bytes; strike at the next call.
    armed: bool,
    fired: bool,
}

impl<T: Link> Cut<T> {
    async fn strike(&mut self) -> LinkError {
        self.fired = true;
        // CRC_GET through the real link: proves the device holds exactly the cut point.
        self.inner.send_request(&[0x03]).await.expect("CRC_GET");
        let reply = self.inner.receive().await.expect("CRC_GET response");
        assert_eq!(
            &reply[..3],
            &[0x60, 0x03, 0x01],
            "CRC_GET reply {reply:02x?}"
        );
        let offset = u32::from_le_bytes(reply[3..7].try_into().unwrap());
        let crc = u32::from_le_bytes(reply[7..11].try_into().unwrap());
        assert_eq!(
            (offset, crc),
            (self.target, self.firmware_crc),
            "device before the cut"
        );
        if self.fault == Fault::Reset {
            let now = self.clock.now();
            assert!(self.device.borrow_mut().reset(now, ResetKind::SoftReset));
        }
        LinkError::link_lost("fault injected")
    }

    async fn pending(&mut self) -> Result<(), LinkError> {
        if self.fired {
            return Err(LinkError::link_lost("fault injected"));
        }
        if self.armed {
            return Err(self.strike().await);
        }
        Ok(())
    }
}

impl<T: Link> Link for Cut<T> {
    fn transport(&self) -> Transport {
        self.inner.transport()
    }
    fn max_write_len(&self) -> usize {
        self.inner.max_write_len()
    }
    fn observes_link_loss(&self) -> bool {
        self.inner.observes_link_loss()
    }
    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        self.pending().await?;
        self.inner.send_request(request).await
    }
    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        self.pending().await?;
        if let Some(offset) = self.at.get() {
            let end = offset + chunk.len() as u32;
            if offset < self.target && self.target < end {
                let keep = (self.target - offset) as usize;
                self.inner.write_data(&chunk[..keep]).await?;
                return Err(self.strike().await);
            }
            if end == self.target {
                self.armed = true;
            }
        }
        self.inner.write_data(chunk).await
    }
    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        self.pending().await?;
        self.inner.receive().await
    }
    async fn reconnect(&mut self) -> Result<(), LinkError> {
        self.inner.reconnect().await
    }
    async fn close(&mut self) -> Result<(), LinkError> {
        self.inner.close().await
    }
}

fn bench(sdk: SdkVersion, link: Transport, save_progress: bool) -> Bench {
    let b = match link {
        Transport::Ble => Bench::new(sdk),
        Transport::Uart => Bench::new(sdk).uart(),
    };
    // Flash keeps up with the link, so no write is dropped and offsets are exact.
    Bench {
        timing: TimingProfile::best_case(),
        save_progress,
        ..b
    }
}

fn settle(device: &SharedDevice, clock: SimClock) {
    let now = clock.now();
    device.borrow_mut().settle(now + Duration::from_secs(60));
}

/// Interrupted update to `target` bytes, recovery, resumed update: the resumed run's report.
async fn interrupted<T: Link>(
    inner: T,
    bench: &Bench,
    device: &SharedDevice,
    clock: SimClock,
    fault: Fault,
    target: u32,
    tear_init: bool,
) -> (ImageReport, T) {
    let image = bench.app_package(payload(SIZE, target as u8), 2);
    let at = Rc::new(Cell::new(None));
    let hook_at = at.clone();
    let sink = FnSink(move |e: &ProgressEvent| {
        let data = e.phase == Phase::Write && e.object == Some(ObjectType::Data);
        hook_at.set(data.then_some(e.offset));
        Control::Continue
    });
    let cut = Cut {
        inner,
        at,
        target,
        firmware_crc: crc32(&image.firmware[..target as usize]),
        device: device.clone(),
        clock,
        fault,
        armed: false,
        fired: false,
    };
    let config = DfuConfig {
        prn: 0,
        resume: true,
        ..DfuConfig::default()
    };
    let mut first = DfuClient::with_sink(cut, config.clone(), sink);
    first
        .update(std::slice::from_ref(&image))
        .await
        .expect_err("the fault stops the first run");
    let cut = first.into_parts().0;
    assert!(cut.fired, "the cut point {target} was reached");
    let mut link = cut.inner;

    if tear_init {
        // A settings write cut part-way: the command's size, offset and CRC kept, its first
        // bytes lost (every SDK's settings CRC leaves the init command out).
        let mut d = device.borrow_mut();
        for page in [CHIP.settings_address(), CHIP.mbr_params_address()] {
            d.write_memory_raw(page + offset::INIT_COMMAND as u32, &[0; 16])
                .expect("debug write");
        }
    }
    if fault == Fault::Reset {
        // Dual bank: app v1 is still valid and boots; its buttonless service re-enters DFU.
        settle(device, clock);
        let status = device.borrow().status();
        assert!(
            matches!(status, Status::App(ref a) if a.version == 1),
            "{status:?}"
        );
        device
            .borrow_mut()
            .app_enter_bootloader(clock.now())
            .expect("app v1 runs");
    } else if link.transport() == Transport::Uart {
        // The port closes: the UART bootloader has no connection to lose (a no-op there).
        device.borrow_mut().dfu_link_lost(clock.now());
    }
    link.reconnect().await.expect("reconnect");

    let mut second = DfuClient::new(link, config);
    let report = second.update_image(&image).await.expect("resumed update");
    settle(device, clock);
    bench.assert_installed(&device.borrow(), &image.firmware, 2);
    (report, second.into_parts().0)
}

/// The plan the version's rule predicts (docs/notes/interrupted-transfers.md).
fn expected(sdk: SdkVersion, link: Transport, fault: Fault, target: u32) -> DataPlan {
    let reverts = link == Transport::Ble && sdk >= Sdk16;
    if fault == Fault::Reset || (fault == Fault::LinkDrop && reverts) {
        return DataPlan::Start { offset: 0 };
    }
    let partial = target % OBJECT;
    if partial == 0 {
        DataPlan::ExecuteAtBoundary { offset: target }
    } else {
        DataPlan::ContinueObject {
            offset: target,
            object_start: target - partial,
        }
    }
}

/// The plan on a build with `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1`: where the data would restart,
/// it continues from the last executed object, saved after its EXECUTE (17.1
/// `on_data_obj_execute_request_sched`); a UART link drop keeps RAM as before.
fn expected_save_progress(link: Transport, fault: Fault, target: u32) -> DataPlan {
    let plan = expected(Sdk17, link, fault, target);
    if plan != (DataPlan::Start { offset: 0 }) {
        return plan;
    }
    // The cut at a boundary strikes before that object's EXECUTE.
    let executed = (target - 1) / OBJECT * OBJECT;
    if executed == 0 {
        DataPlan::Start { offset: 0 }
    } else {
        DataPlan::ExecuteAtBoundary { offset: executed }
    }
}

async fn case(sdk: SdkVersion, link: Transport, fault: Fault, k: u32, delta: i32) {
    case_built(sdk, false, link, fault, k, delta).await;
}

async fn case_built(
    sdk: SdkVersion,
    save_progress: bool,
    link: Transport,
    fault: Fault,
    k: u32,
    delta: i32,
) {
    let target = (k * OBJECT).checked_add_signed(delta).expect("in range");
    let bench = bench(sdk, link, save_progress);
    let device = share(bench.build_in_dfu());
    let clock = SimClock::for_device(&device.borrow());
    let report = match link {
        Transport::Ble => {
            let mut ble = VirtualBleLink::new(device.clone(), clock, BleLinkConfig::default());
            ble.connect().await.expect("the bootloader advertises");
            let (report, ble) =
                interrupted(ble, &bench, &device, clock, fault, target, false).await;
            assert_eq!(ble.counters().connections, 2);
            report
        }
        Transport::Uart => {
            let serial = VirtualSerialLink::open(device.clone(), clock);
            interrupted(serial, &bench, &device, clock, fault, target, false)
                .await
                .0
        }
    };
    // The executed init packet survives every fault here: only EXECUTE is resent.
    assert_eq!(report.init, InitPlan::ExecuteOnly, "init plan");
    let plan = if save_progress {
        expected_save_progress(link, fault, target)
    } else {
        expected(sdk, link, fault, target)
    };
    assert_eq!(report.data, plan, "data plan");
    assert!(!report.restarted);
    // A complete but unexecuted object is executed by the resume EXECUTE, not refused.
    assert_eq!(report.stats.already_executed, 0);
}

#[rstest]
#[tokio::test(start_paused = true)]
async fn sdk17_1(
    #[values(Transport::Ble, Transport::Uart)] link: Transport,
    #[values(Fault::LinkDrop, Fault::Reset)] fault: Fault,
    #[values(1, 2, 3)] k: u32,
    #[values(-4, 0, 4)] delta: i32,
) {
    case(Sdk17, link, fault, k, delta).await;
}

#[rstest]
#[tokio::test(start_paused = true)]
async fn sdk15_3(
    #[values(Transport::Ble, Transport::Uart)] link: Transport,
    #[values(Fault::LinkDrop, Fault::Reset)] fault: Fault,
    #[values(1, 2, 3)] k: u32,
    #[values(-4, 0, 4)] delta: i32,
) {
    case(Sdk15_3, link, fault, k, delta).await;
}

#[rstest]
#[tokio::test(start_paused = true)]
async fn sdk17_1_save_progress_in_flash(
    #[values(Transport::Ble, Transport::Uart)] link: Transport,
    #[values(Fault::LinkDrop, Fault::Reset)] fault: Fault,
    #[values(1, 2, 3)] k: u32,
    #[values(-4, 0, 4)] delta: i32,
) {
    case_built(Sdk17, true, link, fault, k, delta).await;
}

/// A held init packet whose bytes were torn (size, offset and CRC kept) is refused at EXECUTE;
/// the client sends it whole once more and the update completes (seen on 12.3 when a power
/// cut hits the settings write after the init EXECUTE).
#[tokio::test(start_paused = true)]
async fn a_torn_held_init_packet_is_sent_again() {
    let target = OBJECT + 100;
    let bench = bench(Sdk12, Transport::Ble, false);
    let device = share(bench.build_in_dfu());
    let clock = SimClock::for_device(&device.borrow());
    let mut ble = VirtualBleLink::new(device.clone(), clock, BleLinkConfig::default());
    ble.connect().await.expect("the bootloader advertises");
    let (report, _) = interrupted(ble, &bench, &device, clock, Fault::Reset, target, true).await;
    assert_eq!(report.init, InitPlan::Create, "init plan");
    assert_eq!(report.data, DataPlan::Start { offset: 0 }, "data plan");
}
