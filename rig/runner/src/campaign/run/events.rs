//! What a running campaign tells whoever watches it (the CLI's live display). Kept apart from
//! the journal: these are for people and may be dropped; the journal is the record.

use crate::campaign::journal::{HealingRecord, IterationRecord, QuarantineRecord};
use crate::campaign::phase::Phase;

#[derive(Debug, Clone)]
pub enum RunEvent<'a> {
    /// The campaign knows its size: iterations over all DUTs.
    Planned {
        total: u64,
        duts: usize,
    },
    /// A DUT starts an iteration.
    Started {
        dut: &'a str,
        sub_case: &'a str,
        iteration: u32,
    },
    /// A DUT's update moved on.
    Phase {
        dut: &'a str,
        phase: Phase,
        percent: u8,
    },
    Finished(&'a IterationRecord),
    Healing(&'a HealingRecord),
    Quarantined(&'a QuarantineRecord),
    /// A stop was asked for (signal): the steps in flight finish, then reports are written.
    Stopping,
}

/// Receives events. Must not block: it runs on the campaign's thread.
pub trait RunObserver {
    fn event(&self, e: RunEvent<'_>);
}

/// Watches nothing.
pub struct Quiet;

impl RunObserver for Quiet {
    fn event(&self, _e: RunEvent<'_>) {}
}

impl<F: Fn(RunEvent<'_>)> RunObserver for F {
    fn event(&self, e: RunEvent<'_>) {
        self(e)
    }
}
