//! `rig`: the binary's edge. Parses arguments, calls library code, prints.

mod cli;
use rig::sim;

use rig as _;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // `rig ... | head` must end quietly, as Unix tools do, not panic in println!: restore the
    // default SIGPIPE action that the Rust runtime replaces with "ignore".
    // SAFETY: called first thing in main, before any other thread exists.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
