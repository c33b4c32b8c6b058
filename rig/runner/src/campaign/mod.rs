//! Campaigns as data: suites (what to run), outcomes and failure classes (what happened), the
//! journal (the record of a run, the source of truth), and what is derived from journals:
//! statistics, the summary and JUnit.

pub mod failure_class;
pub mod outcome;
pub mod phase;
pub mod suite;

pub use failure_class::FailureClass;
pub use outcome::{Outcome, Verdict};
pub use phase::{ObjectRef, Phase};
pub mod journal;
pub mod stats;
pub mod summary;

#[cfg(test)]
mod testkit;
