use super::*;
use crate::drivers::pty_pair;
use rstest::rstest;
use std::sync::{Arc, Mutex};

/// Values the Python API computes for the same voltages (`_convert_source_voltage`).
#[rstest]
#[case(800, [0x0D, 3, 32])]
#[case(1800, [0x0D, 7, 8])]
#[case(3000, [0x0D, 11, 184])]
#[case(3300, [0x0D, 12, 228])]
#[case(5000, [0x0D, 19, 136])]
#[case(100, [0x0D, 3, 32])]
#[case(9000, [0x0D, 19, 136])]
fn regulator_values(#[case] mv: u32, #[case] want: [u8; 3]) {
    assert_eq!(regulator_command(mv), want);
}

#[test]
fn command_bytes() {
    assert_eq!(dut_power_command(true), [0x0C, 1]);
    assert_eq!(dut_power_command(false), [0x0C, 0]);
    assert_eq!(
        power_mode_command(Ppk2Mode::Source { millivolts: 3000 }),
        [0x11, 2]
    );
    assert_eq!(power_mode_command(Ppk2Mode::Ampere), [0x11, 1]);
}

/// A PPK2 on a pty: answers GET_META_DATA with metadata, records every other byte.
fn fake_ppk2(mut master: std::fs::File, answer: bool) -> Arc<Mutex<Vec<u8>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if b == op::GET_META_DATA && answer {
                    let _ =
                        master.write_all(b"Calibrated: 0\nR0: 1031.64\nHW: 9173\nIA: 56\nEND\n");
                } else {
                    s.lock().unwrap().push(b);
                }
            }
        }
    });
    seen
}

fn wait_for(seen: &Arc<Mutex<Vec<u8>>>, len: usize) -> Vec<u8> {
    let t = Instant::now();
    while seen.lock().unwrap().len() < len && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn source_mode_on_off_over_a_pty() {
    let (master, path) = pty_pair::open();
    let seen = fake_ppk2(master, true);
    let mut s = Ppk2Switch::new(
        &path,
        Ppk2Mode::Source { millivolts: 3000 },
        Duration::from_secs(3),
    );
    assert!(s.cuts_power());
    s.on().await.unwrap();
    s.off().await.unwrap();
    assert_eq!(
        wait_for(&seen, 9),
        vec![0x11, 2, 0x0D, 11, 184, 0x0C, 1, 0x0C, 0]
    );
}

#[tokio::test]
async fn a_port_that_is_not_a_ppk2_is_refused() {
    let (master, path) = pty_pair::open();
    let _seen = fake_ppk2(master, false);
    let mut s = Ppk2Switch::new(&path, Ppk2Mode::Ampere, Duration::from_millis(300));
    let e = s.on().await.unwrap_err();
    assert!(
        e.message.contains("no PPK2 metadata within 300ms"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_missing_port_is_named() {
    let mut s = Ppk2Switch::new(
        "/dev/does-not-exist-ppk2",
        Ppk2Mode::Ampere,
        Duration::from_millis(300),
    );
    let e = s.off().await.unwrap_err();
    assert!(
        e.message
            .starts_with("cannot open /dev/does-not-exist-ppk2"),
        "{}",
        e.message
    );
}
