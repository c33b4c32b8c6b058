//! Virtual DUTs on threads of their own, so a campaign on N virtual DUTs uses the cores there
//! are. Each DUT runs on its own paused current-thread runtime; the steps one runtime made
//! in turn are kept, so the journal is the one a single thread writes for the seed:
//!
//! - the first DUT expands the suite (it counts flash operations for `flash_op: all`), then
//!   each DUT's setup starts at the simulated time the previous one's ended;
//! - every DUT starts its iterations when the last setup ended (the header is written then);
//! - each line is stamped with its DUT's simulated time and the lines are merged in time, then
//!   DUT, order ([`super::merge`]).
//!
//! A DUT's simulated time only moves with its own waits, so it sees the same times on its own
//! runtime as on a shared one.

use super::campaign::{
    expand, footer, header, planned, prepare_dut, run_dut, CampaignOptions, CampaignResult,
    JournalSink, Shared,
};
use super::dut::BenchDut;
use super::error::RunError;
use super::events::{RunEvent, RunObserver};
use super::images::ImageStore;
use super::merge::Merge;
use crate::campaign::journal::{
    self, DutInfo, HealingRecord, IterationRecord, JournalWriter, QuarantineRecord, Record,
};
use crate::campaign::phase::Phase;
use crate::campaign::suite::{LoadedSuite, SubCase};
use std::cell::Cell;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// An event of a DUT's thread, owned, for the observer on the calling thread.
enum Event {
    Started {
        dut: Arc<str>,
        sub_case: String,
        iteration: u32,
    },
    Phase {
        dut: Arc<str>,
        phase: Phase,
        percent: u8,
    },
    Finished(Box<IterationRecord>),
    Healing(HealingRecord),
    Quarantined(QuarantineRecord),
    Stopping,
}

impl Event {
    fn show(&self, observer: &dyn RunObserver) {
        observer.event(match self {
            Event::Started {
                dut,
                sub_case,
                iteration,
            } => RunEvent::Started {
                dut,
                sub_case,
                iteration: *iteration,
            },
            Event::Phase {
                dut,
                phase,
                percent,
            } => RunEvent::Phase {
                dut,
                phase: *phase,
                percent: *percent,
            },
            Event::Finished(r) => RunEvent::Finished(r),
            Event::Healing(h) => RunEvent::Healing(h),
            Event::Quarantined(q) => RunEvent::Quarantined(q),
            Event::Stopping => RunEvent::Stopping,
        })
    }
}

/// What the DUT threads tell the calling thread.
enum Msg {
    /// The suite's sub-cases (from the first DUT) and the simulated time the campaign starts.
    Expanded(Arc<Vec<SubCase>>, Duration),
    /// A DUT is set up (or quarantined) at this simulated time.
    Ready(usize, Box<DutInfo>, Duration),
    Line(usize, Duration, Vec<u8>),
    Event(Event),
    /// Messages of one DUT, in order.
    Batch(Vec<Msg>),
    /// A DUT is done at this simulated time.
    Done {
        dut: usize,
        at: Duration,
        result: Result<(), RunError>,
        iterations: u64,
        failed: bool,
        interrupted: bool,
    },
    /// The campaign cannot start (the suite did not expand).
    Failed(RunError),
}

/// A DUT thread's messages for the calling thread, sent in batches: each send wakes that
/// thread, and waking it for every progress step cost more than the update's cryptography.
/// A batch goes with each journal line and each record event (an iteration's end), so the
/// journal on disk is never more than a line behind and the display an iteration.
struct Outbox {
    tx: Sender<Msg>,
    pending: std::cell::RefCell<Vec<Msg>>,
}

impl Outbox {
    fn push(&self, msg: Msg, flush: bool) -> Result<(), RunError> {
        let mut pending = self.pending.borrow_mut();
        pending.push(msg);
        if flush || pending.len() >= OUTBOX_LIMIT {
            let batch = std::mem::take(&mut *pending);
            return self
                .tx
                .send(Msg::Batch(batch))
                .map_err(|_| RunError::Bench("the journal writer has stopped".into()));
        }
        Ok(())
    }

    fn flush(&self) {
        let batch = std::mem::take(&mut *self.pending.borrow_mut());
        if !batch.is_empty() {
            let _ = self.tx.send(Msg::Batch(batch));
        }
    }
}

/// At most this many messages wait in an [`Outbox`].
const OUTBOX_LIMIT: usize = 64;

/// Forwards a DUT's events to the calling thread. Progress goes in steps of 10 %: an update
/// reports a phase per object.
struct Forward<'a> {
    outbox: &'a Outbox,
    dut: Arc<str>,
    shown: Cell<Option<u8>>,
}

