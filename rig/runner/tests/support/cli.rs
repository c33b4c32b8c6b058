//! Running the built `rig` binary from the CLI tests: one way to start it and read what it said.

use std::path::Path;
use std::process::{Command, Output};

/// The `rig` binary cargo built for these tests.
pub const RIG: &str = env!("CARGO_BIN_EXE_rig");

/// `exe ARGS` in `dir`, not yet started (to add environment or stdin). The caller's terminal
/// width (`COLUMNS`) is removed, so what a test reads does not depend on the terminal it was
/// started from.
pub fn command(exe: impl AsRef<Path>, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(exe.as_ref());
    c.args(args).current_dir(dir).env_remove("COLUMNS");
    c
}

/// `exe ARGS` run in `dir`.
pub fn run(exe: impl AsRef<Path>, dir: &Path, args: &[&str]) -> Output {
    let exe = exe.as_ref();
    command(exe, dir, args)
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", exe.display()))
}

/// `rig ARGS` run in `dir`.
pub fn rig(dir: &Path, args: &[&str]) -> Output {
    run(RIG, dir, args)
}

/// The package directory, where `cargo test` starts the tests.
pub fn here() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `rig ARGS` run in the package directory: exit code, stdout, stderr.
pub fn rig_here(args: &[&str]) -> (i32, String, String) {
    parts(&rig(here(), args))
}

/// stdout and stderr as text.
pub fn streams(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Exit code (-1 when killed by a signal), stdout and stderr.
pub fn parts(o: &Output) -> (i32, String, String) {
    let (out, err) = streams(o);
    (o.status.code().unwrap_or(-1), out, err)
}

/// stdout followed by stderr, for assertions about either.
pub fn text(o: &Output) -> String {
    let (out, err) = streams(o);
    out + &err
}
