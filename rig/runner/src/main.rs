//! `rig`: the binary's edge. Parses arguments, calls library code, prints.

mod cli;
use rig::sim;

use rig as _;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // `rig ... | head` must end quietly, as Unix tools do, not panic in println!: SIGPIPE ends
    // the process as its default action would (the Rust runtime sets it to "ignore"). signal-hook
    // emulates the default action (SIG_DFL restored, the signal raised again) without unsafe code.
    let _ = signal_hook::flag::register_conditional_default(
        signal_hook::consts::SIGPIPE,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
    );
    let args = cli::Cli::parse();
    let verbose = args.verbose;
    cli::logging::init(verbose);
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", cli::errors::render(&err));
            // With -v every cause on its own line, as the error types hold them.
            if verbose > 0 {
                for cause in err.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            }
            std::process::ExitCode::FAILURE
        }
    }
}
