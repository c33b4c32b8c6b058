use super::*;
use crate::descriptor::BootloaderDescriptor;
use crate::softdevice::{S132_3_0_0, S132_7_2_0};
use crate::standin;
use nrf_dfu::memory_map::{UICR_NRFFW0, UICR_NRFFW1};
use nrf_dfu::{Chip, SdkVersion};
use rstest::rstest;

fn put(mem: &mut FlashMemory, addr: u32, bytes: &[u8]) {
    for (i, c) in bytes.chunks(4).enumerate() {
        let mut w = [0xFF; 4];
        w[..c.len()].copy_from_slice(c);
        let at = addr + i as u32 * 4;
        if mem.code.contains(at, 4) {
            mem.code.write_word(at, u32::from_le_bytes(w)).unwrap();
        } else {
            mem.uicr.write_word(at, u32::from_le_bytes(w)).unwrap();
        }
    }
}

fn with_mbr() -> FlashMemory {
    let mut m = FlashMemory::new(128);
    put(&mut m, 0, &standin::mbr_image(&MbrDescriptor::SDK17));
    m
}

fn bootloader(m: &mut FlashMemory, at: u32) {
    let d = BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [3; 64]);
    let img = standin::bootloader_image(&d, Chip::Nrf52832Qfaa, 0x1000).unwrap();
    put(m, at, &img);
}

#[test]
fn recognition() {
    let mut m = FlashMemory::new(128);
    assert_eq!(recognise(&m), None, "erased page 0");
    put(&mut m, 0, &[1, 2, 3, 4]);
    assert_eq!(recognise(&m), None, "code at 0 that is not an MBR");
    let m = with_mbr();
    assert_eq!(recognise(&m), Some(MbrKind::StandIn(MbrDescriptor::SDK17)));
    // A Nordic-shaped vector table without descriptor.
    let mut n = FlashMemory::new(128);
    put(&mut n, 0, &[0x00, 0x04, 0x00, 0x20, 0xD1, 0x02, 0x00, 0x00]);
    assert_eq!(recognise(&n), Some(MbrKind::Nordic));
    // A stand-in MBR whose descriptor is damaged is not an MBR.
    let mut d = with_mbr();
    d.code.write_word(0x208, 0).unwrap();
    assert_eq!(recognise(&d), None);
}

#[test]
fn no_mbr_means_silent() {
    let mut m = FlashMemory::new(128);
    bootloader(&mut m, 0x78000);
    put(&mut m, UICR_NRFFW0, &0x78000u32.to_le_bytes());
    assert_eq!(boot_target(&m), BootTarget::Silent(NoHandover::NoMbr));
}

#[test]
fn bootloader_from_uicr() {
    let mut m = with_mbr();
    bootloader(&mut m, 0x78000);
    put(&mut m, UICR_NRFFW0, &0x78000u32.to_le_bytes());
    assert_eq!(boot_target(&m), BootTarget::Bootloader { address: 0x78000 });
}

#[test]
fn flash_slot_wins_over_uicr() {
    let mut m = with_mbr();
    bootloader(&mut m, 0x71000);
    bootloader(&mut m, 0x78000);
    put(&mut m, UICR_NRFFW0, &0x78000u32.to_le_bytes());
    put(&mut m, 0xFF8, &0x71000u32.to_le_bytes());
    assert_eq!(bootloader_address(&m), Some(0x71000));
    assert_eq!(boot_target(&m), BootTarget::Bootloader { address: 0x71000 });
    put(&mut m, UICR_NRFFW1, &0x7E000u32.to_le_bytes());
    assert_eq!(params_page(&m), Some(0x7E000));
    put(&mut m, 0xFFC, &0x7D000u32.to_le_bytes());
    assert_eq!(params_page(&m), Some(0x7D000));
}

#[test]
fn bootloader_address_into_erased_flash_locks_up() {
    let mut m = with_mbr();
    put(&mut m, UICR_NRFFW0, &0x78000u32.to_le_bytes());
    assert_eq!(
        boot_target(&m),
        BootTarget::Silent(NoHandover::ErasedVectorTable { address: 0x78000 })
    );
}

#[rstest]
#[case::sd_3(S132_3_0_0)]
#[case::sd_7(S132_7_2_0)]
fn softdevice_starts_app_at_its_end(#[case] sd: crate::softdevice::StandInSoftDevice) {
    let mut m = with_mbr();
    put(&mut m, 0x1000, &standin::softdevice_image(&sd));
    // No application yet: the SoftDevice jumps into erased flash.
    assert_eq!(
        boot_target(&m),
        BootTarget::Silent(NoHandover::ErasedVectorTable {
            address: sd.info.end_address
        })
    );
    put(
        &mut m,
        sd.info.end_address,
        &[0x00, 0x00, 0x01, 0x20, 0x01, 0x03, 0x02, 0x00],
    );
    assert_eq!(
        boot_target(&m),
        BootTarget::Application {
            address: sd.info.end_address,
            softdevice: Some(sd.info)
        }
    );
}

#[test]
fn without_softdevice_app_runs_at_0x1000() {
    let mut m = with_mbr();
    put(
        &mut m,
        0x1000,
        &[0x00, 0x00, 0x01, 0x20, 0x01, 0x13, 0x00, 0x00],
    );
    assert_eq!(
        boot_target(&m),
        BootTarget::Application {
            address: 0x1000,
            softdevice: None
        }
    );
}

#[test]
fn copy_bl_record_round_trip_and_damage() {
    let r = CopyBlRecord {
        src: 0x50000,
        len_words: 0x1400,
        dst: 0x78000,
    };
    let e = r.encode();
    assert_eq!(e.len(), 24);
    assert_eq!(CopyBlRecord::decode(&e), Some(r));
    for i in 0..e.len() * 8 {
        let mut d = e.clone();
        d[i / 8] ^= 1 << (i % 8);
        assert_eq!(CopyBlRecord::decode(&d), None, "bit {i}");
    }
    assert_eq!(CopyBlRecord::decode(&[0xFF; 24]), None);
    assert_eq!(CopyBlRecord::decode(&e[..23]), None);
}

#[test]
fn copy_bl_validation_errors() {
    let mut m = with_mbr();
    assert_eq!(
        CopyBlRecord::validate(&m, 0x50000, 16),
        Err(NrfError::NoMem)
    );
    put(&mut m, UICR_NRFFW1, &0x7E000u32.to_le_bytes());
    assert_eq!(
        CopyBlRecord::validate(&m, 0x50000, 16),
        Err(NrfError::Forbidden)
    );
    put(&mut m, UICR_NRFFW0, &0x78000u32.to_le_bytes());
    assert_eq!(
        CopyBlRecord::validate(&m, 0x7FFF0, 16),
        Err(NrfError::InvalidLength)
    );
    assert_eq!(
        CopyBlRecord::validate(&m, 0x50000, 0),
        Err(NrfError::InvalidLength)
    );
    assert_eq!(
        CopyBlRecord::validate(&m, 0x50000, 16),
        Ok((
            0x7E000,
            CopyBlRecord {
                src: 0x50000,
                len_words: 16,
                dst: 0x78000
            }
        ))
    );
    assert_eq!(NrfError::NoMem.code(), 4);
    assert_eq!(NrfError::Forbidden.code(), 15);
}
