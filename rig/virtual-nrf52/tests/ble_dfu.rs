//! A whole buttonless + Secure DFU update through the BLE surface (`BlePeripheral`), the way a
//! phone does it: scan the application, enter DFU over the buttonless characteristic, find the
//! bootloader at the +1 address, update, and see the new version advertised.

#[path = "support/mod.rs"]
mod support;

use nrf_dfu::crc::{crc32, crc32_continue};
use nrf_dfu::SdkVersion;
use rstest::rstest;
use std::time::Duration;
use support::{app_package, ms, Bench};
use virtual_nrf52::ble::uuid::{BUTTONLESS_UNBONDED, CONTROL_POINT, PACKET};
use virtual_nrf52::ble::{BlePeripheral, DisconnectReason, PeripheralEvent};
use virtual_nrf52::{Device, SimTime, Status};

/// A central doing the Secure DFU sequence over the peripheral.
struct Central {
    ble: BlePeripheral,
    t: SimTime,
    cp: u16,
    pkt: u16,
    payload: usize,
    /// Pause between packets; grows when packets are lost mid-object.
    gap: Duration,
    disconnected: Option<(SimTime, DisconnectReason)>,
}

impl Central {
    /// Send a CP request and wait for its response notification.
    fn request(&mut self, dev: &mut Device, req: &[u8]) -> Vec<u8> {
        self.t = self
            .ble
            .write_request(dev, self.t, self.cp, req)
            .expect("CP write");
        loop {
            for e in self.ble.events(dev, self.t) {
                match e {
                    PeripheralEvent::Notification { value, .. }
                        if value.get(1) == Some(&req[0]) =>
                    {
                        return value
                    }
                    PeripheralEvent::Disconnected { at, reason } => {
                        self.disconnected = Some((at, reason))
                    }
                    _ => {}
                }
            }
            let next = self.ble.next_event_time(dev).expect("something pending");
            assert!(
                next < self.t + Duration::from_secs(20),
                "no response to {req:02x?}"
            );
            self.t = self.t.max(next);
        }
    }

    fn crc(&mut self, dev: &mut Device) -> (u32, u32) {
        let r = self.request(dev, &[0x03]);
        assert_eq!(&r[..3], &[0x60, 0x03, 0x01]);
        (
            u32::from_le_bytes(r[3..7].try_into().unwrap()),
            u32::from_le_bytes(r[7..11].try_into().unwrap()),
        )
    }

    fn stream(&mut self, dev: &mut Device, data: &[u8]) {
        for chunk in data.chunks(self.payload) {
            self.t = self
                .ble
                .write_command(dev, self.t, self.pkt, chunk)
                .expect("packet")
                + self.gap;
        }
    }

    /// One object as Android sends it: CREATE, stream, CRC; a lost tail (CRC of what arrived
    /// matches) is resent once the flash has caught up; a loss in the middle (CRC mismatch)
    /// means CREATE again and stream slower. Then EXECUTE.
    fn object(
        &mut self,
        dev: &mut Device,
        kind: u8,
        image: &[u8],
        start: usize,
        end: usize,
        crc_before: u32,
    ) -> Vec<u8> {
        let len = (end - start) as u32;
        for _attempt in 0..6 {
            assert_eq!(
                self.request(dev, &[[0x01, kind].as_slice(), &len.to_le_bytes()].concat()),
                [0x60, 0x01, 0x01]
            );
            let mut at = start;
            loop {
                self.stream(dev, &image[at..end]);
                let (offset, crc) = self.crc(dev);
                let offset = offset as usize;
                assert!(offset >= start && offset <= end, "offset {offset}");
                if crc != crc32_continue(crc_before, &image[start..offset]) {
                    self.gap = (self.gap * 2).max(ms(15));
                    break;
                }
                if offset == end {
                    return self.request(dev, &[0x04]);
                }
                at = offset;
                self.t += ms(2000);
            }
        }
        panic!("object at {start} never arrived intact");
    }
}

