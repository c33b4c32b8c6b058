use super::*;
use crate::error::DeviceError;
use std::time::Duration;

fn on() -> Hardware {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 5);
    d.power_on().unwrap();
    d
}

fn erase(addr: u32) -> FlashOp {
    FlashOp::ErasePage { addr }
}

#[test]
fn new_device_is_off_and_erased() {
    let d = Hardware::new(Chip::Nrf52832Qfab, 1);
    assert_eq!(d.run_state(), RunState::Off);
    assert_eq!(d.memory().code.size(), 256 * 1024);
    assert_eq!(d.ram().len(), 32 * 1024);
    assert!(d.memory().code.bytes().iter().all(|&b| b == 0xFF));
    let mut d = d;
    assert_eq!(
        d.flash_op(&erase(0), FlashPath::Nvmc),
        Err(DeviceError::Off)
    );
}

#[test]
fn flash_ops_account_time() {
    let mut d = on();
    let r = d
        .flash_op(
            &FlashOp::write_bytes(0x1000, &[0; 8]).unwrap(),
            FlashPath::SoftDevice,
        )
        .unwrap();
    assert!(r.completed);
    // One sd_flash_write: its share of the connection interval (timing::SdScheduling) + 2 words.
    assert_eq!(r.elapsed, Duration::from_micros(1_045 + 82));
    d.flash_op(&erase(0x1000), FlashPath::Nvmc).unwrap();
    assert_eq!(
        d.flash_activity(),
        (2, Duration::from_micros(1_127 + 85_000))
    );
}

#[test]
fn explicit_cut_tears_and_turns_the_device_off() {
    let mut d = on();
    let e = d
        .flash_op_cut(&erase(0x2000), FlashPath::Nvmc, 0.5)
        .unwrap_err();
    match e {
        DeviceError::PowerLost(p) => {
            assert_eq!(p.elapsed, Duration::from_micros(42_500));
            assert_eq!(p.duration, Duration::from_millis(85));
            assert!(p.during.contains("page erase"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.run_state(), RunState::Off);
    assert_eq!(d.memory().code.erase_count(0x2000).unwrap(), 1);
}

#[test]
fn cut_plan_at_op_counts_operations() {
    let mut d = on();
    d.write_u32(0x4001_E504, 1).unwrap();
    d.arm_power_cut(CutPlan::AtOp {
        skip: 2,
        fraction: 0.5,
    });
    let words = FlashOp::WriteWords {
        addr: 0x3000,
        words: vec![0; 4],
    };
    d.flash_op(&words, FlashPath::Nvmc).unwrap();
    d.flash_op(
        &FlashOp::WriteWords {
            addr: 0x3010,
            words: vec![0; 4],
        },
        FlashPath::Nvmc,
    )
    .unwrap();
    assert_eq!(
        d.armed_power_cut(),
        Some(CutPlan::AtOp {
            skip: 2,
            fraction: 0.5
        })
    );
    let e = d.flash_op(
        &FlashOp::WriteWords {
            addr: 0x3020,
            words: vec![0; 4],
        },
        FlashPath::Nvmc,
    );
    assert!(matches!(e, Err(DeviceError::PowerLost(_))));
    assert_eq!(d.armed_power_cut(), None, "a cut fires once");
    let m = &d.memory().code;
    assert_eq!(m.read(0x3000, 32).unwrap(), &[0u8; 32]);
    // Words 0x3020 and 0x3024 done (2 of 4 at 50 %), 0x3028 in flight at exactly its start,
    // 0x302C untouched.
    assert_eq!(m.read_word(0x3020).unwrap(), 0);
    assert_eq!(m.read_word(0x3024).unwrap(), 0);
    assert_eq!(m.read_word(0x302C).unwrap(), u32::MAX);
}

#[test]
fn cut_plan_after_flash_time() {
    let mut d = on();
    d.arm_power_cut(CutPlan::AfterFlashTime(Duration::from_millis(100)));
    d.flash_op(&erase(0x4000), FlashPath::Nvmc).unwrap();
    let e = d.flash_op(&erase(0x5000), FlashPath::Nvmc).unwrap_err();
    let DeviceError::PowerLost(p) = e else {
        panic!("{e:?}")
    };
    assert_eq!(p.elapsed, Duration::from_millis(15));
    assert_eq!(d.flash_activity().1, Duration::from_millis(100));
}

#[test]
fn disarmed_cut_never_fires() {
    let mut d = on();
    d.arm_power_cut(CutPlan::AtOp {
        skip: 0,
        fraction: 0.1,
    });
    d.disarm_power_cut();
    d.flash_op(&erase(0x4000), FlashPath::Nvmc).unwrap();
    assert!(d.is_powered());
}

#[test]
fn refused_op_does_not_consume_the_cut() {
    let mut d = on();
    d.arm_power_cut(CutPlan::AtOp {
        skip: 0,
        fraction: 0.5,
    });
    assert!(matches!(
        d.flash_op(&erase(0x4004), FlashPath::Nvmc),
        Err(DeviceError::Flash(_))
    ));
    assert!(d.is_powered());
    assert!(d.armed_power_cut().is_some());
}

#[test]
fn same_seed_same_torn_history() {
    let run = |seed| {
        let mut d = Hardware::new(Chip::Nrf52832Qfaa, seed);
        d.power_on().unwrap();
        d.flash_op(
            &FlashOp::write_bytes(0x6000, &[0x5A; 4096]).unwrap(),
            FlashPath::Nvmc,
        )
        .unwrap();
        let _ = d.flash_op_cut(&erase(0x6000), FlashPath::Nvmc, 0.4);
        d.power_on().unwrap();
        let _ = d.flash_op_cut(
            &FlashOp::WriteWords {
                addr: 0x7000,
                words: vec![0; 16],
            },
            FlashPath::Nvmc,
            0.33,
        );
        (d.memory().code.bytes().to_vec(), d.ram().to_vec())
    };
    assert_eq!(run(77), run(77));
    assert_ne!(run(77).0, run(78).0);
}
