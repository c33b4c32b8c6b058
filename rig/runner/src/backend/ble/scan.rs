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
use std::collections::HashMap;
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

/// Scan until a fresh matching advertisement arrives or `wait` runs out.
pub async fn find_fresh(
    adapter: &Adapter,
    target: &Wanted,
    wait: Duration,
) -> Result<(PeripheralId, Sighting), BleError> {
    let mut events = bounded("event stream", adapter.events()).await?;
    bounded("start scan", adapter.start_scan(scan_filter(target))).await?;
    let deadline = Instant::now() + wait;
    let mut log = AdvertLog::default();
    let mut ids: HashMap<BleAddress, PeripheralId> = HashMap::new();
    let found = loop {
        let ev = match timeout_at(deadline, events.next()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => break Err(BleError::Adapter("adapter event stream ended".into())),
            Err(_) => {
                break Err(BleError::NotFound(format!(
                    "no advertisement from {} within {wait:?} (powered? in range? already connected elsewhere?)",
                    describe(target)
                )))
            }
        };
        let id = match ev {
            CentralEvent::DeviceDiscovered(id) | CentralEvent::DeviceUpdated(id) => id,
            CentralEvent::ServicesAdvertisement { id, .. }
            | CentralEvent::RssiUpdate { id, .. } => id,
            CentralEvent::ServiceDataAdvertisement { id, .. }
            | CentralEvent::ManufacturerDataAdvertisement { id, .. } => id,
            _ => continue,
        };
        let Ok(p) = adapter.peripheral(&id).await else {
            continue;
        };
        let Ok(Ok(Some(props))) =
            tokio::time::timeout(super::adapter::BLUEZ_CALL, p.properties()).await
        else {
            continue;
        };
        // btleplug's `events()` starts by replaying DeviceDiscovered (and
        // ServicesAdvertisement) for every device BlueZ still holds, ghosts of devices gone
        // silent included (btleplug bluez/adapter.rs `events`). A device is being heard only
        // while it has an RSSI: BlueZ sets it from each report and invalidates it when
        // discovery ends (adapter.c `btd_adapter_device_found`, `discovery_cleanup`).
        if props.rssi.is_none() {
            continue;
        }
        let addr = BleAddress::from_btleplug(props.address);
        let now = Instant::now();
        log.record(
            addr,
            props
                .local_name
                .clone()
                .or(props.advertisement_name.clone()),
            props.services.clone(),
            props.rssi,
            now,
        );
        ids.insert(addr, id);
        if let Some(s) = log.fresh(target, now, MAX_ADVERT_AGE).first() {
            let id = ids.get(&s.address).cloned().expect("recorded with its id");
            break Ok((id, (*s).clone()));
        }
    };
    let _ = bounded("stop scan", adapter.stop_scan()).await;
    found
}

/// The discovery filter for a target. BlueZ hides every advertiser without one of the filter's
/// UUIDs (adapter.c `is_filter_match`: no RSSI, name or data for it, ever), and an application
/// need not advertise 0xFE59 (the SDK's buttonless example and the rig's stand-in do not): so a
/// target named by address scans unfiltered; only a search by name or service alone narrows to
/// the DFU service.
pub fn scan_filter(target: &Wanted) -> ScanFilter {
    ScanFilter {
        services: if target.addresses.is_empty() {
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
        assert_eq!(e.owner(), crate::backend::Owner::Infrastructure);
        assert_eq!(describe(&w), "F1:22:33:44:55:FF");
        assert!(
            scan_filter(&w).services.is_empty(),
            "an app need not advertise 0xFE59"
        );
        let by_name = Wanted {
            name: Some("DfuTarg".into()),
            ..Wanted::default()
        };
        assert_eq!(scan_filter(&by_name).services, vec![DFU_SERVICE]);
    }
}
