//! A USB hub port switched through Linux sysfs: writing 1 to
//! `/sys/bus/usb/devices/<hub>/<hub>:1.0/<hub>-port<N>/disable` turns the port off (the kernel
//! logically disconnects it and, on hubs with per-port power switching, removes VBUS), 0 turns
//! it on (teleprobe's trick; no uhubctl needed). Whether VBUS really drops depends on the hub:
//! ganged hubs only disconnect data, so the bench file must state `cuts_power: true` for a
//! campaign to cut power with it (the default is false).
//!
//! Two rules come from uhubctl (mvp/uhubctl, uhubctl.c, `set_port_status_linux` and the
//! README's "USB 3.0 duality note"):
//! - A USB 3 hub shows up as two hubs, a USB 2 one and a USB 3 one, and the port's power only
//!   drops when both companion ports are switched. The kernel links the two with a `peer`
//!   symlink in each port directory (Linux drivers/usb/core/port.c, `link_peers`); the switch
//!   follows it and switches both.
//! - uhubctl writes `disable` and trusts the write's result; it does not read it back. Reading
//!   `disable` asks the hub for the port status (port.c `disable_show`: `usb_hub_port_status`,
//!   then `!usb_port_is_power_on`), and a ganged hub keeps PORT_POWER set while any port of the
//!   gang is on, so a read-back after disabling reads 0 on a hub that did what it could. Only
//!   the write's errno decides after `off`; after `on` the port status must show power.

use super::{PowerError, PowerSwitch};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where the kernel lists USB devices.
pub const SYSFS_USB_DEVICES: &str = "/sys/bus/usb/devices";

/// How the switch reaches a port's `disable` attribute: the file system on a host, a model of a
/// hub in tests (a plain file reads back what was written, which no ganged hub does).
pub trait PortAttr {
    fn write(&self, path: &Path, value: &str) -> std::io::Result<()>;
    fn read(&self, path: &Path) -> std::io::Result<String>;
}

/// sysfs itself.
pub struct Sysfs;

impl PortAttr for Sysfs {
    fn write(&self, path: &Path, value: &str) -> std::io::Result<()> {
        fs::write(path, value)
    }
    fn read(&self, path: &Path) -> std::io::Result<String> {
        fs::read_to_string(path)
    }
}

pub struct UsbPortSwitch {
    /// The port directory (holds `disable`).
    port_dir: PathBuf,
    /// Whether `off` removes VBUS (per-port power switching); the bench file says so.
    pub cuts_power: bool,
    attr: Box<dyn PortAttr + Send>,
}

impl UsbPortSwitch {
    /// The port `port` (1-based) of hub `hub` (a sysfs device name such as `1-1` or `3-2.4`),
    /// under `sysfs_root` ([`SYSFS_USB_DEVICES`] on a real host). Does not cut power until the
    /// bench file says it does.
    pub fn new(sysfs_root: &Path, hub: &str, port: u32) -> UsbPortSwitch {
        UsbPortSwitch::with_attr(sysfs_root, hub, port, Box::new(Sysfs))
    }

    pub fn with_attr(
        sysfs_root: &Path,
        hub: &str,
        port: u32,
        attr: Box<dyn PortAttr + Send>,
    ) -> UsbPortSwitch {
        UsbPortSwitch {
            port_dir: sysfs_root
                .join(hub)
                .join(format!("{hub}:1.0"))
                .join(format!("{hub}-port{port}")),
            cuts_power: false,
            attr,
        }
    }

    pub fn disable_file(&self) -> PathBuf {
        self.port_dir.join("disable")
    }

    /// The companion port of a USB 3 hub (the kernel's `peer` link), if the port has one.
    pub fn peer_dir(&self) -> Option<PathBuf> {
        let link = self.port_dir.join("peer");
        fs::canonicalize(link).ok().filter(|p| p.is_dir())
    }

    /// The port directories to switch: the port, then its companion.
    fn ports(&self) -> Vec<PathBuf> {
        let mut v = vec![self.port_dir.clone()];
        v.extend(self.peer_dir());
        v
    }

