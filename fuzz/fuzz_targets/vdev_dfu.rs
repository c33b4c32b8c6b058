//! Arbitrary traffic into a virtual nRF52832 whose 17.1 bootloader (BLE, or UART when the first
//! byte is odd) is in DFU mode: control-point writes, packets, serial bytes, link losses, time
//! passing and power cuts, in any order. The model must never panic, and time never goes back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use virtual_nrf52::DebugPort;
use virtual_nrf52::descriptor::{BootloaderDescriptor, Transport};
use virtual_nrf52::{standin, Device};
use nrf_dfu::{Chip, SdkVersion};

fn device(uart: bool, sdk: SdkVersion) -> Device {
    let mut d = BootloaderDescriptor::sdk_default(sdk, [3; 64]);
    if uart {
        d.transport = Transport::Uart;
    }
    let mut dev = Device::new(Chip::Nrf52832Qfaa, 1);
    let mut segs = standin::softdevice_hex_segments(&virtual_nrf52::softdevice::S132_7_2_0);
    segs.extend(standin::bootloader_segments(&d, Chip::Nrf52832Qfaa, 0x5000).unwrap());
    {
        let mut port = dev.debug(Duration::ZERO);
        port.program(&segs, Default::default()).unwrap();
        port.soft_reset().unwrap();
    }
    dev.settle(Duration::from_secs(5));
    dev
}

/// The six starting devices (3 SDKs x BLE/UART), built once and cloned per input.
fn devices() -> &'static Vec<Device> {
    static DEVICES: std::sync::OnceLock<Vec<Device>> = std::sync::OnceLock::new();
    DEVICES.get_or_init(|| {
        [SdkVersion::Sdk12, SdkVersion::Sdk15_3, SdkVersion::Sdk17]
            .into_iter()
            .flat_map(|sdk| [device(false, sdk), device(true, sdk)])
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else { return };
    let mut dev = devices()[mode as usize % 6].clone();
    let mut t = dev.now();
    while let Some((&op, tail)) = rest.split_first() {
        let n = (tail.first().copied().unwrap_or(0) as usize).min(tail.len().saturating_sub(1));
        let body = tail.get(1..1 + n).unwrap_or(&[]);
        rest = tail.get(1 + n..).unwrap_or(&[]);
        match op % 7 {
            0 => {
                let _ = dev.dfu_control(t, body);
            }
            1 => {
                let _ = dev.dfu_packet(t, body);
            }
            2 => dev.uart_rx(t, body),
            3 => {
                let _ = dev.uart_tx(t);
            }
            4 => dev.dfu_link_lost(t),
            5 => t += Duration::from_millis(body.first().copied().unwrap_or(1) as u64 * 50),
            _ => {
                dev.power_off(t);
                t += Duration::from_millis(10);
                dev.power_on(t);
            }
        }
        assert!(dev.now() >= t.min(dev.now()));
        t = t.max(dev.now());
    }
    let _ = dev.status();
    let _ = dev.next_event_time();
});
