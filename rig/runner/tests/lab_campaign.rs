//! Campaigns through the hardware path on the virtual lab: `rig run SUITE --bench DIR/bench.yaml`
//! goes through HardwareDut (probe-rs for flashing, SWD entry into DFU mode, resets and
//! read-back; the serial DFU client on the UART pty; the lab's virtual PPK2 for power). This
//! lab's DUT is a UART DUT (not `--ble`; BLE campaigns on the lab are in lab_ble.rs), so the
//! shipped smoke suite (BLE) is refused up front and its UART twin runs: the same cases with
//! `transport: uart` and the SDK 17.1 UART stand-in bootloader; buttonless entry (BLE-only)
//! becomes SWD entry. Sampled: one iteration per case (.ci/run runs it again through
//! scripts/lab-check.sh).

mod lab;
use lab::*;
use serde_json::Value;
use std::path::Path;

/// suites/smoke.yaml for a UART DUT (scripts/lab-check.sh derives it the same way).
fn smoke_uart() -> String {
    let smoke = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../suites/smoke.yaml"
    ))
    .unwrap();
    let uart = smoke
        .replace("transport: ble", "transport: uart")
        .replace("bootloader-17.1-ble", "bootloader-17.1-uart")
        .replace("enter_dfu: buttonless", "enter_dfu: swd")
        .replace("name: smoke\n", "name: smoke-uart\n");
    assert_ne!(uart, smoke);
    uart
}

fn run(l: &Lab, suite: &Path, out: &Path) -> std::process::Output {
    let o = out.display().to_string();
    l.rig(&[
        "run",
        suite.to_str().unwrap(),
        "--seed",
        "1",
        "--iterations",
        "1",
        "--out",
        &o,
        "--json",
    ])
}

#[test]
fn smoke_runs_through_the_hardware_path_on_a_uart_lab_dut() {
    let l = Lab::up(1, &["--fresh", "uart-bootloader"]);
    let smoke = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../suites/smoke.yaml"
    ));
    // The BLE suite on a DUT with only a UART: a clear input error before anything is flashed,
    // not a 30 s silence reported as a bricked device.
    let out = run(&l, smoke, &l.tmp.path().join("ble"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("suite smoke updates over BLE"), "{err}");
    assert!(
        err.contains("dut-0 has no `ble` in the bench file"),
        "{err}"
    );

    let suite = l.tmp.path().join("smoke-uart.yaml");
    std::fs::write(&suite, smoke_uart()).unwrap();
    let dir = l.tmp.path().join("run");
    let out = run(&l, &suite, &dir);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        l.log_tail()
    );
    let t = &summary["totals"];
    assert_eq!(
        (t["iterations"].as_u64(), t["passed"].as_u64()),
        (Some(2), Some(2)),
        "{summary}"
    );
    // The journal says which path ran.
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let header: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert_eq!(header["bench"]["kind"], "lab", "{header}");
    assert!(
        header["duts"][0]["details"]["probe"]
            .as_str()
            .is_some_and(|p| p.contains("probe-rs lab")),
        "{header}"
    );
    // Each iteration's update went over the UART pty and ended with the new app seen over SWD.
    let iterations: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["record"] == "iteration")
        .collect();
    assert_eq!(iterations.len(), 2);
    for it in &iterations {
        assert_eq!(it["verdict"], "pass", "{it}");
        let events = it["evidence"]["events"].to_string();
        assert!(
            events.contains("verify: app \\\"rig-app\\\" version"),
            "{events}"
        );
    }
    assert!(std::fs::read_to_string(dir.join("summary.txt"))
        .unwrap()
        .contains("[lab]"));
    l.down_and_check_clean();
}

/// A power cut on a UART lab DUT, once with the bench as it should be and once back-powered
/// (finding 16): `rig lab fault dut-0 back-powered on` keeps the chip alive through the cut, as a
/// USB-serial adapter's TX line can on a real bench. The rig must see it in RESETREAS/GPREGRET
/// and report a bench fault, not a verdict on the DUT.
const POWER_CUT_UART: &str = r#"
name: power-cut-uart
description: one update cut by a 200 ms power cut, then resumed (UART, SDK 17.1)
dut: { chip: nRF52832_xxAA, transport: uart }
setup:
  - flash:
      softdevice: standin:s132-7.2.0
      bootloader: standin:bootloader-17.1-uart
      app: standin:app-a
      erase: all
cases:
  - name: power-cut
    iterations: 1
    steps:
      - enter_dfu: swd
      - dfu:
          image: standin:app-b
          version: next
          sd_req: [0x101]
          fault: { action: { power-cut: { off_ms: 200 } }, at: { random: { distribution: uniform } } }
      - expect: { outcome: [old-app-running, dfu-mode, completed] }
      - enter_dfu: swd
      - dfu: { resume: true }
      - expect: { outcome: [restarted] }
      - verify: { settings_valid: true, bank0_matches_image: true, app_version: sent, running: new-app }
"#;

fn iterations(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["record"] == "iteration")
        .collect()
}

#[test]
fn a_back_powered_dut_is_a_bench_fault_after_a_power_cut() {
    let l = Lab::up(1, &["--fresh", "uart-bootloader"]);
    let suite = l.tmp.path().join("power-cut-uart.yaml");
    std::fs::write(&suite, POWER_CUT_UART).unwrap();

    let good = l.tmp.path().join("good");
    let out = run(&l, &suite, &good);
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        l.log_tail()
    );
    let it = iterations(&good);
    assert_eq!(it[0]["verdict"], "pass", "{}", it[0]);

    let o = l.lab(&["fault", "dut-0", "back-powered", "on"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(l.dut_status("dut-0")["back_powered"], true);
    let bad = l.tmp.path().join("bad");
    let out = run(&l, &suite, &bad);
    assert!(!out.status.success());
    let it = iterations(&bad);
    let text = it[0].to_string();
    assert_ne!(it[0]["verdict"], "pass", "{text}");
    assert!(text.contains("infra.power-switch"), "{text}");
    assert!(text.contains("back-powered"), "{text}");
    assert!(l.log_tail().contains("back-powered"), "{}", l.log_tail());
    l.down_and_check_clean();
}
