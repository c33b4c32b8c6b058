//! `rig flash`, `rig reset`, `rig power`, `rig bench check` on the virtual bench: the device
//! state lives in a temp directory, and what the CLI did is read back through the virtual probe.

mod support;

use support::cli::{rig, text};

use nrf_dfu::image::{write_intel_hex, Segments};
use nrf_dfu::{Chip, SdkVersion};
use rig::drivers::probe::Probe;
use rig::drivers::shared::share;
use rig::drivers::virtual_probe::VirtualProbe;
use std::path::Path;
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless};
use virtual_nrf52::softdevice::S132_7_2_0;
use virtual_nrf52::{standin, Device, Segment};

fn hex_file(dir: &Path, name: &str, segs: &[Segment]) -> String {
    let s = Segments::from_runs(segs.iter().map(|(a, d)| (*a, d.as_slice()))).unwrap();
    std::fs::write(dir.join(name), write_intel_hex(&s)).unwrap();
    name.to_string()
}

/// The images, and what must be in flash afterwards.
fn standin_files(dir: &Path) -> (Vec<String>, Vec<Segment>) {
    let sd = standin::softdevice_hex_segments(&S132_7_2_0);
    let bl = standin::bootloader_segments(
        &BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [3; 64]),
        Chip::Nrf52832Qfaa,
        standin::DEFAULT_BOOTLOADER_SIZE,
    )
    .unwrap();
    let app_desc = AppDescriptor {
        name: "blinky".into(),
        version: 5,
        buttonless: Buttonless::Unbonded,
    };
    let app = standin::app_image(
        &app_desc,
        Chip::Nrf52832Qfaa,
        0x26000,
        standin::DEFAULT_APP_SIZE,
    )
    .unwrap();
    std::fs::write(dir.join("app.bin"), &app).unwrap();
    let files = vec![
        hex_file(dir, "sd.hex", &sd),
        hex_file(dir, "bl.hex", &bl),
        "app.bin@0x26000".to_string(),
    ];
    let mut all = sd;
    all.extend(bl);
    all.push((0x26000, app));
    (files, all)
}

fn device(dir: &Path) -> Device {
    let mut d =
        rig::sim::state_file::load_device(&dir.join(".rig/virtual/virtual-0.state")).unwrap();
    virtual_nrf52::DebugPort::power_on(&mut d).unwrap();
    d
}

#[test]
fn flash_standins_then_read_back_through_the_virtual_probe() {
    let dir = tempfile::tempdir().unwrap();
    let (files, expected) = standin_files(dir.path());
    let mut args = vec!["flash"];
    args.extend(files.iter().map(String::as_str));
    let o = rig(dir.path(), &args);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("sd.hex: ") && out.contains("verified"),
        "{out}"
    );
    let mut probe = VirtualProbe::new("virtual-0", share(device(dir.path())), false);
    for (addr, bytes) in &expected {
        assert_eq!(
            &probe.read_memory(*addr, bytes.len() as u32).unwrap(),
            bytes,
            "at {addr:#x}"
        );
    }
    // A fresh command boots what was flashed: the bench check sees a running device.
    let o = rig(dir.path(), &["bench", "check"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("4 passed, 0 failed"), "{}", text(&o));
    let inv = device(dir.path()).hardware().installed();
    assert_eq!(inv.softdevice, Some(S132_7_2_0.info));
}

