//! What every firmware model works with: the hardware, the current simulated time and the
//! timeline of queued flash and CPU work.

use crate::cpu::CpuCosts;
use crate::events::{FlashOpRecord, SimTime};
use crate::flash_queue::{Done, FlashQueue, Item, Work};
use crate::hardware::Hardware;
use crate::nvmc::{FlashOp, FlashPath};
use crate::rng::DeviceRng;
use std::time::Duration;

/// Where a firmware flash operation goes: the path (NVMC or SoftDevice) and, in DFU mode, the
/// fstorage queue depth it counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlashCtx {
    pub path: FlashPath,
    /// `None`: synchronous boot-time flash work (no queue limit).
    pub limit: Option<usize>,
}

impl FlashCtx {
    /// Boot-time work: NVMC, no queue.
    pub const BOOT: FlashCtx = FlashCtx {
        path: FlashPath::Nvmc,
        limit: None,
    };
}

/// The fstorage queue had no room: the operation was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueFull;

#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub hw: Hardware,
    pub now: SimTime,
    pub queue: FlashQueue,
    pub cpu: CpuCosts,
    /// Random choices of the firmware models (intermittent defects), separate from the
    /// hardware's stream so that torn flash content does not shift them.
    pub rng: DeviceRng,
    pub journal: Option<Vec<FlashOpRecord>>,
    pub ops_started: u64,
    /// Counts resets and power events; replies from an older epoch are void.
    pub epoch: u64,
}

impl Core {
    pub fn new(hw: Hardware, seed: u64) -> Core {
        Core {
            hw,
            now: Duration::ZERO,
            queue: FlashQueue::default(),
            cpu: CpuCosts::default(),
            rng: DeviceRng::new(seed).derive("firmware"),
            journal: None,
            ops_started: 0,
            epoch: 0,
        }
    }

    /// Whether `n` more fstorage entries fit.
    pub fn has_room(&self, ctx: FlashCtx, n: usize) -> bool {
        ctx.limit
            .is_none_or(|limit| self.queue.fstorage_len() + n <= limit)
    }

    /// Queue a flash operation now; returns when it will be done.
    pub fn flash(&mut self, op: FlashOp, ctx: FlashCtx, done: Done) -> Result<SimTime, QueueFull> {
        if !self.has_room(ctx, 1) {
            return Err(QueueFull);
        }
        Ok(self.queue.push_flash(
            self.now,
            op,
            ctx.path,
            self.hw.timing(),
            done,
            ctx.limit.is_some(),
        ))
    }

    /// Queue CPU work; returns when it will be done.
    pub fn busy(&mut self, duration: Duration, done: Done) -> SimTime {
        self.queue.push_busy(self.now, duration, done)
    }

    /// Read flash as the CPU sees it now (out of range reads as erased).
    pub fn read(&self, addr: u32, len: u32) -> &[u8] {
        self.hw.memory().code.read(addr, len).unwrap_or(&[])
    }

    pub fn read_word(&self, addr: u32) -> u32 {
        self.hw.memory().code.read_word(addr).unwrap_or(u32::MAX)
    }

    /// Apply a completed item to the hardware and journal it.
    pub fn apply(&mut self, item: &Item) {
        if let Work::Flash { op, path } = &item.work {
            self.ops_started += 1;
            // The firmware models only queue addresses they computed from the memory map; a
            // refused operation would be a model bug, and it changes nothing on the hardware.
            let _ = self.hw.flash_op(op, *path);
            self.note(item, op);
        }
    }

    /// Power lost at `t` inside `item`: tear it at the fraction that had passed.
    pub fn tear(&mut self, item: &Item, t: SimTime) {
        if let Work::Flash { op, path } = &item.work {
            let d = item.duration();
            let fraction = if d.is_zero() {
                0.0
            } else {
                (t - item.start).as_secs_f64() / d.as_secs_f64()
            };
            self.ops_started += 1;
            let _ = self.hw.flash_op_cut(op, *path, fraction);
            self.note(item, op);
        }
    }

    fn note(&mut self, item: &Item, op: &FlashOp) {
        if let Some(j) = &mut self.journal {
            j.push(FlashOpRecord {
                index: j.len() as u64,
                start: item.start,
                end: item.end,
                what: op.describe(),
            });
        }
    }

    /// Journal a block of synchronous hardware work (the MBR's bootloader copy at reset).
    pub fn note_block(&mut self, start: SimTime, end: SimTime, what: String) {
        if let Some(j) = &mut self.journal {
            j.push(FlashOpRecord {
                index: j.len() as u64,
                start,
                end,
                what,
            });
        }
    }
}
