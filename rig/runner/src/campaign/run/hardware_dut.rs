//! A real DUT: probe-rs for SWD, the bench file's power switch, btleplug for BLE or a serial
//! port for a UART bootloader. The same [`BenchDut`] surface as the virtual bench; every wait
//! on the hardware is bounded.
//!
//! Which image runs is seen from the outside: the app's and the bootloader's advertisements
//! (the unbonded bootloader advertises at the app's address + 1), and the 16-byte version block
//! that `firmware/testapp` keeps at the top of RAM, read over SWD.

use super::dut::{BenchDut, FaultInjector, Observed};
use super::error::StepFailure;
use super::lab_hooks::LabHooks;
use super::link::BleOrSerial;
use super::power_cut_check;
use crate::benchfile::open::{self, AnySwitch};
use crate::benchfile::Dut;
use crate::campaign::failure_class::InfraFault;
use crate::campaign::journal::DutInfo;
use crate::campaign::phase::Phase;
use crate::campaign::suite::{FaultAction, PowerAction};
use crate::drivers::ble::adapter;
use crate::drivers::ble::scan::{find_fresh, wanted};
use crate::drivers::ble::transport::BleTransport;
use crate::drivers::power::probe_reset::SharedProbe;
use crate::drivers::power::PowerSwitch;
use crate::drivers::serial::{SerialOptions, SerialTransport};
use crate::drivers::{Owner, Probe, ProbeError};
use nrf_dfu::client::{Link, LinkError};
use nrf_dfu::Chip;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use virtual_nrf52::descriptor::{options as bl_options, BootloaderDescriptor};

/// The test app's version block (firmware/testapp/src/info_block.rs): magic "RIGA", version,
/// !version, layout 1, in the last 16 bytes of RAM: 0x2000_FFF0 on a QFAA (64 KB), 0x2000_7FF0
/// on a QFAB (32 KB RAM, where 0x2000_FFF0 is no RAM at all).
pub fn info_block(chip: Chip) -> u32 {
    0x2000_0000 + chip.ram_size() - 16
}
/// How often `observe` looks again while the DUT boots.
const OBSERVE_POLL: Duration = Duration::from_millis(250);
/// How long one look waits for a PING answer while the DUT may still be busy: a UART bootloader
/// answers within milliseconds (a 3-byte frame at 115 200 baud, plus a USB-serial adapter's
/// latency timer, 16 ms by default on FTDI parts, plus at most one 85 ms page erase during
/// which the nRF52's CPU stalls). A look that finds nothing costs its whole wait, and after an
/// update the device is still activating for the first looks: with 1 s per look every serial
/// update paid ~1.3 s of wall time here whatever the lab speed (issue 12, iteration cost).
const OBSERVE_PING_FIRST: Duration = Duration::from_millis(250);
/// After [`OBSERVE_PING_LATER_AFTER`] of looking, each PING look waits this long, for adapters
/// or hosts slower than the first looks allow.
const OBSERVE_PING_LATER: Duration = Duration::from_secs(1);
const OBSERVE_PING_LATER_AFTER: Duration = Duration::from_secs(3);
const INFO_MAGIC: u32 = 0x4147_4952;

pub struct HardwareDut {
    name: String,
    dut: Dut,
    probe: SharedProbe,
    power: Rc<RefCell<AnySwitch>>,
    started: tokio::time::Instant,
    options: BTreeMap<String, u32>,
    /// One BlueZ connection for the whole campaign (see [`adapter::AdapterSlot`]).
    ble_adapter: adapter::AdapterSlot<btleplug::platform::Adapter>,
    /// The device-model hooks when the DUT is a lab's ([`LabHooks`]); `None` on a real bench.
    lab: Option<LabHooks>,
}

fn probe_infra(e: ProbeError) -> StepFailure {
    StepFailure::infra(InfraFault::Probe, e.message)
}

