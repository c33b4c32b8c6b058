//! Benchmark of `rig run suites/nightly-soak.yaml` on the virtual bench with a 100 KB
//! application: wall time, simulated time and peak memory, for 1 and for N DUTs at once.
//!
//!     cargo run --release -p rig --example campaign_bench -- [DUTS] [ITERATIONS]
//!
//! The soak's two images are replaced by 100 KB stand-in apps (A and B); everything else is the
//! shipped suite. Peak memory is the process's VmHWM, read before and after so a growth with the
//! number of iterations shows.

use nrf_dfu::image::{write_intel_hex, Segments};
use nrf_dfu::Chip;
use rig::campaign::journal::BenchInfo;
use rig::campaign::run::virtual_dut::run_on_virtual_bench;
use rig::campaign::run::{CampaignOptions, StopFlag};
use rig::campaign::suite::LoadedSuite;
use rig::sim::images::{sample_app, SAMPLE_APP_BASE, TEST_KEY_PEM};
use std::path::Path;
use std::time::Instant;
use virtual_nrf52::standin;

const APP_SIZE: u32 = 100 * 1024;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let duts: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let iterations: Option<u32> = args.get(2).and_then(|a| a.parse().ok());
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, version) in [("app-a", 1), ("app-b", 2)] {
        let img = standin::app_image(
            &sample_app(version),
            Chip::Nrf52832Qfaa,
            SAMPLE_APP_BASE,
            APP_SIZE,
        )
        .expect("100 KB stand-in app");
        let segs = Segments::from_runs([(SAMPLE_APP_BASE, img.as_slice())]).expect("segments");
        std::fs::write(
            dir.path().join(format!("{name}.hex")),
            write_intel_hex(&segs),
        )
        .expect("write hex");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("suites/nightly-soak.yaml"))
        .expect("suite")
        .replace("standin:app-a", "app-a.hex")
        .replace("standin:app-b", "app-b.hex")
        // Long runs (ITERATIONS above the suite's) must not stop at the night's time budget.
        .replace("time_budget_s: 28800", "time_budget_s: 100000000");
    let path = dir.path().join("nightly-soak.yaml");
    std::fs::write(&path, text).expect("write suite");
    let suite = LoadedSuite::read(&path).expect("suite loads");
    let opts = CampaignOptions {
        seed: 1,
        iterations,
        replay: None,
        out_dir: dir.path().join("out"),
        defects: vec![],
        bench: BenchInfo::virtual_bench(),
        stop: StopFlag::default(),
        key: nrf_dfu::signing::SigningKey::from_pem(TEST_KEY_PEM).expect("key"),
        suite_path: "suites/nightly-soak.yaml".into(),
        replay_args: Vec::new(),
    };
    let before = vm_hwm_kb();
    let wall = Instant::now();
    let r = run_on_virtual_bench(&suite, duts, &opts, &|_: rig::campaign::run::RunEvent<
        '_,
    >| {})
    .expect("campaign runs");
    let wall = wall.elapsed();
    // Simulated time: the campaign's own clock, from its journal footer.
    let simulated = std::time::Duration::from_millis(
        r.rebuilt
            .journals
            .first()
            .and_then(|j| j.footer.as_ref())
            .map_or(0, |f| f.duration_ms),
    );
    let updates = r.iterations * 2;
    println!(
        "nightly-soak, {duts} DUT(s), {} iterations ({updates} updates of {} KB): wall {:.2} s, simulated {:.1} min, {:.0} updates/wall s, failed: {}, peak RSS {} KB (before the campaign {} KB)",
        r.iterations,
        APP_SIZE / 1024,
        wall.as_secs_f64(),
        simulated.as_secs_f64() / 60.0,
        updates as f64 / wall.as_secs_f64(),
        r.failed,
        vm_hwm_kb(),
        before
    );
}
