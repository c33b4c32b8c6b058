use super::*;
use rstest::rstest;

fn mem() -> FlashMemory {
    FlashMemory::new(8)
}

fn page_words(mem: &FlashMemory, page: u32) -> Vec<u32> {
    (0..1024)
        .map(|i| mem.read_word(page + i * 4).unwrap())
        .collect()
}

#[test]
fn nvmc_costs_follow_the_profile() {
    let t = TimingProfile::typical();
    assert_eq!(
        cost(&FlashOp::ErasePage { addr: 0x1000 }, FlashPath::Nvmc, &t),
        Duration::from_millis(85)
    );
    let w = FlashOp::write_bytes(0x1000, &[0u8; 4096]).unwrap();
    assert_eq!(
        cost(&w, FlashPath::Nvmc, &t),
        Duration::from_micros(41 * 1024)
    );
    assert_eq!(
        cost(&FlashOp::EraseAll, FlashPath::Nvmc, &t),
        Duration::from_millis(173)
    );
}

#[test]
fn softdevice_path_splits_writes_into_20_byte_calls() {
    let t = TimingProfile::typical();
    let w = FlashOp::write_bytes(0x1000, &[0u8; 64]).unwrap();
    let steps = plan(&w, FlashPath::SoftDevice, &t);
    let waits = steps.iter().filter(|s| matches!(s, Step::Wait(_))).count();
    // 64 bytes = 16 words = chunks of 5 + 5 + 5 + 1 words.
    assert_eq!(waits, 4);
    assert_eq!(steps.len(), 4 + 16);
    assert!(matches!(steps[0], Step::Wait(_)));
    assert!(matches!(steps[6], Step::Wait(_)));
    assert_eq!(
        cost(&w, FlashPath::SoftDevice, &t),
        Duration::from_micros(4 * 7_500 + 16 * 41)
    );
    let e = FlashOp::ErasePage { addr: 0 };
    assert_eq!(
        cost(&e, FlashPath::SoftDevice, &t),
        Duration::from_micros(7_500 + 85_000)
    );
}

#[test]
fn write_bytes_rules() {
    assert!(matches!(
        FlashOp::write_bytes(2, &[0; 4]),
        Err(FlashError::Unaligned { .. })
    ));
    assert!(matches!(
        FlashOp::write_bytes(4, &[0; 6]),
        Err(FlashError::PartialWord { .. })
    ));
    assert_eq!(
        FlashOp::write_bytes(8, &[1, 2, 3, 4]).unwrap(),
        FlashOp::WriteWords {
            addr: 8,
            words: vec![0x0403_0201]
        }
    );
}

#[rstest]
#[case::unaligned_erase(FlashOp::ErasePage { addr: 0x1004 })]
#[case::erase_past_end(FlashOp::ErasePage { addr: 0x8000 })]
#[case::uicr_page_erase(FlashOp::ErasePage { addr: 0x1000_1000 })]
#[case::write_past_end(FlashOp::WriteWords { addr: 0x7FFC, words: vec![0, 0] })]
#[case::write_unmapped(FlashOp::WriteWords { addr: 0x2000_0000, words: vec![0] })]
fn refused_ops_change_nothing(#[case] op: FlashOp) {
    let mut m = mem();
    m.code.write_word(0x1000, 0x1234_5678).unwrap();
    let before = m.clone();
    let mut rng = DeviceRng::new(1);
    assert!(execute(
        &op,
        FlashPath::Nvmc,
        &TimingProfile::typical(),
        None,
        &mut m,
        &mut rng
    )
    .is_err());
    assert_eq!(m, before);
}

