//! Pairing, bonds and encryption as bluetoothd and the kernel handle them for an LE central,
//! on the device model's bonds ([`virtual_nrf52::ble::security`]: no cryptography, keys are
//! compared, the SMP exchange is counted in connection events).
//!
//! - A bond is the keys a pairing left with the device object (`Dev::keys`); Device1 shows it
//!   as `Paired` and `Bonded` (device.c `device_set_paired` from `device_bonding_complete`,
//!   `device_set_bonded` from adapter.c `new_long_term_key_callback` with `store_hint`).
//!   RemoveDevice deletes the object and with it the keys (device.c `device_remove` →
//!   `btd_device_remove_stored`/`remove_bonding`).
//! - A request answered with ATT 0x05 or 0x0F makes bluetoothd raise the link's security and
//!   resend it (src/shared/att.c `handle_error_rsp` → `change_security` → the kernel pairs,
//!   or encrypts with the stored LTK); when that fails the request fails with the original error
//!   (retries after a failed pairing are not followed further).
//! - A paired device is connected at `BT_IO_SEC_MEDIUM` (device.c `device_connect_le`): the
//!   kernel encrypts with the stored LTK before the ATT channel is ready, so Connect is answered
//!   after the encryption.
//! - Device1.Pair (device.c `pair_device`): `AlreadyExists` when bonded, `InProgress` while a
//!   Connect or a pairing runs; a pairing the peer refuses (SMP Pairing Failed → the kernel's
//!   auth failure) answers `AuthenticationFailed` (device.c `new_authentication_return`). Pair
//!   on a device that is not connected makes bluetoothd connect first: not modelled (Failed).
//! - Service Changed: bluetoothd registers for its indications once discovery is done
//!   (shared/gatt-client.c `init_complete` → `register_service_changed`, which writes the CCCD);
//!   an indication that arrives before is confirmed (att.c) but has no handler (`notify_cb`)
//!   and is lost. One that arrives after rediscovers the range (`service_changed_cb` →
//!   `process_service_changed`) under the same rule as the first discovery: a cached service
//!   found again at the same start handle with the same UUID and handle count is active and
//!   kept as it was (`discovery_found_service`, "Skip if service already active"), others are
//!   replaced, missing ones removed (`discovery_op_complete`, "service disappeared").

use super::{Bluez, Conn};
use crate::names::{BluezError, DEVICE};
use crate::value::Value;
use dbus::Message;
use virtual_nrf52::ble::gatt::GattTable;
use virtual_nrf52::ble::uuid::{sig16, SERVICE_CHANGED_16};
use virtual_nrf52::ble::{BleError, BlePeripheral, BondKeys};
use virtual_nrf52::{Device, SimTime};

/// ATT errors after which att.c `change_security` raises the security level.
pub(crate) fn raises_security(code: u8) -> bool {
    matches!(code, 0x05 | 0x0F)
}

/// Raise the link's security for a request refused with ATT 0x05/0x0F at `at`: encrypt with
/// the stored keys, or pair (and keep the new keys). Returns when the link is secure and
/// whether a new bond was made.
pub(crate) fn raise_security(
    ble: &mut BlePeripheral,
    dev: &mut Device,
    keys: &mut Option<BondKeys>,
    at: SimTime,
) -> Result<(SimTime, bool), BleError> {
    match keys {
        Some(k) => ble.encrypt(dev, at, k).map(|t| (t, false)),
        None => {
            let (t, k) = ble.pair(dev, at)?;
            *keys = Some(k);
            Ok((t, true))
        }
    }
}

impl Bluez {
    /// The adapter's identity address as the device model sees it (LSB first).
    pub(crate) fn central_address(&self, adapter: usize) -> [u8; 6] {
        let mut a = self.adapters[adapter].config.address;
        a.reverse();
        a
    }

    /// Show a new bond on Device1.
    pub(crate) fn bonded(&mut self, path: &str) {
        self.tree.set(path, DEVICE, "Paired", Value::Bool(true));
        self.tree.set(path, DEVICE, "Bonded", Value::Bool(true));
    }

    /// Right after the LE link is up: a paired device is encrypted first. `Some(at)`: the
    /// channel is ready at `at` (setup waits); `Some` of the link's loss time when the device
    /// has no key for the bond (the kernel drops the link, HCI 0x05); `None`: nothing to do.
    pub(crate) fn encrypt_on_connect(
        &mut self,
        path: &str,
        t: SimTime,
    ) -> Option<Result<SimTime, SimTime>> {
        let d = self.devices.get(path)?;
        let keys = d.keys?;
        let Conn::Linked(l) = &d.conn else {
            return None;
        };
        self.radios[l.radio]
            .with(|ble, dv| {
                if ble.connection().is_some_and(|c| c.encrypted) {
                    return None;
                }
                Some(match ble.encrypt(dv, t, &keys) {
                    Ok(at) => Ok(at),
                    Err(BleError::KeyMissing { at }) | Err(BleError::Disconnected { at, .. }) => {
                        Err(at)
                    }
                    Err(_) => Err(t),
                })
            })
            .flatten()
    }

