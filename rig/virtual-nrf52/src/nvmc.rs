//! Flash operations as explicit, timed steps, and what a power cut in the middle of one leaves.
//!
//! A [`FlashOp`] is what firmware asks of the NVMC (or of `sd_flash_*` when the SoftDevice is
//! enabled). [`plan`] turns it into a timeline of [`Step`]s using a [`TimingProfile`]; [`execute`]
//! applies the timeline to [`FlashMemory`], optionally cut at a fraction of its duration: steps
//! that ended before the cut are done, the step in flight is torn, later steps never happen.

use crate::flash::{FlashArray, FlashError};
use crate::rng::DeviceRng;
use crate::timing::TimingProfile;
use nrf_dfu::memory_map::{PAGE_SIZE, UICR_BASE};
use std::time::Duration;

/// Code flash and UICR: everything the NVMC writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashMemory {
    pub code: FlashArray,
    pub uicr: FlashArray,
}

impl FlashMemory {
    pub fn new(code_pages: u32) -> FlashMemory {
        FlashMemory {
            code: FlashArray::new("code flash", 0, code_pages),
            uicr: FlashArray::new("UICR", UICR_BASE, 1),
        }
    }

    /// The array holding `addr..addr+len`, if one does.
    pub fn array(&self, addr: u32, len: u32) -> Option<&FlashArray> {
        [&self.code, &self.uicr]
            .into_iter()
            .find(|a| a.contains(addr, len))
    }

    fn array_mut(&mut self, addr: u32, len: u32) -> Option<&mut FlashArray> {
        if self.code.contains(addr, len) {
            Some(&mut self.code)
        } else if self.uicr.contains(addr, len) {
            Some(&mut self.uicr)
        } else {
            None
        }
    }

    pub fn read(&self, addr: u32, len: u32) -> Result<&[u8], FlashError> {
        match self.array(addr, len) {
            Some(a) => a.read(addr, len),
            None => self.code.read(addr, len),
        }
    }

    pub fn read_word(&self, addr: u32) -> Result<u32, FlashError> {
        match self.array(addr, 4) {
            Some(a) => a.read_word(addr),
            None => self.code.read_word(addr),
        }
    }

    fn out_of_range(&self, what: &'static str, addr: u32, len: u32) -> FlashError {
        FlashError::OutOfRange {
            what,
            addr,
            len,
            region: "code flash or UICR",
            base: 0,
            end: self.code.end(),
        }
    }
}

/// One NVMC operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashOp {
    /// ERASEPAGE: `addr` is the first word of a code-flash page.
    ErasePage { addr: u32 },
    /// Program consecutive words starting at the word-aligned `addr` (code flash or UICR).
    WriteWords { addr: u32, words: Vec<u32> },
    /// ERASEALL: every code page and the UICR.
    EraseAll,
    /// ERASEUICR (nRF52832 NVMC register 0x514): the UICR page only.
    EraseUicr,
}

impl FlashOp {
    /// A write of `bytes` (little-endian words): `addr` word aligned, length a multiple of 4,
    /// as fstorage requires.
    pub fn write_bytes(addr: u32, bytes: &[u8]) -> Result<FlashOp, FlashError> {
        if !addr.is_multiple_of(4) {
            return Err(FlashError::Unaligned {
                what: "flash write",
                addr,
                align: 4,
            });
        }
        if !bytes.len().is_multiple_of(4) {
            return Err(FlashError::PartialWord {
                what: "flash write",
                addr,
                len: bytes.len() as u32,
            });
        }
        let words = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(FlashOp::WriteWords { addr, words })
    }

    /// Short text for logs and errors.
    pub fn describe(&self) -> String {
        match self {
            FlashOp::ErasePage { addr } => format!("page erase at {addr:#07x}"),
            FlashOp::WriteWords { addr, words } => {
                format!("write of {} bytes at {addr:#07x}", words.len() * 4)
            }
            FlashOp::EraseAll => "erase all".into(),
            FlashOp::EraseUicr => "UICR erase".into(),
        }
    }

    /// Check every address before anything is applied, so a refused op changes nothing.
    pub fn validate(&self, mem: &FlashMemory) -> Result<(), FlashError> {
        match self {
            FlashOp::ErasePage { addr } => {
                if mem.uicr.contains(*addr, 1) {
                    return Err(FlashError::UicrPageErase { addr: *addr });
                }
                mem.code.check_page_erase(*addr).map(|_| ())
            }
            FlashOp::WriteWords { addr, words } => {
                if addr % 4 != 0 {
                    return Err(FlashError::Unaligned {
                        what: "flash write",
                        addr: *addr,
                        align: 4,
                    });
                }
                let len = u32::try_from(words.len() * 4)
                    .map_err(|_| mem.out_of_range("flash write", *addr, u32::MAX))?;
                match mem.array(*addr, len) {
                    Some(_) => Ok(()),
                    None => Err(mem.out_of_range("flash write", *addr, len)),
                }
            }
            FlashOp::EraseAll | FlashOp::EraseUicr => Ok(()),
        }
    }
}

