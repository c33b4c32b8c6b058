//! The [`Probe`] trait over probe-rs: a session on a worker thread, every call bounded in time,
//! attach with an attach-under-reset fallback, flashing through probe-rs' flash loader with
//! verify, RTT through `probe_rs::rtt`.

pub mod errors;
pub mod lab_probe;
pub mod plan;
pub mod reset_catch;

use crate::drivers::probe::{
    FlashEvent, FlashOptions, FlashPhase, FlashReport, Probe, ProbeError, ProbeErrorKind,
};
use crate::drivers::rtt_scan::LineAssembler;
use crate::drivers::timed::Worker;
use errors::{classify, classify_call, classify_flash, Doing};
use nrf_dfu::Chip;
use probe_rs::flashing::{DownloadOptions, FlashProgress, ProgressEvent, ProgressOperation};
use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeError, DebugProbeSelector};
use probe_rs::rtt::Rtt;
use probe_rs::{MemoryInterface, Permissions, Session};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use virtual_nrf52::Segment;

/// CMSIS-DAP `DAP_SWJ_Pins` bit of nRESET (CMSIS-DAP spec; probe-rs' `Pins`).
const PIN_NRESET: u32 = 1 << 7;
/// How long nRESET is held low (nRF52832 needs > 0.2 µs; 20 ms is what nrfjprog-era tools use).
const PIN_RESET_HOLD: Duration = Duration::from_millis(20);

/// Opens a probe-rs probe (the real lister, or a fake one in tests).
pub type Opener = Box<dyn Fn() -> Result<probe_rs::probe::Probe, DebugProbeError> + Send>;
/// The opener, shared by the worker and the probe (which starts a new worker after a failure).
type SharedOpener = std::sync::Arc<std::sync::Mutex<Opener>>;

/// SWD clock when the bench file sets none. probe-rs 0.32 leaves the probe's own default,
/// which is 1 MHz on CMSIS-DAP (src/probe/cmsisdap/mod.rs) and lower on some clones; the
/// nRF52832 takes SWCLK up to 8 MHz (nRF52832 PS v1.4, "Debug and trace"); 4 MHz is what
/// nrfjprog and J-Link use by default and works over the usual 10 to 20 cm of ribbon.
pub const DEFAULT_SWD_KHZ: u32 = 4000;
/// Bytes per bounded memory-read call. At 1 MHz one 32-bit SWD transfer takes ~50 µs, so 4 KB
/// (1024 word transfers) stays far inside the call timeout even on a slow probe, where one
/// `read_8` per byte over a whole bank (hundreds of KB) did not.
pub const READ_CHUNK: u32 = 4096;

/// Split a read into chunks of at most [`READ_CHUNK`] bytes, each ending on a chunk boundary
/// so that all but the first start word aligned.
pub fn read_chunks(addr: u32, len: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let (mut a, end) = (addr as u64, addr as u64 + len as u64);
    while a < end {
        let next = ((a / READ_CHUNK as u64) + 1) * READ_CHUNK as u64;
        let n = next.min(end) - a;
        out.push((a as u32, n as u32));
        a += n;
    }
    out
}

/// How a memory access splits: unaligned head bytes, whole words, tail bytes
/// (`(start, end)` each, possibly empty). Peripheral registers (GPREGRET, RESETREAS) take only
/// 32-bit accesses on the nRF52's APB, and one word transfer moves 4 bytes where `read_8` /
/// `write_8` move one.
pub fn word_spans(addr: u32, len: u32) -> [(u64, u64); 3] {
    let (start, end) = (addr as u64, addr as u64 + len as u64);
    let head_end = start.next_multiple_of(4).min(end);
    let words_end = head_end + (end - head_end) / 4 * 4;
    [(start, head_end), (head_end, words_end), (words_end, end)]
}

/// One chunk with word transfers where aligned, bytes at an unaligned head or tail.
fn read_span(
    core: &mut impl MemoryInterface,
    addr: u32,
    len: u32,
) -> Result<Vec<u8>, probe_rs::Error> {
    let [head, words, tail] = word_spans(addr, len);
    let mut out = Vec::with_capacity(len as usize);
    if head.1 > head.0 {
        let mut b = vec![0u8; (head.1 - head.0) as usize];
        core.read_8(head.0, &mut b)?;
        out.extend(b);
    }
    if words.1 > words.0 {
        let mut w = vec![0u32; ((words.1 - words.0) / 4) as usize];
        core.read_32(words.0, &mut w)?;
        out.extend(w.iter().flat_map(|x| x.to_le_bytes()));
    }
    if tail.1 > tail.0 {
        let mut b = vec![0u8; (tail.1 - tail.0) as usize];
        core.read_8(tail.0, &mut b)?;
        out.extend(b);
    }
    Ok(out)
}

