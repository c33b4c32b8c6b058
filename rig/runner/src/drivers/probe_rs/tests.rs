//! Without hardware: selector parsing, flash planning against probe-rs' nRF52832 memory map, and
//! attach through probe-rs' public `FakeProbe` (with its mocked Cortex-M core), which answers the
//! nRF52 sequence's CTRL-AP APPROTECTSTATUS read from a queued operation. FakeProbe cannot run
//! the CTRL-AP ERASEALL writes (its raw AP write is unimplemented) nor a flash algorithm, so
//! recovery and real flashing are not covered here.

use super::*;
use crate::drivers::owner::Owner;
use probe_rs::architecture::arm::FullyQualifiedApAddress;
use probe_rs::integration::{FakeProbe, Operation};
use rstest::rstest;
use virtual_nrf52::descriptor::{AppDescriptor, BootloaderDescriptor, Buttonless};
use virtual_nrf52::softdevice::S132_7_2_0;
use virtual_nrf52::standin;

#[rstest]
#[case("1366:1015", 0x1366, 0x1015, None)]
#[case("0d28:0204:0240000034544e45", 0x0d28, 0x0204, Some("0240000034544e45"))]
#[case("303a:1001:DC:DA:0C", 0x303a, 0x1001, Some("DC:DA:0C"))]
fn selectors_parse(
    #[case] s: &str,
    #[case] vid: u16,
    #[case] pid: u16,
    #[case] serial: Option<&str>,
) {
    let sel = parse_selector(s).unwrap();
    assert_eq!((sel.vendor_id, sel.product_id), (vid, pid));
    assert_eq!(sel.serial_number.as_deref(), serial);
}

#[rstest]
#[case("1366")]
#[case("zz:1015")]
#[case("1366:10155")]
fn bad_selectors_are_config_errors(#[case] s: &str) {
    let e = parse_selector(s).unwrap_err();
    assert_eq!(
        (e.owner, e.kind),
        (Owner::Infrastructure, ProbeErrorKind::Config)
    );
    assert!(e.message.contains("VID:PID[:SERIAL]"), "{}", e.message);
}

fn stack(chip: Chip) -> Vec<Segment> {
    let bl = BootloaderDescriptor::sdk_default(nrf_dfu::SdkVersion::Sdk17, [1; 64]);
    let app = AppDescriptor {
        name: "a".into(),
        version: 1,
        buttonless: Buttonless::None,
    };
    standin::stack_segments(
        chip,
        Some(&S132_7_2_0),
        Some((&bl, 0x5000)),
        Some((&app, 0x3000)),
    )
    .unwrap()
}

#[test]
fn plan_uses_probe_rs_memory_map() {
    let segs = stack(Chip::Nrf52832Qfaa);
    let p = plan::plan(Chip::Nrf52832Qfaa, &segs).unwrap();
    assert_eq!(p.bytes, segs.iter().map(|s| s.1.len() as u64).sum::<u64>());
    // MBR + SoftDevice 0x0..0x26000 (38 pages), app 3 pages, bootloader 5 pages.
    assert_eq!(p.pages.len(), 38 + 3 + 5);
    assert_eq!(p.pages.first(), Some(&0));
    assert_eq!(p.pages.last(), Some(&0x7C000));
    assert_eq!(p.uicr_bytes, 8 + 8, "NRFFW[0..1] and PSELRESET[0..1]");
}

#[test]
fn plan_refuses_data_beyond_flash() {
    // A QFAA image on a QFAB (256 KB): the bootloader at 0x78000 does not exist there.
    // probe-rs 0.32's nRF52832_xxAB target declares 1 MB of flash, so the rig checks too.
    let qfab = plan::target(Chip::Nrf52832Qfab).unwrap();
    assert!(
        qfab.flash_loader().add_data(0x78000, &[1; 4]).is_ok(),
        "probe-rs still accepts it"
    );
    let e = plan::plan(Chip::Nrf52832Qfab, &stack(Chip::Nrf52832Qfaa)).unwrap_err();
    assert_eq!(
        (e.owner, e.kind),
        (Owner::Infrastructure, ProbeErrorKind::Flash)
    );
    assert!(
        e.message.contains("0x00078000") && e.message.contains("256 KB"),
        "{}",
        e.message
    );
    let e = plan::plan(Chip::Nrf52832Qfaa, &[(0x80000, vec![1; 8])]).unwrap_err();
    assert!(
        e.message
            .contains("beyond the 512 KB flash of nRF52832_xxAA"),
        "{}",
        e.message
    );
    // Between flash and UICR: probe-rs' own memory map refuses.
    let e = plan::plan(Chip::Nrf52832Qfaa, &[(0x1000_0000, vec![1; 8])]).unwrap_err();
    assert!(
        e.message.contains("outside the chip's flash and UICR"),
        "{}",
        e.message
    );
    let e = plan::plan(
        Chip::Nrf52832Qfaa,
        &[(0x1000, vec![1; 8]), (0x1004, vec![2; 8])],
    )
    .unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Flash);
}

