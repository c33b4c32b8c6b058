//! [`Device`]: the whole virtual nRF52832 as a deterministic discrete-event model
//! (docs/DEVICE-CONTRACT.md): the hardware of [`crate::device`] plus the firmware that runs on
//! it (MBR, Secure DFU bootloader, stand-in application), on simulated time.
//!
//! Every call passes the current time `t`; the device first processes its own events due at or
//! before `t` (flash operations completing, the inactivity timer, serial bytes arriving, boot
//! and activation steps), then acts. Nothing here reads a clock or an unseeded RNG.

use crate::app::App;
use crate::bootloader::boot::{Boot, BootStep};
use crate::bootloader::profile::Profile;
use crate::bootloader::Dfu;
use crate::core::Core;
use crate::cpu::CpuCosts;
use crate::defects::DefectSet;
use crate::descriptor::{BootloaderDescriptor, Transport};
use crate::events::{FirmwareReset, FlashOpRecord, SimTime};
use crate::flash_queue::Done;
use crate::hardware::{CutPlan, Hardware};
use crate::installed::Code;
use crate::lifecycle::BootRecord;
use crate::mbr::{self, BootTarget, CopyBlRecord};
use crate::power::ResetKind;
use crate::status::SilentReason;
use crate::timing::TimingProfile;
use crate::uart::UartPort;
use nrf_dfu::Chip;
use std::time::Duration;

/// What the CPU runs.
#[derive(Debug, Clone)]
pub(crate) enum Run {
    Off,
    Silent(SilentReason),
    Booting(Box<Boot>),
    Dfu(Box<Dfu>),
    App(App),
    /// The core executes instructions a debugger set up (e.g. a flash algorithm), until the
    /// next reset boots the firmware models again (see `silicon.rs`).
    Cpu,
}

/// How the hardware was last (re)started, to replay a boot that a power cut interrupts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BootCause {
    PowerOn,
    Reset(ResetKind),
}

/// The MBR copied a bootloader at reset (synchronously in the hardware model); a power cut
/// inside this window replays that boot from `before` with the cut armed.
#[derive(Debug, Clone)]
struct MbrWindow {
    start: SimTime,
    end: SimTime,
    before: Box<Hardware>,
    cause: BootCause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Queue,
    Inactivity,
    UartRx,
}

/// One virtual nRF52832 with its firmware, on simulated time.
#[derive(Debug, Clone)]
pub struct Device {
    pub(crate) core: Core,
    pub(crate) run: Run,
    pub(crate) uart: UartPort,
    pub(crate) fallback: Option<BootloaderDescriptor>,
    pub(crate) halted_at: Option<SimTime>,
    mbr: Option<MbrWindow>,
    /// The register-level side: core, SoC registers, SWD port.
    pub(crate) si: Box<crate::silicon::Silicon>,
    /// See [`Device::set_watched`].
    watched: bool,
    /// The core runs what is in flash from every reset ([`Device::set_emulated_cpu`]).
    pub(crate) emulated: bool,
}

impl Device {
    /// A blank chip (erased flash and UICR), powered on at time 0: nothing runs.
    pub fn new(chip: Chip, seed: u64) -> Device {
        let mut hw = Hardware::new(chip, seed);
        // A blank chip has no MBR: power-on cannot fail.
        let _ = hw.power_on();
        Device::from_hardware(hw, seed)
    }

    /// Wrap hardware as it is (e.g. loaded from a state file) at time 0. If it is powered, what
    /// its last boot started runs (without replaying the MBR's work).
    pub fn from_hardware(hw: Hardware, seed: u64) -> Device {
        let record = hw.boot_record().cloned();
        let mut d = Device {
            core: Core::new(hw, seed),
            run: Run::Off,
            uart: UartPort::default(),
            fallback: None,
            halted_at: None,
            watched: false,
            emulated: false,
            mbr: None,
            si: Box::new(crate::silicon::Silicon::new()),
        };
        if d.core.hw.is_powered() {
            d.silicon_reset(true, false, false);
            let record = record.unwrap_or(BootRecord {
                reset: ResetKind::PowerOn,
                target: mbr::boot_target(d.core.hw.memory()),
                mbr_copy: None,
                elapsed: Duration::ZERO,
                count: 0,
            });
            d.start(BootRecord {
                elapsed: Duration::ZERO,
                ..record
            });
        }
        d
    }