/// A write with word transfers where aligned (see [`word_spans`]).
fn write_span(
    core: &mut impl MemoryInterface,
    addr: u32,
    data: &[u8],
) -> Result<(), probe_rs::Error> {
    let [head, words, tail] = word_spans(addr, data.len() as u32);
    let at = |x: u64| (x - addr as u64) as usize;
    if head.1 > head.0 {
        core.write_8(head.0, &data[at(head.0)..at(head.1)])?;
    }
    if words.1 > words.0 {
        let w: Vec<u32> = data[at(words.0)..at(words.1)]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        core.write_32(words.0, &w)?;
    }
    if tail.1 > tail.0 {
        core.write_8(tail.0, &data[at(tail.0)..at(tail.1)])?;
    }
    Ok(())
}

/// How to reach the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRsConfig {
    /// `VID:PID[:SERIAL]` (hex VID/PID); `None` = the only probe attached.
    pub selector: Option<String>,
    pub chip: Chip,
    /// ERASEALL permitted (explicit erase-all and `--erase-all` flashing).
    pub allow_erase_all: bool,
    /// A locked chip may be recovered (erased) at attach. probe-rs 0.32 unlocks a locked
    /// nRF52 in its `debug_device_unlock` sequence (src/vendor/nordicsemi/sequences/nrf52.rs)
    /// whenever the session's `Permissions` allow erase-all; only then does the rig pass them.
    pub recover_locked: bool,
    /// SWD clock, kHz (probe default when `None`).
    pub speed_khz: Option<u32>,
    /// Bound on one probe call (attach, read, reset).
    pub call_timeout: Duration,
    /// Bound on a whole flash operation (512 KB erase + program + verify takes ~20 s on a
    /// J-Link; slow CMSIS-DAP probes take longer).
    pub flash_timeout: Duration,
}

impl ProbeRsConfig {
    pub fn new(selector: Option<String>, chip: Chip) -> ProbeRsConfig {
        ProbeRsConfig {
            selector,
            chip,
            allow_erase_all: false,
            recover_locked: false,
            speed_khz: None,
            call_timeout: Duration::from_secs(10),
            flash_timeout: Duration::from_secs(180),
        }
    }
}

/// Parse a `VID:PID[:SERIAL]` selector the way probe-rs does.
pub fn parse_selector(s: &str) -> Result<DebugProbeSelector, ProbeError> {
    s.parse::<DebugProbeSelector>().map_err(|e| {
        ProbeError::infra(
            ProbeErrorKind::Config,
            format!("probe selector {s:?}: {e} (expected VID:PID[:SERIAL] in hex, e.g. 1366:1015:000683000000)"),
        )
    })
}

/// The probe-rs side of the worker.
struct Slot {
    opener: SharedOpener,
    session: Option<Session>,
    rtt: Option<Rtt>,
    /// A call lost contact with the target (a FAULT or no answer from the debug port, as after
    /// a power cut or a failed RTT scan): the session's view of the DP is stale, so the next
    /// call attaches again (DP power-up request, sticky errors cleared) before it runs.
    stale: bool,
}

/// Errors after which the session cannot be trusted until the next attach.
fn loses_contact(e: &ProbeError) -> bool {
    matches!(
        e.kind,
        ProbeErrorKind::Memory
            | ProbeErrorKind::Attach
            | ProbeErrorKind::Rtt
            | ProbeErrorKind::NoPower
    )
}

impl Slot {
    fn session(&mut self) -> Result<&mut Session, ProbeError> {
        self.session.as_mut().ok_or_else(|| {
            ProbeError::infra(
                ProbeErrorKind::Attach,
                "not attached: attach to the target first",
            )
        })
    }
}

/// A probe-rs debug probe attached to one nRF52832.
pub struct ProbeRsProbe {
    config: ProbeRsConfig,
    label: String,
    opener: SharedOpener,
    worker: Worker<Slot>,
    lines: LineAssembler,
}