#[rstest]
#[case(SdkVersion::Sdk17)]
#[case(SdkVersion::Sdk15_3)]
#[case(SdkVersion::Sdk16)]
#[case(SdkVersion::Sdk15_0)]
#[case(SdkVersion::Sdk14)]
fn buttonless_then_dfu_over_the_ble_surface(#[case] sdk: SdkVersion) {
    let bench = Bench::new(sdk);
    let mut dev = bench.build();
    let mut ble = BlePeripheral::new();
    let t = dev.now();

    // The application: version 1 in its advertisement, buttonless DFU characteristic.
    let adv = ble.scan(&mut dev, t).expect("app advertises");
    assert_eq!(adv.data.app_version(), Some(1));
    let app_address = adv.address;
    let t = ble.connect(&mut dev, t).unwrap();
    let (gatt, t) = ble.discover(&mut dev, t).unwrap();
    let b = gatt.characteristic(&BUTTONLESS_UNBONDED).unwrap().clone();
    let t = ble
        .write_request(&mut dev, t, b.cccd_handle.unwrap(), &[2, 0])
        .unwrap();
    let t = ble
        .write_request(&mut dev, t, b.value_handle, &[0x01])
        .unwrap();
    let ev = ble.events(&mut dev, t + ms(50));
    assert!(
        matches!(&ev[..], [PeripheralEvent::Indication { value, .. }] if value == &[0x20, 0x01, 0x01]),
        "{ev:?}"
    );
    let t = ble.confirm_indication(&mut dev, t + ms(50)).unwrap();
    let ev = ble.events(&mut dev, t + ms(100));
    assert!(
        matches!(
            ev[..],
            [PeripheralEvent::Disconnected {
                reason: DisconnectReason::RemoteUserTerminated,
                ..
            }]
        ),
        "{ev:?}"
    );

    // The bootloader at the +1 address.
    let mut t = t + ms(100);
    let adv = loop {
        if let Some(a) = ble
            .scan(&mut dev, t)
            .filter(|a| a.data.local_name() == Some("DfuTarg"))
        {
            break a;
        }
        t = ble
            .next_event_time(&dev)
            .unwrap_or(t + ms(25))
            .max(t + ms(1));
        assert!(
            t < dev.now() + Duration::from_secs(10),
            "bootloader never advertised"
        );
    };
    assert_eq!(adv.address.0[0], app_address.0[0].wrapping_add(1));
    assert_eq!(&adv.address.0[1..], &app_address.0[1..]);

    let t = ble.connect(&mut dev, adv.at).unwrap();
    let (mtu, t) = ble.exchange_mtu(&mut dev, t, 247).unwrap();
    let (gatt, t) = ble.discover(&mut dev, t).unwrap();
    let cp = gatt.characteristic(&CONTROL_POINT).unwrap().clone();
    let pkt = gatt.characteristic(&PACKET).unwrap().value_handle;
    let t = ble
        .write_request(&mut dev, t, cp.cccd_handle.unwrap(), &[1, 0])
        .unwrap();
    let mut c = Central {
        ble,
        t,
        cp: cp.value_handle,
        pkt,
        payload: mtu as usize - 3,
        gap: Duration::ZERO,
        disconnected: None,
    };
    assert_eq!(c.payload, if sdk >= SdkVersion::Sdk15_0 { 244 } else { 20 });

    let image = bench.app(2);
    let pkg = app_package(&bench, &image, 2);
    assert_eq!(c.request(&mut dev, &[0x02, 0x00, 0x00]), [0x60, 0x02, 0x01]);
    assert_eq!(
        &c.request(&mut dev, &[0x06, 0x01])[..3],
        &[0x60, 0x06, 0x01]
    );
    assert_eq!(
        c.object(&mut dev, 0x01, &pkg.init, 0, pkg.init.len(), 0),
        [0x60, 0x04, 0x01]
    );
    let sel = c.request(&mut dev, &[0x06, 0x02]);
    let max = u32::from_le_bytes(sel[3..7].try_into().unwrap()) as usize;
    let mut crc = 0;
    let mut last = Vec::new();
    for start in (0..image.len()).step_by(max) {
        let end = (start + max).min(image.len());
        last = c.object(&mut dev, 0x02, &image, start, end, crc);
        crc = crc32_continue(crc, &image[start..end]);
    }
    assert_eq!(last, [0x60, 0x04, 0x01], "final EXECUTE");
    assert_eq!(crc, crc32(&image));

    // The bootloader disconnects cleanly (0x13) well before a supervision timeout, activates,
    // and the new application advertises version 2 at the original address.
    let mut t = c.t;
    while c.disconnected.is_none() {
        for e in c.ble.events(&mut dev, t) {
            if let PeripheralEvent::Disconnected { at, reason } = e {
                c.disconnected = Some((at, reason));
            }
        }
        t = c
            .ble
            .next_event_time(&dev)
            .unwrap_or(t + ms(15))
            .max(t + ms(1));
    }
    let (at, reason) = c.disconnected.unwrap();
    assert_eq!(reason, DisconnectReason::RemoteUserTerminated);
    assert!(
        at < c.t + Duration::from_secs(2),
        "clean disconnect, not a timeout"
    );
    let done = dev.settle(at + Duration::from_secs(60));
    assert!(
        matches!(dev.status(), Status::App(ref a) if a.version == 2),
        "{:?}",
        dev.status()
    );
    let adv = c.ble.scan(&mut dev, done).expect("new app advertises");
    assert_eq!(adv.data.app_version(), Some(2));
    assert_eq!(adv.address, app_address);
}