    /// State-file bytes of the hardware (what survives power-off; see [`crate::state`]).
    pub fn to_state_bytes(&self) -> Vec<u8> {
        self.core.hw.to_state_bytes()
    }

    /// A device from state-file bytes: unpowered, as the file's hardware is.
    pub fn from_state_bytes(bytes: &[u8]) -> Result<Device, crate::state::StateError> {
        let hw = Hardware::from_state_bytes(bytes)?;
        let seed = hw.identity_seed();
        Ok(Device::from_hardware(hw, seed))
    }

    pub fn chip(&self) -> Chip {
        self.core.hw.chip()
    }

    /// The hardware (flash, UICR, FICR, POWER) for inspection and state files.
    pub fn hardware(&self) -> &Hardware {
        &self.core.hw
    }

    pub fn into_hardware(self) -> Hardware {
        self.core.hw
    }

    pub fn is_powered(&self) -> bool {
        self.core.hw.is_powered()
    }

    /// The hardware's last boot (reset cause, MBR work, what it started).
    pub fn boot_record(&self) -> Option<&BootRecord> {
        self.core.hw.boot_record()
    }

    /// One aligned word from the bus as the CPU sees it now (flash, FICR, UICR, RAM, POWER).
    pub fn read_u32(&self, addr: u32) -> Result<u32, crate::error::DeviceError> {
        self.core.hw.read_u32(addr)
    }

    /// The time of the last call (or event processed).
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// Counts resets and power events. A reply from an earlier epoch is void.
    pub fn epoch(&self) -> u64 {
        self.core.epoch
    }

    pub fn timing(&self) -> &TimingProfile {
        self.core.hw.timing()
    }

    pub fn set_timing(&mut self, timing: TimingProfile) {
        self.core.hw.set_timing(timing);
    }

    pub fn set_cpu_costs(&mut self, cpu: CpuCosts) {
        self.core.cpu = cpu;
    }

    /// The profile and key an image without a stand-in descriptor at the bootloader address
    /// runs with ("unknown bootloader"); `None`: such an image runs silently.
    pub fn set_fallback_bootloader(&mut self, descriptor: Option<BootloaderDescriptor>) {
        self.fallback = descriptor;
    }

    /// Defects in effect from the next boot on, whatever the bootloader descriptor says
    /// (`None`: the descriptor's set).
    pub fn set_defects(&mut self, defects: Option<DefectSet>) {
        self.core.hw.set_defects_override(defects);
    }

    /// Restart every random stream of the device from `seed`: the hardware's (torn flash
    /// content, RAM at power-up) and the firmware's (intermittent defects). A test rig does this
    /// at the start of each iteration, so one iteration can be replayed on its own.
    pub fn reseed(&mut self, seed: u64) {
        self.core.hw.reseed(seed);
        self.core.rng = crate::rng::DeviceRng::new(seed).derive("firmware");
    }

    /// Record every flash operation from now on (for power-cut sweeps).
    pub fn record_flash_ops(&mut self, on: bool) {
        self.core.journal = on.then(Vec::new);
    }

    pub fn flash_op_journal(&self) -> &[FlashOpRecord] {
        self.core.journal.as_deref().unwrap_or(&[])
    }

    /// Code flash as it is now (reads past the end are cut short).
    pub fn read_flash(&self, addr: u32, len: u32) -> Vec<u8> {
        let end = self.core.hw.memory().code.end();
        let len = len.min(end.saturating_sub(addr));
        self.core.read(addr, len).to_vec()
    }

    pub(crate) fn is_halted(&self) -> bool {
        self.halted_at.is_some()
    }

    // --- time -------------------------------------------------------------------------------

