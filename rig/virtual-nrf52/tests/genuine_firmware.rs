//! Nordic's genuine nRF5 SDK Secure DFU images on the emulated Cortex-M4F (issue 17): the MBR
//! and the UART bootloader (debug build, without bonds) from the SDK's
//! examples/dfu/secure_dfu_test_images/uart/nrf52832, flashed through the debug port, boot on
//! the emulated core and answer a PING over the UART.
//!
//! Nordic's binaries are not in the repository: set RIG_NRF5_IMAGES to a directory holding
//! mbr.hex and bootloader_secure_uart_debug_without_bonds_mbr.hex (README, "The emulated
//! core"); without it the test says so and passes.

use std::path::PathBuf;
use std::time::Duration;
use virtual_nrf52::{DebugPort, Device, ProgramOptions, Segment};

fn images() -> Option<PathBuf> {
    let dir = std::env::var_os("RIG_NRF5_IMAGES")?;
    Some(PathBuf::from(dir))
}

fn hex(dir: &std::path::Path, name: &str) -> Vec<Segment> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (RIG_NRF5_IMAGES must hold it)", path.display()));
    nrf_dfu::image::parse_intel_hex(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .runs()
        .map(|(a, b)| (a, b.to_vec()))
        .collect()
}

/// Run until `t`, collecting what the UART sent.
fn run(d: &mut Device, until: Duration, out: &mut Vec<u8>) {
    let mut t = d.now();
    while t < until {
        t = (t + Duration::from_millis(1)).min(until);
        d.advance_to(t);
        for (_, bytes) in d.uart_tx(t) {
            out.extend_from_slice(&bytes);
        }
    }
}

#[test]
fn genuine_uart_bootloader_boots_and_answers_ping() {
    let Some(dir) = images() else {
        eprintln!("skipped: RIG_NRF5_IMAGES is not set (a directory with the SDK's mbr.hex and bootloader_secure_uart_debug_without_bonds_mbr.hex)");
        return;
    };
    let mut segments = hex(&dir, "mbr.hex");
    segments.extend(hex(&dir, "bootloader_secure_uart_debug_without_bonds_mbr.hex"));
    let mut d = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 5);
    d.set_emulated_cpu(true);
    d.program(&segments, ProgramOptions::default()).expect("program");
    d.soft_reset().expect("reset");
    let mut out = Vec::new();
    let start = d.now();
    run(&mut d, start + Duration::from_millis(500), &mut out);
    eprintln!(
        "booted: {} instructions, fault {:?}, pc {:#x}, unmodelled {:?}",
        d.cpu_instructions(),
        d.cpu_fault(),
        d.cpu_registers().r[15],
        d.unmodelled_accesses()
    );
    // PING (opcode 0x09) with id 0x5A, SLIP-framed.
    let t = d.now();
    d.uart_rx(t, &nrf_dfu::slip::encode(&[0x09, 0x5A]));
    run(&mut d, t + Duration::from_millis(200), &mut out);
    eprintln!("uart: {out:02x?}");
    eprintln!(
        "after ping: {} instructions, fault {:?}, pc {:#x}",
        d.cpu_instructions(),
        d.cpu_fault(),
        d.cpu_registers().r[15]
    );
    let want = nrf_dfu::slip::encode(&[0x60, 0x09, 0x01, 0x5A]);
    assert!(
        out.windows(want.len()).any(|w| w == want.as_slice()),
        "no PING response {want:02x?} in {out:02x?}"
    );
}