    /// A failed write of `value` to `path`, explained.
    fn io_error(&self, path: &Path, value: &str, e: std::io::Error) -> PowerError {
        let m = match e.kind() {
            ErrorKind::PermissionDenied => format!(
                "permission denied writing {value} to {}: run as root, or grant write access with a udev rule \
                 (e.g. RUN+=\"/bin/chmod 666 {}\")",
                path.display(),
                path.display()
            ),
            ErrorKind::NotFound => format!(
                "{} does not exist: this kernel does not offer per-port disable (Linux 4.20+)",
                path.display()
            ),
            _ => format!("writing {value} to {}: {e}", path.display()),
        };
        PowerError::new(self.describe(), m)
    }

    fn write(&self, value: &str) -> Result<(), PowerError> {
        let err = |m: String| PowerError::new(self.describe(), m);
        if !self.port_dir.is_dir() {
            return Err(err(format!(
                "{} does not exist: check the hub name and port number (`ls {}` lists the hub's ports); \
                 the `disable` attribute needs Linux 4.20 or later",
                self.port_dir.display(),
                self.port_dir.parent().map(|p| p.display().to_string()).unwrap_or_default()
            )));
        }
        let ports = self.ports();
        for dir in &ports {
            let path = dir.join("disable");
            self.attr
                .write(&path, value)
                .map_err(|e| self.io_error(&path, value, e))?;
        }
        if value == "1" {
            // No read-back: see the module comment (ganged hubs).
            return Ok(());
        }
        for dir in &ports {
            let path = dir.join("disable");
            let now = self
                .attr
                .read(&path)
                .map_err(|e| err(format!("reading back {}: {e}", path.display())))?;
            if now.trim() != "0" {
                return Err(err(format!(
                    "wrote 0 to {} but the port still reads disabled ({:?}): the hub did not power it again",
                    path.display(),
                    now.trim()
                )));
            }
        }
        Ok(())
    }
}

impl PowerSwitch for UsbPortSwitch {
    fn describe(&self) -> String {
        match self.peer_dir() {
            Some(p) => format!(
                "USB port {} and its USB 3 companion {}",
                self.port_dir.display(),
                p.display()
            ),
            None => format!("USB port {}", self.port_dir.display()),
        }
    }

    fn cuts_power(&self) -> bool {
        self.cuts_power
    }

    async fn on(&mut self) -> Result<(), PowerError> {
        self.write("0")
    }