    fn next_internal(&self) -> Option<(SimTime, Event)> {
        if self.halted_at.is_some() || !self.core.hw.is_powered() || self.held_in_reset() {
            return None;
        }
        let mut best: Option<(SimTime, Event)> = None;
        let mut consider = |t: Option<SimTime>, e: Event| {
            if let Some(t) = t {
                if best.is_none_or(|(b, _)| t < b) {
                    best = Some((t, e));
                }
            }
        };
        consider(self.core.queue.head().map(|i| i.end), Event::Queue);
        // The serial bootloader's flash work is synchronous (NVMC, CPU blocked): a received
        // frame is handled only once the work of the frames before it is done. The queue
        // holds nothing else while a UART bootloader listens, so its drain time is the
        // transport's "busy until".
        consider(
            self.uart.next_rx().map(|t| self.core.queue.drained_at(t)),
            Event::UartRx,
        );
        if let Run::Dfu(d) = &self.run {
            consider(d.inactivity_deadline(), Event::Inactivity);
        }
        best
    }

    /// When something will happen by itself (including a serial response starting to go out).
    pub fn next_event_time(&self) -> Option<SimTime> {
        let internal = self.next_internal().map(|(t, _)| t);
        let tx = if self.emulated {
            self.si.soc.periph.uarte.next_tx_after(self.core.now)
        } else if self.halted_at.is_none() {
            self.uart.next_tx_after(self.core.now)
        } else {
            None
        };
        // A sleeping core wakes (or its peripherals change) at the next peripheral event.
        let wake = if self.cpu_sleeping() {
            self.si.periph_due
        } else {
            None
        };
        [internal, tx, wake].into_iter().flatten().min()
    }

    /// True when the device can change between the times [`Device::next_event_time`] gives:
    /// its CPU runs code, a register-level NVMC operation is in flight, or it is
    /// [watched](Device::set_watched). Otherwise nothing
    /// happens to it before its next event unless the host acts, so a host waiting for it
    /// need not look in between.
    pub fn changes_unannounced(&self) -> bool {
        self.watched || self.cpu_runnable() || self.nvmc_due().is_some()
    }

    /// Something besides the host's link may reset the device or cut its power at any time
    /// (a fault watcher placing a cut inside a flash operation): [`Device::changes_unannounced`]
    /// says so until it is cleared, so the host keeps polling as a real central would notice.
    pub fn set_watched(&mut self, watched: bool) {
        self.watched = watched;
    }

    /// Process every internal event due at or before `t`, then set the time to `t` (earlier
    /// times are ignored: time never goes back).
    pub fn advance_to(&mut self, t: SimTime) {
        loop {
            let event = self.next_internal().filter(|(at, _)| *at <= t);
            let nvmc = self.nvmc_due().filter(|&end| end <= t);
            let next = match (event, nvmc) {
                (Some((a, _)), Some(b)) => Some(a.min(b)),
                (a, b) => a.map(|(a, _)| a).or(b),
            };
            if self.cpu_runnable() {
                let horizon = next.unwrap_or(t);
                if self.core.now < horizon {
                    let before = self.core.now;
                    self.run_cpu(horizon);
                    if self.core.now > before || !self.cpu_runnable() {
                        continue;
                    }
                }
            }
            match (event, nvmc) {
                (_, Some(end)) if event.is_none_or(|(at, _)| end <= at) => {
                    self.core.now = self.core.now.max(end);
                    self.finish_nvmc();
                }
                (Some((at, e)), _) => {
                    self.core.now = self.core.now.max(at);
                    self.fire(e);
                }
                _ => break,
            }
        }
        self.core.now = self.core.now.max(t);
    }

    /// Advance until nothing but the inactivity timer is pending (boot, activation and queued
    /// flash work done), at most until `limit`. Returns the time reached.
    pub fn settle(&mut self, limit: SimTime) -> SimTime {
        while let Some((at, event)) = self.next_internal() {
            if at > limit || event == Event::Inactivity {
                break;
            }
            self.core.now = self.core.now.max(at);
            self.fire(event);
        }
        self.core.now
    }

