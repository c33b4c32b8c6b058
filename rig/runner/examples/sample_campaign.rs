//! Two nights of a nightly soak on a two-DUT bench, written through the journal writer with
//! realistic records (protocol evidence, RTT lines, retries, bench errors, a brick), then the
//! reports rebuilt from them with the first night as history: what `rig run` + `rig report`
//! produce, for looking at report.html and for scripts/report-page-test.sh before a real
//! campaign exists.
//!
//! `cargo run -p rig --example sample_campaign -- DIR [SOAK_ITERATIONS]` writes DIR/night-1/ and DIR/night-2/
//! (each with journal.jsonl; night-2 also junit.xml, summary.txt, summary.json, report.html).
//! SOAK_ITERATIONS (default 250) sizes the soak case, e.g. 5000 for a 10 000-update night per
//! DUT pair. On night 2, dut1 carries a defect: EXECUTE times out far more often, and once it bricks.

use rig::campaign::journal::*;
use rig::campaign::report::rebuild_with_history;
use rig::campaign::suite::{Fault, FaultAction, FaultAt};
use rig::campaign::{FailureClass, ObjectRef, Outcome, Phase, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SOAK: &str = "soak";
const RESET: &str = "reset-mid-transfer[fault_action=reset]";
const IMAGE_BYTES: u64 = 24_576;

/// splitmix64: deterministic without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..1.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn header(night: u32) -> Header {
    let dut = |name: &str, addr: &str| DutInfo {
        name: name.into(),
        chip: "nRF52832_xxAA".into(),
        bootloader: "SDK 17.1 ble".into(),
        softdevice: Some("s132_nrf52_7.2.0 (FWID 0x0101)".into()),
        firmware: BTreeMap::from([
            ("app".into(), "3".into()),
            ("bootloader".into(), "2".into()),
        ]),
        details: BTreeMap::from([
            ("address".into(), addr.into()),
            ("probe".into(), "J-Link 000683512345".into()),
        ]),
    };
    Header {
        defect_cases: Default::default(),
        format: FORMAT,
        tool: "rig".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        suite: SuiteRef {
            name: "nightly-soak".into(),
            path: "suites/nightly-soak.yaml".into(),
            sha256: "5e".repeat(32),
        },
        seed: 0x2026_0900 + u64::from(night),
        bench: BenchInfo {
            name: "lab-1".into(),
            kind: BenchKind::Hardware,
            file: Some("benches/lab-1.yaml".into()),
            host: Some("ci-bench-01".into()),
        },
        duts: vec![
            dut("dut0", "F0:0D:00:00:00:01"),
            dut("dut1", "F0:0D:00:00:00:02"),
        ],
        wall_start: format!("2026-09-0{night}T02:00:00+00:00"),
        replay_args: Vec::new(),
    }
}

/// The protocol events of an update up to `objects` data objects, and the device's RTT log.
fn evidence(rng: &mut Rng, objects: u32, end: &str, rtt_end: &str) -> Evidence {
    let mut e = Evidence::default();
    e.event(0, "enter DFU: buttonless indication, GPREGRET=0xB1, reset");
    e.event(
        1_850,
        "connected to DfuTarg F0:0D:00:00:00:02, ATT MTU 247, PRN 0",
    );
    e.rtt_line(1_900, "<info> app: Inside main");
    e.rtt_line(1_910, "<info> nrf_bootloader_wdt: WDT is not enabled");
    e.event(2_010, "SELECT command: max 512, offset 0, crc 0x00000000");
    e.event(
        2_080,
        "CREATE command 141 B; WRITE init packet; CRC_GET 0x8f3a21c4 ok; EXECUTE ok",
    );
    e.rtt_line(
        2_300,
        "<info> nrf_dfu_validation: Signature check ok (ECDSA P-256)",
    );
    let mut t = 2_400;
    for k in 0..objects {
        t += 3_000 + rng.next() % 400;
        e.event(
            t,
            format!(
                "CREATE data #{k} 4096 B at offset {}; WRITE 4096 B; CRC ok; EXECUTE ok",
                k * 4096
            ),
        );
        e.rtt_line(
            t + 40,
            format!(
                "<info> nrf_dfu_flash: Flash erase success: addr=0x{:08x}, pending 0",
                0x26000 + k * 4096
            ),
        );
    }
    e.event(t + 500, end);
    e.rtt_line(t + 520, rtt_end);
    e
}

