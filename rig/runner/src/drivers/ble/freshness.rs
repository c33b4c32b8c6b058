//! Which devices are advertising *now*. BlueZ keeps devices it saw long ago in its object tree
//! and btleplug's `peripherals()` returns them (btleplug#404, #452), so after a power cut a dead
//! DUT still looks present. The rig records advertisement events with the time it saw them and
//! trusts only those younger than a limit.

use super::address::BleAddress;
use std::collections::HashMap;
use tokio::time::{Duration, Instant};
use uuid::Uuid;

/// The last advertisement seen from one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub address: BleAddress,
    pub name: Option<String>,
    pub services: Vec<Uuid>,
    pub rssi: Option<i16>,
    pub seen: Instant,
}

/// What to look for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Any of these addresses (app address and bootloader address +1).
    pub addresses: Vec<BleAddress>,
    pub name: Option<String>,
    pub service: Option<Uuid>,
}

impl Wanted {
    /// Address match wins; else name (exact) and/or service must match; with nothing named
    /// there is no match (never connect to a random device).
    pub fn matches(&self, s: &Sighting) -> bool {
        if !self.addresses.is_empty() {
            return self.addresses.contains(&s.address);
        }
        let name_ok = self
            .name
            .as_ref()
            .map(|n| s.name.as_deref() == Some(n.as_str()));
        let svc_ok = self.service.map(|u| s.services.contains(&u));
        match (name_ok, svc_ok) {
            (None, None) => false,
            (n, v) => n.unwrap_or(true) && v.unwrap_or(true),
        }
    }
}

/// Sightings by address, from the adapter's event stream.
#[derive(Debug, Default)]
pub struct AdvertLog {
    seen: HashMap<BleAddress, Sighting>,
}

impl AdvertLog {
    /// Record an advertisement (merging name/services the event did not carry).
    pub fn record(
        &mut self,
        address: BleAddress,
        name: Option<String>,
        services: Vec<Uuid>,
        rssi: Option<i16>,
        at: Instant,
    ) {
        let e = self.seen.entry(address).or_insert_with(|| Sighting {
            address,
            name: None,
            services: Vec::new(),
            rssi: None,
            seen: at,
        });
        if name.is_some() {
            e.name = name;
        }
        for s in services {
            if !e.services.contains(&s) {
                e.services.push(s);
            }
        }
        if rssi.is_some() {
            e.rssi = rssi;
        }
        e.seen = e.seen.max(at);
    }

    /// Matching devices seen within `max_age` of `now`, strongest signal first.
    pub fn fresh(&self, wanted: &Wanted, now: Instant, max_age: Duration) -> Vec<&Sighting> {
        let mut v: Vec<&Sighting> = self
            .seen
            .values()
            .filter(|s| now.saturating_duration_since(s.seen) <= max_age && wanted.matches(s))
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.rssi.unwrap_or(i16::MIN)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::ble::DFU_SERVICE;

    fn addr(s: &str) -> BleAddress {
        s.parse().unwrap()
    }

    #[test]
    fn only_recent_advertisements_count() {
        let t0 = Instant::now();
        let mut log = AdvertLog::default();
        let w = Wanted {
            addresses: vec![addr("F1:22:33:44:55:67")],
            ..Wanted::default()
        };
        log.record(
            addr("F1:22:33:44:55:67"),
            Some("DfuTarg".into()),
            vec![DFU_SERVICE],
            Some(-60),
            t0,
        );
        assert_eq!(
            log.fresh(&w, t0 + Duration::from_secs(2), Duration::from_secs(3))
                .len(),
            1
        );
        // Ten seconds later, without a new event, the device is a ghost.
        assert!(log
            .fresh(&w, t0 + Duration::from_secs(10), Duration::from_secs(3))
            .is_empty());
        log.record(
            addr("F1:22:33:44:55:67"),
            None,
            vec![],
            None,
            t0 + Duration::from_secs(9),
        );
        let f = log.fresh(&w, t0 + Duration::from_secs(10), Duration::from_secs(3));
        assert_eq!(
            f[0].name.as_deref(),
            Some("DfuTarg"),
            "name kept from the earlier event"
        );
    }

    #[test]
    fn matching_rules() {
        let s = Sighting {
            address: addr("AA:BB:CC:DD:EE:01"),
            name: Some("DfuTarg".into()),
            services: vec![DFU_SERVICE],
            rssi: None,
            seen: Instant::now(),
        };
        let by_addr = Wanted {
            addresses: vec![addr("AA:BB:CC:DD:EE:00"), addr("AA:BB:CC:DD:EE:01")],
            name: Some("Other".into()),
            service: None,
        };
        assert!(by_addr.matches(&s), "address wins over name");
        assert!(Wanted {
            name: Some("DfuTarg".into()),
            ..Wanted::default()
        }
        .matches(&s));
        assert!(
            !Wanted {
                name: Some("DfuTar".into()),
                ..Wanted::default()
            }
            .matches(&s),
            "exact name"
        );
        assert!(Wanted {
            service: Some(DFU_SERVICE),
            ..Wanted::default()
        }
        .matches(&s));
        assert!(!Wanted {
            name: Some("DfuTarg".into()),
            service: Some(uuid::Uuid::nil()),
            ..Wanted::default()
        }
        .matches(&s));
        assert!(
            !Wanted::default().matches(&s),
            "nothing named, nothing matched"
        );
    }

    #[test]
    fn strongest_first() {
        let t = Instant::now();
        let mut log = AdvertLog::default();
        let w = Wanted {
            service: Some(DFU_SERVICE),
            ..Wanted::default()
        };
        log.record(
            addr("00:00:00:00:00:01"),
            None,
            vec![DFU_SERVICE],
            Some(-80),
            t,
        );
        log.record(
            addr("00:00:00:00:00:02"),
            None,
            vec![DFU_SERVICE],
            Some(-40),
            t,
        );
        let f = log.fresh(&w, t, Duration::from_secs(1));
        assert_eq!(f[0].address, addr("00:00:00:00:00:02"));
    }
}
