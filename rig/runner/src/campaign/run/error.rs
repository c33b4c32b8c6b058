//! Errors of a campaign: bad input before anything runs ([`RunError`]), and the failure of one
//! step of an iteration ([`StepFailure`]), which becomes a journal record.

use crate::campaign::failure_class::{FailureClass, InfraFault, ProtocolResult, VerifyCheck};
use crate::campaign::journal::{FailureLocation, JournalError};
use crate::campaign::outcome::Outcome;
use crate::campaign::phase::{ObjectRef, Phase};
use nrf_dfu::client::{DfuError, LinkErrorKind, Location, Phase as ClientPhase};
use nrf_dfu::wire::ObjectType;
use std::path::PathBuf;

/// The campaign could not start or could not write its results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {message}")]
    Image { path: String, message: String },
    #[error("signing key {}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("suite: {0}")]
    Suite(String),
    #[error("--replay {0}: no such sub-case and iteration in this suite (see `rig suite check` for the names)")]
    NoSuchIteration(String),
    #[error("bench: {0}")]
    Bench(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The reports could not be rebuilt from the journal or written.
    #[error("reports: {0}")]
    Report(#[from] crate::campaign::report::ReportError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why one step of an iteration failed: the class for statistics, a message for people, where in
/// the update it happened, and what the oracle saw.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    pub class: FailureClass,
    pub message: String,
    pub at: Option<FailureLocation>,
    pub outcome: Option<Outcome>,
}

impl StepFailure {
    pub fn new(class: FailureClass, message: impl Into<String>) -> StepFailure {
        StepFailure {
            class,
            message: message.into(),
            at: None,
            outcome: None,
        }
    }

    pub fn infra(what: InfraFault, message: impl Into<String>) -> StepFailure {
        StepFailure::new(FailureClass::Infra(what), message)
    }

    pub fn verify(what: VerifyCheck, message: impl Into<String>) -> StepFailure {
        StepFailure::new(FailureClass::Verify(what), message)
    }

    pub fn timeout(phase: Phase, message: impl Into<String>) -> StepFailure {
        StepFailure::new(FailureClass::Timeout(phase), message)
    }

    pub fn with_outcome(mut self, outcome: Option<Outcome>) -> StepFailure {
        self.outcome = outcome;
        self
    }

    pub fn at(mut self, at: FailureLocation) -> StepFailure {
        self.at = Some(at);
        self
    }

    /// The campaign's class of a client error, and where it happened.
    pub fn from_dfu(e: &DfuError) -> StepFailure {
        let location = e.location();
        let phase = location.map(|l| phase_of(l.phase)).unwrap_or(Phase::Setup);
        let proto = |result| FailureClass::Protocol { phase, result };
        let class = match e {
            DfuError::Rejected { result, ext, .. } => {
                FailureClass::from_response(phase, *result, *ext)
            }
            DfuError::Timeout { .. } => FailureClass::Timeout(phase),
            DfuError::Link { source, .. } => match source.kind {
                LinkErrorKind::LinkLost => proto(ProtocolResult::LinkLost),
                LinkErrorKind::Timeout => FailureClass::Timeout(phase),
                LinkErrorKind::Closed | LinkErrorKind::Io => {
                    FailureClass::Infra(InfraFault::Adapter)
                }
            },
            DfuError::Protocol { .. } => proto(ProtocolResult::MalformedReply),
            DfuError::CrcMismatch { .. } => proto(ProtocolResult::CrcMismatch),
            DfuError::TooManyRewinds { .. } => proto(ProtocolResult::BytesLost),
            // The rig's own fault plan stops the client; the oracle judges what follows.
            DfuError::Aborted { .. } => FailureClass::Verify(VerifyCheck::Outcome),
            DfuError::InvalidImage { .. } => FailureClass::Infra(InfraFault::Host),
        };
        let result = match e {
            DfuError::Rejected { result, ext, .. } => Some(match ext {
                Some(x) => format!("{}/{}", result.name(), x.name()),
                None => result.name().to_string(),
            }),
            _ => None,
        };
        StepFailure {
            class,
            message: e.to_string(),
            at: location.map(|l| location_of(l, result)),
            outcome: None,
        }
    }
}

/// The client's phase in the campaign's vocabulary.
pub fn phase_of(p: ClientPhase) -> Phase {
    match p {
        ClientPhase::Setup => Phase::Setup,
        ClientPhase::Select => Phase::Select,
        ClientPhase::Create => Phase::Create,
        ClientPhase::Write => Phase::Write,
        ClientPhase::CrcCheck => Phase::Crc,
        ClientPhase::Execute => Phase::Execute,
        ClientPhase::Activation | ClientPhase::Done => Phase::Activation,
    }
}

pub fn object_of(object: Option<ObjectType>, index: u32) -> Option<ObjectRef> {
    match object {
        Some(ObjectType::Command) => Some(ObjectRef::Init),
        Some(ObjectType::Data) => Some(ObjectRef::Data(index)),
        _ => None,
    }
}

pub fn location_of(l: &Location, result: Option<String>) -> FailureLocation {
    FailureLocation {
        phase: phase_of(l.phase),
        image: (l.image_count > 1).then_some(l.image_index as u32),
        object: object_of(l.object, l.object_index),
        offset: Some(l.offset),
        result,
    }
}
