//! Progress bars of long commands: drawn on stderr when it is a terminal, hidden otherwise
//! (CI logs, pipes) or when the output is JSON.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar with `template` (indicatif's syntax), hidden when `quiet` or stderr is not a terminal.
pub fn bar(quiet: bool, template: &str) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
