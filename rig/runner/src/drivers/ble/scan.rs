//! Scanning for a DUT: service filter 0xFE59, advertisement events only, fresh sightings only.

use super::adapter::bounded;
use super::address::BleAddress;
use super::error::BleError;
use super::freshness::{AdvertLog, Sighting, Wanted};
use super::DFU_SERVICE;
use crate::benchfile::schema::BleConfig;
use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter};
use btleplug::platform::{Adapter, PeripheralId};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use tokio::time::{timeout_at, Duration, Instant};

/// How old an advertisement may be and still count (the bootloader advertises every 25 ms,
/// apps typically every 100 ms to 1 s).
pub const MAX_ADVERT_AGE: Duration = Duration::from_secs(3);

/// What the bench file names, as a scan target.
pub fn wanted(cfg: &BleConfig) -> Result<Wanted, BleError> {
    let mut addresses = Vec::new();
    if let Some(a) = &cfg.address {
        let a: BleAddress = a
            .parse()
            .map_err(|e: super::address::BadAddress| BleError::Config(e.to_string()))?;
        addresses.push(a);
        if !cfg.bonded {
            addresses.push(a.bootloader());
        }
    }
    Ok(Wanted {
        addresses,
        name: cfg.name.clone(),
        service: Some(DFU_SERVICE),
    })
}

/// Which device a btleplug event shows advertising *now*, if any.
///
/// btleplug 0.13.5 `src/bluez/adapter.rs` `Central::events()` first replays, for every device
/// BlueZ already holds, a `DeviceDiscovered` and (when its cached UUIDs are known) a
/// `ServicesAdvertisement`, then forwards live D-Bus signals. Those replayed events are not
/// advertisements: last iteration's bootloader or an application that just disconnected would
/// look fresh. So for a device BlueZ already knew when the stream was opened (`known`) only
/// events that BlueZ raises from an advertising report during this discovery count: RSSI,
/// manufacturer data, service data (bluez-async 0.9 `DeviceEvent::Rssi`, `ManufacturerData`,
/// `ServiceData`, from `PropertiesChanged`; never part of the replay). BlueZ invalidates a
/// device's RSSI when discovery stops (BlueZ `src/adapter.c` `invalidate_rssi_and_tx_power`),
/// so the first report of the next scan always changes it and is signalled. A device BlueZ did
/// not know appears through `InterfacesAdded`, i.e. from a report received now.
pub fn heard(ev: &CentralEvent, known: &HashSet<PeripheralId>) -> Option<PeripheralId> {
    match ev {
        CentralEvent::RssiUpdate { id, .. }
        | CentralEvent::ServiceDataAdvertisement { id, .. }
        | CentralEvent::ManufacturerDataAdvertisement { id, .. } => Some(id.clone()),
        CentralEvent::DeviceDiscovered(id)
        | CentralEvent::DeviceUpdated(id)
        | CentralEvent::ServicesAdvertisement { id, .. } => {
            (!known.contains(id)).then(|| id.clone())
        }
        _ => None,
    }
}

/// What the scan learns about a device it heard: address, name, services, RSSI.
pub struct Heard {
    pub address: BleAddress,
    pub name: Option<String>,
    pub services: Vec<uuid::Uuid>,
    pub rssi: Option<i16>,
}

/// Scan until a fresh matching advertisement arrives or `wait` runs out.
pub async fn find_fresh(
    adapter: &Adapter,
    target: &Wanted,
    wait: Duration,
) -> Result<(PeripheralId, Sighting), BleError> {
    let events = bounded("event stream", adapter.events()).await?;
    // Taken after the stream was opened: a superset of the devices the stream replays.
    let known: HashSet<PeripheralId> = bounded("known devices", adapter.peripherals())
        .await?
        .iter()
        .map(|p| p.id())
        .collect();
    bounded("start scan", adapter.start_scan(scan_filter(target))).await?;
    let found = first_fresh(events, &known, target, wait, |id| async move {
        let p = adapter.peripheral(&id).await.ok()?;
        let props = tokio::time::timeout(super::adapter::BLUEZ_CALL, p.properties())
            .await
            .ok()?
            .ok()??;
        Some(Heard {
            address: BleAddress::from_btleplug(props.address),
            name: props.local_name.or(props.advertisement_name),
            services: props.services,
            rssi: props.rssi,
        })
    })
    .await;
    let _ = bounded("stop scan", adapter.stop_scan()).await;
    found
}

