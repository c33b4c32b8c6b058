//! Random central and device actions: the BLE surface never panics, delivers events in time
//! order, never reports a connection it cannot have, and advertises only while it should.

use super::*;
use crate::events::SimTime;
use crate::power::ResetKind;
use crate::status::Status;
use crate::virtual_device::Device;
use proptest::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Wait(u16),
    Scan,
    Connect,
    Disconnect,
    Mtu(u16),
    Cccd(bool),
    Cp(Vec<u8>),
    Packet(Vec<u8>),
    Confirm,
    PowerCycle,
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u16..3000).prop_map(Op::Wait),
        Just(Op::Scan),
        Just(Op::Connect),
        Just(Op::Disconnect),
        (0u16..600).prop_map(Op::Mtu),
        any::<bool>().prop_map(Op::Cccd),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Op::Cp),
        proptest::collection::vec(any::<u8>(), 0..250).prop_map(Op::Packet),
        Just(Op::Confirm),
        Just(Op::PowerCycle),
        Just(Op::Reset),
    ]
}

fn device() -> (Device, SimTime) {
    use crate::debug_port::{DebugPort, ProgramOptions};
    use crate::descriptor::BootloaderDescriptor;
    let mut dev = Device::new(nrf_dfu::Chip::Nrf52832Qfaa, 9);
    let mut segs = crate::standin::softdevice_hex_segments(&crate::softdevice::S132_7_2_0);
    let bl = BootloaderDescriptor::sdk_default(nrf_dfu::SdkVersion::Sdk17, [5; 64]);
    segs.extend(
        crate::standin::bootloader_segments(&bl, nrf_dfu::Chip::Nrf52832Qfaa, 0x5000).unwrap(),
    );
    let mut d = dev.debug(SimTime::ZERO);
    d.program(&segs, ProgramOptions::default()).unwrap();
    d.soft_reset().unwrap();
    let t = dev.settle(Duration::from_secs(5));
    (dev, t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_sessions_stay_consistent(ops in proptest::collection::vec(op(), 1..40)) {
        let (mut dev, mut t) = device();
        let mut ble = BlePeripheral::new();
        let mut last_event = SimTime::ZERO;
        let (mut cp, mut cccd, mut pkt) = (0u16, 0u16, 0u16);
        for op in ops {
            match op {
                Op::Wait(ms) => t += Duration::from_millis(ms as u64),
                Op::Scan => {
                    if let Some(a) = ble.scan(&mut dev, t) {
                        prop_assert!(a.at <= t && t - a.at < Duration::from_millis(25));
                        prop_assert!(matches!(dev.status(), Status::Bootloader(_)));
                        prop_assert!(!ble.is_connected(t) || ble.connection().is_some_and(|c| c.ended.is_some()));
                    }
                }
                Op::Connect => {
                    if let Ok(at) = ble.connect(&mut dev, t) {
                        prop_assert!(at >= t);
                        t = at;
                        if let Ok((g, at)) = ble.discover(&mut dev, t) {
                            t = at;
                            let c = g.characteristic(&uuid::CONTROL_POINT).unwrap();
                            cp = c.value_handle;
                            cccd = c.cccd_handle.unwrap();
                            pkt = g.characteristic(&uuid::PACKET).unwrap().value_handle;
                        }
                    }
                }
                Op::Disconnect => {
                    if let Ok(at) = ble.disconnect(&mut dev, t) {
                        t = at;
                        prop_assert!(!ble.is_connected(t));
                    }
                }
                Op::Mtu(m) => {
                    if let Ok((mtu, at)) = ble.exchange_mtu(&mut dev, t, m) {
                        prop_assert!((23..=247).contains(&mtu));
                        t = at;
                    }
                }
                Op::Cccd(on) => {
                    if let Ok(at) = ble.write_request(&mut dev, t, cccd, &[on as u8, 0]) {
                        t = at;
                    }
                }
                Op::Cp(v) => {
                    if let Ok(at) = ble.write_request(&mut dev, t, cp, &v) {
                        t = at;
                    }
                }
                Op::Packet(v) => {
                    if let Ok(at) = ble.write_command(&mut dev, t, pkt, &v) {
                        prop_assert!(at >= t);
                    }
                }
                Op::Confirm => {
                    let _ = ble.confirm_indication(&mut dev, t);
                }
                Op::PowerCycle => {
                    let t0 = t.max(dev.now());
                    dev.power_off(t0);
                    dev.power_on(t0 + Duration::from_millis(5));
                    t = t0 + Duration::from_millis(5);
                }
                Op::Reset => {
                    let t0 = t.max(dev.now());
                    dev.reset(t0, ResetKind::SoftReset);
                    t = t0;
                }
            }
            t = t.max(dev.now());
            for e in ble.events(&mut dev, t) {
                prop_assert!(e.at() >= last_event, "events in time order");
                prop_assert!(e.at() <= t);
                last_event = e.at();
            }
        }
    }
}
