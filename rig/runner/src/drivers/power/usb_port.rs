//! A USB hub port switched through Linux sysfs: writing 1 to
//! `/sys/bus/usb/devices/<hub>/<hub>:1.0/<hub>-port<N>/disable` turns the port off (the kernel
//! logically disconnects it and, on hubs with per-port power switching, removes VBUS), 0 turns
//! it on (teleprobe's trick; no uhubctl needed). Whether VBUS really drops depends on the hub:
//! ganged hubs only disconnect data, so the bench file states `cuts_power`.

use super::{PowerError, PowerSwitch};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where the kernel lists USB devices.
pub const SYSFS_USB_DEVICES: &str = "/sys/bus/usb/devices";

pub struct UsbPortSwitch {
    /// The port directory (holds `disable`).
    port_dir: PathBuf,
    pub cuts_power: bool,
}

impl UsbPortSwitch {
    /// The port `port` (1-based) of hub `hub` (a sysfs device name such as `1-1` or `3-2.4`),
    /// under `sysfs_root` ([`SYSFS_USB_DEVICES`] on a real host).
    pub fn new(sysfs_root: &Path, hub: &str, port: u32) -> UsbPortSwitch {
        UsbPortSwitch {
            port_dir: sysfs_root
                .join(hub)
                .join(format!("{hub}:1.0"))
                .join(format!("{hub}-port{port}")),
            cuts_power: true,
        }
    }

    pub fn disable_file(&self) -> PathBuf {
        self.port_dir.join("disable")
    }

    /// A failed write of `value`, explained.
    fn io_error(&self, value: &str, e: std::io::Error) -> PowerError {
        let path = self.disable_file();
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
        let path = self.disable_file();
        let err = |m: String| PowerError::new(self.describe(), m);
        if !self.port_dir.is_dir() {
            return Err(err(format!(
                "{} does not exist: check the hub name and port number (`ls {}` lists the hub's ports); \
                 the `disable` attribute needs Linux 4.20 or later",
                self.port_dir.display(),
                self.port_dir.parent().map(|p| p.display().to_string()).unwrap_or_default()
            )));
        }
        fs::write(&path, value).map_err(|e| self.io_error(value, e))?;
        // Read back: the kernel reports the state it applied.
        let now = fs::read_to_string(&path)
            .map_err(|e| err(format!("reading back {}: {e}", path.display())))?;
        if now.trim() != value {
            return Err(err(format!(
                "wrote {value} to {} but it reads {:?}: the hub refused the change",
                path.display(),
                now.trim()
            )));
        }
        Ok(())
    }
}

impl PowerSwitch for UsbPortSwitch {
    fn describe(&self) -> String {
        format!("USB port {}", self.port_dir.display())
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
        let e = s.io_error("1", std::io::Error::from(ErrorKind::PermissionDenied));
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
}
