//! A background lab for the CLI tests: `rig lab up` in a temporary directory, the rig run
//! against its bench file, and checks that `rig lab down` leaves nothing behind.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const RIG: &str = env!("CARGO_BIN_EXE_rig");

pub struct Lab {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub pid: Option<i32>,
}

impl Lab {
    pub fn new_dir() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lab");
        Lab {
            tmp,
            dir,
            pid: None,
        }
    }

    pub fn up(duts: usize, extra: &[&str]) -> Lab {
        Lab::up_in(Lab::new_dir(), duts, extra)
    }

    pub fn up_in(mut l: Lab, duts: usize, extra: &[&str]) -> Lab {
        let n = duts.to_string();
        let mut args = vec!["up", "--duts", &n];
        args.extend_from_slice(extra);
        let out = l.lab(&args);
        assert!(
            out.status.success(),
            "rig lab up: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(l.dir.join("lab.log")).unwrap_or_default()
        );
        l.pid = std::fs::read_to_string(l.dir.join("lab.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        assert!(l.pid.is_some());
        l
    }

    pub fn lab(&self, args: &[&str]) -> Output {
        let mut a = vec!["lab", args[0], "--dir", self.dir.to_str().unwrap()];
        a.extend_from_slice(&args[1..]);
        Command::new(RIG).args(&a).output().unwrap()
    }

    pub fn lab_err(&self, args: &[&str]) -> String {
        let out = self.lab(args);
        assert!(!out.status.success(), "rig lab {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn bench(&self) -> String {
        self.dir.join("bench.yaml").display().to_string()
    }

    /// `rig ARGS --bench DIR/bench.yaml`.
    pub fn rig(&self, args: &[&str]) -> Output {
        Command::new(RIG)
            .args(args)
            .args(["--bench", &self.bench()])
            .output()
            .unwrap()
    }

    pub fn rig_ok(&self, args: &[&str]) -> String {
        let out = self.rig(args);
        assert!(
            out.status.success(),
            "rig {args:?}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn rig_err(&self, args: &[&str]) -> String {
        let out = self.rig(args);
        assert!(!out.status.success(), "rig {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("lab.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().rev().take(30).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    pub fn status(&self) -> Value {
        let out = self.lab(&["status", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn dut_status(&self, dut: &str) -> Value {
        self.status()["duts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == dut)
            .cloned()
            .unwrap()
    }

    /// The DUT's supply as the lab reports it once it has settled to `on` (at most 5 s): a
    /// PPK2 takes its command from the serial line when the lab's host thread reads it, after
    /// `rig power` has returned, as a real PPK2 does.
    pub fn supply_settles(&self, dut: &str, on: bool) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let now_on = self.dut_status(dut)["supply_on"] == on;
            if now_on || std::time::Instant::now() > deadline {
                return now_on;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn kill9(&mut self) {
        let pid = self.pid.take().expect("lab running");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
        wait_gone(pid);
    }

    pub fn down_and_check_clean(mut self) {
        let out = self.lab(&["down"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(pid) = self.pid.take() {
            wait_gone(pid);
        }
        self.check_clean();
    }

    /// No socket, pty link or pid file left in the directory.
    pub fn check_clean(&self) {
        for e in std::fs::read_dir(&self.dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let ft = std::fs::symlink_metadata(e.path()).unwrap().file_type();
            use std::os::unix::fs::FileTypeExt;
            assert!(!ft.is_socket(), "socket {name} left");
            assert!(!ft.is_symlink(), "pty link {name} left");
            assert!(name != "lab.pid", "pid file left");
        }
    }
}

fn alive(pid: i32) -> bool {
    // A zombie still answers kill(0): look at /proc for its state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')),
        Err(_) => false,
    }
}

pub fn wait_gone(pid: i32) {
    let t = Instant::now();
    while alive(pid) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "lab pid {pid} still running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        }
    }
}
