//! A virtual DUT: the virtual nRF52832 behind the same [`BenchDut`] surface as a real board.
//! Its clock is tokio's (paused: simulated time), mapped onto the device's with a [`SimClock`].

use super::dut::{BenchDut, FaultInjector, Observed};
use super::error::StepFailure;
use super::link::BleOrSerial;
use crate::campaign::journal::DutInfo;
use crate::campaign::phase::Phase;
use crate::campaign::suite::{FaultAction, PowerAction};
use crate::drivers::{Probe, SharedDevice, VirtualProbe};
use crate::inproc::{BleLinkConfig, SimClock, VirtualBleLink, VirtualSerialLink};
use nrf_dfu::wire::Transport;
use nrf_dfu::Chip;
use std::collections::BTreeMap;
use std::time::Duration;
use virtual_nrf52::defects::{Defect, DefectSet};
use virtual_nrf52::descriptor::{options as bl_options, BootloaderDescriptor};
use virtual_nrf52::{ResetKind, SimTime, Status};

/// Polling step of the flash-operation watcher while the device has nothing scheduled.
const WATCH_IDLE: Duration = Duration::from_millis(2);

pub struct VirtualBenchDut {
    name: String,
    device: SharedDevice,
    clock: SimClock,
    probe: VirtualProbe,
    started: tokio::time::Instant,
    options: BTreeMap<String, u32>,
}

impl VirtualBenchDut {
    /// Wrap `device`; its clock starts now (call on the campaign's runtime).
    pub fn new(name: impl Into<String>, device: SharedDevice) -> VirtualBenchDut {
        let name = name.into();
        let clock = SimClock::for_device(&device.borrow());
        VirtualBenchDut {
            probe: VirtualProbe::for_campaign(name.clone(), device.clone()),
            name,
            device,
            clock,
            started: tokio::time::Instant::now(),
            options: BTreeMap::new(),
        }
    }

    pub fn device(&self) -> &SharedDevice {
        &self.device
    }

    /// Bring the device up to the clock's time.
    fn sync(&self) -> SimTime {
        let t = self.clock.now();
        self.device.borrow_mut().advance_to(t);
        t
    }
}

/// Both virtual links behind one type.
pub type VirtualLinkAny = BleOrSerial<VirtualBleLink, VirtualSerialLink>;

/// Faults on the virtual device, at the clock's time.
#[derive(Clone)]
pub struct VirtualInjector {
    device: SharedDevice,
    clock: SimClock,
}

impl VirtualInjector {
    async fn apply(&self, action: FaultAction, t: SimTime) {
        match action {
            FaultAction::Reset => {
                let mut d = self.device.borrow_mut();
                d.advance_to(t);
                d.reset(t, ResetKind::SoftReset);
            }
            FaultAction::PowerCut { off_ms } => {
                {
                    let mut d = self.device.borrow_mut();
                    d.advance_to(t);
                    d.power_off(t);
                }
                let on = t + Duration::from_millis(off_ms);
                self.clock.sleep_until(on).await;
                let mut d = self.device.borrow_mut();
                d.advance_to(on);
                d.power_on(on);
            }
            FaultAction::LinkDrop => {
                self.device.borrow_mut().dfu_link_lost(t);
            }
        }
    }
}

impl FaultInjector for VirtualInjector {
    fn flash_op_watch_ended(&mut self) {
        self.device.borrow_mut().set_watched(false);
    }

    async fn inject(&mut self, action: FaultAction) -> Result<(), StepFailure> {
        let t = self.clock.now();
        self.apply(action, t).await;
        Ok(())
    }

