//! Helpers the behaviour tests share: scanning for a name, a lab with one app, a DFU link.

use super::*;

pub const WAIT: Duration = Duration::from_secs(10);

/// Scan until a device with `name` shows up with advertising data; returns its peripheral.
pub async fn find_named(
    adapter: &btleplug::platform::Adapter,
    name: &str,
    filter: ScanFilter,
) -> btleplug::platform::Peripheral {
    let mut events = adapter.events().await.unwrap();
    adapter.start_scan(filter).await.unwrap();
    let found = timeout(WAIT, async {
        while let Some(ev) = events.next().await {
            let id = match ev {
                CentralEvent::DeviceDiscovered(id)
                | CentralEvent::DeviceUpdated(id)
                | CentralEvent::RssiUpdate { id, .. }
                | CentralEvent::ServicesAdvertisement { id, .. }
                | CentralEvent::ManufacturerDataAdvertisement { id, .. } => id,
                _ => continue,
            };
            let p = adapter.peripheral(&id).await.unwrap();
            if let Ok(Some(props)) = p.properties().await {
                if props.local_name.as_deref() == Some(name) && props.rssi.is_some() {
                    return p;
                }
            }
        }
        panic!("event stream ended")
    })
    .await
    .unwrap_or_else(|_| panic!("no advertisement from {name} within {WAIT:?}"));
    adapter.stop_scan().await.unwrap();
    found
}

pub fn app_lab() -> Option<(Lab, usize)> {
    let mut l = default_lab()?;
    let r = l.add(Bench::new(SdkVersion::Sdk17).build());
    Some((l, r))
}

/// Connect to the bootloader, discover, enable Control Point notifications.
pub async fn dfu_link(
    a: &btleplug::platform::Adapter,
) -> (
    btleplug::platform::Peripheral,
    btleplug::api::Characteristic,
    btleplug::api::Characteristic,
) {
    let bl = find_named(a, "DfuTarg", ScanFilter::default()).await;
    bl.connect().await.unwrap();
    bl.discover_services().await.unwrap();
    let chars = bl.characteristics();
    let cp = chars
        .iter()
        .find(|c| c.uuid == CONTROL_POINT)
        .unwrap()
        .clone();
    let pkt = chars.iter().find(|c| c.uuid == PACKET).unwrap().clone();
    bl.subscribe(&cp).await.unwrap();
    (bl, cp, pkt)
}