fn iteration(rng: &mut Rng, night: u32, dut: &str, sub_case: &str, i: u32) -> IterationRecord {
    let defect = night == 2 && dut == "dut1";
    let r = rng.unit();
    let timeout_rate = if defect { 0.09 } else { 0.01 };
    let reset = sub_case == RESET;
    let update_ms = 17_000 + rng.next() % 3_000 + if reset { 6_000 } else { 0 };
    let mut it = IterationRecord {
        resume: None,
        case: sub_case.split('[').next().unwrap_or(sub_case).into(),
        sub_case: sub_case.into(),
        params: if reset {
            BTreeMap::from([("fault_action".into(), "reset".into())])
        } else {
            BTreeMap::new()
        },
        dut: dut.into(),
        iteration: i,
        seed: rng.next(),
        planned_fault: reset.then(|| Fault {
            action: FaultAction::Reset,
            at: FaultAt::Percent((rng.unit() * 100.0 * 10.0).round() / 10.0),
        }),
        outcome: Some(if reset {
            if i.is_multiple_of(2) {
                Outcome::Resumed
            } else {
                Outcome::Restarted
            }
        } else {
            Outcome::Completed
        }),
        verdict: Verdict::Pass,
        failure_class: None,
        message: None,
        failed_at: None,
        retries: vec![],
        duration_ms: update_ms + 4_000,
        update_ms: Some(update_ms),
        bytes: IMAGE_BYTES,
        wall_ms: update_ms + 4_200,
        evidence: evidence(
            rng,
            6,
            "EXECUTE data #5 ok; activation: bootloader swapped bank 1 into bank 0",
            "<info> app: Inside main (version 4)",
        ),
    };
    let class = |s: &str| -> FailureClass { s.parse().expect("a valid failure class") };
    if defect && i == 140 && sub_case == SOAK {
        it.verdict = Verdict::Fail;
        it.outcome = Some(Outcome::Bricked);
        it.failure_class = Some(class("dut.brick"));
        it.message = Some(
            "no advertising and no SWD-visible app after power cycle; reflashed through SWD".into(),
        );
        it.failed_at = Some(FailureLocation {
            phase: Phase::Activation,
            image: None,
            object: None,
            offset: None,
            result: None,
        });
        it.evidence = evidence(
            rng,
            6,
            "activation: link lost; no advertising for 30 s; power cycle; still silent",
            "<error> nrf_dfu_settings: settings page CRC mismatch, bank 0 invalid",
        );
    } else if r < timeout_rate {
        it.verdict = Verdict::Fail;
        it.outcome = Some(Outcome::DfuMode);
        it.failure_class = Some(class("dut.timeout.execute"));
        it.message = Some("no response to EXECUTE within 10000 ms".into());
        it.failed_at = Some(FailureLocation {
            phase: Phase::Execute,
            image: None,
            object: Some(ObjectRef::Data(3)),
            offset: Some(16_384),
            result: None,
        });
        it.evidence = evidence(
            rng,
            4,
            "EXECUTE data #3: no response within 10000 ms",
            "<error> nrf_dfu_flash: fstorage busy, write of 0x00029000 queued",
        );
        it.update_ms = None;
    } else if r < timeout_rate + 0.006 {
        it.verdict = Verdict::Fail;
        it.outcome = Some(Outcome::OldAppRunning);
        it.failure_class = Some(class("dut.protocol.create.operation-failed"));
        it.message = Some("CREATE data answered OPERATION_FAILED".into());
        it.failed_at = Some(FailureLocation {
            phase: Phase::Create,
            image: None,
            object: Some(ObjectRef::Data(2)),
            offset: Some(8_192),
            result: Some("OPERATION_FAILED".into()),
        });
        it.evidence = evidence(
            rng,
            2,
            "CREATE data #2 -> OPERATION_FAILED",
            "<warning> nrf_dfu_req_handler: Cannot allocate memory buffer!",
        );
    } else if r < timeout_rate + 0.016 {
        it.verdict = Verdict::Flaky;
        it.retries = vec![Attempt {
            outcome: Some(Outcome::DfuMode),
            failure_class: class("dut.protocol.write.link-lost"),
            message: "link dropped during WRITE; reconnected and resumed".into(),
            failed_at: Some(FailureLocation {
                phase: Phase::Write,
                image: None,
                object: Some(ObjectRef::Data(4)),
                offset: Some(17_408),
                result: None,
            }),
            duration_ms: 14_000,
            evidence: evidence(
                rng,
                4,
                "WRITE data #4: disconnected (reason 0x08 supervision timeout)",
                "<info> nrf_ble_dfu: Disconnected",
            ),
        }];
    } else if r < timeout_rate + 0.02 {
        it.verdict = Verdict::Error;
        it.outcome = None;
        it.failure_class = Some(class("infra.adapter"));
        it.message = Some(format!(
            "hci0: connect to {dut} timed out (BlueZ org.bluez.Error.Failed)"
        ));
        it.update_ms = None;
        let mut e = Evidence::default();
        e.event(0, "enter DFU: buttonless indication, GPREGRET=0xB1, reset");
        for (k, t) in [(1, 15_000), (2, 30_000), (3, 45_000)] {
            e.event(t, format!("connect attempt {k}: hci0 org.bluez.Error.Failed (le-connection-abort-by-local)"));
        }
        e.event(
            45_100,
            "adapter health check failed: hci0 does not answer; iteration is a bench error",
        );
        it.evidence = e;
    }
    it
}