fn ctrl_ap_status(locked: bool) -> Operation {
    Operation::ReadRawApRegister {
        ap: FullyQualifiedApAddress::v1_with_default_dp(1),
        address: 0x0C,
        result: if locked { 0 } else { 1 },
    }
}

fn fake(locked: bool, allow_erase_all: bool) -> ProbeRsProbe {
    let mut cfg = ProbeRsConfig::new(Some("1366:1015".into()), Chip::Nrf52832Qfaa);
    cfg.allow_erase_all = allow_erase_all;
    cfg.call_timeout = Duration::from_secs(20);
    ProbeRsProbe::with_opener(
        cfg,
        Box::new(move || {
            let f = FakeProbe::with_mocked_core();
            f.expect_operation(ctrl_ap_status(locked));
            Ok(f.into_probe())
        }),
    )
}

#[test]
fn fake_probe_attaches_and_reads_memory() {
    let mut p = fake(false, false);
    p.attach().unwrap();
    // FakeProbe's mocked core without a binary reads zeros and implements no writes.
    assert_eq!(p.read_memory(0x2000_0000, 5).unwrap(), vec![0; 5]);
    assert_eq!(p.read_word(0x1000_0100).unwrap(), 0);
    let e = p.write_memory(0x2000_0000, &[1]).unwrap_err();
    assert!(
        e.message.contains("panicked inside the hardware library"),
        "{}",
        e.message
    );
    // A probe that misbehaved is not used again.
    assert!(p
        .read_memory(0, 4)
        .unwrap_err()
        .message
        .contains("overran or failed"));
}

#[test]
fn fake_probe_locked_chip_names_the_recovery_flag() {
    let mut p = fake(true, false);
    let e = p.attach().unwrap_err();
    assert_eq!((e.owner, e.kind), (Owner::Device, ProbeErrorKind::Locked));
    assert_eq!(
        e.to_string(),
        "APPROTECT is enabled; recover the chip with `rig flash --allow-erase-all FILE...` (this erases it), or re-run a flash with --allow-erase-all"
    );
    let e = p.read_memory(0, 4).unwrap_err();
    assert!(e.message.contains("not attached"), "{}", e.message);
}

#[test]
fn missing_probe_is_infrastructure() {
    let mut cfg = ProbeRsConfig::new(Some("1366:1015".into()), Chip::Nrf52832Qfaa);
    cfg.call_timeout = Duration::from_secs(5);
    let mut p = ProbeRsProbe::with_opener(
        cfg,
        Box::new(|| {
            Err(DebugProbeError::ProbeCouldNotBeCreated(
                probe_rs::probe::ProbeCreationError::NotFound,
            ))
        }),
    );
    let e = p.attach().unwrap_err();
    assert_eq!(
        (e.owner, e.kind),
        (Owner::Infrastructure, ProbeErrorKind::NotFound)
    );
    assert!(
        e.message.contains("1366:1015") && e.message.contains("plugged in"),
        "{}",
        e.message
    );
}

#[test]
fn erase_all_needs_permission_before_touching_the_probe() {
    let mut p = fake(false, false);
    let e = p.erase_all().unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::EraseNotAllowed);
    let e = p
        .flash(
            &stack(Chip::Nrf52832Qfaa),
            FlashOptions {
                erase_all: true,
                verify: true,
            },
            &mut |_| {},
        )
        .unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::EraseNotAllowed);
}

#[test]
fn a_wedged_probe_call_times_out() {
    let mut cfg = ProbeRsConfig::new(None, Chip::Nrf52832Qfaa);
    cfg.call_timeout = Duration::from_millis(100);
    let mut p = ProbeRsProbe::with_opener(
        cfg,
        Box::new(|| {
            std::thread::sleep(Duration::from_secs(2));
            Err(DebugProbeError::Timeout)
        }),
    );
    let started = Instant::now();
    let e = p.attach().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        (e.owner, e.kind),
        (Owner::Infrastructure, ProbeErrorKind::Timeout)
    );
    assert!(e.message.contains("re-plug"), "{}", e.message);
    // Later calls fail at once rather than queue behind the stuck one.
    assert!(p.read_memory(0, 4).unwrap_err().message.contains("overran"));
}

#[test]
fn only_an_explicit_request_lets_attach_erase_a_locked_chip() {
    let mut cfg = ProbeRsConfig::new(None, Chip::Nrf52832Qfaa);
    // A campaign: erase steps allowed, attach-time recovery not.
    cfg.allow_erase_all = true;
    let perms = format!("{:?}", attach_permissions(&cfg));
    assert_eq!(perms, format!("{:?}", Permissions::new()));
    cfg.recover_locked = true;
    assert_eq!(
        format!("{:?}", attach_permissions(&cfg)),
        format!("{:?}", Permissions::new().allow_erase_all())
    );
}

