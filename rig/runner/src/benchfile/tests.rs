use super::*;
use crate::benchfile::virtual_bench::VirtualDut;
use nrf_dfu::{Chip, SdkVersion};

const GOOD: &str = r#"
duts:
  board-1:
    chip: nRF52832_xxAB
    bootloader: { sdk: 15.3, key: keys/k.pem }
    probe: { selector: "1366:1015:000683000000", speed_khz: 4000 }
    ble: { adapter: hci0, address: "F1:22:33:44:55:66", name: DfuTarg }
    serial: { port: /dev/ttyACM0, flow_control: false }
    power: { kind: command, on: "uhubctl -l 1-1 -p 2 -a on", off: "uhubctl -l 1-1 -p 2 -a off" }
  board-2:
    bootloader: { sdk: "17.1" }
    power: { kind: usb-port, hub: "1-1", port: 3 }
  sim:
    virtual: true
    power: { kind: virtual }
"#;

#[test]
fn a_full_bench_parses() {
    let b = parse(Path::new("bench.yaml"), GOOD).unwrap();
    let (_, d) = b.dut(Some("board-1")).unwrap();
    assert_eq!(d.chip, Chip::Nrf52832Qfab);
    assert_eq!(d.bootloader.as_ref().unwrap().sdk, SdkVersion::Sdk15_3);
    let sel = d.probe.as_ref().unwrap().selector.clone().unwrap();
    assert_eq!((sel.vendor_id, sel.product_id), (0x1366, 0x1015));
    assert_eq!(sel.serial_number.as_deref(), Some("000683000000"));
    let s = d.serial.as_ref().unwrap();
    assert_eq!((s.baud, s.flow_control, s.ping), (115_200, false, true));
    assert!(matches!(
        d.power,
        Some(PowerConfig::Command {
            timeout_ms: 10_000,
            cuts_power: true,
            ..
        })
    ));
    let (_, d2) = b.dut(Some("board-2")).unwrap();
    assert_eq!(d2.chip, Chip::Nrf52832Qfaa, "default chip");
    assert_eq!(d2.bootloader.as_ref().unwrap().sdk, SdkVersion::Sdk17);
    assert_eq!(
        d2.power,
        Some(PowerConfig::UsbPort {
            hub: "1-1".into(),
            port: 3,
            // A usb-port switch is not trusted to remove VBUS unless the bench file says so.
            cuts_power: false
        })
    );
    assert!(b.dut(Some("sim")).unwrap().1.is_virtual);
    assert!(matches!(
        b.dut(None),
        Err(BenchError::ChooseDut { count: 3, .. })
    ));
    let e = b.dut(Some("board-9")).unwrap_err().to_string();
    assert_eq!(
        e,
        "no DUT named \"board-9\" on this bench (it has: board-1, board-2, sim)"
    );
}

