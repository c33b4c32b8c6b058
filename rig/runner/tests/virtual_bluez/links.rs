//! Buttonless entry (the bootloader at address + 1), link loss and faults with their reason.

use super::*;

#[test]
fn buttonless_entry_finds_the_unbonded_bootloader_at_address_plus_one() {
    let Some((l, _)) = app_lab() else { return };
    let app_addr = address_of(&l.devices[0]);
    l.rt.block_on(async {
        let a = l.adapter().await;
        let app = find_named(&a, "app-v1", ScanFilter::default()).await;
        app.connect().await.unwrap();
        app.discover_services().await.unwrap();
        let target = rig::drivers::ble::buttonless::enter(&a, &app, None)
            .await
            .unwrap();
        let want: rig::drivers::ble::address::BleAddress = app_addr.parse().unwrap();
        assert_eq!(target.addresses, vec![want.bootloader()]);
        let (id, s) = rig::drivers::ble::scan::find_fresh(&a, &target, WAIT)
            .await
            .unwrap();
        assert_eq!(s.name.as_deref(), Some("DfuTarg"));
        assert_ne!(id, app.id(), "a new device object");
        // The application's object stays (it was connected: not temporary), disconnected.
        let ids: Vec<_> = a
            .peripherals()
            .await
            .unwrap()
            .iter()
            .map(|p| p.id())
            .collect();
        assert!(ids.contains(&app.id()));
        assert!(!app.is_connected().await.unwrap());
    });
}

/// Device1.Disconnected signals on the raw bus, as (reason name, message).
fn watch_disconnects(
    c: &dbus::blocking::Connection,
) -> std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let rule = dbus::message::MatchRule::new_signal("org.bluez.Device1", "Disconnected");
    c.add_match(rule, move |_: (), _, m: &dbus::Message| {
        s2.lock()
            .unwrap()
            .push(m.read2::<String, String>().unwrap());
        true
    })
    .unwrap();
    seen
}

fn pump(c: &dbus::blocking::Connection, wall: Duration) {
    let end = std::time::Instant::now() + wall;
    while std::time::Instant::now() < end {
        c.process(Duration::from_millis(20)).unwrap();
    }
}

#[test]
fn link_loss_and_faults_reach_the_host_with_their_reason() {
    let Some(mut l) = default_lab() else { return };
    let radio = l.add(Bench::new(SdkVersion::Sdk17).build_in_dfu());
    let c = l.raw();
    let seen = watch_disconnects(&c);
    for (fault, reason) in [
        (Some(Fault::LinkDrop), "org.bluez.Reason.Timeout"),
        (None, "org.bluez.Reason.Local"),
        // Last: after a reset the valid application may boot instead of the bootloader.
        (Some(Fault::Reset), "org.bluez.Reason.Timeout"),
    ] {
        let t0 = l.vb.lab_now();
        l.rt.block_on(async {
            let a = l.adapter().await;
            let (bl, _, _) = dfu_link(&a).await;
            let mut events = a.events().await.unwrap();
            match fault {
                Some(f) => assert!(l.vb.fault(radio, f).unwrap()),
                None => bl.disconnect().await.unwrap(),
            }
            timeout(WAIT, async {
                while let Some(ev) = events.next().await {
                    if matches!(ev, CentralEvent::DeviceDisconnected(ref id) if *id == bl.id()) {
                        return;
                    }
                }
            })
            .await
            .expect("btleplug sees the disconnection");
        });
        let lab_elapsed = l.vb.lab_now() - t0;
        pump(&c, Duration::from_millis(100));
        let last = seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("Disconnected signal");
        assert_eq!(last.0, reason, "{fault:?}");
        if fault.is_some() {
            // The host learns of a silent peer only when the supervision timeout expires.
            assert!(
                lab_elapsed >= Duration::from_millis(3900),
                "{fault:?} seen after {lab_elapsed:?}"
            );
        }
        // The bootloader advertises again (after its reset, or at once).
        std::thread::sleep(l.wall(Duration::from_secs(1)));
    }
}
