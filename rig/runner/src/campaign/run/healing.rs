//! Healing between iterations, as an explicit and reported policy: a device that is neither
//! running an app nor waiting in DFU mode is power-cycled; one that stays silent is reflashed
//! through SWD with the suite's setup. Every action is a journal record.

use super::dut::{BenchDut, Observed};
use super::executor::{Executor, IterationSpec, SETTLE};
use crate::campaign::journal::{HealingAction, HealingRecord};
use crate::campaign::suite::{PowerAction, Step};
use std::time::{Duration, Instant as WallInstant};

/// Off time of a healing power cycle.
pub const CYCLE_OFF: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Healed {
    /// Nothing to do: an app runs or the bootloader waits.
    Healthy,
    /// A power cycle brought it back: it was stuck.
    PowerCycle,
    /// Only an SWD reflash brought it back: it was bricked.
    Reflash,
    /// Nothing brought it back.
    Failed,
}

fn reachable(o: &Observed) -> bool {
    matches!(o, Observed::App { .. } | Observed::Bootloader)
}

/// Heal the DUT if it needs it. `context` names the sub-case and iteration for the records.
pub async fn heal<D: BenchDut>(
    exec: &mut Executor<'_, D>,
    setup: &[Step],
    spec: &IterationSpec,
    context: (Option<&str>, Option<u32>),
    records: &mut Vec<HealingRecord>,
) -> Healed {
    let seen = exec.dut.observe(SETTLE).await;
    if reachable(&seen) {
        return Healed::Healthy;
    }
    let record = |exec: &Executor<'_, D>,
                  action,
                  reason: String,
                  ok,
                  t0: std::time::Duration,
                  w0: WallInstant| HealingRecord {
        dut: exec.dut.name().to_string(),
        sub_case: context.0.map(str::to_string),
        iteration: context.1,
        action,
        reason,
        ok,
        duration_ms: (exec.dut.now().saturating_sub(t0)).as_millis() as u64,
        wall_ms: w0.elapsed().as_millis() as u64,
    };
    let (t0, w0) = (exec.dut.now(), WallInstant::now());
    let cycled = exec.dut.power(PowerAction::Cycle, CYCLE_OFF).await;
    let after = exec.dut.observe(SETTLE).await;
    let ok = cycled.is_ok() && reachable(&after);
    let reason = match &cycled {
        Ok(()) => format!(
            "{}; after the power cycle {}",
            seen.describe(),
            after.describe()
        ),
        Err(f) => format!("{}; the power cycle failed: {}", seen.describe(), f.message),
    };
    records.push(record(exec, HealingAction::PowerCycle, reason, ok, t0, w0));
    if ok {
        return Healed::PowerCycle;
    }
    let (t0, w0) = (exec.dut.now(), WallInstant::now());
    let flashed = exec.attempt(spec, setup).await;
    let after = exec.dut.observe(SETTLE).await;
    let ok = flashed.failure.is_none() && reachable(&after);
    let reason = match &flashed.failure {
        None => format!(
            "still silent after a power cycle; after reflashing {}",
            after.describe()
        ),
        Some(f) => format!(
            "still silent after a power cycle; reflashing failed: {}",
            f.message
        ),
    };
    records.push(record(exec, HealingAction::SwdReflash, reason, ok, t0, w0));
    if ok {
        Healed::Reflash
    } else {
        Healed::Failed
    }
}