impl ProbeRsProbe {
    /// A probe found through probe-rs' lister by the configured selector.
    pub fn open(config: ProbeRsConfig) -> Result<ProbeRsProbe, ProbeError> {
        let selector = config.selector.as_deref().map(parse_selector).transpose()?;
        let opener: Opener = Box::new(move || {
            let lister = Lister::new();
            match &selector {
                Some(s) => lister.open(s.clone()),
                None => {
                    let all = lister.list_all();
                    match all.as_slice() {
                        [one] => one.open(),
                        [] => Err(DebugProbeError::ProbeCouldNotBeCreated(
                            probe_rs::probe::ProbeCreationError::NotFound,
                        )),
                        many => Err(DebugProbeError::Other(format!(
                            "{} probes attached and no selector given: set `probe:` in the bench file to one of {}",
                            many.len(),
                            many.iter()
                                .map(|p| DebugProbeSelector::from(p).to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))),
                    }
                }
            }
        });
        Ok(ProbeRsProbe::with_opener(config, opener))
    }

    /// A probe opened by `opener` (tests hand in probe-rs' `FakeProbe`).
    pub fn with_opener(config: ProbeRsConfig, opener: Opener) -> ProbeRsProbe {
        let label = config
            .selector
            .clone()
            .unwrap_or_else(|| "(the only probe)".into());
        let opener: SharedOpener = std::sync::Arc::new(std::sync::Mutex::new(opener));
        ProbeRsProbe {
            worker: new_worker(&opener),
            opener,
            config,
            label,
            lines: LineAssembler::default(),
        }
    }

    /// Run `f` on the attached session within the call timeout.
    fn on_session<R: Send + 'static>(
        &mut self,
        what: &str,
        limit: Duration,
        f: impl FnOnce(&mut Session, &str) -> Result<R, ProbeError> + Send + 'static,
    ) -> Result<R, ProbeError> {
        let label = self.label.clone();
        let cfg = self.config.clone();
        self.worker
            .call(what, limit, move |slot| {
                if slot.stale && slot.session.is_some() {
                    attach(slot, &cfg, &label)?;
                    slot.stale = false;
                }
                let s = slot.session()?;
                let r = f(s, &label);
                if r.as_ref().is_err_and(loses_contact) {
                    slot.stale = true;
                }
                r
            })
            .map_err(|e| classify_call(e, &self.label))?
    }

    fn reset_rtt(&mut self) {
        self.lines = LineAssembler::default();
    }
}

/// What probe-rs may do at attach: erase only to recover a locked chip, and only when asked.
/// The flash loader's chip erase (`DownloadOptions::do_chip_erase`) needs no session
/// permission in probe-rs 0.32 (src/flashing/flasher.rs), so explicit erases work without it.
fn attach_permissions(cfg: &ProbeRsConfig) -> Permissions {
    if cfg.recover_locked {
        Permissions::new().allow_erase_all()
    } else {
        Permissions::new()
    }
}

fn resume_if_halted(s: &mut Session) -> Result<(), probe_rs::Error> {
    let mut core = s.core(0)?;
    if core.core_halted()? {
        core.run()?;
    }
    Ok(())
}

/// DEMCR (ARMv7-M C1.6.5) and its reset vector catch bit.
const DEMCR: u64 = 0xE000_EDFC;
const VC_CORERESET: u32 = 1;

/// A connect-under-reset that failed after setting the reset vector catch leaves it armed (no
/// session existed to clear it), and with halting debug enabled the DUT's next reset would halt
/// it: a DUT that stops advertising and answering for no reason of its own. Nothing of the rig's
/// needs the catch outside an attach, so every attach disarms one it finds.
fn disarm_reset_catch(s: &mut Session) -> Result<(), probe_rs::Error> {
    use probe_rs::MemoryInterface;
    let mut core = s.core(0)?;
    let demcr = core.read_word_32(DEMCR)?;
    if demcr & VC_CORERESET != 0 {
        tracing::warn!("a reset vector catch was left armed (DEMCR {demcr:#010x}): cleared");
        core.write_word_32(DEMCR, demcr & !VC_CORERESET)?;
    }
    Ok(())
}

fn new_worker(opener: &SharedOpener) -> Worker<Slot> {
    Worker::spawn(
        "probe-rs",
        Slot {
            opener: opener.clone(),
            session: None,
            rtt: None,
            stale: false,
        },
    )
}

