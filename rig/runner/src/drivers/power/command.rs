//! A switch driven by shell commands from the bench file (uhubctl, ykushcmd, a relay tool):
//! each command runs under `sh -c` with a time limit, and a non-zero exit is an error that
//! carries the command's stderr.

use super::{PowerError, PowerSwitch};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// Longest stderr tail kept in an error.
const STDERR_KEEP: usize = 2000;

pub struct CommandSwitch {
    pub on: String,
    pub off: String,
    pub timeout: Duration,
    /// Whether the commands really remove power (true for uhubctl on a switching hub or a relay;
    /// the bench file says so).
    pub cuts_power: bool,
}

impl CommandSwitch {
    pub fn new(on: impl Into<String>, off: impl Into<String>, timeout: Duration) -> CommandSwitch {
        CommandSwitch {
            on: on.into(),
            off: off.into(),
            timeout,
            cuts_power: true,
        }
    }

    fn err(&self, message: String) -> PowerError {
        PowerError::new(self.describe(), message)
    }

    async fn run(&self, which: &str, cmd: &str) -> Result<(), PowerError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                self.err(format!(
                    "cannot start the power-{which} command `{cmd}`: {e}"
                ))
            })?;
        // Drain stderr on a thread so a chatty command cannot block on a full pipe.
        let stderr = child.stderr.take().map(|mut s| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                buf
            })
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.err(format!(
                        "the power-{which} command `{cmd}` did not finish within {:?} and was killed",
                        self.timeout
                    )));
                }
                Ok(None) => sleep(Duration::from_millis(10)).await,
                Err(e) => {
                    return Err(self.err(format!(
                        "waiting for the power-{which} command `{cmd}`: {e}"
                    )))
                }
            }
        };
        if status.success() {
            return Ok(());
        }
        let text = stderr
            .and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let tail = match text.char_indices().rev().nth(STDERR_KEEP) {
            Some((i, _)) => &text[i..],
            None => &text,
        };
        let code = status
            .code()
            .map(|c| format!("exit status {c}"))
            .unwrap_or_else(|| "killed by a signal".into());
        Err(self.err(if tail.is_empty() {
            format!("the power-{which} command `{cmd}` failed ({code})")
        } else {
            format!("the power-{which} command `{cmd}` failed ({code}): {tail}")
        }))
    }
}

impl PowerSwitch for CommandSwitch {
    fn describe(&self) -> String {
        format!("command switch (on: `{}`, off: `{}`)", self.on, self.off)
    }

    fn cuts_power(&self) -> bool {
        self.cuts_power
    }

    async fn on(&mut self) -> Result<(), PowerError> {
        self.run("on", &self.on).await
    }

    async fn off(&mut self) -> Result<(), PowerError> {
        self.run("off", &self.off).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switch(on: &str, off: &str, ms: u64) -> CommandSwitch {
        CommandSwitch::new(on, off, Duration::from_millis(ms))
    }

    #[tokio::test]
    async fn true_succeeds() {
        let mut s = switch("true", "true", 5000);
        s.on().await.unwrap();
        s.off().await.unwrap();
        s.cycle(Duration::from_millis(1)).await.unwrap();
    }

    #[tokio::test]
    async fn false_fails_with_exit_status() {
        let mut s = switch("true", "false", 5000);
        let e = s.off().await.unwrap_err();
        assert_eq!(
            e.message,
            "the power-off command `false` failed (exit status 1)"
        );
        // cycle stops at the failed off.
        assert!(s.cycle(Duration::ZERO).await.is_err());
    }

    #[tokio::test]
    async fn stderr_is_in_the_error() {
        let mut s = switch("echo 'hub 1-1 has no port 9' >&2; exit 3", "true", 5000);
        let e = s.on().await.unwrap_err();
        assert!(
            e.message
                .ends_with("(exit status 3): hub 1-1 has no port 9"),
            "{}",
            e.message
        );
        assert!(e.to_string().starts_with("command switch (on: "));
    }

    #[tokio::test]
    async fn a_hanging_command_is_killed_at_the_timeout() {
        let mut s = switch("sleep 5", "true", 200);
        let t = std::time::Instant::now();
        let e = s.on().await.unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert!(
            e.message.contains("did not finish within 200ms"),
            "{}",
            e.message
        );
    }

    #[tokio::test]
    async fn a_missing_program_fails_through_the_shell() {
        let mut s = switch("/nonexistent/uhubctl -a on", "true", 5000);
        let e = s.on().await.unwrap_err();
        assert!(e.message.contains("exit status 127"), "{}", e.message);
        assert!(e.message.contains("not found"), "{}", e.message);
    }
}
