//! One lab per directory: the running lab holds an exclusive `flock` on DIR/lab.lock for its
//! whole life. The kernel drops it when the process dies (kill -9 included), so a lock file left
//! behind is never mistaken for a running lab.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("a lab is already running in {dir}{pid}: stop it with `rig lab down --dir {dir}`, or use another --dir")]
    Held { dir: String, pid: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The held lock (released on drop or process exit).
#[derive(Debug)]
pub struct LabLock {
    _flock: Flock<File>,
}

/// Take the lock at `path` (DIR/lab.lock); `pid_file` names the holder in the error.
pub fn acquire(path: &Path, dir: &Path, pid_file: &Path) -> Result<LabLock, LockError> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| LockError::Io {
            path: path.into(),
            source,
        })?;
    match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
        Ok(l) => Ok(LabLock { _flock: l }),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(LockError::Held {
            dir: dir.display().to_string(),
            pid: std::fs::read_to_string(pid_file)
                .map(|p| format!(" (pid {})", p.trim()))
                .unwrap_or_default(),
        }),
        Err((_, e)) => Err(LockError::Io {
            path: path.into(),
            source: e.into(),
        }),
    }
}

/// Whether a lab holds the lock on `path` now (without keeping it).
pub fn is_held(path: &Path) -> bool {
    let Ok(f) = OpenOptions::new().write(true).open(path) else {
        return false;
    };
    Flock::lock(f, FlockArg::LockExclusiveNonblock).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let d = tempfile::tempdir().unwrap();
        let (lock, pid) = (d.path().join("lab.lock"), d.path().join("lab.pid"));
        std::fs::write(&pid, "4242\n").unwrap();
        let held = acquire(&lock, d.path(), &pid).unwrap();
        assert!(is_held(&lock));
        let e = acquire(&lock, d.path(), &pid).unwrap_err().to_string();
        assert!(
            e.contains("already running") && e.contains("(pid 4242)"),
            "{e}"
        );
        assert!(e.contains("rig lab down --dir"), "{e}");
        drop(held);
        assert!(!is_held(&lock));
        acquire(&lock, d.path(), &pid).unwrap();
    }
}
