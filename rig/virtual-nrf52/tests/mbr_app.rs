//! The rig's MBR-only application (firmware/mbrapp, built for thumbv7em-none-eabihf) on the
//! emulated Cortex-M4F: linked at 0x1000 behind where Nordic's MBR sits, started here through
//! an 8-byte vector table at 0 that points at the application's (its stack pointer and reset
//! handler, what the MBR and the bootloader end up doing), with no Nordic image. Each version
//! must write its version block at the top of RAM (read through the debug port, as the rig's
//! runner reads it), toggle LED 1 (P0.17) every half second on RTC1, and sleep in WFE between
//! toggles.
//!
//! scripts/build-mbrapp.sh builds app-a.hex and app-b.hex and runs this test with
//! RIG_MBRAPP_DIR set. Without the variable the test says so and passes, so `cargo test
//! --workspace` needs no embedded target; RIG_REQUIRE_MBRAPP=1 (set by the script) makes a
//! missing image a failure.

use std::time::Duration;
use virtual_nrf52::{DebugPort, Device, ProgramOptions, Segment};

const INFO_BLOCK: u32 = 0x2000_FFF0;
const APP_START: u32 = 0x1000;
const LED1: u32 = 1 << 17;

fn version(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{var}={v}: a decimal u32"))
        })
        .unwrap_or(default)
}

#[test]
fn mbr_app_writes_its_version_block_and_blinks_while_sleeping() {
    let Some(dir) = std::env::var_os("RIG_MBRAPP_DIR") else {
        assert!(
            std::env::var_os("RIG_REQUIRE_MBRAPP").is_none(),
            "RIG_REQUIRE_MBRAPP is set but RIG_MBRAPP_DIR is not: run scripts/build-mbrapp.sh"
        );
        eprintln!(
            "skipped: RIG_MBRAPP_DIR is not set (scripts/build-mbrapp.sh builds firmware/mbrapp \
             and runs this test with it)"
        );
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (letter, want) in [
        ('a', version("RIG_APP_VERSION_A", 1)),
        ('b', version("RIG_APP_VERSION_B", 2)),
    ] {
        let path = dir.join(format!("app-{letter}.hex"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check_image(&path.display().to_string(), &text, want);
    }
}

fn check_image(name: &str, hex: &str, want: u32) {
    let image = nrf_dfu::image::parse_intel_hex(hex).expect("Intel HEX");
    let segments: Vec<Segment> = image.runs().map(|(a, b)| (a, b.to_vec())).collect();
    let start = segments
        .iter()
        .map(|s| s.0)
        .min()
        .expect("a non-empty image");
    assert_eq!(
        start, APP_START,
        "{name}: linked after the MBR, as the SDK's blinky for the MBR"
    );
    let mut d = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 17);
    d.set_emulated_cpu(true);
    d.program(&segments, ProgramOptions::default())
        .expect("program through the debug port");
    // The application's initial stack pointer and reset handler at 0, where the core starts.
    let table = d
        .read_memory(APP_START, 8)
        .expect("read the app's vector table");
    d.program(&[(0, table)], ProgramOptions::default())
        .expect("program the boot vectors");
    // What a previous image left is not a version block.
    assert_ne!(read_version(&mut d), Some(want));
    d.soft_reset().expect("soft reset");

    let t0 = d.now();
    let mut led = Vec::new();
    let mut t = t0;
    let mut instructions_at_1s = None;
    while t < t0 + Duration::from_secs(3) {
        t += Duration::from_millis(10);
        d.advance_to(t);
        led.push((t - t0, d.gpio_outputs().0 & LED1 != 0));
        if t - t0 == Duration::from_secs(1) {
            instructions_at_1s = Some(d.cpu_instructions());
        }
    }
    assert!(d.cpu_fault().is_none(), "{name}: {:?}", d.cpu_fault());
    assert_eq!(read_version(&mut d), Some(want), "{name}: version block");

    // LED 1 starts off (high: active low) and toggles every 0.5 s of the 32 768 Hz clock.
    let toggles: Vec<Duration> = led
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .map(|w| w[1].0)
        .collect();
    eprintln!(
        "{name}: version {want}, LED 1 toggled at {toggles:?}, {} instructions, unmodelled {:?}",
        d.cpu_instructions(),
        d.unmodelled_accesses()
    );
    assert!(led[0].1, "{name}: LED 1 off at start");
    assert!(
        (5..=7).contains(&toggles.len()),
        "{name}: LED 1 toggles every half second: {toggles:?}"
    );
    for w in toggles.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            (Duration::from_millis(490)..=Duration::from_millis(510)).contains(&gap),
            "{name}: toggles {gap:?} apart"
        );
    }
    // Asleep between toggles: a handful of instructions per toggle, not a busy loop (which
    // would run tens of millions in two seconds at 64 MHz).
    let asleep = d.cpu_instructions() - instructions_at_1s.unwrap();
    assert!(asleep < 500, "{name}: {asleep} instructions in 2 s");
    let u = d.unmodelled_accesses();
    assert_eq!(u.reads + u.writes, 0, "{name}: {u:?}");

    // A power cut loses RAM, and the application writes its block again when it boots.
    let t = d.now();
    d.power_off(t);
    d.power_on(t + Duration::from_millis(200));
    assert_eq!(
        read_version(&mut d),
        None,
        "{name}: RAM lost on a power cut"
    );
    let t = d.now() + Duration::from_millis(20);
    d.advance_to(t);
    assert_eq!(
        read_version(&mut d),
        Some(want),
        "{name}: after a power cut"
    );
}

fn read_version(d: &mut Device) -> Option<u32> {
    let b = d.read_memory(INFO_BLOCK, 16).ok()?;
    let w = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    (w(0) == u32::from_le_bytes(*b"RIGA") && w(8) == !w(4) && w(12) == 1).then(|| w(4))
}
