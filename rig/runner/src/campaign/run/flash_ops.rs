//! `flash_op: all`: how many flash operations one clean update (with its activation) makes,
//! counted on the first (virtual) DUT by running the case up to its first update, unfaulted.

use super::campaign::CampaignOptions;
use super::dut::BenchDut;
use super::error::RunError;
use super::events::Quiet;
use super::executor::{Executor, IterationSpec, SETTLE};
use super::images::ImageStore;
use crate::campaign::suite::{Case, LoadedSuite, Step};

pub async fn count_flash_ops<D: BenchDut>(
    dut: &mut D,
    store: &mut ImageStore,
    suite: &LoadedSuite,
    case: &Case,
    opts: &CampaignOptions,
) -> Result<u32, RunError> {
    if !dut.sees_flash_ops() {
        return Err(RunError::Bench(format!(
            "case {}: `flash_op: all` needs a virtual DUT (real flash operations cannot be seen)",
            case.name
        )));
    }
    // The update the sweep cuts: the first one with a fault (the steps before it run clean).
    let Some(first) = case
        .steps
        .iter()
        .position(|s| matches!(s, Step::Dfu(d) if d.fault.is_some()))
    else {
        return Err(RunError::Suite(format!(
            "case {}: `flash_op: all` without a faulted dfu step",
            case.name
        )));
    };
    let mut dfu = case.steps[first].clone();
    if let Step::Dfu(d) = &mut dfu {
        d.fault = None;
    }
    let stop = opts.stop.clone();
    let (sdk, single_bank) = dut.bootloader().unzip();
    let spec = IterationSpec {
        iteration: 0,
        seed: opts.seed,
        timeouts: case.timeouts,
        base_version: 0,
        next_per_iteration: 1,
        sdk,
        single_bank: single_bank.unwrap_or(false),
        sd_fwid: None,
    };
    let mut spec = spec;
    let mut exec = Executor {
        dut,
        store,
        observer: &Quiet,
        stop: &stop,
    };
    let setup: Vec<Step> = suite
        .suite
        .setup
        .iter()
        .chain(case.setup.iter())
        .cloned()
        .collect();
    let a = exec.attempt(&spec, &setup).await;
    if let Some(f) = a.failure {
        return Err(RunError::Suite(format!(
            "case {}: counting flash operations, the setup failed: {}",
            case.name, f.message
        )));
    }
    spec.sd_fwid = {
        super::readback::read_dut(exec.dut)
            .ok()
            .map(|r| r.sd_req_default())
    };
    // Counted on the bootloader the sub-cases run, with the case's defects (bug-zoo's
    // no-settings-backup skips the backup page): a healthy build's extra operations would be
    // sub-cases whose cut can never land.
    let mut defects = case.defects.clone();
    defects.extend(opts.defects.iter().copied());
    if !defects.is_empty() {
        exec.dut.set_defects(Some(&defects));
    }
    let a = exec.attempt(&spec, &case.steps[..first]).await;
    if let Some(f) = a.failure {
        exec.dut.set_defects(None);
        return Err(RunError::Suite(format!(
            "case {}: counting flash operations, the steps before the update failed: {}",
            case.name, f.message
        )));
    }
    exec.dut.count_flash_ops(true);
    let a = exec.attempt(&spec, std::slice::from_ref(&dfu)).await;
    exec.dut.observe(SETTLE).await;
    let n = exec.dut.count_flash_ops(false).unwrap_or(0);
    if !defects.is_empty() {
        exec.dut.set_defects(None);
    }
    if let Some(f) = a.failure {
        return Err(RunError::Suite(format!(
            "case {}: counting flash operations, the clean update failed: {}",
            case.name, f.message
        )));
    }
    Ok(n)
}