#[test]
fn a_uicr_file_after_the_bootloader_keeps_its_start_address() {
    use nrf_dfu::memory_map::UICR_NRFFW0;
    // UICR.CUSTOMER[0] (nRF52832 PS v1.4, UICR registers).
    const CUSTOMER0: u32 = 0x1000_1080;
    let dir = tempfile::tempdir().unwrap();
    let (files, expected) = standin_files(dir.path());
    let nrffw0 = expected
        .iter()
        .find(|(a, _)| *a == UICR_NRFFW0)
        .map(|(_, d)| d.clone())
        .expect("the stand-in bootloader hex sets NRFFW[0]");
    // A second file that only sets a customer word, as a board's serial-number hex would.
    let uicr = hex_file(
        dir.path(),
        "uicr.hex",
        &[(CUSTOMER0, 0x1234_5678u32.to_le_bytes().to_vec())],
    );
    let o = rig(dir.path(), &["flash", &files[0], &files[1], &uicr]);
    assert!(o.status.success(), "{}", text(&o));
    let mut probe = VirtualProbe::new("virtual-0", share(device(dir.path())), false);
    assert_eq!(
        probe.read_memory(UICR_NRFFW0, nrffw0.len() as _).unwrap(),
        nrffw0,
        "NRFFW[0..] (bootloader start, MBR params) must survive the UICR file"
    );
    assert_eq!(probe.read_word(CUSTOMER0).unwrap(), 0x1234_5678);
    // The same bytes twice (an MBR inside a SoftDevice hex, or one file given twice) are fine.
    let o = rig(dir.path(), &["flash", &files[1], &files[1]]);
    assert!(o.status.success(), "{}", text(&o));
    // Files that write different bytes to one address are refused before anything is flashed,
    // naming both.
    let other = hex_file(
        dir.path(),
        "uicr-other.hex",
        &[(CUSTOMER0, 0xDEAD_BEEFu32.to_le_bytes().to_vec())],
    );
    let o = rig(dir.path(), &["flash", &uicr, &other]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("uicr.hex") && t.contains("uicr-other.hex") && t.contains("0x10001080"),
        "{t}"
    );
    assert_eq!(probe.read_word(CUSTOMER0).unwrap(), 0x1234_5678);
}

#[test]
fn json_progress_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = standin_files(dir.path());
    let o = rig(dir.path(), &["flash", "--json", &files[2]]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["progress"]["event"], "started");
    assert_eq!(lines[0]["progress"]["phase"], "program");
    assert_eq!(
        lines.last().unwrap()["done"]["bytes"],
        standin::DEFAULT_APP_SIZE as u64
    );
}

#[test]
fn erase_all_needs_permission() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = standin_files(dir.path());
    let o = rig(dir.path(), &["flash", "--erase-all", &files[2]]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--allow-erase-all"), "{}", text(&o));
    let o = rig(
        dir.path(),
        &["flash", "--erase-all", "--allow-erase-all", &files[2]],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("chip erased first"), "{}", text(&o));
}

#[test]
fn power_off_persists_and_blocks_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let o = rig(dir.path(), &["power", "off"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join(".rig/virtual/virtual-0.power-off").exists());
    let o = rig(dir.path(), &["reset"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no power") && text(&o).contains("[infra]"),
        "{}",
        text(&o)
    );
    let o = rig(dir.path(), &["power", "cycle", "--off-time", "10"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!dir.path().join(".rig/virtual/virtual-0.power-off").exists());
    let o = rig(dir.path(), &["reset"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn virtual_dir_and_dut_name_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let o = rig(
        dir.path(),
        &["power", "off", "--dut", "left", "--virtual-dir", "devs"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("devs/left.state").exists());
    assert!(dir.path().join("devs/left.power-off").exists());
}

#[test]
fn a_bad_bench_file_reports_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bench.yaml"),
        "duts:\n  board:\n    chip: nRF52832_xxAA\n    serial: { port: /dev/ttyACM0, baud: fast }\n",
    )
    .unwrap();
    let o = rig(dir.path(), &["bench", "check", "--bench", "bench.yaml"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("bench.yaml:4:"), "{t}");
    assert!(t.contains("baud"), "{t}");
}

#[test]
fn a_virtual_dut_in_a_bench_file_and_bad_images() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bench.yaml"),
        "duts:\n  sim:\n    virtual: true\n    power: { kind: virtual }\n",
    )
    .unwrap();
    let o = rig(
        dir.path(),
        &["power", "cycle", "--off-time", "1", "--bench", "bench.yaml"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join(".rig/virtual/sim.state").exists());
    std::fs::write(dir.path().join("x.bin"), [1, 2, 3, 4]).unwrap();
    let o = rig(dir.path(), &["flash", "x.bin"]);
    assert!(text(&o).contains("x.bin@0xADDRESS"), "{}", text(&o));
    let o = rig(dir.path(), &["flash", "x.bin@0x90000"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("[infra]"), "{}", text(&o));
}