fn attach_once(
    slot: &mut Slot,
    cfg: &ProbeRsConfig,
    under_reset: bool,
) -> Result<Session, probe_rs::Error> {
    let mut probe = {
        let open = slot.opener.lock().map_err(|_| {
            probe_rs::Error::Probe(DebugProbeError::Other("probe opener poisoned".into()))
        })?;
        (*open)()?
    };
    probe.set_speed(cfg.speed_khz.unwrap_or(DEFAULT_SWD_KHZ))?;
    let perms = attach_permissions(cfg);
    let target = cfg.chip.probe_rs_name();
    if under_reset {
        probe.attach_under_reset(reset_catch::target_for_reset_attach(target)?, perms)
    } else {
        probe.attach(target, perms)
    }
}

/// Attach normally; if the target does not answer, attach under reset (the firmware may have
/// reconfigured the SWD pins or be in a sleep the debugger cannot wake). A locked chip or a
/// probe that cannot be opened is not retried.
fn attach(slot: &mut Slot, cfg: &ProbeRsConfig, label: &str) -> Result<(), ProbeError> {
    slot.session = None;
    slot.rtt = None;
    let first = match attach_once(slot, cfg, false) {
        Ok(mut s) => {
            disarm_reset_catch(&mut s).map_err(|e| classify(e, Doing::Attach, label))?;
            slot.session = Some(s);
            return Ok(());
        }
        Err(e) => classify(e, Doing::Attach, label),
    };
    if first.kind != ProbeErrorKind::Attach {
        return Err(first);
    }
    tracing::warn!(
        "attach to {} failed ({}); trying attach under reset",
        cfg.chip,
        first.message
    );
    match attach_once(slot, cfg, true) {
        Ok(mut s) => {
            // Under reset probe-rs 0.32 sets reset catch and waits for the core to halt
            // (src/session.rs, `Session::new`, "Wait for the core to be halted"), so the
            // firmware would stay stopped: a DUT that no longer advertises. Let it run.
            resume_if_halted(&mut s).map_err(|e| classify(e, Doing::Attach, label))?;
            slot.session = Some(s);
            Ok(())
        }
        Err(e) => {
            let second = classify(e, Doing::Attach, label);
            Err(ProbeError {
                message: format!(
                    "{} (attach under reset failed too: {})",
                    first.message, second.message
                ),
                ..second
            })
        }
    }
}

fn phase(op: ProgressOperation) -> FlashPhase {
    match op {
        ProgressOperation::Fill | ProgressOperation::Program => FlashPhase::Program,
        ProgressOperation::Erase => FlashPhase::Erase,
        ProgressOperation::Verify => FlashPhase::Verify,
    }
}

/// Turn probe-rs progress events into the rig's (byte counts per phase).
fn translate(ev: ProgressEvent, done: &mut [u64; 4]) -> Option<FlashEvent> {
    let idx = |p: FlashPhase| p as usize;
    match ev {
        ProgressEvent::AddProgressBar { operation, total } => Some(FlashEvent::Started {
            phase: phase(operation),
            total: total.unwrap_or(0),
        }),
        ProgressEvent::Progress {
            operation, size, ..
        } => {
            let p = phase(operation);
            done[idx(p)] += size;
            Some(FlashEvent::Progress {
                phase: p,
                done: done[idx(p)],
            })
        }
        ProgressEvent::Finished(op) => Some(FlashEvent::Finished { phase: phase(op) }),
        _ => None,
    }
}

impl Probe for ProbeRsProbe {
    fn describe(&self) -> String {
        format!("probe-rs {} → {}", self.label, self.config.chip)
    }

    fn attach(&mut self) -> Result<(), ProbeError> {
        let cfg = self.config.clone();
        let label = self.label.clone();
        // Two attach attempts, each bounded by the call timeout.
        let limit = self.config.call_timeout * 2;
        self.reset_rtt();
        // A call that overran or panicked left the old worker unusable (its thread may still
        // be inside probe-rs): attach starts a new one and opens the probe again, so one
        // failure does not poison the rest of the campaign.
        if self.worker.is_poisoned() {
            tracing::warn!("reopening probe {} after a failed call", self.label);
            self.worker = new_worker(&self.opener);
        }
        self.worker
            .call("attach", limit, move |slot| attach(slot, &cfg, &label))
            .map_err(|e| classify_call(e, &self.label))?
    }

