use crate::error::DeviceError;
use crate::hardware::Hardware;
use nrf_dfu::memory_map::*;
use nrf_dfu::Chip;
use rstest::rstest;

fn on(chip: Chip) -> Hardware {
    let mut d = Hardware::new(chip, 1);
    d.power_on().unwrap();
    d
}

#[rstest]
#[case::gap_after_flash(0x0008_0000)]
#[case::qfab_flash_end(0x0004_0000)]
#[case::ram_end(0x2000_8000)]
#[case::peripheral(0x4000_2000)]
#[case::high(0xE000_0000)]
fn unmapped_addresses(#[case] addr: u32) {
    let d = on(Chip::Nrf52832Qfab);
    assert_eq!(d.read_u32(addr), Err(DeviceError::Unmapped { addr }));
}

#[test]
fn ram_sizes_per_variant() {
    let a = on(Chip::Nrf52832Qfaa);
    assert!(a.read_u32(0x2000_FFFC).is_ok());
    assert_eq!(
        a.read_u32(0x2001_0000),
        Err(DeviceError::Unmapped { addr: 0x2001_0000 })
    );
    let b = on(Chip::Nrf52832Qfab);
    assert!(b.read_u32(0x2000_7FFC).is_ok());
}

#[test]
fn ram_bytes_and_words() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.write_bytes(0x2000_0001, &[1, 2, 3]).unwrap();
    d.write_u32(0x2000_0004, 0xAABB_CCDD).unwrap();
    assert_eq!(
        d.read_bytes(0x2000_0001, 7).unwrap(),
        vec![1, 2, 3, 0xDD, 0xCC, 0xBB, 0xAA]
    );
}

#[test]
fn ficr_reads_and_refuses_writes() {
    let mut d = on(Chip::Nrf52832Qfaa);
    assert_eq!(d.read_u32(FICR_INFO_PART).unwrap(), 0x52832);
    assert_eq!(d.read_u32(FICR_CODESIZE).unwrap(), 128);
    assert_eq!(
        d.read_bytes(FICR_INFO_PART, 3).unwrap(),
        vec![0x32, 0x28, 0x05]
    );
    assert_eq!(
        d.write_u32(FICR_INFO_PART, 0),
        Err(DeviceError::ReadOnly {
            addr: FICR_INFO_PART,
            region: "FICR"
        })
    );
}

#[test]
fn flash_writes_need_nvmc_wen_and_only_clear_bits() {
    let mut d = on(Chip::Nrf52832Qfaa);
    assert!(matches!(
        d.write_u32(0x2000, 0),
        Err(DeviceError::FlashWriteDisabled { .. })
    ));
    d.write_u32(NVMC_BASE + 0x504, 1).unwrap();
    d.write_u32(0x2000, 0x0F0F_0F0F).unwrap();
    d.write_u32(0x2000, 0xFFFF_00FF).unwrap();
    assert_eq!(d.read_u32(0x2000).unwrap(), 0x0F0F_000F);
    assert!(
        d.write_bytes(0x2002, &[0, 0]).is_err(),
        "half-word flash write"
    );
    // Erasing needs EEN.
    assert!(matches!(
        d.write_u32(NVMC_BASE + 0x508, 0x2000),
        Err(DeviceError::EraseDisabled { .. })
    ));
    d.write_u32(NVMC_BASE + 0x504, 2).unwrap();
    d.write_u32(NVMC_BASE + 0x508, 0x2000).unwrap();
    assert_eq!(d.read_u32(0x2000).unwrap(), 0xFFFF_FFFF);
    assert_eq!(d.read_u32(NVMC_BASE + 0x400).unwrap(), 1, "READY");
    let (ops, busy) = d.flash_activity();
    assert_eq!(ops, 3);
    assert_eq!(busy.as_micros(), 41 * 2 + 85_000);
}

#[test]
fn uicr_through_the_bus() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.write_u32(NVMC_BASE + 0x504, 1).unwrap();
    d.write_u32(UICR_NRFFW0, 0x78000).unwrap();
    assert_eq!(d.read_u32(UICR_NRFFW0).unwrap(), 0x78000);
    d.write_u32(NVMC_BASE + 0x504, 2).unwrap();
    assert!(
        d.write_u32(NVMC_BASE + 0x508, UICR_BASE).is_err(),
        "ERASEPAGE cannot erase the UICR"
    );
    d.write_u32(NVMC_BASE + 0x514, 1).unwrap();
    assert_eq!(d.read_u32(UICR_NRFFW0).unwrap(), 0xFFFF_FFFF);
}

#[test]
fn power_registers() {
    let mut d = on(Chip::Nrf52832Qfaa);
    d.write_u32(POWER_GPREGRET, 0x1B1).unwrap();
    assert_eq!(d.read_u32(POWER_GPREGRET).unwrap(), 0xB1);
    d.write_u32(POWER_GPREGRET2, 0xA9).unwrap();
    assert_eq!(d.read_u32(POWER_GPREGRET2).unwrap(), 0xA9);
    d.reset(crate::ResetKind::SoftReset).unwrap();
    assert_eq!(d.read_u32(POWER_RESETREAS).unwrap(), 4);
    d.write_u32(POWER_RESETREAS, 4).unwrap();
    assert_eq!(d.read_u32(POWER_RESETREAS).unwrap(), 0);
    assert!(matches!(
        d.read_u32(0x4000_0578),
        Err(DeviceError::Unmodelled { .. })
    ));
}

#[test]
fn bus_needs_power() {
    let d = Hardware::new(Chip::Nrf52832Qfaa, 1);
    assert_eq!(d.read_u32(0), Err(DeviceError::Off));
}