impl RunObserver for Forward<'_> {
    fn event(&self, e: RunEvent<'_>) {
        let e = match e {
            // Sizes come from the calling thread.
            RunEvent::Planned { .. } => return,
            RunEvent::Started {
                sub_case,
                iteration,
                ..
            } => Event::Started {
                dut: self.dut.clone(),
                sub_case: sub_case.to_string(),
                iteration,
            },
            RunEvent::Phase { phase, percent, .. } => {
                if self.shown.replace(Some(percent / 10)) == Some(percent / 10) {
                    return;
                }
                Event::Phase {
                    dut: self.dut.clone(),
                    phase,
                    percent,
                }
            }
            RunEvent::Finished(r) => Event::Finished(Box::new(r.clone())),
            RunEvent::Healing(h) => Event::Healing(h.clone()),
            RunEvent::Quarantined(q) => Event::Quarantined(q.clone()),
            RunEvent::Stopping => Event::Stopping,
        };
        let flush = !matches!(e, Event::Started { .. } | Event::Phase { .. });
        let _ = self.outbox.push(Msg::Event(e), flush);
    }
}

/// A DUT's journal lines, encoded on its thread, stamped with its simulated time.
struct Stamped<'a> {
    outbox: &'a Outbox,
    dut: usize,
    origin: Instant,
}

impl JournalSink for Stamped<'_> {
    fn write(&self, r: &Record) -> Result<(), RunError> {
        let line = journal::writer::encode_line(r).map_err(|e| {
            RunError::Journal(journal::JournalError::Encode {
                path: journal::JOURNAL_FILE.into(),
                message: e.to_string(),
            })
        })?;
        self.outbox
            .push(Msg::Line(self.dut, self.origin.elapsed(), line), true)
    }
}

/// Run `suite` on `duts` DUTs, each made by `make(index)` on its own thread (inside its
/// paused runtime, at simulated time zero).
pub fn run_on_threads<D, F>(
    suite: &LoadedSuite,
    duts: usize,
    opts: &CampaignOptions,
    observer: &dyn RunObserver,
    make: F,
) -> Result<CampaignResult, RunError>
where
    D: BenchDut,
    F: Fn(usize) -> D + Sync,
{
    let dir = &opts.out_dir;
    std::fs::create_dir_all(dir).map_err(|source| RunError::Io {
        path: dir.clone(),
        source,
    })?;
    if duts == 0 {
        return Err(RunError::Bench("the bench has no DUT".into()));
    }
    let (tx, rx) = channel::<Msg>();
    let mut go = Vec::new();
    let mut go_rx = Vec::new();
    for _ in 0..duts {
        let (t, r) = channel::<Duration>();
        go.push(t);
        go_rx.push(Some(r));
    }
    // Setup hand-over: DUT k tells DUT k+1 the sub-cases and when its setup ended.
    let mut chain_tx: Vec<Option<Sender<(Arc<Vec<SubCase>>, Duration)>>> = Vec::new();
    let mut chain_rx: Vec<Option<Receiver<(Arc<Vec<SubCase>>, Duration)>>> = vec![None];
    for _ in 1..duts {
        let (t, r) = channel();
        chain_tx.push(Some(t));
        chain_rx.push(Some(r));
    }
    chain_tx.push(None);
    std::thread::scope(|scope| {
        for k in 0..duts {
            let tx = tx.clone();
            let go = go_rx[k].take();
            let prev = chain_rx[k].take();
            let next = chain_tx[k].take();
            let make = &make;
            scope.spawn(move || {
                let run = || dut_thread(suite, opts, k, make, tx.clone(), prev, next, go);
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        let _ = tx.send(Msg::Failed(e));
                    }
                    // Let the other DUTs stop waiting for this one, then fail the scope.
                    Err(panic) => {
                        let _ = tx.send(Msg::Failed(RunError::Bench(format!(
                            "the thread of DUT {} panicked",
                            k + 1
                        ))));
                        std::panic::resume_unwind(panic);
                    }
                }
            });
        }
        drop(tx);
        collect(suite, duts, opts, observer, rx, go)
    })
}