/// Who performs the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashPath {
    /// Firmware (MBR, bootloader without SoftDevice, a probe's flash algorithm) drives the NVMC.
    Nvmc,
    /// `sd_flash_*` with the SoftDevice enabled: each call waits for a radio gap
    /// ([`crate::timing::SdScheduling::latency_per_op`]) and writes are split into
    /// `max_write_bytes` chunks, as fstorage's SD backend does. ERASEALL/ERASEUICR have no
    /// SoftDevice call and run as on the NVMC path.
    SoftDevice,
}

/// One timed piece of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for the SoftDevice to schedule the next call: nothing is written.
    Wait(Duration),
    Erase {
        addr: u32,
        time: Duration,
    },
    Word {
        addr: u32,
        value: u32,
        time: Duration,
    },
    EraseAll {
        time: Duration,
    },
    EraseUicr {
        time: Duration,
    },
}

impl Step {
    pub fn time(&self) -> Duration {
        match *self {
            Step::Wait(t) => t,
            Step::Erase { time, .. }
            | Step::Word { time, .. }
            | Step::EraseAll { time }
            | Step::EraseUicr { time } => time,
        }
    }
}

/// The timeline of `op`.
pub fn plan(op: &FlashOp, path: FlashPath, timing: &TimingProfile) -> Vec<Step> {
    let nv = &timing.nvmc;
    let sd = &timing.softdevice;
    let mut steps = Vec::new();
    match op {
        FlashOp::ErasePage { addr } => {
            if path == FlashPath::SoftDevice {
                steps.push(Step::Wait(sd.latency_per_op));
            }
            steps.push(Step::Erase {
                addr: *addr,
                time: nv.page_erase,
            });
        }
        FlashOp::WriteWords { addr, words } => {
            let chunk = match path {
                FlashPath::Nvmc => words.len().max(1),
                FlashPath::SoftDevice => (sd.max_write_bytes as usize / 4).max(1),
            };
            for (c, group) in words.chunks(chunk).enumerate() {
                if path == FlashPath::SoftDevice {
                    steps.push(Step::Wait(sd.latency_per_op));
                }
                for (i, &value) in group.iter().enumerate() {
                    let at = addr + ((c * chunk + i) * 4) as u32;
                    steps.push(Step::Word {
                        addr: at,
                        value,
                        time: nv.word_write,
                    });
                }
            }
        }
        FlashOp::EraseAll => steps.push(Step::EraseAll { time: nv.erase_all }),
        FlashOp::EraseUicr => steps.push(Step::EraseUicr {
            time: nv.page_erase,
        }),
    }
    steps
}

/// Total time `op` takes: the "virtual time cost" of a flash operation. The sum of
/// [`plan`]'s step times, computed without building the plan (a step per word): this runs for
/// every flash operation of every update.
pub fn cost(op: &FlashOp, path: FlashPath, timing: &TimingProfile) -> Duration {
    let nv = &timing.nvmc;
    let sd = &timing.softdevice;
    let waits = |n: usize| match path {
        FlashPath::Nvmc => Duration::ZERO,
        FlashPath::SoftDevice => times(sd.latency_per_op, n),
    };
    match op {
        FlashOp::ErasePage { .. } => waits(1) + nv.page_erase,
        FlashOp::WriteWords { words, .. } => {
            let chunks = match path {
                // plan() makes one chunk even of an empty write.
                FlashPath::Nvmc => 1,
                FlashPath::SoftDevice => words
                    .len()
                    .div_ceil((sd.max_write_bytes as usize / 4).max(1)),
            };
            waits(chunks) + times(nv.word_write, words.len())
        }
        FlashOp::EraseAll => nv.erase_all,
        FlashOp::EraseUicr => nv.page_erase,
    }
}

/// `d` added `n` times (exact: Duration arithmetic is in whole nanoseconds).
fn times(d: Duration, n: usize) -> Duration {
    let nanos = d.as_nanos().saturating_mul(n as u128);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// What an executed (or cut) operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpReport {
    /// Device time spent (the full duration, or up to the cut).
    pub elapsed: Duration,
    /// Full duration had it not been cut.
    pub duration: Duration,
    /// False when power was lost before the last step finished.
    pub completed: bool,
    pub pages_erased: u32,
    pub words_written: u32,
}

/// Apply `op`; with `cut = Some(f)` power is lost at fraction `f` (0..=1) of its duration.
pub fn execute(
    op: &FlashOp,
    path: FlashPath,
    timing: &TimingProfile,
    cut: Option<f64>,
    mem: &mut FlashMemory,
    rng: &mut DeviceRng,
) -> Result<OpReport, FlashError> {
    op.validate(mem)?;
    let duration = cost(op, path, timing);
    let mut report = OpReport {
        elapsed: Duration::ZERO,
        duration,
        completed: true,
        pages_erased: 0,
        words_written: 0,
    };
    let Some(cut) = cut else {
        // Nothing cuts it: the steps' effects in order, without a step per word.
        apply_whole(op, mem, &mut report)?;
        report.elapsed = duration;
        return Ok(report);
    };
    let steps = plan(op, path, timing);
    let cut_at = Some(duration.mul_f64(cut.clamp(0.0, 1.0)));
    let mut t = Duration::ZERO;
    for step in steps {
        let end = t + step.time();
        if let Some(c) = cut_at {
            if end > c {
                // This step is in flight when power goes.
                let progress = if step.time().is_zero() {
                    0.0
                } else {
                    (c - t).as_secs_f64() / step.time().as_secs_f64()
                };
                tear(step, progress, mem, rng)?;
                report.elapsed = c;
                report.completed = false;
                return Ok(report);
            }
        }
        apply(step, mem, &mut report)?;
        t = end;
    }
    report.elapsed = duration;
    Ok(report)
}

