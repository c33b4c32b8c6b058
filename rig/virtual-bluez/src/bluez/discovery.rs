//! Scanning: advertising reports from the virtual devices in range of a discovering adapter,
//! applied as adapter.c `btd_adapter_device_found` applies them.

use super::export::device_interfaces;
use super::{Bluez, Conn, Dev};
use crate::names::DEVICE;
use crate::value::Value;
use std::collections::BTreeMap;
use virtual_nrf52::ble::{AdStructure, Advertisement};
use virtual_nrf52::SimTime;

/// device.c `RSSI_THRESHOLD`: without a proximity filter, RSSI changes smaller than this are
/// not reported (`device_set_rssi` → `device_set_rssi_with_delta`).
pub const RSSI_THRESHOLD: i16 = 8;
/// AD flags: LE Limited / General Discoverable Mode (Core Supplement Part A 1.3).
const DISCOVERABLE: u8 = 0x03;
/// AD type Service Data - 16-bit UUID.
const SERVICE_DATA_16: u8 = 0x16;

/// adapter.c `merge_discovery_filters`: a session whose filter asks for anything beyond
/// plain discovery (UUIDs, RSSI or pathloss, DuplicateData) makes the discovery filtered
/// (`adapter->filtered_discovery`, set in `start_discovery_complete`). The transport and
/// pattern parts are not modelled.
fn filtered_discovery(a: &super::Adapter) -> bool {
    a.sessions.iter().any(|s| {
        a.filters
            .get(s)
            .is_some_and(|f| !f.uuids.is_empty() || f.proximity || f.rssi.is_some() || f.duplicate)
    })
}

impl Bluez {
    /// Report every new advertising event heard by a discovering adapter.
    pub(crate) fn scan(&mut self, now: SimTime) {
        for i in 0..self.radios.len() {
            let a = self.radios[i].adapter;
            if !self.adapters[a].discovering() {
                // Not scanning: the radio's reports are not heard; forget the position so
                // the next scan starts from the current advertisement.
                self.radios[i].last_report = None;
                continue;
            }
            if let Some(adv) = self.radios[i].new_advertisement(now) {
                let rssi = self.radios[i].next_rssi();
                self.device_found(a, &adv, rssi, now);
            }
        }
    }

    /// adapter.c `btd_adapter_device_found`, for one report.
    fn device_found(&mut self, a: usize, adv: &Advertisement, rssi: i16, now: SimTime) {
        let path = self.device_path(a, adv.address);
        let data = &adv.data;
        // `device_is_discoverable`: while a filtered discovery runs every report counts as
        // discoverable; otherwise (main.conf `FilterDiscoverable`, default true) an LE
        // advertiser needs the limited or general discoverable flag, so a non-discoverable
        // one (the bonded bootloader's flags 0x04) gets no object unless bluetoothd already
        // has one. btleplug always asks for DuplicateData, which makes its discovery filtered.
        let discoverable = filtered_discovery(&self.adapters[a])
            || data.flags().is_some_and(|f| f & DISCOVERABLE != 0);
        if !self.devices.contains_key(&path) {
            if !discoverable {
                return;
            }
            // `adapter_create_device` → `device_create`: the object appears before the
            // discovery filter is checked, so a filtered-out advertiser still gets a bare
            // Device1 (no Name, RSSI, UUIDs), and never more while the filter stays.
            let adapter_path = self.adapters[a].path.clone();
            self.tree
                .add(&path, device_interfaces(&adapter_path, adv.address));
            self.devices.insert(
                path.clone(),
                Dev {
                    path: path.clone(),
                    adapter: a,
                    address: adv.address,
                    temporary: true,
                    last_seen: now,
                    conn: Conn::Idle,
                    gatt_cache: None,
                    keys: None,
                },
            );
        }
        // `device_update_last_seen`: restarts the temporary timer.
        if let Some(d) = self.devices.get_mut(&path) {
            d.last_seen = now;
        }
        let uuids: Vec<String> = data
            .uuids16()
            .into_iter()
            .map(|u| virtual_nrf52::ble::uuid::sig16(u).to_string())
            .collect();
        let adapter = &self.adapters[a];
        if !discoverable || !adapter.filter_matches(&uuids, rssi) {
            return;
        }
        let duplicate = adapter.duplicate_data();
        let proximity = adapter.proximity();
        // RSSI: every change with a proximity filter, else changes of 8 dB or more.
        let old = match self.tree.get(&path, DEVICE, "RSSI") {
            Some(Value::I16(v)) => Some(*v),
            _ => None,
        };
        let threshold = if proximity { 0 } else { RSSI_THRESHOLD };
        if old.is_none_or(|o| (o - rssi).abs() >= threshold) {
            self.tree.set(&path, DEVICE, "RSSI", Value::I16(rssi));
        }
        // Name: a complete name always, a shortened one only when none is known.
        if let Some(n) = data.0.iter().find_map(|s| match s {
            AdStructure::CompleteName(n) => Some(n.clone()),
            _ => None,
        }) {
            self.tree.set(&path, DEVICE, "Name", Value::Str(n.clone()));
            self.tree.set(&path, DEVICE, "Alias", Value::Str(n));
        } else if let Some(n) = data.local_name() {
            if self.tree.get(&path, DEVICE, "Name").is_none() {
                self.tree.set(&path, DEVICE, "Name", Value::str(n));
                self.tree.set(&path, DEVICE, "Alias", Value::str(n));
            }
        }
        // `device_add_eir_uuids`: UUIDs accumulate, a change only when one is new.
        if !uuids.is_empty() {
            let mut have = match self.tree.get(&path, DEVICE, "UUIDs") {
                Some(Value::Strs(v)) => v.clone(),
                _ => Vec::new(),
            };
            let before = have.len();
            for u in uuids {
                if !have.contains(&u) {
                    have.push(u);
                }
            }
            if have.len() != before {
                have.sort();
                self.tree.set(&path, DEVICE, "UUIDs", Value::Strs(have));
            }
        }
        // `device_set_manufacturer_data(dev, msd, duplicate)`: replaced each report; reported
        // when it changed, or always when a client asked for DuplicateData.
        let msd: BTreeMap<u16, Vec<u8>> = data
            .0
            .iter()
            .filter_map(|s| match s {
                AdStructure::Manufacturer { company, data } => Some((*company, data.clone())),
                _ => None,
            })
            .collect();
        if !msd.is_empty() {
            let v = Value::Manufacturer(msd);
            if duplicate {
                self.tree.set_always(&path, DEVICE, "ManufacturerData", v);
            } else {
                self.tree.set(&path, DEVICE, "ManufacturerData", v);
            }
        }
        // `device_set_service_data`: the same rule.
        let sd: BTreeMap<String, Vec<u8>> = data
            .0
            .iter()
            .filter_map(|s| match s {
                AdStructure::Other { ad_type, data }
                    if *ad_type == SERVICE_DATA_16 && data.len() >= 2 =>
                {
                    let u = u16::from_le_bytes([data[0], data[1]]);
                    Some((
                        virtual_nrf52::ble::uuid::sig16(u).to_string(),
                        data[2..].to_vec(),
                    ))
                }
                _ => None,
            })
            .collect();
        if !sd.is_empty() {
            let v = Value::ServiceData(sd);
            if duplicate {
                self.tree.set_always(&path, DEVICE, "ServiceData", v);
            } else {
                self.tree.set(&path, DEVICE, "ServiceData", v);
            }
        }
        // `device_set_flags`.
        if let Some(f) = data.flags() {
            self.tree
                .set(&path, DEVICE, "AdvertisingFlags", Value::Bytes(vec![f]));
        }
    }
}