#[test]
fn reads_go_in_bounded_word_aligned_chunks() {
    assert_eq!(read_chunks(0x1000, 0), vec![]);
    assert_eq!(read_chunks(0x2000_FFF0, 16), vec![(0x2000_FFF0, 16)]);
    // A 200 KB bank-0 read-back: 50 calls of 4 KB, not one call of 204 800 byte transfers.
    let c = read_chunks(0x26000, 200 * 1024);
    assert_eq!(c.len(), 50);
    assert!(c.iter().all(|&(a, n)| a % 4096 == 0 && n == 4096));
    // Unaligned: the first chunk ends on a boundary, the rest start on one.
    assert_eq!(
        read_chunks(0x0FFE, 4100),
        vec![(0x0FFE, 2), (0x1000, 4096), (0x2000, 2)]
    );
    assert_eq!(read_chunks(u32::MAX - 1, 2), vec![(u32::MAX - 1, 2)]);
}

#[test]
fn unaligned_reads_across_chunks_return_every_byte() {
    let mut p = fake(false, false);
    p.attach().unwrap();
    assert_eq!(p.read_memory(0x2000_0FFD, 4100).unwrap().len(), 4100);
}

#[test]
fn attach_reopens_a_probe_after_a_call_overran() {
    let opens = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let o = opens.clone();
    let mut cfg = ProbeRsConfig::new(None, Chip::Nrf52832Qfaa);
    cfg.call_timeout = Duration::from_millis(200);
    let mut p = ProbeRsProbe::with_opener(
        cfg,
        Box::new(move || {
            // The first open wedges (a USB transfer that never returns in time).
            if o.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(600));
                return Err(DebugProbeError::Timeout);
            }
            let f = FakeProbe::with_mocked_core();
            f.expect_operation(ctrl_ap_status(false));
            Ok(f.into_probe())
        }),
    );
    assert_eq!(p.attach().unwrap_err().kind, ProbeErrorKind::Timeout);
    assert!(p.read_memory(0, 4).unwrap_err().message.contains("overran"));
    // Once the stuck call has returned, attach opens the probe again on a new worker.
    std::thread::sleep(Duration::from_millis(700));
    p.attach().unwrap();
    assert_eq!(p.read_memory(0x2000_0000, 8).unwrap(), vec![0; 8]);
}

#[test]
fn gpregret_is_one_word_transfer() {
    use nrf_dfu::memory_map::POWER_GPREGRET;
    // An aligned 4-byte register write: no byte transfers at all.
    let [head, words, tail] = word_spans(POWER_GPREGRET, 4);
    assert_eq!(
        (head.1 - head.0, words.1 - words.0, tail.1 - tail.0),
        (0, 4, 0)
    );
    let [head, words, tail] = word_spans(0x2000_0001, 9);
    assert_eq!(head, (0x2000_0001, 0x2000_0004));
    assert_eq!(words, (0x2000_0004, 0x2000_0008));
    assert_eq!(tail, (0x2000_0008, 0x2000_000A));
    let [head, words, tail] = word_spans(0x2000_0001, 2);
    assert_eq!(
        (head, words.1 - words.0, tail.1 - tail.0),
        ((0x2000_0001, 0x2000_0003), 0, 0)
    );
}

#[test]
fn a_call_that_lost_the_target_makes_the_next_one_attach_again() {
    // An RTT scan that found no control block (or a FAULT, or a power cut) leaves the debug
    // port in a state the session does not know (on the lab: a sticky FAULT that failed every
    // later read until the campaign quarantined a healthy DUT). The next call attaches afresh.
    let opens = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let o = opens.clone();
    let mut cfg = ProbeRsConfig::new(None, Chip::Nrf52832Qfaa);
    cfg.call_timeout = Duration::from_secs(20);
    let mut p = ProbeRsProbe::with_opener(
        cfg,
        Box::new(move || {
            o.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let f = FakeProbe::with_mocked_core();
            f.expect_operation(ctrl_ap_status(false));
            Ok(f.into_probe())
        }),
    );
    p.attach().unwrap();
    assert_eq!(p.read_memory(0x2000_0000, 4).unwrap(), vec![0; 4]);
    assert_eq!(opens.load(std::sync::atomic::Ordering::SeqCst), 1);
    // FakeProbe's RAM is zeros: no RTT control block.
    let e = p.read_rtt_lines(Duration::ZERO).unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Rtt);
    assert_eq!(p.read_memory(0x2000_0000, 4).unwrap(), vec![0; 4]);
    assert_eq!(
        opens.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the read after the failed call attached again"
    );
    // Healthy calls do not attach again.
    assert_eq!(p.read_memory(0x2000_0000, 4).unwrap(), vec![0; 4]);
    assert_eq!(opens.load(std::sync::atomic::Ordering::SeqCst), 2);
}
