use super::*;
use crate::debug_port::{DebugPort, ProgramOptions};
use crate::defects::Defect;
use crate::nvmc::{FlashOp, FlashPath};
use crate::softdevice::S132_7_2_0;
use crate::standin;
use proptest::prelude::*;

fn busy_device() -> Hardware {
    let mut d = Hardware::new(Chip::Nrf52832Qfaa, 0xDEAD_BEEF);
    d.power_on().unwrap();
    d.program(
        &standin::softdevice_hex_segments(&S132_7_2_0),
        ProgramOptions::default(),
    )
    .unwrap();
    d.program(
        &[(0x1000_1014, 0x78000u32.to_le_bytes().to_vec())],
        ProgramOptions::default(),
    )
    .unwrap();
    for _ in 0..3 {
        d.flash_op(&FlashOp::ErasePage { addr: 0x50000 }, FlashPath::Nvmc)
            .unwrap();
    }
    // An nWRITE violation in block 0x50200.
    for _ in 0..200 {
        d.flash_op(
            &FlashOp::WriteWords {
                addr: 0x50200,
                words: vec![0x1234_5678],
            },
            FlashPath::Nvmc,
        )
        .unwrap();
    }
    d.set_defects_override(Some(DefectSet::empty().with(Defect::CorruptResumeCrc)));
    d
}

#[test]
fn round_trip_keeps_flash_uicr_wear_and_identity() {
    let d = busy_device();
    let bytes = d.to_state_bytes();
    let back = Hardware::from_state_bytes(&bytes).unwrap();
    assert_eq!(back.memory(), d.memory());
    assert_eq!(back.chip(), d.chip());
    assert_eq!(back.identity_seed(), 0xDEAD_BEEF);
    assert_eq!(back.ficr().ble_address(), d.ficr().ble_address());
    assert_eq!(back.defects_override(), Some(DefectSet::CORRUPT_RESUME_CRC));
    assert_eq!(back.memory().code.erase_count(0x50000).unwrap(), 3);
    assert_eq!(
        back.flash_health().0.nwrite_violations,
        vec![(0x50200, 200)]
    );
    assert!(!back.is_powered(), "a loaded device is unpowered");
    assert_eq!(back.to_state_bytes(), bytes);
}

#[test]
fn erased_pages_are_compact() {
    let d = Hardware::new(Chip::Nrf52832Qfab, 1);
    let bytes = d.to_state_bytes();
    assert_eq!(bytes.len(), 26 + 65 * 37 + 4 + 4);
    assert_eq!(
        Hardware::from_state_bytes(&bytes).unwrap().chip(),
        Chip::Nrf52832Qfab
    );
}

#[test]
fn volatile_state_is_not_saved() {
    let mut d = busy_device();
    d.power_mut().set_gpregret(0xB1);
    let back = Hardware::from_state_bytes(&d.to_state_bytes()).unwrap();
    assert_eq!(back.power().gpregret(), 0);
}

fn with_crc(mut b: Vec<u8>) -> Vec<u8> {
    let n = b.len() - 4;
    let crc = crc32(&b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
    b
}

#[test]
fn corruption_errors_name_the_problem() {
    let good = Hardware::new(Chip::Nrf52832Qfaa, 2).to_state_bytes();
    let mut b = good.clone();
    b[0] = b'X';
    assert!(matches!(
        Hardware::from_state_bytes(&b),
        Err(StateError::BadMagic { .. })
    ));
    let mut b = good.clone();
    b[8] = 2;
    assert_eq!(
        Hardware::from_state_bytes(&b).unwrap_err(),
        StateError::UnsupportedVersion { found: 2 }
    );
    let mut b = good.clone();
    b[10] = 7;
    assert_eq!(
        Hardware::from_state_bytes(&with_crc(b)).unwrap_err(),
        StateError::UnknownChip { found: 7 }
    );
    let mut b = good.clone();
    b[10] = 1;
    assert!(matches!(
        Hardware::from_state_bytes(&with_crc(b)),
        Err(StateError::PageCount {
            found: 128,
            expected: 64,
            ..
        })
    ));
    let mut b = good.clone();
    b[26] = 9;
    let e = Hardware::from_state_bytes(&with_crc(b)).unwrap_err();
    assert_eq!(
        e,
        StateError::BadPageKind {
            page: "code page 0x00000".into(),
            kind: 9,
            offset: 26
        }
    );
    let mut b = good.clone();
    b[30] ^= 1; // an erase counter
    assert!(matches!(
        Hardware::from_state_bytes(&b),
        Err(StateError::Crc { .. })
    ));
    let e = Hardware::from_state_bytes(&good[..1000]).unwrap_err();
    assert!(matches!(e, StateError::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("offset"));
    let mut b = good.clone();
    b.push(0);
    assert_eq!(
        Hardware::from_state_bytes(&b).unwrap_err(),
        StateError::TrailingBytes { count: 1 }
    );
    let mut b = good;
    b[20..24].copy_from_slice(&(1u32 << 30).to_le_bytes());
    assert_eq!(
        Hardware::from_state_bytes(&with_crc(b)).unwrap_err(),
        StateError::UnknownDefects { mask: 1 << 30 }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn mutated_files_never_panic_and_never_load_silently_wrong(at in 0usize..4811, value: u8) {
        let d = Hardware::new(Chip::Nrf52832Qfab, 3);
        let good = d.to_state_bytes();
        let mut b = good.clone();
        let at = at % b.len();
        b[at] = value;
        if let Ok(back) = Hardware::from_state_bytes(&b) {
            prop_assert_eq!(back.to_state_bytes(), good);
        }
    }

    #[test]
    fn truncations_are_errors(len in 0usize..4811) {
        let good = Hardware::new(Chip::Nrf52832Qfab, 3).to_state_bytes();
        prop_assert!(Hardware::from_state_bytes(&good[..len.min(good.len() - 1)]).is_err());
    }
}
