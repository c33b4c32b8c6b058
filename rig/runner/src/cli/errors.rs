//! Errors at the binary's edge: a failing command prints its whole cause chain, and a driver
//! error keeps its cause when the CLI tags it with who owns the failure.

use std::error::Error;
use std::fmt;

/// The text of a failing command: each cause after the error, joined by ": " (anyhow's `{:#}`),
/// leaving out a cause whose text an earlier one already quotes (many messages name their cause
/// and keep it as the source too).
pub fn render(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if text.is_empty() {
            text = s;
        } else if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
    }
    text
}

/// `error` shown as "error [tag]" (the owner, `infra` or `dut`), its sources kept.
#[derive(Debug)]
pub struct Tagged<E> {
    error: E,
    tag: String,
}

impl<E: fmt::Display> fmt::Display for Tagged<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.error, self.tag)
    }
}

impl<E: Error> Error for Tagged<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// "error [tag]" as an anyhow error that keeps `error`'s causes.
pub fn tagged<E>(error: E, tag: impl fmt::Display) -> anyhow::Error
where
    E: Error + Send + Sync + 'static,
{
    anyhow::Error::new(Tagged {
        error,
        tag: tag.to_string(),
    })
}

/// A probe error as the CLI shows it: "message [owner]".
pub fn probe(e: rig::drivers::probe::ProbeError) -> anyhow::Error {
    let owner = e.owner;
    tagged(e, owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open serial port /dev/x: {0}")]
    struct Quoting(#[source] std::io::Error);

    #[test]
    fn chain_is_joined_and_quoted_causes_are_not_repeated() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = Err::<(), _>(Quoting(io()))
            .context("connecting")
            .unwrap_err();
        assert_eq!(
            render(&e),
            "connecting: cannot open serial port /dev/x: No such file or directory"
        );
        let e = Err::<(), _>(io()).context("reading a.zip").unwrap_err();
        assert_eq!(render(&e), "reading a.zip: No such file or directory");
    }

    #[test]
    fn a_tagged_probe_error_keeps_its_cause() {
        use rig::drivers::probe::{ProbeError, ProbeErrorKind};
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "socket closed");
        let e =
            probe(ProbeError::infra(ProbeErrorKind::Open, "lab probe dut-1 is gone").caused_by(io));
        assert_eq!(render(&e), "lab probe dut-1 is gone [infra]: socket closed");
        assert_eq!(e.chain().count(), 2);
    }
}
