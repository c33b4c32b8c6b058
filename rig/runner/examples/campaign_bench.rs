//! Benchmark of `rig run suites/nightly-soak.yaml` on the virtual bench with a 100 KB
//! application: CPU time per update against the cryptography's floor, wall time, simulated time
//! and peak memory, for 1 and for N DUTs at once.
//!
//!     cargo run --release -p rig --example campaign_bench -- [DUTS] [ITERATIONS]
//!
//! The soak's two images are replaced by 100 KB stand-in apps (A and B); everything else is the
//! shipped suite. The floor is what an update cannot avoid, measured in this process on the
//! same image: SHA-256 of the image twice (the package's hash, the bootloader's check),
//! signing the init packet and verifying it (P-256), and three CRC-32s of the image (the
//! client's and the bootloader's per-object CRCs, the CRC the bootloader stores for boot
//! validation). CPU time is the process's (every thread), so with N DUTs it is the work, not
//! the wall time. Peak memory is the process's VmHWM, read before and after so a growth with
//! the number of iterations shows.
//!
//! Profile, the command (symbols by `addr2line -f -C -e BINARY ADDRESS` where perf shows bare
//! addresses):
//!
//!     perf record -F 999 target/release/examples/campaign_bench 1 60
//!     perf report --no-children --sort sym --stdio
//!
//! Before (issue 15, 4 100 samples): about 36 % writing each version's image as Intel HEX and
//! parsing it back, about 20 % number formatting, 4 % reading the clock. After (2026-12-06,
//! 2-core machine at load ~20 from other builds): a flat profile, nothing above 6 %: kernel
//! context switches 5.5 % (DUT threads waking the journal thread; progress events are now
//! sent in 10 % steps), memmove 3 %, clock_gettime 2.7 % + 0.7 % (still there, source not
//! found), malloc/free about 6 % together, then P-256 field arithmetic, the virtual device's
//! flash queue and `Core` bookkeeping, each under 1 %. What is left is spread over the
//! virtual device's model of every BLE packet and flash word, not one hot spot.

use nrf_dfu::image::{write_intel_hex, Firmware, Segments};
use nrf_dfu::package::{generate_package, GenerateOptions, ImageInput};
use nrf_dfu::signing::SigningKey;
use nrf_dfu::Chip;
use rig::campaign::journal::BenchInfo;
use rig::campaign::run::virtual_dut::run_on_virtual_bench;
use rig::campaign::run::{CampaignOptions, StopFlag};
use rig::campaign::suite::LoadedSuite;
use rig::sim::images::{sample_app, SAMPLE_APP_BASE, TEST_KEY_PEM};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};
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

/// CPU time of the whole process (all threads).
fn cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "process CPU clock");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The unavoidable work of one update of `firmware`, in CPU time (best of several rounds).
fn floor(firmware: &Firmware, key: &SigningKey) -> Duration {
    let package = generate_package(GenerateOptions {
        hw_version: Some(52),
        application: Some(ImageInput::firmware("app.hex", firmware.clone())),
        application_version: Some(1),
        sd_req: Some(vec![0x0101]),
        key: Some(key.clone()),
        ..Default::default()
    })
    .expect("package")
    .package;
    let init = package.images()[0]
        .init_packet
        .init_command_bytes()
        .to_vec();
    let public = key.public_key();
    let fw = &firmware.bin;
    let once = || {
        black_box(Sha256::digest(black_box(fw)));
        black_box(Sha256::digest(black_box(fw)));
        let sig = key.sign_nordic(black_box(&init));
        public
            .verify_nordic(&init, &sig)
            .expect("signature verifies");
        for _ in 0..3 {
            black_box(nrf_dfu::crc::crc32(black_box(fw)));
        }
    };
    const ROUNDS: u32 = 50;
    (0..5)
        .map(|_| {
            let t = cpu();
            for _ in 0..ROUNDS {
                once();
            }
            (cpu() - t) / ROUNDS
        })
        .min()
        .expect("rounds")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let duts: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let iterations: Option<u32> = args.get(2).and_then(|a| a.parse().ok());
    let dir = tempfile::tempdir().expect("temp dir");
    let key = SigningKey::from_pem(TEST_KEY_PEM).expect("key");
    let mut firmware = None;
    for (name, version) in [("app-a", 1), ("app-b", 2)] {
        let img = standin::app_image(
            &sample_app(version),
            Chip::Nrf52832Qfaa,
            SAMPLE_APP_BASE,
            APP_SIZE,
        )
        .expect("100 KB stand-in app");
        let segs = Segments::from_runs([(SAMPLE_APP_BASE, img.as_slice())]).expect("segments");
        firmware.get_or_insert(Firmware::from_segments(&segs).expect("firmware"));
        std::fs::write(
            dir.path().join(format!("{name}.hex")),
            write_intel_hex(&segs),
        )
        .expect("write hex");
    }
    let floor = floor(&firmware.expect("app A"), &key);
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
        key,
        suite_path: "suites/nightly-soak.yaml".into(),
        replay_args: Vec::new(),
    };
    let before = vm_hwm_kb();
    let (wall, cpu0) = (Instant::now(), cpu());
    let r = run_on_virtual_bench(&suite, duts, &opts, &|_: rig::campaign::run::RunEvent<
        '_,
    >| {})
    .expect("campaign runs");
    let (wall, cpu) = (wall.elapsed(), cpu() - cpu0);
    // Simulated time: the campaign's own clock, from its journal footer.
    let simulated = Duration::from_millis(
        r.rebuilt
            .journals
            .first()
            .and_then(|j| j.footer.as_ref())
            .map_or(0, |f| f.duration_ms),
    );
    let updates = r.iterations * 2;
    let per_update = cpu / updates.max(1) as u32;
    println!(
        "nightly-soak, {duts} DUT(s), {} iterations ({updates} updates of {} KB): wall {:.2} s, CPU {:.2} s, simulated {:.1} min, {:.0} updates/wall s, failed: {}, peak RSS {} KB (before the campaign {} KB)",
        r.iterations,
        APP_SIZE / 1024,
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        simulated.as_secs_f64() / 60.0,
        updates as f64 / wall.as_secs_f64(),
        r.failed,
        vm_hwm_kb(),
        before
    );
    println!(
        "CPU per update {:.3} ms, floor {:.3} ms (SHA-256 x2, P-256 sign + verify, CRC-32 x3 of the image), ratio {:.1}",
        per_update.as_secs_f64() * 1000.0,
        floor.as_secs_f64() * 1000.0,
        per_update.as_secs_f64() / floor.as_secs_f64()
    );
}