    async fn fault_flash_op(&mut self, n: u32, action: FaultAction) -> Option<String> {
        self.device.borrow_mut().record_flash_ops(true);
        // The cut comes from outside the link: the link keeps polling until the update ends.
        self.device.borrow_mut().set_watched(true);
        loop {
            let now = self.clock.now();
            let (op, next) = {
                let mut d = self.device.borrow_mut();
                d.advance_to(now);
                (
                    d.flash_op_journal().get(n as usize).cloned(),
                    d.next_event_time(),
                )
            };
            if let Some(op) = op {
                self.device.borrow_mut().record_flash_ops(false);
                let middle = op.start + op.duration() / 2;
                let (t, late) = if middle >= now {
                    (middle, false)
                } else {
                    (now, now >= op.end)
                };
                self.clock.sleep_until(t).await;
                self.apply(action, t).await;
                return Some(format!(
                    "{action} inside flash operation {n} ({}, {:.3} ms into it){}",
                    op.what,
                    (t.saturating_sub(op.start)).as_secs_f64() * 1000.0,
                    if late { " - landed after it ended" } else { "" }
                ));
            }
            let wake = match next {
                Some(t) if t > now => t.min(now + WATCH_IDLE),
                _ => now + WATCH_IDLE,
            };
            self.clock.sleep_until(wake).await;
        }
    }
}

fn observed(status: Status) -> Observed {
    match status {
        Status::App(a) => Observed::App {
            name: a.name,
            version: Some(a.version),
        },
        Status::Bootloader(_) => Observed::Bootloader,
        Status::Silent => Observed::Silent,
        Status::Off => Observed::Off,
    }
}

impl BenchDut for VirtualBenchDut {
    type Link = VirtualLinkAny;
    type Injector = VirtualInjector;

    fn name(&self) -> &str {
        &self.name
    }

    fn chip(&self) -> Chip {
        self.device.borrow().chip()
    }

    fn bootloader_build(&mut self) -> Option<BootloaderDescriptor> {
        let d = self.device.borrow();
        let installed = d.hardware().installed();
        installed.bootloader_descriptor().cloned()
    }

    fn declared_options(&self) -> &BTreeMap<String, u32> {
        &self.options
    }

    fn declare_options(&mut self, options: BTreeMap<String, u32>) {
        self.options = options;
    }

