//! bug-zoo and power-loss-sweep through the hardware path on a lab (sampled): the lab switches
//! its DUT's device-model defects, counts its flash operations and cuts its power (or resets
//! it) at the Nth of them, asked through its control socket (rig_lab::hooks). The campaign
//! runs `HardwareDut` (probe-rs over the SWD socket, btleplug over the lab's virtual BlueZ) and
//! catches what the in-process bench catches; without the defects it raises no alarm.

use super::lab::Lab;
use serde_json::Value;
use serde_yaml::Value as Yaml;

/// bug-zoo with only `keep`'s cases, each swept case at the flash operations given, with or
/// without its defects.
fn bug_zoo(keep: &[(&str, Option<Vec<u32>>)], defects: bool) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../suites/bug-zoo.yaml");
    let mut s: Yaml = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = s["cases"].as_sequence_mut().unwrap();
    cases.retain(|c| keep.iter().any(|(n, _)| c["name"].as_str() == Some(n)));
    assert_eq!(cases.len(), keep.len(), "bug-zoo has every case kept");
    for c in cases.iter_mut() {
        let ops = keep
            .iter()
            .find(|(n, _)| c["name"].as_str() == Some(n))
            .and_then(|(_, o)| o.clone());
        if let Some(ops) = ops {
            c["sweep"]["flash_op"] = serde_yaml::to_value(ops).unwrap();
        }
        if !defects {
            let m = c.as_mapping_mut().unwrap();
            m.remove("defects");
            m.remove("fires_per_iteration");
        }
    }
    serde_yaml::to_string(&s).unwrap()
}

