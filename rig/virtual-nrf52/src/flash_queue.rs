//! The device's timeline of work: flash operations (one at a time, as the NVMC does them) and
//! CPU busy periods, in FIFO order, each with the time it starts and ends and what the
//! firmware does when it completes.
//!
//! Firmware models never change flash directly: they queue an operation here and the device
//! applies it to the hardware when simulated time reaches its end. A power cut in between
//! tears the operation in flight at the fraction of its duration that had passed.
//!
//! The bootloader's fstorage queue (16 entries, `NRF_FSTORAGE_SD_QUEUE_SIZE` in the SDK 17.1
//! `pca10040_s132_ble` `sdk_config.h`) is the subset of items marked
//! `fstorage`; its limit is the bootloader's to check ([`FlashQueue::fstorage_len`]).

use crate::events::{FirmwareReset, SimTime};
use crate::nvmc::{FlashMemory, FlashOp, FlashPath};
use crate::timing::TimingProfile;
use nrf_dfu::memory_map::PAGE_SIZE;
use std::collections::VecDeque;
use std::time::Duration;

/// What the firmware does when an item completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    Nothing,
    /// BLE: the RX buffer holding this write's data is free again.
    RxBufferFree,
    /// Continue the boot sequence (it waits for the queue to drain).
    Boot,
    /// The settings write before a DFU completion finished: close the transport, back up,
    /// reset (17.1 `on_dfu_complete` -> `bootloader_reset(true)`).
    DfuCompleted,
    /// Reset the chip now.
    Reset(FirmwareReset),
    /// The COPY_BL request is in the MBR parameter page: the MBR resets and copies.
    MbrCopyBl,
    /// The flash queue drained after a data EXECUTE of a save-progress build: write the
    /// settings and backup now (17.1 `on_data_obj_execute_request_sched` reschedules itself
    /// while `nrf_fstorage_is_busy`, then writes).
    SaveProgress,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Work {
    Flash {
        op: FlashOp,
        path: FlashPath,
    },
    /// CPU busy (hashing, signature verification, a delay before a reset).
    Busy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub work: Work,
    /// When it was queued; it starts at the later of this and the previous item's end.
    queued: SimTime,
    pub start: SimTime,
    pub end: SimTime,
    pub done: Done,
    /// Counts against the bootloader's fstorage queue.
    pub fstorage: bool,
}