    fn fire(&mut self, event: Event) {
        match event {
            Event::Queue => {
                if let Some(item) = self.core.queue.pop_head() {
                    self.core.apply(&item);
                    self.on_done(item.done);
                }
            }
            Event::Inactivity => {
                if let Run::Dfu(d) = &mut self.run {
                    d.on_inactivity(&mut self.core);
                }
            }
            Event::UartRx => {
                if let Some(frame) = self.uart.pop_rx() {
                    self.uart_frame(&frame);
                }
            }
        }
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Nothing => {}
            Done::RxBufferFree => {
                if let Run::Dfu(d) = &mut self.run {
                    d.rx_free += 1;
                }
            }
            Done::Boot => self.boot_step(),
            Done::DfuCompleted => {
                if let Run::Dfu(d) = &mut self.run {
                    d.on_dfu_completed(&mut self.core);
                }
            }
            Done::Reset(why) => self.firmware_reset(why),
            Done::MbrCopyBl => self.firmware_reset(FirmwareReset::Activation),
            Done::SaveProgress => {
                if let Run::Dfu(d) = &mut self.run {
                    d.save_progress(&mut self.core);
                }
            }
        }
    }

    // --- boot -------------------------------------------------------------------------------

    /// Reset or power the hardware up; remember an MBR bootloader copy for power-cut replays.
    fn hw_boot(&mut self, cause: BootCause) -> Option<BootRecord> {
        let mem = self.core.hw.memory();
        let pending = mbr::recognise(mem).is_some() && CopyBlRecord::pending(mem).is_some();
        let before = pending.then(|| Box::new(self.core.hw.clone()));
        let record = match cause {
            BootCause::PowerOn => self.core.hw.power_on().ok()?,
            BootCause::Reset(kind) => self.core.hw.reset(kind).ok()?,
        };
        self.mbr = None;
        if let (Some(before), Some(copy)) = (before, record.mbr_copy) {
            let (start, end) = (self.core.now, self.core.now + record.elapsed);
            self.core.note_block(
                start,
                end,
                format!(
                    "MBR bootloader copy of {} bytes to {:#x}",
                    copy.bytes, copy.dst
                ),
            );
            self.mbr = Some(MbrWindow {
                start,
                end,
                before,
                cause,
            });
        }
        Some(record)
    }

    /// Start what the MBR hands over to.
    fn start(&mut self, record: BootRecord) {
        self.run = match record.target {
            BootTarget::Silent(_) => Run::Silent(SilentReason::NothingToRun),
            BootTarget::Application { address, .. } => self.app_starts(address),
            BootTarget::Bootloader { address } => match self.bootloader_profile(address) {
                None => Run::Silent(SilentReason::UnknownBootloader),
                Some(profile) => {
                    crate::app::info_block::overwrite(&mut self.core.hw);
                    self.run = Run::Booting(Box::new(Boot::new(profile, record.reset)));
                    if record.elapsed.is_zero() {
                        self.boot_step();
                    } else {
                        self.core.busy(record.elapsed, Done::Boot);
                    }
                    return;
                }
            },
        };
    }

    /// The application at `address` starts: a stand-in fills the test app's version block.
    fn app_starts(&mut self, address: u32) -> Run {
        let app = App::at(&self.core, address);
        if let Some(d) = &app.descriptor {
            crate::app::info_block::write(&mut self.core.hw, d.version);
        }
        Run::App(app)
    }

    /// The build at `address`: its stand-in descriptor, or the fallback for unknown code.
    fn bootloader_profile(&self, address: u32) -> Option<Profile> {
        let installed = self.core.hw.installed();
        let slot = installed.bootloader.filter(|s| s.address == address)?;
        let desc = match slot.code {
            Code::StandIn(d) => d,
            Code::Unknown => self.fallback.clone()?,
            Code::Erased | Code::Damaged(_) => return None,
        };
        let defects = self.core.hw.defects_override().unwrap_or(desc.defects);
        Some(Profile::new(&desc, defects))
    }

    fn boot_step(&mut self) {
        let Run::Booting(boot) = &mut self.run else {
            return;
        };
        match boot.step(&mut self.core) {
            BootStep::Wait => {}
            BootStep::EnterDfu { reason, timeout } => {
                let Run::Booting(boot) = std::mem::replace(&mut self.run, Run::Off) else {
                    return;
                };
                let Boot {
                    profile, settings, ..
                } = *boot;
                if profile.transport == Transport::Uart {
                    self.uart
                        .open(profile.dialect.slip_buffer_len().unwrap_or(131));
                }
                self.run = Run::Dfu(Box::new(Dfu::open(
                    &mut self.core,
                    profile,
                    settings,
                    reason,
                    timeout,
                )));
            }
            BootStep::StartApp => {
                let address = self.core.bank0_start();
                self.run = self.app_starts(address);
            }
            BootStep::Reset(why) => self.firmware_reset(why),
        }
    }

    /// The firmware resets the chip (`NVIC_SystemReset`): RAM and queued work are gone.
    pub(crate) fn firmware_reset(&mut self, _why: FirmwareReset) {
        self.reboot(BootCause::Reset(ResetKind::SoftReset));
    }

    fn reboot(&mut self, cause: BootCause) {
        if self.emulated {
            self.reboot_emulated(cause);
            return;
        }
        self.core.queue.clear();
        self.uart.close_keep_tx();
        self.core.epoch += 1;
        self.halted_at = None;
        match self.hw_boot(cause) {
            Some(record) => self.start(record),
            None => self.run = Run::Off,
        }
        if self.core.hw.is_powered() {
            let keeps_erase_unlock = self.si.ctrl_ap_reset_pending
                || matches!(
                    cause,
                    BootCause::Reset(ResetKind::SoftReset | ResetKind::Lockup)
                );
            self.silicon_reset(cause == BootCause::PowerOn, keeps_erase_unlock, true);
        }
    }

    /// A reboot with the emulated CPU: the chip resets, no firmware model starts, the core
    /// fetches its reset vector from flash (the MBR's, when one is there).
    fn reboot_emulated(&mut self, cause: BootCause) {
        self.core.queue.clear();
        self.uart.close();
        self.core.epoch += 1;
        self.halted_at = None;
        self.mbr = None;
        let up = match cause {
            BootCause::PowerOn => self.core.hw.power_on_bare() || self.core.hw.is_powered(),
            BootCause::Reset(kind) => self.core.hw.reset_bare(kind),
        };
        self.run = if up { Run::Cpu } else { Run::Off };
        if self.core.hw.is_powered() {
            let keeps_erase_unlock = self.si.ctrl_ap_reset_pending
                || matches!(
                    cause,
                    BootCause::Reset(ResetKind::SoftReset | ResetKind::Lockup)
                );
            let keep_wdt = matches!(cause, BootCause::Reset(k) if k != ResetKind::Watchdog);
            self.silicon_reset(cause == BootCause::PowerOn, keeps_erase_unlock, keep_wdt);
            self.run = Run::Cpu;
        }
    }

    /// Run the firmware in flash on the emulated Cortex-M4F (`crate::armv7m`) with the
    /// peripherals at register level (`crate::periph`) instead of the firmware models: from
    /// now on every reset starts the core at the reset vector. The device power-cycles now
    /// (RAM is lost, flash and UICR stay).
    pub fn set_emulated_cpu(&mut self, on: bool) {
        if self.emulated == on {
            return;
        }
        self.emulated = on;
        let bt = self.timing().uart.byte_time();
        self.si.soc.periph.set_uart_byte_time(bt);
        if self.core.hw.is_powered() {
            let t = self.core.now;
            self.power_off(t);
            self.power_on(t);
        }
    }

    /// Whether the core runs the firmware in flash ([`Device::set_emulated_cpu`]).
    pub fn emulated_cpu(&self) -> bool {
        self.emulated
    }

    /// Power went away inside a hardware operation (an armed cut): what power_off does after
    /// the hardware is off.
    pub(crate) fn lost_power(&mut self) {
        self.si.swd.power_lost();
        self.core.queue.clear();
        self.uart.close();
        self.run = Run::Off;
        self.halted_at = None;
        self.core.epoch += 1;
    }

    // --- power and resets -------------------------------------------------------------------

    /// Remove power at `t`. A flash operation in flight is torn at the fraction of its duration
    /// that had passed (an MBR bootloader copy too); RAM, GPREGRET and queued work are lost.
    pub fn power_off(&mut self, t: SimTime) {
        self.advance_to(t);
        if !self.core.hw.is_powered() {
            return;
        }
        let t = self.core.now;
        self.silicon_power_off();
        if !self.core.hw.is_powered() {
            self.lost_power();
            return;
        }
        match self.mbr.take() {
            Some(w) if w.start <= t && t < w.end => {
                let mut hw = *w.before;
                hw.arm_power_cut(CutPlan::AfterFlashTime(t - w.start));
                // Replays the boot; the armed cut tears the copy and turns the hardware off.
                let _ = match w.cause {
                    BootCause::PowerOn => hw.power_on(),
                    BootCause::Reset(kind) => hw.reset(kind),
                };
                self.core.hw = hw;
            }
            _ => {
                if let Some(head) = self.core.queue.head().filter(|h| h.start <= t).cloned() {
                    self.core.tear(&head, t);
                }
            }
        }
        self.core.hw.power_off();
        self.core.queue.clear();
        self.uart.close();
        self.run = Run::Off;
        self.halted_at = None;
        self.core.epoch += 1;
    }

    /// Apply power at `t`: power-on reset, MBR, then whatever it starts.
    pub fn power_on(&mut self, t: SimTime) {
        self.advance_to(t);
        if self.core.hw.is_powered() {
            return;
        }
        self.uart.close();
        self.reboot(BootCause::PowerOn);
    }

    /// An external reset at `t` (debugger soft reset: SREQ; pin reset: RESETPIN, only if
    /// UICR.PSELRESET routes the pin). GPREGRET survives. A flash operation in progress is
    /// finished first (the model does not tear on resets, only on power loss). Returns whether
    /// a reset happened.
    pub fn reset(&mut self, t: SimTime, kind: ResetKind) -> bool {
        self.advance_to(t);
        if !self.core.hw.is_powered() {
            return false;
        }
        if kind == ResetKind::PowerOn {
            self.power_off(t);
            self.power_on(t);
            return true;
        }
        if kind == ResetKind::PinReset
            && crate::uicr::Uicr(&self.core.hw.memory().uicr)
                .reset_pin()
                .is_none()
        {
            return false;
        }
        if let Some(head) = self
            .core
            .queue
            .head()
            .filter(|h| h.start <= self.core.now)
            .cloned()
        {
            self.core.apply(&head);
        }
        self.reboot(BootCause::Reset(kind));
        true
    }

    /// Halt the CPU (debugger): the firmware's timeline stops until resumed. Reached through
    /// [`Device::debug`] (or the [`crate::DebugPort`] impl at the current time).
    pub(crate) fn halt(&mut self, t: SimTime) {
        self.advance_to(t);
        if self.core.hw.is_powered() && self.halted_at.is_none() {
            self.halted_at = Some(self.core.now);
            let _ = self.core.hw.halt();
            // Debug state wakes a core asleep in WFI/WFE (see `enter_debug_state`).
            self.si.cpu.sleeping = false;
        }
    }

    pub(crate) fn resume(&mut self, t: SimTime) {
        self.advance_to(t);
        if let Some(at) = self.halted_at.take() {
            let by = self.core.now - at;
            self.core.queue.shift(by);
            self.uart.shift(by);
            if let Run::Dfu(d) = &mut self.run {
                d.deadline = d.deadline.map(|x| x + by);
                d.erase_until += by;
            }
            let _ = self.core.hw.resume();
        }
    }
}
