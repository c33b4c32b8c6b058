//! The log subscriber, installed once at the binary's edge: the library crates only emit tracing
//! spans and events. Logs go to stderr, so `--json` output on stdout stays machine-readable.

use tracing_subscriber::EnvFilter;

/// The rig's own crates (tracing targets are module paths, crate names with `_`).
const RIG_CRATES: [&str; 5] = [
    "rig",
    "nrf_dfu",
    "virtual_nrf52",
    "rig_lab",
    "virtual_bluez",
];

/// The filter for `-v` counted `verbose` times: without it only the rig's warnings; `-v` its
/// debug (and info) events; `-vv` everything it traces plus other crates' info (probe-rs,
/// btleplug); `-vvv` other crates' debug too. RUST_LOG, when set, replaces all of this.
pub fn filter_directives(verbose: u8) -> String {
    let (own, others) = match verbose {
        0 => ("warn", "off"),
        1 => ("debug", "warn"),
        2 => ("trace", "info"),
        _ => ("trace", "debug"),
    };
    let mut d = others.to_string();
    for c in RIG_CRATES {
        d.push_str(&format!(",{c}={own}"));
    }
    d
}

/// Install the subscriber. A RUST_LOG that does not parse is reported and the `-v` filter used.
pub fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG={spec:?} is not a valid filter ({e}); using -v's");
            EnvFilter::new(filter_directives(verbose))
        }),
        _ => EnvFilter::new(filter_directives(verbose)),
    };
    // A second install (never in the binary) would fail; there is nothing to do about it then.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_by_default_and_louder_per_v() {
        assert_eq!(
            filter_directives(0),
            "off,rig=warn,nrf_dfu=warn,virtual_nrf52=warn,rig_lab=warn,virtual_bluez=warn"
        );
        assert!(filter_directives(1).starts_with("warn,rig=debug,"));
        assert!(filter_directives(2).starts_with("info,rig=trace,"));
        assert!(filter_directives(9).starts_with("debug,rig=trace,"));
        for v in 0..4 {
            EnvFilter::try_new(filter_directives(v)).expect("directives parse");
        }
    }
}
