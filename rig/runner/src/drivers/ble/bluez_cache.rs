//! BlueZ's GATT cache and bonds when the DFU characteristics are missing after discovery
//! (issue 12 finding 15).
//!
//! bluetoothd rediscovers primary services on every connection but keeps a cached service it
//! finds again at the same start handle with the same UUID and handle count, characteristics
//! and all (BlueZ src/shared/gatt-client.c `discovery_found_service`, "Skip if service already
//! active"); a Service Changed indication rediscovers its range under the same rule
//! (`process_service_changed`), and one that arrives while the first discovery runs, as the
//! bonded bootloader's does right after encryption (SDK 17.1 `nrf_dfu_ble.c`
//! `BLE_GAP_EVT_CONN_SEC_UPDATE`), has no handler yet (`register_service_changed` runs in
//! `init_complete`) and is lost. So waiting for it gains nothing, and a stale tree can only be
//! cleared with Adapter1.RemoveDevice, which also deletes the bond (device.c `device_remove`).
//! A bootloader built with NRF_DFU_BLE_REQUIRES_BONDS needs that bond (it refuses pairing), so
//! the rig removes only unpaired devices and otherwise says what to do.

use super::adapter::SYSTEM_BUS_ENV;
use super::error::BleError;
use btleplug::platform::PeripheralId;
use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use std::time::Duration;

/// Bound on each D-Bus call made here.
const CALL: Duration = Duration::from_secs(5);

/// The Device1 object path of a btleplug peripheral (bluez-async `DeviceId` prints it without
/// `/org/bluez/`).
pub fn device_path(id: &PeripheralId) -> String {
    format!("/org/bluez/{id}")
}

/// Its adapter's object path (the parent of the device's).
pub fn adapter_path(device: &str) -> Option<&str> {
    device
        .rsplit_once('/')
        .map(|(a, _)| a)
        .filter(|a| !a.is_empty())
}

/// A private system-bus connection (the one `DBUS_SYSTEM_BUS_ADDRESS` names, as btleplug's),
/// closed when dropped.
fn bus() -> Result<dbus::blocking::Connection, BleError> {
    let ch = dbus::channel::Channel::get_private(dbus::channel::BusType::System).map_err(|e| {
        BleError::Adapter(format!(
            "cannot reach BlueZ over D-Bus ({}): {e}",
            std::env::var(SYSTEM_BUS_ENV).unwrap_or_else(|_| "system bus".into())
        ))
    })?;
    Ok(dbus::blocking::Connection::from(ch))
}

/// Whether BlueZ holds a bond with the device (Device1.Paired).
pub async fn paired(id: &PeripheralId) -> Result<bool, BleError> {
    let path = device_path(id);
    blocking(move || {
        let c = bus()?;
        let p = c.with_proxy("org.bluez", path.as_str(), CALL);
        p.get::<bool>("org.bluez.Device1", "Paired")
            .map_err(|e| BleError::Adapter(format!("reading Paired of {path}: {e}")))
    })
    .await
}

/// Adapter1.RemoveDevice: BlueZ forgets the device, its cached GATT tree and its bond.
pub async fn remove(id: &PeripheralId) -> Result<(), BleError> {
    let path = device_path(id);
    blocking(move || {
        let adapter = adapter_path(&path)
            .ok_or_else(|| BleError::Adapter(format!("no adapter in {path}")))?
            .to_string();
        let c = bus()?;
        let p = c.with_proxy("org.bluez", adapter.as_str(), CALL);
        p.method_call::<(), _, _, _>(
            "org.bluez.Adapter1",
            "RemoveDevice",
            (dbus::Path::from(path.as_str()),),
        )
        .map_err(|e| BleError::Adapter(format!("RemoveDevice {path}: {e}")))
    })
    .await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BleError> + Send + 'static,
) -> Result<T, BleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BleError::Adapter(format!("D-Bus call did not finish: {e}")))?
}

/// What to tell the user when a bonded device shows no DFU characteristics.
pub fn stale_bonded_advice(address: &str) -> String {
    format!(
        "{address} has no DFU Control Point/Packet characteristics in BlueZ's GATT tree, and it is bonded: \
         either it is not in the bootloader, or BlueZ kept a cached service that kept its place and size \
         (BlueZ rediscovers only services whose start, UUID or size changed). The rig does not remove a \
         bonded device (that deletes the bond a bonds-only bootloader requires); set `[GATT] Cache = no` \
         in /etc/bluetooth/main.conf and restart bluetoothd, or remove the device and pair it again from \
         the application"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            adapter_path("/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF"),
            Some("/org/bluez/hci0")
        );
        assert_eq!(adapter_path("dev"), None);
        assert!(stale_bonded_advice("AA:BB").contains("Cache = no"));
    }
}
