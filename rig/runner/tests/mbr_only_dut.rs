//! A DUT with the MBR and a bootloader but no SoftDevice: a suite's `dfu` step without `sd_req`
//! must ask for 0x00, the only first sd_req an SDK 17 bootloader accepts there (the stand-in
//! models `sd_req_ok`; the genuine SDK 17.0.2 UART bootloader answered the same
//! SD_VERSION_FAILURE to the old default 0xFFFE in scripts/lab-genuine-check.sh).

mod support;

use support::cli::rig_here;

const SUITE: &str = "\
name: mbr-only
dut: { chip: nRF52832_xxAA, transport: uart }
setup:
  - flash: { softdevice: standin:mbr, bootloader: standin:bootloader-17.1-uart, app: standin:app-a, erase: all }
cases:
  - name: update
    iterations: 1
    steps:
      - enter_dfu: swd
      - dfu: { image: standin:app-b, version: next }
      - expect: { outcome: [completed] }
      - verify: { settings_valid: true, bank0_matches_image: true, app_version: sent, running: new-app }
";

#[test]
fn an_update_without_sd_req_on_an_mbr_only_dut_asks_for_no_softdevice() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("mbr-only.yaml");
    std::fs::write(&suite, SUITE).unwrap();
    let out = dir.path().join("out");
    let (code, stdout, err) = rig_here(&[
        "run",
        suite.to_str().unwrap(),
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}\n{err}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["totals"]["passed"], 1, "{stdout}");
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap();
    assert!(journal.contains("SoftDevice none"), "{journal}");
}
