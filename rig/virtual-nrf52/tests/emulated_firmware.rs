//! The project's own test firmware (firmware/emutest, built for thumbv7em-none-eabihf) on the
//! emulated Cortex-M4F with the register-level peripherals: flashed through the debug port,
//! started by a soft reset, it runs its checks (Thumb-2 and DSP instructions, the FPU and its
//! exception frame, SVC, NVIC nesting, BASEPRI, SysTick, WFE sleep, CLOCK, RTC2, UARTE0 EasyDMA
//! one byte per RXD.MAXCNT, NVMC, BPROT) and reports each on UARTE0, then lets the watchdog
//! reset the chip and reports RESETREAS.DOG from the second boot.
//!
//! The image is built by scripts/build-emutest.sh, which runs this test with RIG_EMUTEST_HEX
//! set. Without the variable the test says so and passes, so `cargo test --workspace` needs
//! no embedded target; RIG_REQUIRE_EMUTEST=1 (set by .ci/run) makes a missing image a failure.

use std::time::Duration;
use virtual_nrf52::{DebugPort, Device, ProgramOptions, Segment};

#[test]
fn emutest_firmware_passes_every_check_on_the_emulated_core() {
    let Some(path) = std::env::var_os("RIG_EMUTEST_HEX") else {
        assert!(
            std::env::var_os("RIG_REQUIRE_EMUTEST").is_none(),
            "RIG_REQUIRE_EMUTEST is set but RIG_EMUTEST_HEX is not: run scripts/build-emutest.sh"
        );
        eprintln!(
            "skipped: RIG_EMUTEST_HEX is not set (scripts/build-emutest.sh builds \
             firmware/emutest and runs this test with it)"
        );
        return;
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
    let image = nrf_dfu::image::parse_intel_hex(&text).expect("RIG_EMUTEST_HEX: Intel HEX");
    let segments: Vec<Segment> = image.runs().map(|(a, b)| (a, b.to_vec())).collect();

    let mut d = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 17);
    d.set_emulated_cpu(true);
    d.program(&segments, ProgramOptions::default())
        .expect("program through the debug port");
    d.soft_reset().expect("soft reset");

    let mut out = String::new();
    let mut sent = false;
    let start = d.now();
    let mut t = start;
    let finished =
        |out: &str| out.lines().any(|l| l.starts_with("emutest: wdt ")) && out.ends_with('\n');
    while t < start + Duration::from_secs(5) && !finished(&out) {
        t += Duration::from_millis(1);
        d.advance_to(t);
        for (_, bytes) in d.uart_tx(t) {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
        if !sent && out.contains("emutest: send 8 bytes") {
            d.uart_rx(t, b"abcdefgh");
            sent = true;
        }
    }
    eprintln!("{out}");
    eprintln!(
        "{} instructions in {:?} of lab time; unmodelled peripheral accesses: {:?}",
        d.cpu_instructions(),
        t - start,
        d.unmodelled_accesses()
    );
    assert!(
        d.cpu_fault().is_none() || out.contains("emutest: done"),
        "{:?}",
        d.cpu_fault()
    );
    let fails: Vec<&str> = out.lines().filter(|l| l.contains("FAIL")).collect();
    assert!(fails.is_empty(), "failed checks: {fails:#?}");
    let done = out
        .lines()
        .find_map(|l| l.strip_prefix("emutest: done "))
        .expect("the firmware finished its checks");
    let (passed, total) = done.split_once('/').expect("done <passed>/<total>");
    assert_eq!(passed, total);
    assert!(u32::from_str_radix(total, 16).unwrap() >= 25, "{done}");
    assert!(out.contains("emutest: echo ABCDEFGH"), "UARTE reception");
    assert!(
        out.contains("emutest: wdt ok"),
        "the watchdog reset the chip"
    );
    assert!(d.unmodelled_accesses().reads + d.unmodelled_accesses().writes == 0);
}