    async fn off(&mut self) -> Result<(), PowerError> {
        self.write("1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    /// A temp dir laid out like sysfs for hub 1-1 with ports 1..=4.
    fn fake_sysfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for p in 1..=4 {
            let port = d.path().join("1-1/1-1:1.0").join(format!("1-1-port{p}"));
            fs::create_dir_all(&port).unwrap();
            fs::write(port.join("disable"), "0\n").unwrap();
        }
        d
    }

    #[tokio::test]
    async fn off_writes_1_on_writes_0() {
        let sys = fake_sysfs();
        let mut s = UsbPortSwitch::new(sys.path(), "1-1", 2);
        let f = sys.path().join("1-1/1-1:1.0/1-1-port2/disable");
        assert_eq!(s.disable_file(), f);
        s.off().await.unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "1");
        s.on().await.unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "0");
        s.cycle(Duration::from_millis(1)).await.unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "0");
        let other = fs::read_to_string(sys.path().join("1-1/1-1:1.0/1-1-port3/disable")).unwrap();
        assert_eq!(other, "0\n", "other ports untouched");
    }

    #[tokio::test]
    async fn missing_port_names_the_hub_directory() {
        let sys = fake_sysfs();
        let mut s = UsbPortSwitch::new(sys.path(), "1-1", 9);
        let e = s.off().await.unwrap_err();
        assert!(
            e.message.contains("1-1-port9 does not exist"),
            "{}",
            e.message
        );
        assert!(e.message.contains("1-1:1.0"), "{}", e.message);
    }

    #[tokio::test]
    async fn read_only_attribute_gives_a_permission_error() {
        let sys = fake_sysfs();
        let f = sys.path().join("1-1/1-1:1.0/1-1-port1/disable");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o444)).unwrap();
        let mut s = UsbPortSwitch::new(sys.path(), "1-1", 1);
        let r = s.off().await;
        // root ignores file modes, so check the message on the error itself as well.
        if !nix::unistd::Uid::effective().is_root() {
            assert!(r
                .unwrap_err()
                .message
                .starts_with("permission denied writing 1"));
        }
        let e = s.io_error(
            &s.disable_file(),
            "1",
            std::io::Error::from(ErrorKind::PermissionDenied),
        );
        assert!(
            e.message.starts_with("permission denied writing 1 to"),
            "{}",
            e.message
        );
        assert!(e.message.contains("1-1-port1/disable"), "{}", e.message);
        assert!(e.message.contains("udev rule"), "{}", e.message);
    }

    #[tokio::test]
    async fn a_refused_change_is_detected() {
        let sys = fake_sysfs();
        // A directory named `disable` cannot be written: stands in for a hub that errors.
        let port = sys.path().join("1-1/1-1:1.0/1-1-port4");
        fs::remove_file(port.join("disable")).unwrap();
        fs::create_dir(port.join("disable")).unwrap();
        let mut s = UsbPortSwitch::new(sys.path(), "1-1", 4);
        let e = s.on().await.unwrap_err();
        assert!(e.message.starts_with("writing 0 to"), "{}", e.message);
    }

    /// A ganged hub as the kernel shows it: writes are accepted, and reading `disable` asks
    /// the hub for the port's power, which stays on while another port of the gang is on.
    struct GangedHub {
        written: std::sync::Arc<std::sync::Mutex<Vec<(PathBuf, String)>>>,
    }

    impl PortAttr for GangedHub {
        fn write(&self, path: &Path, value: &str) -> std::io::Result<()> {
            self.written
                .lock()
                .unwrap()
                .push((path.to_path_buf(), value.to_string()));
            Ok(())
        }
        fn read(&self, _path: &Path) -> std::io::Result<String> {
            Ok("0\n".into())
        }
    }

    #[tokio::test]
    async fn a_ganged_hub_is_not_read_back_after_disable() {
        let sys = fake_sysfs();
        let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut s = UsbPortSwitch::with_attr(
            sys.path(),
            "1-1",
            2,
            Box::new(GangedHub {
                written: written.clone(),
            }),
        );
        // The write succeeded; the port status still showing power is the hub being ganged,
        // not a refusal (uhubctl does not read back either).
        s.off().await.unwrap();
        s.on().await.unwrap();
        let w = written.lock().unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].1, "1");
        assert_eq!(w[1].1, "0");
    }

    #[tokio::test]
    async fn a_port_that_stays_unpowered_after_on_is_an_error() {
        struct Dead;
        impl PortAttr for Dead {
            fn write(&self, _: &Path, _: &str) -> std::io::Result<()> {
                Ok(())
            }
            fn read(&self, _: &Path) -> std::io::Result<String> {
                Ok("1\n".into())
            }
        }
        let sys = fake_sysfs();
        let mut s = UsbPortSwitch::with_attr(sys.path(), "1-1", 1, Box::new(Dead));
        let e = s.on().await.unwrap_err();
        assert!(e.message.contains("still reads disabled"), "{}", e.message);
    }

    #[tokio::test]
    async fn a_usb3_port_switches_its_companion_too() {
        let sys = fake_sysfs();
        // The USB 3 half of the same hub: hub 2-1, its port 2 peered with 1-1's port 2.
        let ss = sys.path().join("2-1/2-1:1.0/2-1-port2");
        fs::create_dir_all(&ss).unwrap();
        fs::write(ss.join("disable"), "0\n").unwrap();
        let hs = sys.path().join("1-1/1-1:1.0/1-1-port2");
        std::os::unix::fs::symlink("../../../2-1/2-1:1.0/2-1-port2", hs.join("peer")).unwrap();
        std::os::unix::fs::symlink("../../../1-1/1-1:1.0/1-1-port2", ss.join("peer")).unwrap();
        let mut s = UsbPortSwitch::new(sys.path(), "1-1", 2);
        assert!(s.describe().contains("USB 3 companion"), "{}", s.describe());
        s.off().await.unwrap();
        assert_eq!(fs::read_to_string(hs.join("disable")).unwrap(), "1");
        assert_eq!(fs::read_to_string(ss.join("disable")).unwrap(), "1");
        s.on().await.unwrap();
        assert_eq!(fs::read_to_string(hs.join("disable")).unwrap(), "0");
        assert_eq!(fs::read_to_string(ss.join("disable")).unwrap(), "0");
        // A USB 2 only port has no companion.
        assert!(UsbPortSwitch::new(sys.path(), "1-1", 3)
            .peer_dir()
            .is_none());
    }

    #[test]
    fn a_usb_port_does_not_claim_to_cut_power_unless_told() {
        let sys = fake_sysfs();
        assert!(!UsbPortSwitch::new(sys.path(), "1-1", 1).cuts_power());
    }
}