impl HardwareDut {
    pub fn open(name: &str, dut: &Dut) -> Result<HardwareDut, ProbeError> {
        let probe: SharedProbe = Rc::new(RefCell::new(open::campaign_probe(dut, None)?));
        let p = probe.clone();
        let power = open::power(dut, None, move || Ok(p))?;
        Ok(HardwareDut {
            name: name.to_string(),
            dut: dut.clone(),
            probe,
            power: Rc::new(RefCell::new(power)),
            started: tokio::time::Instant::now(),
            options: dut
                .bootloader
                .as_ref()
                .map(|b| b.options.clone())
                .unwrap_or_default(),
            ble_adapter: adapter::AdapterSlot::default(),
            lab: LabHooks::for_dut(dut),
        })
    }

    /// The DUT's BLE adapter, opened on first use.
    async fn adapter(
        &mut self,
        cfg: &crate::benchfile::schema::BleConfig,
    ) -> Result<btleplug::platform::Adapter, crate::drivers::ble::BleError> {
        // find_for points libdbus at the bench file's bus (a lab's private one) first.
        Ok(self.ble_adapter.get(|| adapter::find_for(cfg)).await?.0)
    }

    /// The version in the test app's RAM block, if an app that keeps one runs.
    fn ram_version(&mut self) -> Option<u32> {
        ram_version(&self.probe, self.dut.chip)
    }
}

fn ram_version(probe: &SharedProbe, chip: Chip) -> Option<u32> {
    block_version(&probe.borrow_mut().read_memory(info_block(chip), 16).ok()?)
}

fn block_version(b: &[u8]) -> Option<u32> {
    let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (b.len() >= 16 && w(0) == INFO_MAGIC && w(8) == !w(4) && w(12) == 1).then(|| w(4))
}

/// Retire the application's version block once no application runs (its bootloader answers,
/// or the rig is about to reset the DUT into it): zero it if it holds a block, so a block seen
/// later was written by an application that started since. RAM keeps the block over a reset,
/// and a bootloader need not overwrite it: the SDK 17.0.2 UART debug bootloader's stack starts
/// at 0x2000_4818 (its vector table), far below the block, so after an SWD entry into DFU mode
/// the old application's block still read as "the application runs". A block that is not
/// there is left alone: those bytes may be a bootloader's stack.
fn retire_version_block(p: &mut dyn Probe, chip: Chip) -> Result<bool, ProbeError> {
    let b = p.read_memory(info_block(chip), 16)?;
    if block_version(&b).is_none() {
        return Ok(false);
    }
    p.write_memory(info_block(chip), &[0; 16])?;
    Ok(true)
}

/// What a DUT without a radio runs, looked at until `wait` runs out: the application (its
/// version block in RAM; it does not answer PING) or the bootloader (answers PING). One look
/// straight after a reset would find neither while the DUT still boots.
pub(crate) async fn poll_boot<V, B, BF>(
    wait: Duration,
    mut version: V,
    mut bootloader: B,
) -> Observed
where
    V: FnMut() -> Option<u32>,
    B: FnMut() -> BF,
    BF: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let look = tokio::time::Instant::now();
        if let Some(v) = version() {
            return Observed::App {
                name: "rig-app".into(),
                version: Some(v),
            };
        }
        if bootloader().await {
            return Observed::Bootloader;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Observed::Silent;
        }
        // One look per OBSERVE_POLL: a look that already waited (a PING nobody answered) has
        // used up its share.
        tokio::time::sleep_until((look + OBSERVE_POLL).min(deadline).max(now)).await;
    }
}

/// BLE or serial, behind one type.
pub type HardwareLink = BleOrSerial<BleTransport, SerialTransport>;

#[derive(Clone)]
pub struct HardwareInjector {
    probe: SharedProbe,
    power: Rc<RefCell<AnySwitch>>,
    lab: Option<LabHooks>,
    /// A cut was armed on the lab for this update (disarmed when it ends).
    armed: bool,
}