/// The scan's decision over an event stream: the first device `heard` (see [`heard`]) that
/// matches `target`, within `wait`.
pub async fn first_fresh<S, F, Fut>(
    mut events: S,
    known: &HashSet<PeripheralId>,
    target: &Wanted,
    wait: Duration,
    lookup: F,
) -> Result<(PeripheralId, Sighting), BleError>
where
    S: futures_util::Stream<Item = CentralEvent> + Unpin,
    F: Fn(PeripheralId) -> Fut,
    Fut: std::future::Future<Output = Option<Heard>>,
{
    let deadline = Instant::now() + wait;
    let mut log = AdvertLog::default();
    let mut ids: HashMap<BleAddress, PeripheralId> = HashMap::new();
    loop {
        let ev = match timeout_at(deadline, events.next()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => return Err(BleError::Adapter("adapter event stream ended".into())),
            Err(_) => {
                return Err(BleError::NotFound(format!(
                    "no advertisement from {} within {wait:?} (powered? in range? already connected elsewhere?)",
                    describe(target)
                )))
            }
        };
        let Some(id) = heard(&ev, known) else {
            continue;
        };
        let Some(h) = lookup(id.clone()).await else {
            continue;
        };
        // A device is being heard only while it has an RSSI: BlueZ sets it from each report and
        // invalidates it when discovery ends (adapter.c `btd_adapter_device_found`,
        // `discovery_cleanup`), so a ghost the stream replays has none.
        if h.rssi.is_none() {
            continue;
        }
        let now = Instant::now();
        log.record(h.address, h.name, h.services, h.rssi, now);
        ids.insert(h.address, id);
        if let Some(s) = log.fresh(target, now, MAX_ADVERT_AGE).first() {
            if let Some(id) = ids.get(&s.address) {
                return Ok((id.clone(), (*s).clone()));
            }
        }
    }
}

/// The discovery filter for a target. BlueZ hides every advertiser without one of the filter's
/// UUIDs (adapter.c `is_filter_match`: no RSSI, name or data for it, ever), and an application
/// need not advertise 0xFE59 (the SDK's buttonless example, firmware/testapp and the rig's
/// stand-in do not): so a target named by address or by name scans unfiltered, since a name may
/// be the application's (issue 12, finding 2); only a search by service alone narrows to the DFU
/// service.
pub fn scan_filter(target: &Wanted) -> ScanFilter {
    ScanFilter {
        services: if target.addresses.is_empty() && target.name.is_none() {
            vec![target.service.unwrap_or(DFU_SERVICE)]
        } else {
            Vec::new()
        },
    }
}

fn describe(w: &Wanted) -> String {
    let mut parts = Vec::new();
    if !w.addresses.is_empty() {
        parts.push(
            w.addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
        );
    }
    if let Some(n) = &w.name {
        parts.push(format!("name {n:?}"));
    }
    if parts.is_empty() {
        parts.push("any device with service 0xFE59".into());
    }
    parts.join(", ")
}

