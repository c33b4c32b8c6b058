//! What a differential run found: every difference (scenario, step, what, the model's value,
//! the genuine code's), never filtered; those the project has explained carry the
//! explanation, and the rest decide the exit status.

use serde::Serialize;
use std::fmt::Write as _;

/// One difference between the model and the genuine code on the same traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub scenario: String,
    /// The client's step (numbered within the scenario) and what it did.
    pub step: String,
    /// The response to which request, or which field or region of flash.
    pub what: String,
    pub model: String,
    pub genuine: String,
    /// Why the model differs on purpose, with the SDK source that shows it (see
    /// [`super::explained`]); `None` when nobody has explained it.
    pub explained: Option<String>,
}

/// One scenario as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRun {
    pub name: String,
    /// The interruption point, when the scenario has one.
    pub point: Option<String>,
    /// Requests compared.
    pub requests: usize,
    /// State comparisons (after each reset and at the end).
    pub states: usize,
    /// How the client's procedure ended on the genuine code (`completed`, or the refusal).
    pub outcome: String,
    pub differences: Vec<Difference>,
    /// A setup or run problem (the scenario could not be compared to the end).
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub seed: u64,
    pub points: usize,
    pub key_patch: super::images::KeyPatch,
    pub app_bytes: usize,
    pub scenarios: Vec<ScenarioRun>,
    pub differences: usize,
    pub unexplained: usize,
    pub errors: usize,
}

impl DiffReport {
    pub fn new(
        seed: u64,
        points: usize,
        key_patch: super::images::KeyPatch,
        app_bytes: usize,
        scenarios: Vec<ScenarioRun>,
    ) -> DiffReport {
        let all = scenarios.iter().flat_map(|s| &s.differences);
        let differences = all.clone().count();
        let unexplained = all.filter(|d| d.explained.is_none()).count();
        let errors = scenarios.iter().filter(|s| s.error.is_some()).count();
        DiffReport {
            seed,
            points,
            key_patch,
            app_bytes,
            scenarios,
            differences,
            unexplained,
            errors,
        }
    }

    /// Whether every difference is explained and every scenario ran to its end.
    pub fn clean(&self) -> bool {
        self.unexplained == 0 && self.errors == 0
    }

    /// The human report: differences grouped by scenario, then one summary line.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for run in &self.scenarios {
            let point = run
                .point
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "{}{point}: {} requests, {} state checks, {}; {} difference(s)",
                run.name,
                run.requests,
                run.states,
                run.outcome,
                run.differences.len()
            );
            if let Some(e) = &run.error {
                let _ = writeln!(s, "  ERROR: {e}");
            }
            for d in &run.differences {
                let tag = if d.explained.is_some() {
                    "explained"
                } else {
                    "DIFFERS"
                };
                let _ = writeln!(s, "  {tag} at {}: {}", d.step, d.what);
                let _ = writeln!(s, "    model:   {}", d.model);
                let _ = writeln!(s, "    genuine: {}", d.genuine);
                if let Some(why) = &d.explained {
                    let _ = writeln!(s, "    why:     {why}");
                }
            }
        }
        let _ = writeln!(
            s,
            "{} scenario run(s) (seed {}, {} point(s) per interruption): {} difference(s), {} unexplained, {} error(s)",
            self.scenarios.len(),
            self.seed,
            self.points,
            self.differences,
            self.unexplained,
            self.errors
        );
        s
    }
}