/// What applying every step of `plan(op)` in order does (waits write nothing).
fn apply_whole(op: &FlashOp, mem: &mut FlashMemory, r: &mut OpReport) -> Result<(), FlashError> {
    match op {
        FlashOp::ErasePage { addr } => apply(
            Step::Erase {
                addr: *addr,
                time: Duration::ZERO,
            },
            mem,
            r,
        ),
        FlashOp::WriteWords { addr, words } => {
            let len = u32::try_from(words.len() * 4).unwrap_or(u32::MAX);
            let arr = mem
                .array_mut(*addr, len)
                .ok_or_else(|| mem_out_of_range(*addr, len))?;
            arr.write_words(*addr, words)?;
            r.words_written += words.len() as u32;
            Ok(())
        }
        FlashOp::EraseAll => apply(
            Step::EraseAll {
                time: Duration::ZERO,
            },
            mem,
            r,
        ),
        FlashOp::EraseUicr => apply(
            Step::EraseUicr {
                time: Duration::ZERO,
            },
            mem,
            r,
        ),
    }
}

fn apply(step: Step, mem: &mut FlashMemory, r: &mut OpReport) -> Result<(), FlashError> {
    match step {
        Step::Wait(_) => {}
        Step::Erase { addr, .. } => {
            mem.code.erase_page(addr)?;
            r.pages_erased += 1;
        }
        Step::Word { addr, value, .. } => {
            let arr = mem
                .array_mut(addr, 4)
                .ok_or_else(|| mem_out_of_range(addr, 4))?;
            arr.write_word(addr, value)?;
            r.words_written += 1;
        }
        Step::EraseAll { .. } => {
            mem.code.erase_all();
            mem.uicr.erase_all();
            r.pages_erased += mem.code.page_count() + 1;
        }
        Step::EraseUicr { .. } => {
            mem.uicr.erase_all();
            r.pages_erased += 1;
        }
    }
    Ok(())
}

/// A write outside both arrays (`validate` refuses it first; kept for the error's sake).
fn mem_out_of_range(addr: u32, len: u32) -> FlashError {
    FlashError::OutOfRange {
        what: "flash write",
        addr,
        len,
        region: "code flash or UICR",
        base: 0,
        end: 0,
    }
}

fn tear(
    step: Step,
    progress: f64,
    mem: &mut FlashMemory,
    rng: &mut DeviceRng,
) -> Result<(), FlashError> {
    match step {
        Step::Wait(_) => {}
        Step::Erase { addr, .. } => mem.code.erase_page_torn(addr, progress, rng)?,
        Step::Word { addr, value, .. } => {
            if let Some(arr) = mem.array_mut(addr, 4) {
                arr.write_word_torn(addr, value, rng)?;
            }
        }
        Step::EraseAll { .. } => {
            mem.code.erase_all_torn(progress, rng);
            mem.uicr.erase_all_torn(progress, rng);
        }
        Step::EraseUicr { .. } => mem.uicr.erase_all_torn(progress, rng),
    }
    Ok(())
}

/// Pages (their start addresses) that a write of `len` bytes at `addr` touches.
pub fn pages_touched(addr: u32, len: u32) -> impl Iterator<Item = u32> {
    let first = addr / PAGE_SIZE;
    let last = if len == 0 {
        first
    } else {
        (addr as u64 + len as u64 - 1) as u32 / PAGE_SIZE
    };
    let count = if len == 0 { 0 } else { last - first + 1 };
    (first..first + count).map(|p| p * PAGE_SIZE)
}

/// NVMC.CONFIG (0x4001E504): which operation the CPU's bus writes perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NvmcConfig {
    /// REN (0): read only; bus writes to flash are ignored.
    #[default]
    ReadOnly,
    /// WEN (1): bus word writes to flash/UICR program them.
    WriteEnabled,
    /// EEN (2): ERASEPAGE/ERASEALL/ERASEUICR registers act.
    EraseEnabled,
}

impl NvmcConfig {
    pub fn from_register(v: u32) -> NvmcConfig {
        match v & 0b11 {
            1 => NvmcConfig::WriteEnabled,
            2 => NvmcConfig::EraseEnabled,
            _ => NvmcConfig::ReadOnly,
        }
    }

    pub fn register(self) -> u32 {
        match self {
            NvmcConfig::ReadOnly => 0,
            NvmcConfig::WriteEnabled => 1,
            NvmcConfig::EraseEnabled => 2,
        }
    }
}

#[cfg(test)]
#[path = "nvmc_tests.rs"]
mod tests;