#[allow(clippy::too_many_arguments)]
fn dut_thread<D: BenchDut>(
    suite: &LoadedSuite,
    opts: &CampaignOptions,
    k: usize,
    make: &dyn Fn(usize) -> D,
    tx: Sender<Msg>,
    prev: Option<Receiver<(Arc<Vec<SubCase>>, Duration)>>,
    next: Option<Sender<(Arc<Vec<SubCase>>, Duration)>>,
    go: Option<Receiver<Duration>>,
) -> Result<(), RunError> {
    let rt = super::virtual_dut::paused_runtime()?;
    let (origin, mut dut) = rt.block_on(async { (Instant::now(), make(k)) });
    let mut store = ImageStore::new(&suite.dir, dut.chip(), opts.key.clone());
    let (sub_cases, start) = match prev {
        None => {
            let sub_cases = rt.block_on(expand(
                suite,
                std::slice::from_mut(&mut dut),
                std::slice::from_mut(&mut store),
                opts,
            ))?;
            let sub_cases = Arc::new(sub_cases);
            let t = rt.block_on(async { origin.elapsed() });
            let _ = tx.send(Msg::Expanded(sub_cases.clone(), t));
            (sub_cases, t)
        }
        // The DUT before failed: the calling thread has its error.
        Some(prev) => match prev.recv() {
            Ok(v) => v,
            Err(_) => return Ok(()),
        },
    };
    let (ready, info, set_up) = rt.block_on(async {
        tokio::time::sleep_until(origin + start).await;
        let ready = prepare_dut(&mut dut, &mut store, suite, opts).await;
        (ready, dut.info(), origin.elapsed())
    });
    if let Some(next) = next {
        let _ = next.send((sub_cases.clone(), set_up));
    }
    let _ = tx.send(Msg::Ready(k, Box::new(info), set_up));
    let Some(Ok(all_set)) = go.map(|g| g.recv()) else {
        return Ok(());
    };
    let outbox = Outbox {
        tx: tx.clone(),
        pending: Default::default(),
    };
    let forward = Forward {
        outbox: &outbox,
        dut: Arc::from(dut.name()),
        shown: Cell::new(None),
    };
    let sink = Stamped {
        outbox: &outbox,
        dut: k,
        origin,
    };
    let shared = Shared {
        suite,
        sub_cases: &sub_cases,
        opts,
        journal: &sink,
        observer: &forward,
        failed: Cell::new(false),
        interrupted: Cell::new(false),
        iterations: Cell::new(0),
    };
    let (result, at) = rt.block_on(async {
        tokio::time::sleep_until(origin + all_set).await;
        let r = run_dut(&shared, &mut dut, &mut store, ready).await;
        (r, origin.elapsed())
    });
    outbox.flush();
    let _ = tx.send(Msg::Done {
        dut: k,
        at,
        result,
        iterations: shared.iterations.get(),
        failed: shared.failed.get(),
        interrupted: shared.interrupted.get(),
    });
    Ok(())
}

/// The calling thread: shows events, writes the header once every DUT is set up, merges the
/// lines, writes the footer and the reports.
fn collect(
    suite: &LoadedSuite,
    duts: usize,
    opts: &CampaignOptions,
    observer: &dyn RunObserver,
    rx: Receiver<Msg>,
    go: Vec<Sender<Duration>>,
) -> Result<CampaignResult, RunError> {
    // Dropped when the campaign cannot start, so DUTs waiting for the start give up.
    let mut go = Some(go);
    let dir = &opts.out_dir;
    let mut start = None;
    let mut infos: Vec<Option<DutInfo>> = vec![None; duts];
    let mut all_set = Duration::ZERO;
    let mut journal: Option<JournalWriter<std::fs::File>> = None;
    let mut merge = Merge::new(duts);
    let mut results: Vec<Option<Result<(), RunError>>> = (0..duts).map(|_| None).collect();
    let mut failure = None;
    let (mut iterations, mut failed, mut interrupted, mut end) =
        (0u64, false, false, Duration::ZERO);
    let wall = std::time::Instant::now();
    let messages = rx.into_iter().flat_map(|m| match m {
        Msg::Batch(batch) => batch,
        m => vec![m],
    });
    for msg in messages {
        match msg {
            Msg::Expanded(sub_cases, t) => {
                start = Some(t);
                observer.event(RunEvent::Planned {
                    total: planned(opts, &sub_cases) * duts as u64,
                    duts,
                });
            }
            Msg::Ready(k, info, t) => {
                infos[k] = Some(*info);
                all_set = all_set.max(t);
                if let (true, Some(go)) = (infos.iter().all(Option::is_some), &go) {
                    let path = dir.join(journal::JOURNAL_FILE);
                    let mut w = JournalWriter::create(&path)?;
                    let infos = infos.iter().flatten().cloned().collect();
                    w.write(&header(suite, opts, infos))?;
                    journal = Some(w);
                    for g in go {
                        let _ = g.send(all_set);
                    }
                }
            }
            Msg::Line(k, t, line) => merge.push(k, t, line),
            Msg::Event(e) => e.show(observer),
            Msg::Done {
                dut,
                at,
                result,
                iterations: n,
                failed: f,
                interrupted: i,
            } => {
                merge.finish(dut);
                results[dut] = Some(result);
                iterations += n;
                failed |= f;
                interrupted |= i;
                end = end.max(at);
            }
            Msg::Failed(e) => {
                failure.get_or_insert(e);
                go = None;
            }
            // Flattened above; a DUT sends no batch inside a batch.
            Msg::Batch(_) => {}
        }
        if let Some(w) = journal.as_mut() {
            while let Some(line) = merge.pop() {
                w.write_line(&line)?;
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    for r in results.into_iter().flatten() {
        r?;
    }
    let Some(mut w) = journal else {
        return Err(RunError::Bench(
            "a DUT thread stopped before its setup".into(),
        ));
    };
    let interrupted = interrupted || opts.stop.is_set();
    let started = start.unwrap_or_default();
    w.write(&footer(
        iterations,
        interrupted,
        end.saturating_sub(started),
        wall.elapsed(),
    ))?;
    drop(w);
    super::campaign::reports(dir, interrupted, failed, iterations)
}
