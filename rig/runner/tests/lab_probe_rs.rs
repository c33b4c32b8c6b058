//! The rig's hardware backends against the virtual lab, through probe-rs' own ARM stack and
//! flash loader: `rig flash`, `rig inspect --json`, resets, power, `rig dfu --port` and
//! `rig bench check` with `--bench DIR/bench.yaml`. The lab's counters show probe-rs' DP/AP
//! transfers reached the device and the core executed probe-rs' nRF52 flash algorithm.

mod lab;
use lab::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn images(l: &Lab) -> PathBuf {
    let out = l.tmp.path().join("img");
    let st = Command::new(RIG)
        .args(["sim", "images", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(st.status.success());
    out
}

fn img(dir: &std::path::Path, f: &str) -> String {
    dir.join(f).display().to_string()
}

/// Wait (10 s at most) until dut-0's status says it runs `what`: the device boots in lab time.
fn wait_until_runs(l: &Lab, what: &str) {
    let t = std::time::Instant::now();
    while !l.dut_status("dut-0")["runs"]
        .as_str()
        .unwrap()
        .contains(what)
    {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "waiting for {what}: {}",
            l.dut_status("dut-0")
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Serial DFU, resets, power, inspect and bench check on a lab DUT that starts with the MBR and
/// the SDK 17.1 UART bootloader.
#[test]
fn dfu_port_resets_power_inspect_and_bench_check_through_the_lab() {
    let l = Lab::up(2, &["--fresh", "uart-bootloader"]);
    let im = images(&l);
    let tty = l.dir.join("dut-0.tty").display().to_string();
    // The rig's serial DFU client on the UART pty (run from the repository root for the key).
    let out = Command::new(RIG)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args([
            "dfu",
            "--bench",
            &l.bench(),
            "--dut",
            "dut-0",
            "--port",
            &tty,
        ])
        .args(["--image", &img(&im, "app-a.hex"), "--version", "next"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The bootloader activates the image and resets into it (in lab time, on the wall clock).
    wait_until_runs(&l, "runs application");
    let before = l.dut_status("dut-0")["swd_transfers"].as_u64().unwrap();
    for args in [
        &["reset"][..],
        &["reset", "--pin"],
        &["power", "cycle", "--off-time", "10"],
    ] {
        let mut a = args.to_vec();
        a.extend(["--dut", "dut-0"]);
        l.rig_ok(&a);
    }
    let j: Value =
        serde_json::from_str(&l.rig_ok(&["inspect", "--json", "--dut", "dut-0"])).unwrap();
    assert!(j.to_string().contains("rig-app"), "{j}");
    let after = l.dut_status("dut-0")["swd_transfers"].as_u64().unwrap();
    assert!(
        after > before + 1000,
        "probe-rs' DP/AP transfers reached the lab: {before} -> {after}"
    );
    // probe-rs attach + FICR read, UART PING, command switch.
    let out = l.rig_ok(&["bench", "check", "--dut", "dut-1"]);
    assert!(
        out.contains("4 passed, 0 failed") || out.contains("0 failed"),
        "{out}"
    );
    l.down_and_check_clean();
}

/// `rig flash --erase-all` of the stand-in S132 and the SDK 17.1 UART bootloader through
/// probe-rs' flash loader (its nRF52 algorithm runs on the lab's core), then inspect, the three
/// resets, a PPK2 power cycle, the bench check and a serial DFU. About 15 s in a debug build
/// (the flash is most of it: 173 KB at the lab's 1 MHz SWD clock, see the README's benchmark).
#[test]
fn flash_inspect_reset_power_dfu_and_bench_check_through_probe_rs() {
    let l = Lab::up(2, &[]);
    let im = images(&l);
    let before = l.dut_status("dut-0");
    l.rig_ok(&[
        "flash",
        "--dut",
        "dut-0",
        "--erase-all",
        "--allow-erase-all",
        &img(&im, "s132-7.2.0.hex"),
        &img(&im, "bootloader-17.1-uart.hex"),
    ]);
    let after = l.dut_status("dut-0");
    let transfers =
        after["swd_transfers"].as_u64().unwrap() - before["swd_transfers"].as_u64().unwrap();
    let instructions = after["instructions"].as_u64().unwrap();
    assert!(
        transfers > 1000,
        "probe-rs' DP/AP transfers reached the lab: {transfers}"
    );
    assert!(
        instructions > 1000,
        "the flash algorithm ran on the core: {instructions}"
    );

    let j: Value =
        serde_json::from_str(&l.rig_ok(&["inspect", "--json", "--dut", "dut-0"])).unwrap();
    let text = j.to_string();
    assert!(
        text.contains("7.2.0") || text.contains("0x101") || text.contains("257"),
        "SoftDevice seen: {text}"
    );

    for args in [
        &["reset"][..],
        &["reset", "--pin"],
        &["reset", "--dfu"],
        &["power", "cycle", "--off-time", "10"],
    ] {
        let mut a = args.to_vec();
        a.extend(["--dut", "dut-0"]);
        l.rig_ok(&a);
    }
    wait_until_runs(&l, "UART bootloader listening");
    // The bench check's four links (its power check cycles the supply: with no application
    // the bootloader stays in DFU mode for the PING that follows).
    let out = l.rig_ok(&["bench", "check", "--dut", "dut-0"]);
    assert!(out.contains("4 passed, 0 failed"), "{out}");

    // The serial DFU client on the UART pty: the stand-in app, signed with the test key.
    let tty = l.dir.join("dut-0.tty").display().to_string();
    l.rig_ok(&[
        "dfu",
        "--dut",
        "dut-0",
        "--port",
        &tty,
        "--image",
        &img(&im, "app-a.hex"),
        "--version",
        "next",
    ]);
    wait_until_runs(&l, "runs application");
    l.down_and_check_clean();
}

/// A locked revision 3 part: refused without `--allow-erase-all`; with it probe-rs' Nordic
/// unlock runs CTRL-AP ERASEALL, and the flash that follows finds the chip blank.
#[test]
fn a_locked_rev3_part_needs_allow_erase_all_and_is_blank_after_eraseall() {
    let l = Lab::up(1, &["--revision", "rev3", "--fresh", "uart-bootloader"]);
    let im = images(&l);
    let e = l.rig_err(&["flash", &img(&im, "app-a.hex")]);
    assert!(e.contains("--allow-erase-all"), "{e}");
    // With permission probe-rs' nRF52 sequence runs CTRL-AP ERASEALL, then flashes.
    l.rig_ok(&["flash", "--allow-erase-all", &img(&im, "mbr.hex")]);
    let s = l.dut_status("dut-0");
    // The MBR alone: the bootloader (and its UICR words) went with ERASEALL.
    assert!(
        !s["runs"].as_str().unwrap().contains("bootloader"),
        "the bootloader was erased: {s}"
    );
    assert!(s["instructions"].as_u64().unwrap() > 0);
    // Blank apart from the MBR: no bootloader, UICR erased (APPROTECT and NRFFW[0] too).
    let j: Value =
        serde_json::from_str(&l.rig_ok(&["inspect", "--json", "--dut", "dut-0"])).unwrap();
    assert!(j["bootloader"].is_null() && !j["mbr"].is_null(), "{j}");
    assert_eq!(j["uicr"]["nrffw_0"], 0xFFFF_FFFFu32, "{j}");
    assert_eq!(j["uicr"]["approtect"], 0xFFFF_FFFFu32, "{j}");
    l.down_and_check_clean();
}

/// `kill -9` of the lab in the middle of `rig flash`: the next `rig lab up` carries on from the
/// state file (no stale socket, lock or pty in the way), `rig inspect` shows what a power loss
/// during the erase leaves (the first pages erased, the bootloader near the end of flash not
/// yet), and the next flash succeeds.
#[test]
fn a_lab_killed_mid_flash_comes_back_as_after_a_power_loss_and_flashes_again() {
    let mut l = Lab::up(1, &["--fresh", "uart-bootloader"]);
    let im = images(&l);
    let flash = Command::new(RIG)
        .args(["flash", "--bench", &l.bench(), "--dut", "dut-0"])
        .args([
            &img(&im, "s132-7.2.0.hex"),
            &img(&im, "bootloader-17.1-uart.hex"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // probe-rs erases the 43 sectors first (85 ms each, ascending), then programs. The core's
    // instructions count the algorithm's READY polls, a few million per erased page and over
    // a hundred million for the whole erase: 20 million is past page 0 and short of 0x78000,
    // however fast the machine is.
    let t = std::time::Instant::now();
    while l.dut_status("dut-0")["instructions"].as_u64().unwrap() < 20_000_000 {
        assert!(t.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    l.kill9();
    let out = flash.wait_with_output().unwrap();
    assert!(!out.status.success(), "the flash lost its lab");

    let up = l.lab(&["up"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    l.pid = std::fs::read_to_string(l.dir.join("lab.pid"))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let j: Value =
        serde_json::from_str(&l.rig_ok(&["inspect", "--json", "--dut", "dut-0"])).unwrap();
    assert!(j["mbr"].is_null(), "page 0 was erased: {j}");
    assert!(
        !j["bootloader"].is_null(),
        "the bootloader's pages were not reached yet: {j}"
    );
    assert!(j["softdevice"].is_null(), "{j}");

    l.rig_ok(&[
        "flash",
        "--dut",
        "dut-0",
        &img(&im, "s132-7.2.0.hex"),
        &img(&im, "bootloader-17.1-uart.hex"),
    ]);
    let j: Value =
        serde_json::from_str(&l.rig_ok(&["inspect", "--json", "--dut", "dut-0"])).unwrap();
    assert!(!j["mbr"].is_null() && !j["softdevice"].is_null(), "{j}");
    wait_until_runs(&l, "UART bootloader listening");
    l.down_and_check_clean();
}

/// Finding 8: when a normal attach finds no target, the probe-rs driver attaches under reset,
/// which leaves the core halted (probe-rs sets reset catch); the driver must let it run again,
/// or the DUT stops advertising and answering. The first probe the opener hands out reaches an
/// unpowered DUT (dut-1), so the normal attach gets no answer; the fallback reaches dut-0.
/// Before this test the fallback never attached on the lab at all: probe-rs 0.32 sets the reset
/// vector catch without enabling halting debug (drivers/probe_rs/reset_catch.rs).
#[test]
fn the_attach_under_reset_fallback_leaves_the_core_running() {
    use rig::drivers::probe_rs::lab_probe::LabProbe;
    use rig::drivers::probe_rs::{ProbeRsConfig, ProbeRsProbe};
    use rig::drivers::Probe as _;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    let l = Lab::up(2, &["--fresh", "uart-bootloader"]);
    let out = l.lab(&["power", "dut-1", "off"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until_runs(&l, "bootloader");
    let opens = Arc::new(AtomicU32::new(0));
    let o = opens.clone();
    let (dead, live) = (l.dir.join("dut-1.swd"), l.dir.join("dut-0.swd"));
    let mut p = ProbeRsProbe::with_opener(
        ProbeRsConfig::new(None, nrf_dfu::Chip::Nrf52832Qfaa),
        Box::new(move || {
            let path = if o.fetch_add(1, Ordering::SeqCst) == 0 {
                &dead
            } else {
                &live
            };
            LabProbe::open(path).map(LabProbe::into_probe_rs)
        }),
    );
    p.attach().expect("the attach under reset reaches dut-0");
    assert_eq!(
        opens.load(Ordering::SeqCst),
        2,
        "the normal attach, then the fallback"
    );
    // DHCSR.S_HALT (bit 17) clear: the core runs (ARMv7-M ARM C1.6.2).
    let dhcsr = p.read_word(0xE000_EDF0).unwrap();
    assert_eq!(
        dhcsr & (1 << 17),
        0,
        "core halted after the fallback: DHCSR {dhcsr:#010x}"
    );
    // And the firmware goes on: the bootloader is back in DFU mode after the reset.
    drop(p);
    wait_until_runs(&l, "bootloader");
}