impl Item {
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// [`nvmc::cost`] without building the step list (it runs once per queued packet): the
/// same sum, checked against it in the tests.
pub(crate) fn cost(op: &FlashOp, path: FlashPath, timing: &TimingProfile) -> Duration {
    let (nv, sd) = (&timing.nvmc, &timing.softdevice);
    let waits = |calls: usize| match path {
        FlashPath::Nvmc => Duration::ZERO,
        FlashPath::SoftDevice => sd.latency_per_op * calls as u32,
    };
    match op {
        FlashOp::ErasePage { .. } => match path {
            FlashPath::Nvmc => nv.page_erase,
            FlashPath::SoftDevice => sd.erase_latency + nv.page_erase,
        },
        FlashOp::WriteWords { words, .. } => {
            let chunk = match path {
                FlashPath::Nvmc => words.len().max(1),
                FlashPath::SoftDevice => (sd.max_write_bytes as usize / 4).max(1),
            };
            waits(words.len().div_ceil(chunk)) + nv.word_write * words.len() as u32
        }
        FlashOp::EraseAll => nv.erase_all,
        FlashOp::EraseUicr => nv.page_erase,
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FlashQueue {
    items: VecDeque<Item>,
    fstorage: usize,
}

impl FlashQueue {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// fstorage entries queued, the one in progress included (fstorage frees an entry when
    /// its operation completes).
    pub fn fstorage_len(&self) -> usize {
        self.fstorage
    }

    /// When everything queued so far is done (`now` if nothing is).
    pub fn drained_at(&self, now: SimTime) -> SimTime {
        self.items.back().map_or(now, |i| i.end.max(now))
    }

    pub fn head(&self) -> Option<&Item> {
        self.items.front()
    }

    pub fn pop_head(&mut self) -> Option<Item> {
        let item = self.items.pop_front()?;
        if item.fstorage {
            self.fstorage -= 1;
        }
        Some(item)
    }

    /// Forget everything (the firmware that queued it is gone).
    pub fn clear(&mut self) {
        self.items.clear();
        self.fstorage = 0;
    }

    /// Queue a flash operation; returns when it will be done.
    pub fn push_flash(
        &mut self,
        now: SimTime,
        op: FlashOp,
        path: FlashPath,
        timing: &TimingProfile,
        done: Done,
        fstorage: bool,
    ) -> SimTime {
        let duration = cost(&op, path, timing);
        self.push(now, Work::Flash { op, path }, duration, done, fstorage)
    }

    /// Queue CPU work of `duration`.
    pub fn push_busy(&mut self, now: SimTime, duration: Duration, done: Done) -> SimTime {
        self.push(now, Work::Busy, duration, done, false)
    }

    fn push(
        &mut self,
        now: SimTime,
        work: Work,
        duration: Duration,
        done: Done,
        fstorage: bool,
    ) -> SimTime {
        let start = self.drained_at(now);
        let end = start + duration;
        self.fstorage += usize::from(fstorage);
        self.items.push_back(Item {
            work,
            queued: now,
            start,
            end,
            done,
            fstorage,
        });
        end
    }

    /// Queue flash operations right behind the one in progress (ahead of everything else
    /// queued), in the given order: the `execute-before-flash-drain` defect accounts before the
    /// data is written. Returns when the last of them will be done.
    pub fn push_flash_next(
        &mut self,
        now: SimTime,
        ops: Vec<(FlashOp, Done)>,
        path: FlashPath,
        timing: &TimingProfile,
    ) -> SimTime {
        let first = usize::from(self.items.front().is_some_and(|h| h.start <= now));
        let mut at = first;
        for (op, done) in ops {
            let duration = cost(&op, path, timing);
            self.fstorage += 1;
            self.items.insert(
                at,
                Item {
                    work: Work::Flash { op, path },
                    queued: now,
                    start: now,
                    end: now + duration,
                    done,
                    fstorage: true,
                },
            );
            at += 1;
        }
        self.retime(first);
        if at == first {
            now
        } else {
            self.items[at - 1].end
        }
    }

    /// Recompute start/end from index `from` on: each item starts when it was queued or when
    /// the previous one ends, whichever is later.
    fn retime(&mut self, from: usize) {
        let mut prev_end = if from == 0 {
            None
        } else {
            Some(self.items[from - 1].end)
        };
        for item in self.items.iter_mut().skip(from) {
            let duration = item.end - item.start;
            item.start = prev_end.map_or(item.queued, |e| e.max(item.queued));
            item.end = item.start + duration;
            prev_end = Some(item.end);
        }
    }

    /// Move every pending time `by` later (the CPU was halted that long).
    pub fn shift(&mut self, by: Duration) {
        for item in &mut self.items {
            item.queued += by;
            item.start += by;
            item.end += by;
        }
    }

    /// Pending flash writes and erases, in order.
    pub fn pending_ops(&self) -> impl Iterator<Item = &FlashOp> {
        self.items.iter().filter_map(|i| match &i.work {
            Work::Flash { op, .. } => Some(op),
            Work::Busy => None,
        })
    }

    /// What `addr..addr+out.len()` will read once everything queued is done: the flash as it is
    /// now with the queued erases and writes applied. Used to answer a request whose reply waits
    /// for the queue to drain (a power cut before then voids the reply anyway).
    pub fn project(&self, mem: &FlashMemory, addr: u32, out: &mut [u8]) {
        let len = out.len() as u32;
        match mem.code.read(addr, len) {
            Ok(b) => out.copy_from_slice(b),
            Err(_) => out.fill(0xFF),
        }
        let end = addr + len;
        for op in self.pending_ops() {
            match op {
                FlashOp::ErasePage { addr: page } => {
                    let (a, b) = (addr.max(*page), end.min(page + PAGE_SIZE));
                    if a < b {
                        out[(a - addr) as usize..(b - addr) as usize].fill(0xFF);
                    }
                }
                FlashOp::WriteWords { addr: w, words } => {
                    for (i, word) in words.iter().enumerate() {
                        let at = w + 4 * i as u32;
                        if at >= addr && at + 4 <= end {
                            let o = (at - addr) as usize;
                            for (k, byte) in word.to_le_bytes().into_iter().enumerate() {
                                out[o + k] &= byte;
                            }
                        }
                    }
                }
                FlashOp::EraseAll | FlashOp::EraseUicr => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nvmc;

    fn t(ms: u64) -> SimTime {
        Duration::from_millis(ms)
    }

    #[test]
    fn cost_is_the_nvmc_step_sum() {
        for timing in [
            TimingProfile::typical(),
            TimingProfile::worst_case(),
            TimingProfile::best_case(),
        ] {
            for path in [FlashPath::Nvmc, FlashPath::SoftDevice] {
                let ops = [
                    FlashOp::ErasePage { addr: 0x1000 },
                    FlashOp::WriteWords {
                        addr: 0x1000,
                        words: vec![0; 61],
                    },
                    FlashOp::WriteWords {
                        addr: 0x1000,
                        words: vec![0; 5],
                    },
                    FlashOp::WriteWords {
                        addr: 0x1000,
                        words: vec![0; 224],
                    },
                    FlashOp::WriteWords {
                        addr: 0x1000,
                        words: vec![],
                    },
                    FlashOp::EraseAll,
                    FlashOp::EraseUicr,
                ];
                for op in ops {
                    assert_eq!(
                        cost(&op, path, &timing),
                        nvmc::cost(&op, path, &timing),
                        "{op:?} {path:?} {}",
                        timing.name
                    );
                }
            }
        }
    }

    #[test]
    fn items_run_back_to_back_and_fstorage_is_counted() {
        let timing = TimingProfile::typical();
        let mut q = FlashQueue::default();
        let e1 = q.push_flash(
            t(10),
            FlashOp::ErasePage { addr: 0x1000 },
            FlashPath::Nvmc,
            &timing,
            Done::Nothing,
            true,
        );
        assert_eq!(e1, t(95));
        let e2 = q.push_busy(t(20), t(5), Done::Nothing);
        assert_eq!(e2, t(100), "starts when the erase ends");
        let e3 = q.push_busy(t(200), t(5), Done::Nothing);
        assert_eq!(
            e3,
            t(205),
            "starts when queued, the queue being idle by then"
        );
        assert_eq!(q.fstorage_len(), 1);
        assert_eq!(q.drained_at(t(0)), t(205));
        q.pop_head();
        assert_eq!(q.fstorage_len(), 0);
    }

    #[test]
    fn push_next_goes_behind_the_op_in_progress() {
        let timing = TimingProfile::typical();
        let mut q = FlashQueue::default();
        q.push_flash(
            t(0),
            FlashOp::ErasePage { addr: 0x1000 },
            FlashPath::Nvmc,
            &timing,
            Done::Nothing,
            true,
        );
        q.push_flash(
            t(0),
            FlashOp::ErasePage { addr: 0x2000 },
            FlashPath::Nvmc,
            &timing,
            Done::Nothing,
            true,
        );
        let ops = vec![
            (FlashOp::ErasePage { addr: 0x3000 }, Done::Nothing),
            (
                FlashOp::ErasePage { addr: 0x4000 },
                Done::Reset(FirmwareReset::Aborted),
            ),
        ];
        let end = q.push_flash_next(t(1), ops, FlashPath::Nvmc, &timing);
        assert_eq!(end, t(255));
        let order: Vec<_> = q.pending_ops().cloned().collect();
        assert_eq!(order[1], FlashOp::ErasePage { addr: 0x3000 });
        assert_eq!(order[2], FlashOp::ErasePage { addr: 0x4000 });
        assert_eq!(q.drained_at(t(0)), t(340));
        assert_eq!(q.fstorage_len(), 4);
    }

    #[test]
    fn projection_applies_queued_erases_and_writes() {
        let timing = TimingProfile::typical();
        let mut mem = FlashMemory::new(4);
        mem.code.write_word(0x1000, 0).unwrap();
        let mut q = FlashQueue::default();
        q.push_flash(
            t(0),
            FlashOp::ErasePage { addr: 0x1000 },
            FlashPath::Nvmc,
            &timing,
            Done::Nothing,
            true,
        );
        q.push_flash(
            t(0),
            FlashOp::write_bytes(0x1004, &[1, 2, 3, 4]).unwrap(),
            FlashPath::Nvmc,
            &timing,
            Done::Nothing,
            true,
        );
        let mut out = [0u8; 8];
        q.project(&mem, 0x1000, &mut out);
        assert_eq!(out, [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]);
        assert_eq!(
            mem.code.read(0x1000, 4).unwrap(),
            &[0, 0, 0, 0],
            "flash itself is untouched"
        );
    }
}