fn run(l: &Lab, suite: &str, out: &str, extra: &[&str]) -> (std::process::Output, String) {
    let o = l.tmp.path().join(out);
    let mut args = vec![
        "run",
        suite,
        "--dut",
        "dut-0",
        "--seed",
        "1",
        "--out",
        o.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--iterations", "1"]);
    let r = l.rig(&args);
    let journal = std::fs::read_to_string(o.join("journal.jsonl")).unwrap_or_default();
    assert!(
        journal.contains("\"kind\":\"lab\""),
        "bench kind lab: {}\n{journal}",
        String::from_utf8_lossy(&r.stderr)
    );
    (r, journal)
}

#[test]
fn bug_zoo_and_power_loss_sweep_run_through_the_hardware_path_on_a_lab() {
    let _one = crate::one_lab_at_a_time();
    if virtual_bluez::find_dbus_daemon().is_err()
        && std::env::var("RIG_REQUIRE_DBUS").as_deref() != Ok("1")
    {
        eprintln!("SKIPPED: dbus-daemon not found (.ci/run installs it)");
        return;
    }
    // At 10x, as scripts/lab-check.sh runs these suites (the flash operations a cut lands
    // in depend on the link's pace against the device's, which lab speed changes).
    let l = Lab::up(
        1,
        &[
            "--ble",
            "dut-0",
            "--speed",
            "10",
            "--fresh",
            "uart-bootloader",
        ],
    );
    // Defects switched on the lab's device (skip-hash-check), a power cut at a flash operation
    // (no-settings-backup: the settings page erase and its rewrite at the activation, where a
    // run at 10x caught it). execute-before-flash-drain is caught only at a few operations whose
    // index the link's pace moves: scripts/lab-check.sh sweeps all of them.
    let keep = [
        ("skip-hash-check", None),
        ("no-settings-backup", Some(vec![0, 44])),
    ];
    let zoo = l.tmp.path().join("zoo.yaml");
    std::fs::write(&zoo, bug_zoo(&keep, true)).unwrap();
    let (r, journal) = run(&l, zoo.to_str().unwrap(), "zoo", &[]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "the defects fail iterations: {journal}"
    );
    let summary: Value = serde_json::from_slice(&r.stdout).unwrap();
    let defects = summary["defects"].as_array().unwrap();
    assert_eq!(defects.len(), keep.len(), "{summary}");
    for d in defects {
        assert_eq!(
            d["caught"], true,
            "every defect caught on the lab: {d}\n{journal}"
        );
    }
    assert!(
        journal.contains("FAULT power-cut-100ms inside flash operation 0 (page erase at 0x7f000"),
        "the lab cut at the operation: {journal}"
    );

    // The same cases on the healthy bootloader: no false alarm.
    let healthy = l.tmp.path().join("healthy.yaml");
    std::fs::write(&healthy, bug_zoo(&keep, false)).unwrap();
    let (r, journal) = run(&l, healthy.to_str().unwrap(), "healthy", &[]);
    assert!(
        r.status.success(),
        "no alarm without the defects: {}\n{journal}",
        String::from_utf8_lossy(&r.stderr)
    );

    // power-loss-sweep as shipped (`flash_op: all`): the lab counts the clean update's flash
    // operations, then one sub-case replayed alone: the cut in operation 44, a data write near
    // the end of the transfer (cuts in the activation, after the client's last EXECUTE: see
    // `a_cut_armed_at_an_activation_flash_op_lands_and_one_that_cannot_is_reported`).
    let (r, journal) = run(
        &l,
        "power-loss-sweep",
        "sweep",
        &["--replay", "cut-every-flash-op[flash_op=44]:0"],
    );
    assert!(
        r.status.success(),
        "power-loss-sweep's cut in flash operation 44 on the lab: {}\n{journal}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(
        journal.contains("FAULT power-cut-100ms inside flash operation 44 (write of"),
        "{journal}"
    );
    l.down_and_check_clean();
}

/// A UART twin of power-loss-sweep's case, cut at the flash operations `ops` (counted from the
/// faulted update's start, after a clean update as the shipped suite does).
fn activation_suite(ops: &[u32]) -> String {
    format!(
        "name: activation-cut
dut: {{ chip: nRF52832_xxAA, transport: uart }}
setup:
  - flash:
      softdevice: standin:s132-7.2.0
      bootloader: standin:bootloader-17.1-uart
      app: standin:app-a
      erase: all
cases:
  - name: cut
    iterations: 1
    sweep:
      flash_op: {ops:?}
    steps:
      - enter_dfu: swd
      - dfu: {{ image: standin:app-a, version: next }}
      - expect: {{ outcome: [completed] }}
      - enter_dfu: swd
      - dfu:
          image: standin:app-b
          version: next
          fault: {{ action: {{ power-cut: {{ off_ms: 100 }} }}, at: {{ flash-op: 0 }} }}
      - expect: {{ outcome: [old-app-running, dfu-mode, completed] }}
      - verify: {{ settings_valid: true, bank0_matches_image: true }}
"
    )
}

/// Cuts armed at flash operations of the activation (the bank copy and settings writes after
/// the client's last EXECUTE, which a UART client does not wait for) used to be disarmed with
/// the client and the sub-case passed without a cut. The cut now stays armed until it lands or
/// the device is quiet: operation 157 of this update is the copy of app-b's 8 KB into bank 0
/// (in-process and on the lab alike). An operation the update never reaches is reported as a
/// cut that never landed (verdict error), not a pass.
#[test]
fn a_cut_armed_at_an_activation_flash_op_lands_and_one_that_cannot_is_reported() {
    let _one = crate::one_lab_at_a_time();
    let l = Lab::up(1, &["--speed", "10", "--fresh", "uart-bootloader"]);
    let suite = l.tmp.path().join("activation.yaml");
    std::fs::write(&suite, activation_suite(&[157, 900])).unwrap();
    let (r, journal) = run(&l, suite.to_str().unwrap(), "activation", &[]);
    let records: Vec<Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &Value| r["record"] == "iteration")
        .collect();
    let sub = |op: u32| {
        records
            .iter()
            .find(|r| r.to_string().contains(&format!("flash_op={op}")))
            .unwrap_or_else(|| panic!("sub-case {op}: {journal}"))
    };
    let landed = sub(157).to_string();
    assert!(
        landed.contains(
            "FAULT power-cut-100ms inside flash operation 157 (write of 8192 bytes at 0x26000"
        ),
        "the cut lands in the bank copy: {landed}"
    );
    assert!(
        !landed.contains("client after the cut") && !landed.contains("client:"),
        "the client had finished its update before the cut: {landed}"
    );
    assert_eq!(sub(157)["verdict"], "pass", "{landed}");
    let missed = sub(900).to_string();
    assert_eq!(sub(900)["verdict"], "error", "{missed}");
    assert!(
        missed.contains("infra.fault-not-landed")
            && missed.contains("inside flash operation 900 never landed")
            && missed.contains("this iteration tested no fault"),
        "{missed}"
    );
    assert_eq!(
        r.status.code(),
        Some(1),
        "an error is not a pass: {journal}"
    );
    l.down_and_check_clean();
}