    fn info(&self) -> DutInfo {
        let d = self.device.borrow();
        let installed = d.hardware().installed();
        let bl = installed.bootloader_descriptor();
        let mut firmware = BTreeMap::new();
        for line in installed.summary() {
            if let Some((k, v)) = line.split_once(": ") {
                firmware.insert(k.to_string(), v.to_string());
            }
        }
        DutInfo {
            name: self.name.clone(),
            chip: crate::sim::inspect::chip_name(d.chip()).to_string(),
            bootloader: bl.map_or("none".to_string(), |b| {
                format!(
                    // `profile` reads "SDK 17": "nRF5 SDK 17 Secure DFU bootloader (BLE, ...)".
                    "nRF5 {} Secure DFU bootloader ({}, {})",
                    b.profile,
                    b.transport,
                    if b.single_bank {
                        "single bank"
                    } else {
                        "dual bank"
                    }
                )
            }),
            softdevice: None,
            firmware,
            details: {
                let mut m = BTreeMap::from([("bench".to_string(), "virtual".to_string())]);
                if let Some(b) = bl {
                    m.insert("bootloader options".into(), bl_options::describe(b));
                }
                m
            },
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn with_probe<R>(&mut self, f: impl FnOnce(&mut dyn Probe) -> R) -> R {
        self.sync();
        f(&mut self.probe)
    }

    async fn sleep(&mut self, d: Duration) {
        let t = self.clock.now() + d;
        self.clock.sleep_until(t).await;
        self.sync();
    }

    async fn power(&mut self, action: PowerAction, off: Duration) -> Result<(), StepFailure> {
        let t = self.sync();
        match action {
            PowerAction::Off => self.device.borrow_mut().power_off(t),
            PowerAction::On => self.device.borrow_mut().power_on(t),
            PowerAction::Cycle => {
                self.device.borrow_mut().power_off(t);
                self.sleep(off).await;
                let t = self.sync();
                self.device.borrow_mut().power_on(t);
            }
        }
        Ok(())
    }

    async fn observe(&mut self, wait: Duration) -> Observed {
        let t = self.sync();
        let end = self.device.borrow_mut().settle(t + wait);
        self.clock.sleep_until(end).await;
        self.sync();
        observed(self.device.borrow().status())
    }

    async fn enter_dfu_buttonless(&mut self, _wait: Duration) -> Result<(), StepFailure> {
        let t = self.sync();
        self.device
            .borrow_mut()
            .app_enter_bootloader(t)
            .map(|_| ())
            .map_err(|e| StepFailure::timeout(Phase::EnterDfu, format!("buttonless entry: {e}")))
    }

    async fn connect_dfu(
        &mut self,
        _wait: Duration,
        mtu: Option<u16>,
    ) -> Result<VirtualLinkAny, StepFailure> {
        self.sync();
        let status = self.device.borrow().status();
        match status {
            Status::Bootloader(b) => match b.transport {
                Transport::Ble => {
                    let mut link = VirtualBleLink::new(
                        self.device.clone(),
                        self.clock,
                        BleLinkConfig {
                            att_mtu: mtu.unwrap_or(247),
                            ..BleLinkConfig::default()
                        },
                    );
                    link.connect().await.map_err(|e| {
                        StepFailure::timeout(
                            Phase::Reconnect,
                            format!("connecting to the bootloader: {e}"),
                        )
                    })?;
                    Ok(VirtualLinkAny::Ble(link))
                }
                Transport::Uart => Ok(VirtualLinkAny::Serial(VirtualSerialLink::open(
                    self.device.clone(),
                    self.clock,
                ))),
            },
            other => Err(StepFailure::timeout(
                Phase::Reconnect,
                format!(
                    "no bootloader to connect to: {}",
                    observed(other).describe()
                ),
            )),
        }
    }

    fn injector(&self) -> VirtualInjector {
        VirtualInjector {
            device: self.device.clone(),
            clock: self.clock,
        }
    }

    fn set_defects(&mut self, defects: Option<&[Defect]>) -> bool {
        let set = defects.map(|d| d.iter().copied().collect::<DefectSet>());
        self.device.borrow_mut().set_defects(set);
        true
    }

    fn reseed(&mut self, seed: u64) {
        self.device.borrow_mut().reseed(seed);
    }

    fn sees_flash_ops(&self) -> bool {
        true
    }

    fn flash_ops_since_armed(&mut self) -> Option<u32> {
        Some(self.device.borrow().flash_op_journal().len() as u32)
    }

    fn count_flash_ops(&mut self, on: bool) -> Option<u32> {
        let mut d = self.device.borrow_mut();
        if on {
            d.record_flash_ops(true);
            None
        } else {
            let n = d.flash_op_journal().len() as u32;
            d.record_flash_ops(false);
            Some(n)
        }
    }

    fn take_log_lines(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Run `suite` on `duts` fresh in-memory virtual nRF52832s (the suite's chip; each seeded from
/// the campaign seed and its index), each on a thread of its own with a paused runtime (see
/// [`super::threads`]: the journal is the one a single thread gives): what `rig run` does
/// without a bench file.
pub fn run_on_virtual_bench(
    suite: &crate::campaign::suite::LoadedSuite,
    duts: u32,
    opts: &super::CampaignOptions,
    observer: &dyn super::RunObserver,
) -> Result<super::CampaignResult, super::RunError> {
    let chip = suite
        .suite
        .dut
        .as_ref()
        .and_then(|d| d.chip)
        .unwrap_or(Chip::Nrf52832Qfaa);
    super::threads::run_on_threads(suite, duts as usize, opts, observer, |k| {
        let i = k as u64 + 1;
        let seed = opts.seed.wrapping_mul(0x9E37_79B9).wrapping_add(i);
        let device = virtual_nrf52::Device::new(chip, seed);
        VirtualBenchDut::new(
            format!("virtual-{i}"),
            crate::drivers::shared::share(device),
        )
    })
}

/// The runtime of a virtual DUT (or of a virtual bench's DUTs together): one thread, time paused (every wait is simulated).
pub fn paused_runtime() -> Result<tokio::runtime::Runtime, super::RunError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|source| super::RunError::Io {
            path: "tokio runtime".into(),
            source,
        })
}