fn night(dir: &Path, night: u32, soak: u32) -> PathBuf {
    let out = dir.join(format!("night-{night}"));
    std::fs::create_dir_all(&out).expect("create the night's directory");
    let mut w = JournalWriter::create(&out.join(JOURNAL_FILE)).expect("create the journal");
    w.write(&Record::Header(header(night))).expect("write");
    let mut rng = Rng(u64::from(night) * 1_000_003);
    let mut n = 0;
    for (sub_case, count) in [(SOAK, soak), (RESET, 120)] {
        for i in 0..count {
            for dut in ["dut0", "dut1"] {
                let it = iteration(&mut rng, night, dut, sub_case, i);
                let brick = it.outcome == Some(Outcome::Bricked);
                w.write(&Record::Iteration(it)).expect("write");
                n += 1;
                if brick {
                    w.write(&Record::Healing(HealingRecord {
                        dut: dut.into(),
                        sub_case: Some(sub_case.into()),
                        iteration: Some(i),
                        action: HealingAction::SwdReflash,
                        reason: "bricked after activation".into(),
                        ok: true,
                        duration_ms: 9_000,
                        wall_ms: 9_100,
                    }))
                    .expect("write");
                }
            }
        }
    }
    w.write(&Record::Footer(Footer {
        iterations: n,
        stopped: StopReason::Completed,
        duration_ms: 8 * 3_600_000,
        wall_ms: 8 * 3_600_000,
        wall_end: format!("2026-09-0{night}T09:58:00+00:00"),
    }))
    .expect("write");
    out
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: sample_campaign DIR [SOAK_ITERATIONS]");
        std::process::exit(2);
    };
    let soak = match std::env::args().nth(2).map(|s| s.parse::<u32>()) {
        None => 250,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("SOAK_ITERATIONS must be a positive whole number");
            std::process::exit(2);
        }
    };
    let first = night(&dir, 1, soak);
    let second = night(&dir, 2, soak);
    let rebuilt = rebuild_with_history(std::slice::from_ref(&second), &[first]).expect("rebuild");
    for p in rebuilt.write(&second).expect("write the reports") {
        println!("{}", p.display());
    }
}
