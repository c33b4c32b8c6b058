//! Campaigns as data: suites (what to run), outcomes and failure classes (what happened), the
//! journal (the record of a run, the source of truth), and what is derived from journals:
//! statistics, the summary, JUnit, the HTML report and the trend across nights.
//!
//! The run loop fills these types: it expands a [`suite::Suite`] into [`suite::SubCase`]s,
//! derives each iteration's seed with [`seed::iteration_seed`], writes one
//! [`journal::Record`] per iteration through a [`journal::JournalWriter`], and at the end
//! calls [`report::rebuild`] on its own output directory.

pub mod failure_class;
pub mod html;
pub mod journal;
pub mod junit;
pub mod outcome;
pub mod phase;
pub mod report;
pub mod run;
pub mod seed;
pub mod stats;
pub mod suite;
pub mod summary;
pub mod trend;

#[cfg(test)]
mod testkit;

pub use failure_class::FailureClass;
pub use outcome::{Outcome, Verdict};
pub use phase::{ObjectRef, Phase};