fn parse_err(text: &str) -> String {
    parse(Path::new("bench.yaml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn errors_carry_file_line_and_column() {
    let e = parse_err("duts:\n  b:\n    chip: nRF52840_xxAA\n");
    assert!(e.starts_with("bench.yaml:3:"), "{e}");
    assert!(e.contains("unknown chip \"nRF52840_xxAA\""), "{e}");
    let e = parse_err("duts:\n  b:\n    probe: { selector: \"13G6:1015\" }\n");
    assert!(e.starts_with("bench.yaml:3:"), "{e}");
    assert!(e.contains("VID"), "{e}");
    let e = parse_err("duts:\n  b:\n    bootloader: { sdk: 11 }\n");
    assert!(e.starts_with("bench.yaml:3:"), "{e}");
    assert!(e.contains("unknown nRF5 SDK version \"11\""), "{e}");
    let e = parse_err("duts:\n  b:\n    serial: { port: /dev/ttyS0, baud: fast }\n");
    assert!(e.starts_with("bench.yaml:3:"), "{e}");
    let e = parse_err("duts:\n  b:\n    colour: red\n");
    assert!(
        e.starts_with("bench.yaml:3:") && e.contains("unknown field `colour`"),
        "{e}"
    );
    let e = parse_err("duts:\n  b:\n    power: { kind: relay }\n");
    assert!(e.starts_with("bench.yaml:3:"), "{e}");
    assert!(e.contains("unknown variant `relay`"), "{e}");
    assert_eq!(
        parse_err("duts: {}\n"),
        "bench.yaml: `duts` is empty: name at least one DUT"
    );
}

#[test]
fn no_bench_file_is_one_virtual_dut() {
    let b = virtual_bench(DEFAULT_VIRTUAL_DUT);
    let (name, d) = b.dut(None).unwrap();
    assert_eq!(name, "virtual-0");
    assert!(d.is_virtual);
}

#[test]
fn virtual_dut_state_survives_between_loads() {
    let dir = tempfile::tempdir().unwrap();
    let v = VirtualDut::load(dir.path(), "virtual-0", Chip::Nrf52832Qfaa).unwrap();
    {
        use virtual_nrf52::DebugPort;
        let mut d = v.device.borrow_mut();
        assert_eq!(
            DebugPort::read_memory(&mut *d, 0x1000, 4).unwrap(),
            vec![0xFF; 4],
            "blank"
        );
        d.program(&[(0x1000, vec![1, 2, 3, 4])], Default::default())
            .unwrap();
        virtual_nrf52::DebugPort::power_off(&mut *d);
    }
    v.save().unwrap();
    assert!(dir.path().join("virtual-0.state").exists());
    assert!(dir.path().join("virtual-0.power-off").exists());
    let v2 = VirtualDut::load(dir.path(), "virtual-0", Chip::Nrf52832Qfaa).unwrap();
    assert!(!v2.device.borrow().is_powered(), "switch stays off");
    virtual_nrf52::DebugPort::power_on(&mut *v2.device.borrow_mut()).unwrap();
    v2.save().unwrap();
    assert!(!dir.path().join("virtual-0.power-off").exists());
    let v3 = VirtualDut::load(dir.path(), "virtual-0", Chip::Nrf52832Qfaa).unwrap();
    assert_eq!(
        v3.device.borrow().hardware().read_bytes(0x1000, 4).unwrap(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        v3.device.borrow().hardware().ficr(),
        v.device.borrow().hardware().ficr(),
        "same identity"
    );
    assert!(matches!(
        VirtualDut::load(dir.path(), "virtual-0", Chip::Nrf52832Qfab),
        Err(super::virtual_bench::VirtualError::ChipMismatch { .. })
    ));
    assert!(VirtualDut::load(dir.path(), "../x", Chip::Nrf52832Qfaa).is_err());
}

/// Regression: the 17.1 bootloader writes the MBR address slots (0xFF8/0xFFC) at its first boot.
/// The runner used to save the device without letting that flash work run, and the next command
/// cut power at the same instant as its power-on boot started the write again: the torn word at
/// 0xFF8 became a garbage bootloader address (`ErasedVectorTable { address: 0xb08fcf23 }`).
#[tokio::test(start_paused = true)]
async fn boot_flash_work_completes_before_save_and_survives_a_power_cycle() {
    use crate::drivers::power::virtual_switch::VirtualSwitch;
    use crate::drivers::power::PowerSwitch;
    use nrf_dfu::memory_map::{MBR_BOOTLOADER_ADDR_SLOT, MBR_PARAMS_PAGE_ADDR_SLOT};
    use std::time::Duration;
    use virtual_nrf52::descriptor::BootloaderDescriptor;
    use virtual_nrf52::softdevice::S132_7_2_0;
    use virtual_nrf52::{standin, DebugPort, Status};
    let chip = Chip::Nrf52832Qfaa;
    let dir = tempfile::tempdir().unwrap();
    let v = VirtualDut::load(dir.path(), "virtual-0", chip).unwrap();
    {
        let mut segs = standin::softdevice_hex_segments(&S132_7_2_0);
        segs.extend(
            standin::bootloader_segments(
                &BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [3; 64]),
                chip,
                standin::DEFAULT_BOOTLOADER_SIZE,
            )
            .unwrap(),
        );
        let mut d = v.device.borrow_mut();
        let t = d.now();
        let mut port = d.debug(t);
        port.program(&segs, Default::default()).unwrap();
        port.soft_reset().unwrap();
    }
    v.save().unwrap();
    let word = |v: &VirtualDut, a: u32| v.device.borrow().read_u32(a).unwrap();
    for _ in 0..3 {
        let v = VirtualDut::load(dir.path(), "virtual-0", chip).unwrap();
        assert_eq!(
            word(&v, MBR_BOOTLOADER_ADDR_SLOT),
            chip.bootloader_address()
        );
        assert_eq!(
            word(&v, MBR_PARAMS_PAGE_ADDR_SLOT),
            chip.mbr_params_address()
        );
        let mut sw = VirtualSwitch::new("virtual-0", v.device.clone());
        sw.cycle(Duration::from_millis(200)).await.unwrap();
        crate::benchfile::virtual_bench::settle(&mut v.device.borrow_mut());
        assert_eq!(
            word(&v, MBR_BOOTLOADER_ADDR_SLOT),
            chip.bootloader_address()
        );
        assert!(
            matches!(v.device.borrow().status(), Status::Bootloader(_)),
            "{:?}",
            v.device.borrow().silent_reason()
        );
        v.save().unwrap();
    }
}
