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
    // Everything after the first refusal follows from it (the model refuses the init
    // command, so its data objects, CRCs, activation and flash differ too).
    scenario: Some("downgrade-debug"),
    what: "",
    why: "the genuine image is a debug build (pca10040_uart_debug Makefile: -DNRF_DFU_DEBUG_VERSION); \
          SDK 17.0.2 nrf_dfu_ver_validation.c, nrf_dfu_ver_validation_check, skips the hw_version, \
          sd_req and fw_version checks when NRF_DFU_DEBUG and the init command has is_debug set; \
          the model is the release build (no debug-version option), which refuses the downgrade",
}];

/// The explanation for `d`, if one rule matches it.
pub fn explain(d: &Difference) -> Option<&'static str> {
    EXPLAINED
        .iter()
        .find(|e| e.scenario.is_none_or(|s| s == d.scenario) && d.what.starts_with(e.what))
        .map(|e| e.why)
}
