//! GATT traffic through btleplug on the virtual BlueZ: one Value change per notification, in
//! order; write commands answered at once, queued, and lost with the link.
//! The BlueZ source of each rule is named in rig/virtual-bluez.

#[path = "support/bluez_lab.rs"]
mod bluez_lab;
mod support;

use bluez_lab::*;
use btleplug::api::{Central, CentralEvent, Peripheral as _, WriteType};
use futures_util::StreamExt;
use nrf_dfu::SdkVersion;
use rig::drivers::ble::CONTROL_POINT;
use support::Bench;
use tokio::time::timeout;
use virtual_bluez::Fault;

#[test]
fn one_value_change_per_notification_never_merged_in_order() {
    let Some(mut l) = default_lab() else { return };
    l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    l.rt.block_on(async {
        let a = l.adapter().await;
        let (bl, cp, _) = dfu_link(&a).await;
        let mut notes = bl.notifications().await.unwrap();
        // SELECT command, SELECT data, SELECT command, SELECT command: two identical replies
        // in a row must still be two notifications.
        let ops: [&[u8]; 4] = [&[0x06, 0x01], &[0x06, 0x02], &[0x06, 0x01], &[0x06, 0x01]];
        for op in ops {
            bl.write(&cp, op, WriteType::WithResponse).await.unwrap();
        }
        let mut got = Vec::new();
        while got.len() < ops.len() {
            let n = timeout(WAIT, notes.next())
                .await
                .expect("notification")
                .unwrap();
            assert_eq!(n.uuid, CONTROL_POINT);
            got.push(n.value);
        }
        let kinds: Vec<(u8, u8)> = got.iter().map(|v| (v[0], v[1])).collect();
        assert_eq!(kinds, vec![(0x60, 0x06); 4], "{got:02x?}");
        assert_eq!(got[2], got[3], "identical values, two notifications");
        assert_ne!(
            got[0], got[1],
            "command and data objects answer differently, in order"
        );
        assert_eq!(got[0], got[2]);
    });
    assert!(l.vb.stats().notifications >= 4);
}

#[test]
fn write_commands_are_answered_at_once_and_lost_with_the_link() {
    let Some(mut l) = default_lab() else { return };
    let radio = l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    let dropped = |l: &Lab| {
        l.vb.with(move |b, _| {
            b.radio_mut(radio)
                .unwrap()
                .with(|ble, _| ble.stats.packets_dropped)
                .unwrap()
        })
        .unwrap()
    };
    l.rt.block_on(async {
        let a = l.adapter().await;
        let (bl, cp, pkt) = dfu_link(&a).await;
        // A data object to write into.
        bl.write(
            &cp,
            &[0x01, 0x02, 0x00, 0x10, 0x00, 0x00],
            WriteType::WithResponse,
        )
        .await
        .unwrap();
        // 100 writes in flight at once (dbus-daemon allows 128 pending replies per connection
        // by default): bluetoothd answers each at once and queues the packets; 100 packets need
        // ~17 connection events (6 per 7.5 ms event at MTU 247) on air.
        let burst = |n: u32| {
            futures_util::future::join_all((0..n).map(|i| {
                let (bl, pkt) = (bl.clone(), pkt.clone());
                async move {
                    bl.write(&pkt, &[i as u8; 244], WriteType::WithoutResponse)
                        .await
                }
            }))
        };
        for r in burst(100).await {
            r.unwrap();
        }
        let stats = l.vb.stats();
        assert!(
            stats.max_command_queue > 20,
            "queue grew ahead of the link: {stats:?}"
        );
        // The link breaks; bluetoothd learns it only at the supervision timeout. Until then
        // every write command still succeeds, and none reaches the device.
        let mut events = a.events().await.unwrap();
        let before = dropped(&l);
        assert!(l.vb.fault(radio, Fault::LinkDrop).unwrap());
        for r in burst(50).await {
            r.unwrap();
        }
        timeout(WAIT, async {
            while let Some(ev) = events.next().await {
                if matches!(ev, CentralEvent::DeviceDisconnected(ref id) if *id == bl.id()) {
                    return;
                }
            }
        })
        .await
        .expect("the loss is seen at the supervision timeout");
        let lost = dropped(&l) - before;
        assert!(
            (50..=150).contains(&lost),
            "the 50 written after the loss, and what of the first burst was still queued, are \
             lost on air, silently: {lost}"
        );
        let r = bl.write(&pkt, &[0; 20], WriteType::WithoutResponse).await;
        assert!(r.is_err(), "after the loss the characteristic is gone");
    });
}