// The switch is borrowed across the off time: one DUT's task is the only user of its switch (the
// injector runs inside that task's update), so no other borrow can be attempted meanwhile.
#[allow(clippy::await_holding_refcell_ref)]
impl FaultInjector for HardwareInjector {
    async fn inject(&mut self, action: FaultAction) -> Result<(), StepFailure> {
        match action {
            FaultAction::Reset => self.probe.borrow_mut().soft_reset().map_err(probe_infra),
            FaultAction::PowerCut { off_ms } => {
                let mut sw = self.power.borrow_mut();
                if !sw.cuts_power() {
                    // A switch that only disconnects data (a ganged hub) would make this a
                    // cut that never happened, recorded as one.
                    return Err(StepFailure::infra(
                        InfraFault::PowerSwitch,
                        format!(
                            "{} does not cut power (the bench file does not say `cuts_power: true`): \
                             a power cut cannot be injected; use a switch that removes the supply \
                             (a hub with per-port power switching, a PPK2, a relay)",
                            sw.describe()
                        ),
                    ));
                }
                power_cut_check::mark_before_cut(&self.probe)?;
                sw.off()
                    .await
                    .map_err(|e| StepFailure::infra(InfraFault::PowerSwitch, e.to_string()))?;
                tokio::time::sleep(Duration::from_millis(off_ms)).await;
                sw.on()
                    .await
                    .map_err(|e| StepFailure::infra(InfraFault::PowerSwitch, e.to_string()))?;
                drop(sw);
                power_cut_check::after_power_cut(&self.probe, power_cut_check::ANSWER_WAIT).await
            }
            // The executor closes the link.
            FaultAction::LinkDrop => Ok(()),
        }
    }

    async fn fault_flash_op(&mut self, n: u32, action: FaultAction) -> Option<String> {
        // Only a lab's device model sees flash operations; the lab cuts at the instant.
        let l = self.lab.as_ref()?;
        self.armed = true;
        l.fault_flash_op(n, action).await
    }

    fn flash_op_watch_ended(&mut self) {
        if let Some(l) = self.lab.as_ref().filter(|_| self.armed) {
            l.disarm();
            self.armed = false;
        }
    }
}

impl BenchDut for HardwareDut {
    type Link = HardwareLink;
    type Injector = HardwareInjector;

    fn name(&self) -> &str {
        &self.name
    }

    fn chip(&self) -> Chip {
        self.dut.chip
    }

    fn bootloader_build(&mut self) -> Option<BootloaderDescriptor> {
        // The build is not visible from outside: the SDK example's configuration with the
        // options the bench file (or the suite) declares; checked when they were declared.
        let b = self.dut.bootloader.as_ref()?;
        let mut d = BootloaderDescriptor::sdk_default(b.sdk, [0; 64]);
        bl_options::apply(&mut d, &self.options).ok()?;
        Some(d)
    }

    fn declared_options(&self) -> &BTreeMap<String, u32> {
        &self.options
    }

    fn declare_options(&mut self, options: BTreeMap<String, u32>) {
        self.options = options;
    }