    /// In [`READ_CHUNK`]s, each its own bounded call: the time allowed grows with the size.
    fn read_memory(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ProbeError> {
        let t = self.config.call_timeout;
        let mut out = Vec::with_capacity(len as usize);
        for (a, n) in read_chunks(addr, len) {
            let part = self.on_session("memory read", t, move |s, label| {
                let mut core = s.core(0).map_err(|e| classify(e, Doing::Memory, label))?;
                read_span(&mut core, a, n).map_err(|e| classify(e, Doing::Memory, label))
            })?;
            out.extend(part);
        }
        Ok(out)
    }

    fn write_memory(&mut self, addr: u32, data: &[u8]) -> Result<(), ProbeError> {
        let t = self.config.call_timeout;
        let data = data.to_vec();
        self.on_session("memory write", t, move |s, label| {
            let mut core = s.core(0).map_err(|e| classify(e, Doing::Memory, label))?;
            write_span(&mut core, addr, &data).map_err(|e| classify(e, Doing::Memory, label))
        })
    }

    fn flash(
        &mut self,
        segments: &[Segment],
        options: FlashOptions,
        progress: &mut dyn FnMut(FlashEvent),
    ) -> Result<FlashReport, ProbeError> {
        if options.erase_all && !self.config.allow_erase_all {
            return Err(ProbeError::erase_not_allowed("--erase-all"));
        }
        let loader_plan = plan::plan(self.config.chip, segments)?;
        let report = FlashReport {
            bytes: loader_plan.bytes,
            pages_erased: loader_plan.pages.len() as u64,
            erased_all: options.erase_all,
            verified: options.verify,
        };
        let segs: Vec<Segment> = segments.to_vec();
        let (etx, erx) = mpsc::channel::<FlashEvent>();
        let label = self.label.clone();
        let limit = self.config.flash_timeout;
        let job = move |slot: &mut Slot| -> Result<(), ProbeError> {
            slot.rtt = None;
            let s = slot.session()?;
            let mut loader = s.target().flash_loader();
            for (addr, bytes) in &segs {
                loader
                    .add_data(*addr as u64, bytes)
                    .map_err(|e| classify_flash(e, &label))?;
            }
            let mut done = [0u64; 4];
            let mut opts = DownloadOptions::default();
            opts.verify = options.verify;
            // nRF52 has no CTRL-AP debug erase sequence in probe-rs; the flash algorithm's chip
            // erase (NVMC ERASEALL: code flash and UICR) is the erase-all here.
            opts.do_chip_erase = options.erase_all;
            opts.progress = FlashProgress::new(move |ev| {
                if let Some(fe) = translate(ev, &mut done) {
                    let _ = etx.send(fe);
                }
            });
            loader
                .commit(s, opts)
                .map_err(|e| classify_flash(e, &label))
        };
        // Run the job while forwarding progress from the worker thread.
        let deadline = Instant::now() + limit;
        let mut slot_result: Option<Result<Result<(), ProbeError>, ProbeError>> = None;
        std::thread::scope(|scope| {
            let worker = &mut self.worker;
            let label = &self.label;
            let h = scope.spawn(move || {
                worker
                    .call("flash", limit, job)
                    .map_err(|e| classify_call(e, label))
            });
            loop {
                match erx.recv_timeout(Duration::from_millis(50)) {
                    Ok(ev) => progress(ev),
                    Err(mpsc::RecvTimeoutError::Timeout)
                        if !h.is_finished()
                            && Instant::now() < deadline + Duration::from_secs(1) => {}
                    Err(_) => break,
                }
            }
            while let Ok(ev) = erx.try_recv() {
                progress(ev);
            }
            slot_result = Some(h.join().unwrap_or_else(|_| {
                Err(ProbeError::infra(
                    ProbeErrorKind::Open,
                    "flash worker panicked",
                ))
            }));
        });
        match slot_result {
            Some(Ok(Ok(()))) => Ok(report),
            Some(Ok(Err(e))) | Some(Err(e)) => Err(e),
            None => Err(ProbeError::infra(ProbeErrorKind::Open, "flash did not run")),
        }
    }

    fn erase_all(&mut self) -> Result<(), ProbeError> {
        if !self.config.allow_erase_all {
            return Err(ProbeError::erase_not_allowed("erase-all"));
        }
        let limit = self.config.flash_timeout;
        self.on_session("erase-all", limit, move |s, label| {
            probe_rs::flashing::erase_all(s, &mut FlashProgress::empty(), false)
                .map_err(|e| classify_flash(e, label))
        })
    }

    fn soft_reset(&mut self) -> Result<(), ProbeError> {
        let t = self.config.call_timeout;
        self.reset_rtt();
        self.on_session("soft reset", t, |s, label| {
            let mut core = s.core(0).map_err(|e| classify(e, Doing::Reset, label))?;
            core.reset().map_err(|e| classify(e, Doing::Reset, label))
        })
    }

    fn pin_reset(&mut self) -> Result<(), ProbeError> {
        let t = self.config.call_timeout;
        self.reset_rtt();
        self.on_session("pin reset", t, |s, label| {
            let iface = s
                .get_arm_interface()
                .map_err(|e| classify(probe_rs::Error::Arm(e), Doing::Reset, label))?;
            let pins = |iface: &mut dyn probe_rs::architecture::arm::ArmDebugInterface,
                        out: u32| {
                iface
                    .swj_pins(out, PIN_NRESET, 0)
                    .map_err(|e| classify(probe_rs::Error::Probe(e), Doing::Reset, label))
            };
            pins(iface, 0)?;
            std::thread::sleep(PIN_RESET_HOLD);
            pins(iface, PIN_NRESET)?;
            Ok(())
        })
    }

    fn halt(&mut self) -> Result<(), ProbeError> {
        let t = self.config.call_timeout;
        self.on_session("halt", t, move |s, label| {
            let mut core = s.core(0).map_err(|e| classify(e, Doing::Memory, label))?;
            core.halt(t / 2)
                .map(|_| ())
                .map_err(|e| classify(e, Doing::Memory, label))
        })
    }

    fn resume(&mut self) -> Result<(), ProbeError> {
        let t = self.config.call_timeout;
        self.on_session("resume", t, |s, label| {
            let mut core = s.core(0).map_err(|e| classify(e, Doing::Memory, label))?;
            core.run().map_err(|e| classify(e, Doing::Memory, label))
        })
    }

    fn read_rtt_lines(&mut self, wait: Duration) -> Result<Vec<String>, ProbeError> {
        let label = self.label.clone();
        let limit = wait + self.config.call_timeout;
        let bytes = self
            .worker
            .call(
                "RTT read",
                limit,
                move |slot| -> Result<Vec<u8>, ProbeError> {
                    let r = rtt_read(slot, &label, wait);
                    if r.as_ref().is_err_and(loses_contact) {
                        slot.stale = true;
                    }
                    r
                },
            )
            .map_err(|e| classify_call(e, &self.label))??;
        Ok(self.lines.push(&bytes))
    }
}

/// Bytes from RTT up channel 0 within `wait` (attaching RTT on first use).
fn rtt_read(slot: &mut Slot, label: &str, wait: Duration) -> Result<Vec<u8>, ProbeError> {
    let Slot { session, rtt, .. } = slot;
    let s = session.as_mut().ok_or_else(|| {
        ProbeError::infra(
            ProbeErrorKind::Attach,
            "not attached: attach to the target first",
        )
    })?;
    let mut core = s.core(0).map_err(|e| classify(e, Doing::Rtt, label))?;
    if rtt.is_none() {
        *rtt = Some(Rtt::attach(&mut core).map_err(|e| {
                        ProbeError::device(
                            ProbeErrorKind::Rtt,
                            format!("no RTT control block found in RAM ({e}): the firmware does not use RTT or has not started it"),
                        )
                    })?);
    }
    let Some(ch) = rtt.as_mut().and_then(|r| r.up_channel(0)) else {
        return Err(ProbeError::device(
            ProbeErrorKind::Rtt,
            "RTT control block has no up channel 0",
        ));
    };
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = ch.read(&mut core, &mut buf).map_err(|e| {
            ProbeError::device(ProbeErrorKind::Rtt, format!("RTT read via {label}: {e}"))
        })?;
        out.extend_from_slice(&buf[..n]);
        if out.contains(&b'\n') || start.elapsed() >= wait {
            return Ok(out);
        }
        if n == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