#[test]
fn uicr_words_are_written_with_and_semantics() {
    let mut m = mem();
    let mut rng = DeviceRng::new(1);
    let t = TimingProfile::typical();
    execute(
        &FlashOp::WriteWords {
            addr: 0x1000_1014,
            words: vec![0x78000],
        },
        FlashPath::Nvmc,
        &t,
        None,
        &mut m,
        &mut rng,
    )
    .unwrap();
    execute(
        &FlashOp::WriteWords {
            addr: 0x1000_1014,
            words: vec![0x7F000],
        },
        FlashPath::Nvmc,
        &t,
        None,
        &mut m,
        &mut rng,
    )
    .unwrap();
    assert_eq!(m.read_word(0x1000_1014).unwrap(), 0x78000 & 0x7F000);
    execute(
        &FlashOp::EraseUicr,
        FlashPath::Nvmc,
        &t,
        None,
        &mut m,
        &mut rng,
    )
    .unwrap();
    assert_eq!(m.read_word(0x1000_1014).unwrap(), u32::MAX);
}

#[test]
fn cut_at_zero_does_nothing_and_cut_at_one_completes() {
    let t = TimingProfile::typical();
    let op = FlashOp::write_bytes(0x1000, &[0u8; 16]).unwrap();
    let mut m = mem();
    let mut rng = DeviceRng::new(1);
    let r = execute(&op, FlashPath::Nvmc, &t, Some(0.0), &mut m, &mut rng).unwrap();
    assert!(!r.completed);
    assert_eq!(r.elapsed, Duration::ZERO);
    // The first word was in flight at t=0: a torn write of 0 over 0xFFFFFFFF.
    assert!(m.read(0x1004, 12).unwrap().iter().all(|&b| b == 0xFF));
    let mut m = mem();
    let r = execute(&op, FlashPath::Nvmc, &t, Some(1.0), &mut m, &mut rng).unwrap();
    assert!(r.completed);
    assert_eq!(r.words_written, 4);
    assert!(m.read(0x1000, 16).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn cut_write_leaves_done_words_torn_word_and_untouched_words() {
    let t = TimingProfile::typical();
    let op = FlashOp::WriteWords {
        addr: 0x2000,
        words: vec![0; 10],
    };
    let mut m = mem();
    let mut rng = DeviceRng::new(99);
    // 10 words of 41 µs; cut at 45 % = 184.5 µs: words 0..4 done, word 4 torn, 5..10 untouched.
    let r = execute(&op, FlashPath::Nvmc, &t, Some(0.45), &mut m, &mut rng).unwrap();
    assert_eq!(r.words_written, 4);
    assert_eq!(r.elapsed, Duration::from_nanos(184_500));
    for i in 0..4 {
        assert_eq!(m.read_word(0x2000 + i * 4).unwrap(), 0);
    }
    let torn = m.read_word(0x2010).unwrap();
    assert_ne!(torn, 0, "seed 99 does not clear every bit");
    assert_ne!(torn, u32::MAX, "seed 99 clears some bits");
    for i in 5..10 {
        assert_eq!(m.read_word(0x2000 + i * 4).unwrap(), u32::MAX);
    }
}

#[test]
fn cut_during_softdevice_wait_tears_no_word() {
    let t = TimingProfile::typical();
    let op = FlashOp::write_bytes(0x2000, &[0u8; 40]).unwrap();
    let mut m = mem();
    let mut rng = DeviceRng::new(5);
    // Timeline: wait 7.5 ms, 5 words, wait 7.5 ms, 5 words. Cut in the second wait.
    let total = cost(&op, FlashPath::SoftDevice, &t);
    let at = (Duration::from_micros(7_500 + 205 + 1_000)).as_secs_f64() / total.as_secs_f64();
    let r = execute(&op, FlashPath::SoftDevice, &t, Some(at), &mut m, &mut rng).unwrap();
    assert_eq!(r.words_written, 5);
    assert!(m.read(0x2000, 20).unwrap().iter().all(|&b| b == 0));
    assert!(m.read(0x2014, 20).unwrap().iter().all(|&b| b == 0xFF));
}

#[test]
fn cut_erase_leaves_page_undefined_and_counts_a_cycle() {
    let t = TimingProfile::typical();
    let mut m = mem();
    let mut rng = DeviceRng::new(2024);
    let content: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let w = FlashOp::write_bytes(0x3000, &content).unwrap();
    execute(&w, FlashPath::Nvmc, &t, None, &mut m, &mut rng).unwrap();
    let old = page_words(&m, 0x3000);
    let r = execute(
        &FlashOp::ErasePage { addr: 0x3000 },
        FlashPath::Nvmc,
        &t,
        Some(0.5),
        &mut m,
        &mut rng,
    )
    .unwrap();
    assert!(!r.completed);
    assert_eq!(m.code.erase_count(0x3000).unwrap(), 1);
    let new = page_words(&m, 0x3000);
    let erased = new.iter().filter(|&&w| w == u32::MAX).count();
    let kept = new
        .iter()
        .zip(&old)
        .filter(|(n, o)| n == o && **n != u32::MAX)
        .count();
    let partial = new.len() - erased - kept;
    assert!(
        erased > 300 && kept > 100 && partial > 100,
        "erased {erased} kept {kept} partial {partial}"
    );
    // Neighbouring pages are untouched.
    assert!(m.code.page_is_erased(0x2000).unwrap());
}

#[test]
fn torn_results_are_deterministic_per_seed() {
    let run = |seed: u64| {
        let t = TimingProfile::typical();
        let mut m = mem();
        let mut rng = DeviceRng::new(seed);
        let w = FlashOp::write_bytes(0x1000, &[0x00; 4096]).unwrap();
        execute(&w, FlashPath::Nvmc, &t, None, &mut m, &mut rng).unwrap();
        execute(
            &FlashOp::ErasePage { addr: 0x1000 },
            FlashPath::Nvmc,
            &t,
            Some(0.3),
            &mut m,
            &mut rng,
        )
        .unwrap();
        execute(
            &FlashOp::WriteWords {
                addr: 0x2000,
                words: vec![0; 8],
            },
            FlashPath::Nvmc,
            &t,
            Some(0.55),
            &mut m,
            &mut rng,
        )
        .unwrap();
        m
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11).code.bytes(), run(12).code.bytes());
}

#[test]
fn pages_touched_by_ranges() {
    assert_eq!(
        pages_touched(0x0FFC, 8).collect::<Vec<_>>(),
        vec![0x0000, 0x1000]
    );
    assert_eq!(
        pages_touched(0x1000, 0x1000).collect::<Vec<_>>(),
        vec![0x1000]
    );
    assert_eq!(pages_touched(0x1000, 0).count(), 0);
}

#[test]
fn nvmc_config_register() {
    for c in [
        NvmcConfig::ReadOnly,
        NvmcConfig::WriteEnabled,
        NvmcConfig::EraseEnabled,
    ] {
        assert_eq!(NvmcConfig::from_register(c.register()), c);
    }
    assert_eq!(NvmcConfig::from_register(3), NvmcConfig::ReadOnly);
}

/// `cost` and the uncut `execute` take shortcuts past `plan`: they must give what the plan's
/// steps give, for every kind of operation on both paths.
#[rstest]
fn shortcuts_agree_with_the_plan(
    #[values(FlashPath::Nvmc, FlashPath::SoftDevice)] path: FlashPath,
    #[values(0usize, 1, 5, 6, 61, 1024)] words: usize,
) {
    let t = TimingProfile::typical();
    let ops = [
        FlashOp::ErasePage { addr: 0x2000 },
        FlashOp::WriteWords {
            addr: 0x2000,
            words: (0..words as u32)
                .map(|i| i.wrapping_mul(0x9E37_79B9))
                .collect(),
        },
        FlashOp::EraseAll,
        FlashOp::EraseUicr,
    ];
    for op in &ops {
        let planned: Duration = plan(op, path, &t).iter().map(Step::time).sum();
        assert_eq!(cost(op, path, &t), planned, "{op:?} on {path:?}");
        // Uncut, and cut at the very end (which walks the plan step by step): same memory, same report.
        let (mut a, mut b) = (mem(), mem());
        let mut rng = DeviceRng::new(1);
        let ra = execute(op, path, &t, None, &mut a, &mut rng).unwrap();
        let rb = execute(op, path, &t, Some(1.0), &mut b, &mut rng).unwrap();
        assert_eq!(ra, rb, "{op:?} on {path:?}");
        assert_eq!(page_words(&a, 0x2000), page_words(&b, 0x2000));
    }
}