    /// ServicesResolved: register for Service Changed (its CCCD written to 0x0002).
    pub(crate) fn register_service_changed(&mut self, path: &str, t: SimTime) {
        let Some(Conn::Linked(l)) = self.devices.get(path).map(|d| &d.conn) else {
            return;
        };
        self.radios[l.radio].with(|ble, dv| {
            let Some(cccd) = ble
                .connection()
                .and_then(|c| c.gatt.characteristic(&sig16(SERVICE_CHANGED_16)))
                .and_then(|c| c.cccd_handle)
            else {
                return;
            };
            // The response is not waited for here; a refusal changes nothing bluetoothd shows.
            let _ = ble.write_request(dv, t, cccd, &[0x02, 0x00]);
        });
    }

    /// An indication on `handle` reached bluetoothd: if it is Service Changed and discovery is
    /// done, rediscover the range.
    pub(crate) fn service_changed(&mut self, path: &str, handle: u16, value: &[u8]) {
        let Some(Conn::Linked(l)) = self.devices.get(path).map(|d| &d.conn) else {
            return;
        };
        let (Some(view), true) = (l.table.clone(), l.resolved()) else {
            return;
        };
        let radio = l.radio;
        let mtu = l.mtu;
        let is_sc = view
            .characteristic(&sig16(SERVICE_CHANGED_16))
            .is_some_and(|c| c.value_handle == handle);
        let [s0, s1, e0, e1] = value else { return };
        if !is_sc {
            return;
        }
        let (start, end) = (
            u16::from_le_bytes([*s0, *s1]),
            u16::from_le_bytes([*e0, *e1]),
        );
        if start > end {
            return;
        }
        let Some(Some(found)) =
            self.radios[radio].with(|ble, _| ble.connection().map(|c| c.gatt.clone()))
        else {
            return;
        };
        let in_range =
            |s: &virtual_nrf52::ble::Service| s.start_handle >= start && s.start_handle <= end;
        let cached = GattTable {
            services: view
                .services
                .iter()
                .filter(|s| in_range(s))
                .cloned()
                .collect(),
        };
        let found_in = GattTable {
            services: found
                .services
                .iter()
                .filter(|s| in_range(s))
                .cloned()
                .collect(),
        };
        let fresh = super::cache::refresh(&mut self.tree, path, Some(&cached), &found_in, mtu);
        let mut services: Vec<_> = view.services.into_iter().filter(|s| !in_range(s)).collect();
        services.extend(fresh.services);
        services.sort_by_key(|s| s.start_handle);
        let table = GattTable { services };
        if let Some(d) = self.devices.get_mut(path) {
            d.gatt_cache = Some(table.clone());
            if let Conn::Linked(l) = &mut d.conn {
                l.table = Some(table);
            }
        }
    }

    /// Device1.Pair.
    pub(crate) fn pair(&mut self, path: &str, msg: Message, now: SimTime) {
        let Some(d) = self.devices.get_mut(path) else {
            return;
        };
        d.temporary = false;
        if d.keys.is_some() {
            self.reply(&msg, Err(BluezError::already_exists()));
            return;
        }
        let radio = match &d.conn {
            Conn::Connecting { .. } => None,
            Conn::Linked(l) if l.connect_msg.is_some() || !l.resolved() => None,
            Conn::Linked(l) => Some(l.radio),
            Conn::Idle => {
                let e = BluezError::failed(
                    "virtual BlueZ: Pair needs a connected device (bluetoothd would connect first: not modelled)",
                );
                self.reply(&msg, Err(e));
                return;
            }
        };
        let Some(radio) = radio else {
            self.reply(&msg, Err(BluezError::in_progress()));
            return;
        };
        let Some(result) = self.radios[radio].with(|ble, dv| ble.pair(dv, now)) else {
            self.reply(&msg, Err(BluezError::failed("Not connected")));
            return;
        };
        let path = path.to_string();
        match result {
            Ok((at, keys)) => self.schedule(
                at,
                Box::new(move |b: &mut Bluez, _| {
                    if let Some(d) = b.devices.get_mut(&path) {
                        d.keys = Some(keys);
                        b.bonded(&path);
                    }
                    let r = msg.method_return();
                    b.reply(&msg, Ok(r));
                }),
            ),
            Err(BleError::PairingFailed { at, .. }) => self.schedule(
                at,
                Box::new(move |b: &mut Bluez, _| {
                    b.reply(&msg, Err(BluezError::authentication_failed()));
                }),
            ),
            Err(e) => self.reply(&msg, Err(BluezError::failed(e.to_string()))),
        }
    }
}

impl Bluez {
    /// Make bluetoothd's GATT cache for the known device at `address` (on adapter `adapter`)
    /// hold `table`, exported as after an earlier connection: the state a firmware change leaves
    /// when a service keeps its place and size but not its characteristics, which no pair of
    /// stand-in firmwares produces. False when bluetoothd has no such device or it is connected.
    pub fn seed_gatt_cache(
        &mut self,
        adapter: usize,
        address: virtual_nrf52::ble::BleAddress,
        table: GattTable,
    ) -> bool {
        let path = self.device_path(adapter, address);
        let Some(d) = self.devices.get_mut(&path) else {
            return false;
        };
        if !matches!(d.conn, Conn::Idle) {
            return false;
        }
        d.temporary = false;
        let old = d.gatt_cache.replace(table.clone());
        for s in old.iter().flat_map(|t| &t.services) {
            self.tree
                .remove_tree(&super::export::service_path(&path, s.start_handle));
        }
        super::export::export_gatt(&mut self.tree, &path, &table, 23);
        self.tree.flush();
        true
    }
}