/// `rig bench check`: is the DUT advertising right now?
pub async fn seen_advertising(cfg: &BleConfig, wait: Duration) -> Result<String, BleError> {
    let target = wanted(cfg)?;
    let (adapter, info) = super::adapter::find_for(cfg).await?;
    let (_, s) = find_fresh(&adapter, &target, wait).await?;
    Ok(format!(
        "{} advertising as {:?} (RSSI {:?}) via {info}",
        s.address, s.name, s.rssi
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(path: &str) -> PeripheralId {
        // bluez-async 0.9 `DeviceId: FromStr` takes the object path below /org/bluez.
        path.parse::<bluez_async::DeviceId>().unwrap().into()
    }

    const BOOTLOADER: &str = "F1:22:33:44:55:67";

    fn lookup(id: PeripheralId) -> impl std::future::Future<Output = Option<Heard>> {
        let address = if id == pid("hci0/dev_F1_22_33_44_55_67") {
            BOOTLOADER.parse().unwrap()
        } else {
            "AA:AA:AA:AA:AA:AA".parse().unwrap()
        };
        std::future::ready(Some(Heard {
            address,
            name: Some("DfuTarg".into()),
            services: vec![DFU_SERVICE],
            rssi: Some(-50),
        }))
    }

    fn target() -> Wanted {
        Wanted {
            addresses: vec![BOOTLOADER.parse().unwrap()],
            ..Wanted::default()
        }
    }

    /// What btleplug's `events()` yields first for a device BlueZ already knows (the last
    /// iteration's bootloader, gone since): a replay, not an advertisement.
    fn replay(id: &PeripheralId) -> Vec<CentralEvent> {
        vec![
            CentralEvent::DeviceDiscovered(id.clone()),
            CentralEvent::ServicesAdvertisement {
                id: id.clone(),
                services: vec![DFU_SERVICE],
            },
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn replayed_known_devices_are_not_sightings() {
        let bl = pid("hci0/dev_F1_22_33_44_55_67");
        let known: HashSet<_> = [bl.clone()].into();
        let events = futures_util::stream::iter(replay(&bl)).chain(futures_util::stream::pending());
        let r = first_fresh(events, &known, &target(), Duration::from_secs(5), lookup).await;
        assert!(
            matches!(r, Err(BleError::NotFound(_))),
            "a replayed device must not count as advertising: {:?}",
            r.map(|(_, s)| s)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn live_reports_after_the_replay_count() {
        let bl = pid("hci0/dev_F1_22_33_44_55_67");
        let known: HashSet<_> = [bl.clone()].into();
        let mut evs = replay(&bl);
        evs.push(CentralEvent::RssiUpdate {
            id: bl.clone(),
            rssi: -48,
        });
        let (id, s) = first_fresh(
            futures_util::stream::iter(evs),
            &known,
            &target(),
            Duration::from_secs(5),
            lookup,
        )
        .await
        .unwrap();
        assert_eq!((id, s.address.to_string()), (bl.clone(), BOOTLOADER.into()));
        // A device BlueZ did not know when the scan began is new, so its discovery counts.
        let (id, _) = first_fresh(
            futures_util::stream::iter(replay(&bl)),
            &HashSet::new(),
            &target(),
            Duration::from_secs(5),
            lookup,
        )
        .await
        .unwrap();
        assert_eq!(id, bl);
        assert_eq!(
            heard(&CentralEvent::DeviceConnected(bl.clone()), &HashSet::new()),
            None
        );
    }

    #[test]
    fn unbonded_targets_include_the_bootloader_address() {
        let cfg = BleConfig {
            adapter: None,
            address: Some("F1:22:33:44:55:FF".into()),
            name: None,
            packet_size: None,
            bonded: false,
            dbus: None,
        };
        let w = wanted(&cfg).unwrap();
        let a: Vec<String> = w.addresses.iter().map(|a| a.to_string()).collect();
        assert_eq!(a, vec!["F1:22:33:44:55:FF", "F1:22:33:44:55:00"]);
        let w = wanted(&BleConfig {
            bonded: true,
            ..cfg.clone()
        })
        .unwrap();
        assert_eq!(w.addresses.len(), 1, "bonded bootloader keeps the address");
        let e = wanted(&BleConfig {
            address: Some("nope".into()),
            ..cfg
        })
        .unwrap_err();
        assert_eq!(e.owner(), crate::drivers::Owner::Infrastructure);
        assert_eq!(describe(&w), "F1:22:33:44:55:FF");
        assert!(
            scan_filter(&w).services.is_empty(),
            "an app need not advertise 0xFE59"
        );
        let by_name = Wanted {
            name: Some("rig-app".into()),
            ..Wanted::default()
        };
        assert!(
            scan_filter(&by_name).services.is_empty(),
            "a name may be the application's, which need not advertise 0xFE59"
        );
        assert_eq!(scan_filter(&Wanted::default()).services, vec![DFU_SERVICE]);
    }
}
