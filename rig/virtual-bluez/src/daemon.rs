//! A private `dbus-daemon` for the virtual BlueZ: a system-type bus on a socket in a temporary
//! directory, whose policy lets the lab own `org.bluez` (the stock system.conf reserves it for
//! root). Killed and reaped on drop, so no daemon outlives its owner.
//!
//! Limits: the configuration sets none, so dbus-daemon's built-in defaults apply (bus/config-
//! parser.c `bus_config_parser_new`: 127 MiB of queued incoming and outgoing bytes per
//! connection, 128 pending replies per connection, 256 connections per user, ...), as they do
//! under the stock system.conf, which sets none either (dbus 1.14 bus/system.conf.in).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Debian package that provides `dbus-daemon` (bookworm: `dbus-daemon`; `dbus` depends on it).
pub const DBUS_DAEMON_PACKAGE: &str = "dbus-daemon";

/// How long the daemon may take to print its address.
const STARTUP: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    #[error("dbus-daemon not found (looked for {0}): install it with `apt-get install {DBUS_DAEMON_PACKAGE}`, or set RIG_DBUS_DAEMON to its path")]
    Missing(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("dbus-daemon did not print its address within {0:?}: {1}")]
    Startup(Duration, String),
}

/// Where dbus-daemon is: `RIG_DBUS_DAEMON`, else the first `dbus-daemon` on PATH, else
/// /usr/bin/dbus-daemon.
pub fn find_dbus_daemon() -> Result<PathBuf, DaemonError> {
    if let Some(p) = std::env::var_os("RIG_DBUS_DAEMON") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(DaemonError::Missing(p.display().to_string()))
        };
    }
    let mut looked = Vec::new();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        let c = dir.join("dbus-daemon");
        if c.is_file() {
            return Ok(c);
        }
        looked.push(c.display().to_string());
    }
    Err(DaemonError::Missing(looked.join(", ")))
}

/// The bus configuration: a system bus (so clients see the same `type` as on a real host) that
/// anyone may own names on and talk to. No `<limit>` elements: defaults stay.
pub fn config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="org.bluez"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

/// A running private bus.
pub struct BusDaemon {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl BusDaemon {
    /// Start a daemon; returns once it listens.
    pub fn start() -> Result<BusDaemon, DaemonError> {
        let exe = find_dbus_daemon()?;
        let dir = tempfile::Builder::new()
            .prefix("virtual-bluez-")
            .tempdir()
            .map_err(|source| DaemonError::Io {
                what: "creating the bus directory".into(),
                source,
            })?;
        let socket = dir.path().join("system_bus_socket");
        let conf = dir.path().join("bus.conf");
        std::fs::write(&conf, config(&socket)).map_err(|source| DaemonError::Io {
            what: format!("writing {}", conf.display()),
            source,
        })?;
        let mut cmd = Command::new(&exe);
        // The daemon dies with the thread that started it (the serving thread), so a killed
        // lab or test process leaves no bus behind. The crate's one unsafe block: std has no
        // safe way to run code in the child before exec.
        #[allow(unsafe_code)]
        // SAFETY: the closure runs in the forked child before exec and calls only prctl, which
        // is async-signal-safe; it touches no memory of the parent.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .arg(format!("--config-file={}", conf.display()))
            .arg("--nofork")
            .arg("--nopidfile")
            .arg("--print-address=1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| DaemonError::Io {
                what: format!("starting {}", exe.display()),
                source,
            })?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(r);
        });
        let address = match rx.recv_timeout(STARTUP) {
            Ok(Ok(l)) if !l.trim().is_empty() => l.trim().to_string(),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(DaemonError::Startup(STARTUP, format!("{other:?}")));
            }
        };
        Ok(BusDaemon {
            child,
            address,
            _dir: dir,
        })
    }

    /// The address clients use (`DBUS_SYSTEM_BUS_ADDRESS`).
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BusDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