    fn info(&self) -> DutInfo {
        let mut details = BTreeMap::new();
        details.insert("probe".into(), self.probe.borrow().describe());
        details.insert("power".into(), self.power.borrow().describe());
        if let Some(b) = &self.dut.ble {
            details.insert(
                "ble".into(),
                b.address.clone().unwrap_or_else(|| "any".into()),
            );
        }
        if let Some(s) = &self.dut.serial {
            details.insert("serial".into(), s.port.clone());
        }
        if let Some(b) = &self.dut.bootloader {
            let mut d = BootloaderDescriptor::sdk_default(b.sdk, [0; 64]);
            if bl_options::apply(&mut d, &self.options).is_ok() {
                details.insert("bootloader options".into(), bl_options::describe(&d));
            }
        }
        DutInfo {
            name: self.name.clone(),
            chip: crate::sim::inspect::chip_name(self.dut.chip).to_string(),
            bootloader: self.dut.bootloader.as_ref().map_or("unknown".into(), |b| {
                format!("nRF5 {} Secure DFU bootloader", b.sdk)
            }),
            softdevice: None,
            firmware: BTreeMap::new(),
            details,
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn with_probe<R>(&mut self, f: impl FnOnce(&mut dyn Probe) -> R) -> R {
        let mut p = self.probe.borrow_mut();
        f(&mut **p)
    }

    async fn sleep(&mut self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    #[allow(clippy::await_holding_refcell_ref)] // see HardwareInjector
    async fn power(&mut self, action: PowerAction, off: Duration) -> Result<(), StepFailure> {
        let check = action == PowerAction::Cycle && self.power.borrow().cuts_power();
        if check {
            power_cut_check::mark_before_cut(&self.probe)?;
        }
        let mut sw = self.power.borrow_mut();
        let r = match action {
            PowerAction::On => sw.on().await,
            PowerAction::Off => sw.off().await,
            PowerAction::Cycle => sw.cycle(off).await,
        };
        r.map_err(|e| StepFailure::infra(InfraFault::PowerSwitch, e.to_string()))?;
        if check {
            drop(sw);
            power_cut_check::after_power_cut(&self.probe, power_cut_check::ANSWER_WAIT).await?;
        }
        Ok(())
    }

    async fn observe(&mut self, wait: Duration) -> Observed {
        if let Some(cfg) = self.dut.ble.clone() {
            let Ok(target) = wanted(&cfg) else {
                return Observed::Silent;
            };
            let Ok(adapter) = self.adapter(&cfg).await else {
                return Observed::Silent;
            };
            return match find_fresh(&adapter, &target, wait).await {
                Ok((_, s)) => {
                    let is_bl =
                        target.addresses.len() > 1 && target.addresses.get(1) == Some(&s.address);
                    if is_bl || s.name.as_deref() == Some("DfuTarg") {
                        Observed::Bootloader
                    } else {
                        // Read once the app advertises: it has written its block by then.
                        Observed::App {
                            name: s.name.unwrap_or_default(),
                            version: self.ram_version(),
                        }
                    }
                }
                Err(_) => Observed::Silent,
            };
        }
        let probe = self.probe.clone();
        let chip = self.dut.chip;
        let serial = self.dut.serial.clone();
        let start = tokio::time::Instant::now();
        poll_boot(
            wait,
            || ram_version(&probe, chip),
            || {
                let serial = serial.clone();
                async move {
                    let Some(s) = serial else { return false };
                    let options = SerialOptions {
                        // One PING exchange per look; the loop supplies the patience.
                        connect_timeout: if start.elapsed() < OBSERVE_PING_LATER_AFTER {
                            OBSERVE_PING_FIRST
                        } else {
                            OBSERVE_PING_LATER
                        },
                        ..SerialOptions::default()
                    };
                    match SerialTransport::connect(s.port_settings(), options).await {
                        Ok(mut t) => {
                            let _ = t.close().await;
                            true
                        }
                        Err(_) => false,
                    }
                }
            },
        )
        .await
    }

    async fn enter_dfu_buttonless(&mut self, wait: Duration) -> Result<(), StepFailure> {
        let Some(cfg) = self.dut.ble.clone() else {
            return Err(StepFailure::infra(
                InfraFault::Host,
                "buttonless entry needs the DUT's `ble` in the bench file",
            ));
        };
        let target =
            wanted(&cfg).map_err(|e| StepFailure::infra(InfraFault::Host, e.to_string()))?;
        let adapter = self
            .adapter(&cfg)
            .await
            .map_err(|e| StepFailure::infra(InfraFault::Adapter, e.to_string()))?;
        let dut = |e: crate::drivers::ble::error::BleError| match e.owner() {
            Owner::Infrastructure => StepFailure::infra(InfraFault::Adapter, e.to_string()),
            Owner::Device => StepFailure::timeout(Phase::EnterDfu, e.to_string()),
        };
        let (id, _) = find_fresh(&adapter, &target, wait).await.map_err(dut)?;
        let app = adapter::bounded(
            "peripheral",
            btleplug::api::Central::peripheral(&adapter, &id),
        )
        .await
        .map_err(dut)?;
        use btleplug::api::Peripheral as _;
        crate::drivers::ble::transport::drop_stale_link(&app)
            .await
            .map_err(dut)?;
        crate::drivers::ble::transport::connect_retrying(
            || async { app.connect().await.map_err(|e| e.to_string()) },
            || async {
                let _ = app.disconnect().await;
            },
            &crate::drivers::ble::backoff::Backoff::default(),
        )
        .await
        .map_err(|detail| {
            dut(crate::drivers::ble::BleError::Connect {
                target: app.address().to_string(),
                detail,
            })
        })?;
        let r = async {
            adapter::bounded("discover services", app.discover_services()).await?;
            crate::drivers::ble::buttonless::enter(&adapter, &app, cfg.name.clone()).await
        }
        .await;
        // The application may advertise again between its disconnect and its reset: SDK 12.3's
        // experimental buttonless service resets only once its settings-page write is done
        // (`enter_buttonless_dfu`; virtual-nrf52 app.rs `app_enter_bootloader` models it so), and
        // nothing stops an app from advertising after a disconnect meanwhile. So the entry is
        // done when the bootloader advertises (nrfutil 6.1.7 `dfu_transport_ble.py` scans for it
        // too, at address + 1), not when the app's link goes: a look in between saw the app.
        let r = match r {
            Ok(bootloader) => find_fresh(&adapter, &bootloader, wait)
                .await
                .map(|_| bootloader)
                .map_err(|e| match e {
                    e @ crate::drivers::ble::BleError::Adapter(_) => e,
                    e => crate::drivers::ble::BleError::Gatt(format!(
                        "the bootloader did not advertise within {wait:?} after buttonless entry: {e}"
                    )),
                }),
            Err(e) => Err(e),
        };
        if r.is_err() {
            // The app may still hold the link: release it, or BlueZ keeps it connected and silent.
            let _ = tokio::time::timeout(
                crate::drivers::ble::transport::DISCONNECT_BOUND,
                app.disconnect(),
            )
            .await;
        }
        r.map(|_| ()).map_err(dut)
    }

    async fn connect_dfu(
        &mut self,
        _wait: Duration,
        mtu: Option<u16>,
    ) -> Result<HardwareLink, StepFailure> {
        let class = |e: LinkError| {
            if e.kind.is_infrastructure() {
                StepFailure::infra(InfraFault::Adapter, e.to_string())
            } else {
                StepFailure::timeout(
                    Phase::Reconnect,
                    format!("connecting to the bootloader: {e}"),
                )
            }
        };
        if let Some(s) = &self.dut.serial {
            let settings = s.port_settings();
            let options = SerialOptions {
                ping: s.ping,
                ..SerialOptions::default()
            };
            let link = SerialTransport::connect(settings, options)
                .await
                .map(HardwareLink::Serial)
                .map_err(class)?;
            // The bootloader answered: whatever application ran has stopped.
            self.app_stopped()?;
            return Ok(link);
        }
        let Some(cfg) = self.dut.ble.clone() else {
            return Err(StepFailure::infra(
                InfraFault::Host,
                "the DUT has neither `ble` nor `serial` in the bench file",
            ));
        };
        let mut target =
            wanted(&cfg).map_err(|e| StepFailure::infra(InfraFault::Host, e.to_string()))?;
        if !cfg.bonded && target.addresses.len() > 1 {
            // Only the bootloader's address.
            target.addresses.remove(0);
        }
        let adapter = self
            .adapter(&cfg)
            .await
            .map_err(|e| StepFailure::infra(InfraFault::Adapter, e.to_string()))?;
        let link = BleTransport::connect(adapter, target, cfg.packet_size, mtu)
            .await
            .map(HardwareLink::Ble)
            .map_err(class)?;
        self.app_stopped()?;
        Ok(link)
    }

    fn app_stopped(&mut self) -> Result<(), StepFailure> {
        let chip = self.dut.chip;
        retire_version_block(&mut **self.probe.borrow_mut(), chip)
            .map(|_| ())
            .map_err(|e| {
                StepFailure::infra(
                    InfraFault::Probe,
                    format!("retiring the application's version block: {}", e.message),
                )
            })
    }

    fn link_note(link: &HardwareLink) -> Option<String> {
        match link {
            HardwareLink::Ble(b) => b.mtu_note(),
            HardwareLink::Serial(_) => None,
        }
    }

    fn injector(&self) -> HardwareInjector {
        HardwareInjector {
            probe: self.probe.clone(),
            power: self.power.clone(),
            lab: self.lab.clone(),
            armed: false,
        }
    }

    fn set_defects(&mut self, defects: Option<&[virtual_nrf52::defects::Defect]>) -> bool {
        match &self.lab {
            Some(l) => match l.set_defects(defects) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!("{}: the lab did not switch the defects: {e}", self.name);
                    false
                }
            },
            None => false,
        }
    }

    fn reseed(&mut self, _seed: u64) {}

    fn sees_flash_ops(&self) -> bool {
        self.lab.is_some()
    }

    fn dfu_timeouts(&self, kind: nrf_dfu::client::Transport) -> nrf_dfu::client::Timeouts {
        nrf_dfu::client::Timeouts::for_hardware(kind)
    }

    fn count_flash_ops(&mut self, on: bool) -> Option<u32> {
        self.lab.as_ref()?.count_flash_ops(on).ok().flatten()
    }

    fn flash_ops_since_armed(&mut self) -> Option<u32> {
        self.lab.as_ref()?.flash_ops_since_armed()
    }

    fn take_log_lines(&mut self) -> Vec<String> {
        self.probe
            .borrow_mut()
            .read_rtt_lines(Duration::ZERO)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn the_version_block_is_at_the_top_of_the_chips_ram() {
        assert_eq!(info_block(Chip::Nrf52832Qfaa), 0x2000_FFF0);
        assert_eq!(info_block(Chip::Nrf52832Qfab), 0x2000_7FF0);
    }

    fn probe_on_a_virtual_chip() -> crate::drivers::VirtualProbe {
        let mut d = virtual_nrf52::Device::new(Chip::Nrf52832Qfaa, 3);
        virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
        crate::drivers::VirtualProbe::new("v", crate::drivers::shared::share(d), false)
    }

    #[test]
    fn a_version_block_is_retired_and_other_bytes_are_left_alone() {
        let mut p = probe_on_a_virtual_chip();
        let at = info_block(Chip::Nrf52832Qfaa);
        let block: Vec<u8> = [INFO_MAGIC, 7, !7, 1]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        p.write_memory(at, &block).unwrap();
        assert_eq!(block_version(&p.read_memory(at, 16).unwrap()), Some(7));
        assert!(retire_version_block(&mut p, Chip::Nrf52832Qfaa).unwrap());
        assert_eq!(p.read_memory(at, 16).unwrap(), vec![0; 16]);
        // Bytes that are no block (a bootloader's stack frame, say) stay as they are.
        let frame: Vec<u8> = (1..=16).collect();
        p.write_memory(at, &frame).unwrap();
        assert!(!retire_version_block(&mut p, Chip::Nrf52832Qfaa).unwrap());
        assert_eq!(p.read_memory(at, 16).unwrap(), frame);
        // A block whose check word does not match is none either.
        let mut bad = block.clone();
        bad[8] ^= 1;
        p.write_memory(at, &bad).unwrap();
        assert!(!retire_version_block(&mut p, Chip::Nrf52832Qfaa).unwrap());
        assert_eq!(p.read_memory(at, 16).unwrap(), bad);
    }

    #[tokio::test(start_paused = true)]
    async fn a_booting_serial_dut_is_watched_until_its_app_shows() {
        // The new application writes its block 1.2 s after the reset; it never answers PING.
        let start = tokio::time::Instant::now();
        let looks = Cell::new(0);
        let o = poll_boot(
            Duration::from_secs(5),
            || (start.elapsed() >= Duration::from_millis(1200)).then_some(7),
            || async {
                looks.set(looks.get() + 1);
                false
            },
        )
        .await;
        assert_eq!(
            o,
            Observed::App {
                name: "rig-app".into(),
                version: Some(7)
            }
        );
        assert!(looks.get() > 1);
        // Nothing ever answers: silent, after the whole wait and not before.
        let start = tokio::time::Instant::now();
        let o = poll_boot(Duration::from_secs(5), || None, || async { false }).await;
        assert_eq!(o, Observed::Silent);
        assert!(start.elapsed() >= Duration::from_secs(5));
        // The bootloader answers PING.
        let o = poll_boot(Duration::from_secs(5), || None, || async { true }).await;
        assert_eq!(o, Observed::Bootloader);
    }
}
