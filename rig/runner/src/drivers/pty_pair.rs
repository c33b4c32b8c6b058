//! Test support: a pseudo-terminal pair. The rig opens the slave path like any serial port;
//! the test speaks the other side's protocol on the master.

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use std::fs::File;
use std::os::fd::{FromRawFd, IntoRawFd};

/// The master end (as a file) and the slave's path.
pub fn open() -> (File, String) {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).expect("posix_openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let path = ptsname_r(&master).expect("ptsname_r");
    // SAFETY: the fd comes from posix_openpt and is owned by nothing else.
    let file = unsafe { File::from_raw_fd(master.into_raw_fd()) };
    (file, path)
}
