//! The differences the project has looked at and kept on purpose, each with the SDK source
//! that explains it. A difference matches a rule by scenario and by what differs; matched
//! ones are still reported (with the explanation), only unexplained ones fail the run.

use super::report::Difference;

/// One explained difference.
pub struct Explained {
    /// Scenario family (`None`: any).
    pub scenario: Option<&'static str>,
    /// What differs: the start of [`Difference::what`].
    pub what: &'static str,
    /// Why, with the SDK 17.0.2 file and function.
    pub why: &'static str,
}

/// The list (docs/ARCHITECTURE.md, "The differential run (issue 17)", has the same table).
pub const EXPLAINED: &[Explained] = &[Explained {
    scenario: None,
    what: "resets during the first boot",
    why: "the genuine image is built with CONFIG_GPIO_AS_PINRESET (pca10040_uart_debug Makefile) \
          and its HEX does not set UICR.PSELRESET: on the first boot the MDK's SystemInit \
          (modules/nrfx/mdk/system_nrf52.c) writes PSELRESET[0..1] = 21 and calls \
          NVIC_SystemReset (RESETREAS SREQ). The stand-in bootloader HEX carries the two words \
          already (virtual-nrf52 standin.rs, bootloader_segments), so the model boots once; \
          no DFU client sees the difference",
}];

/// The explanation for `d`, if one rule matches it.
pub fn explain(d: &Difference) -> Option<&'static str> {
    EXPLAINED
        .iter()
        .find(|e| e.scenario.is_none_or(|s| s == d.scenario) && d.what.starts_with(e.what))
        .map(|e| e.why)
}
