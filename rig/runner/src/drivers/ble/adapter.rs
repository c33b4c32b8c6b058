//! Choosing the host's BLE adapter. Every call into BlueZ is bounded in time.

use super::error::BleError;
use btleplug::api::{Central, Manager as _};
use btleplug::platform::{Adapter, Manager};
use std::future::Future;
use std::time::Duration;

/// Bound on one call into BlueZ over D-Bus.
pub const BLUEZ_CALL: Duration = Duration::from_secs(5);

/// Run a btleplug call with a time bound.
pub async fn bounded<T>(
    what: &str,
    f: impl Future<Output = Result<T, btleplug::Error>>,
) -> Result<T, BleError> {
    match tokio::time::timeout(BLUEZ_CALL, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(BleError::Gatt(format!("{what}: {e}"))),
        Err(_) => Err(BleError::Adapter(format!(
            "{what} did not finish within {BLUEZ_CALL:?} (is bluetoothd running?)"
        ))),
    }
}

/// Pick an adapter: the one whose info starts with `name` (e.g. "hci0"), or the first.
pub fn pick(infos: &[String], name: Option<&str>) -> Result<usize, BleError> {
    if infos.is_empty() {
        return Err(BleError::Adapter(
            "no Bluetooth adapter found (is one plugged in and not blocked by rfkill?)".into(),
        ));
    }
    match name {
        None => Ok(0),
        Some(n) => infos
            .iter()
            .position(|i| i == n || i.starts_with(&format!("{n} ")))
            .ok_or_else(|| {
                BleError::Adapter(format!(
                    "no adapter {n}; this host has: {}",
                    infos.join(", ")
                ))
            }),
    }
}

/// The environment variable libdbus reads for the system bus address (dbus-bus.c
/// `init_session_address`/`_dbus_bus_get` for DBUS_BUS_SYSTEM).
pub const SYSTEM_BUS_ENV: &str = "DBUS_SYSTEM_BUS_ADDRESS";

/// Point libdbus at `address` for every D-Bus connection opened from now on (btleplug opens a
/// private system-bus connection per `Manager::new`, and offers no way to pass an address).
/// `None` leaves the environment as it is. Call before the first connection opens.
pub fn use_bus(address: Option<&str>) -> Result<(), BleError> {
    let Some(a) = address else { return Ok(()) };
    if !(a.starts_with("unix:") || a.starts_with("tcp:")) || a.contains('\0') {
        return Err(BleError::Config(format!(
            "ble.dbus {a:?} is not a D-Bus address (expected e.g. unix:path=/run/rig-lab/bus)"
        )));
    }
    // Edition 2021: safe, but racy if another thread reads the environment at the same time;
    // callers set it before any D-Bus work starts.
    std::env::set_var(SYSTEM_BUS_ENV, a);
    Ok(())
}

/// Open BlueZ on the bus the bench file names and choose its adapter.
pub async fn find_for(
    cfg: &crate::benchfile::schema::BleConfig,
) -> Result<(Adapter, String), BleError> {
    use_bus(cfg.dbus.as_deref())?;
    find(cfg.adapter.as_deref()).await
}

/// Open BlueZ and choose the adapter; returns it with its description.
pub async fn find(name: Option<&str>) -> Result<(Adapter, String), BleError> {
    let manager = tokio::time::timeout(BLUEZ_CALL, Manager::new())
        .await
        .map_err(|_| BleError::Adapter("connecting to BlueZ timed out".into()))?
        .map_err(|e| BleError::Adapter(format!("cannot reach BlueZ over D-Bus: {e} (is bluetoothd running, and the system bus reachable?)")))?;
    let adapters = bounded("listing adapters", manager.adapters())
        .await
        .map_err(|e| BleError::Adapter(e.to_string()))?;
    let mut infos = Vec::new();
    for a in &adapters {
        infos.push(
            bounded("adapter info", a.adapter_info())
                .await
                .unwrap_or_else(|e| e.to_string()),
        );
    }
    let i = pick(&infos, name)?;
    let info = infos[i].clone();
    Ok((adapters.into_iter().nth(i).expect("index from pick"), info))
}

/// The adapter a DUT uses, opened once and kept for the campaign.
///
/// Every [`find`] opens a new system-bus connection: btleplug 0.13.5 `src/bluez/manager.rs`
/// `Manager::new` calls bluez-async 0.9 `BluetoothSession::new`, which spawns the dbus-tokio
/// connection's I/O task and drops its handle; that task owns the connection and only ends when
/// the bus goes away, so dropping the `Manager`/`Adapter` never closes it. With 3 to 5 opens
/// per update a night of updates reaches dbus-daemon's `max_connections_per_user` (default 256,
/// dbus `bus/config-parser.c`). One slot per DUT keeps it to one connection.
#[derive(Debug)]
pub struct AdapterSlot<A> {
    slot: Option<(A, String)>,
}

impl<A> Default for AdapterSlot<A> {
    fn default() -> Self {
        AdapterSlot { slot: None }
    }
}

impl<A: Clone> AdapterSlot<A> {
    /// The adapter and its description, opening it with `open` on first use only.
    pub async fn get<F, Fut>(&mut self, open: F) -> Result<(A, String), BleError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(A, String), BleError>>,
    {
        if let Some(v) = &self.slot {
            return Ok(v.clone());
        }
        let v = open().await?;
        self.slot = Some(v.clone());
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dut_opens_bluez_once() {
        let opens = std::cell::Cell::new(0);
        let open = || async {
            opens.set(opens.get() + 1);
            Ok::<_, BleError>((opens.get(), "hci0".to_string()))
        };
        let mut slot = AdapterSlot::default();
        // observe, buttonless entry, connect, observe: one connection.
        for _ in 0..4 {
            assert_eq!(slot.get(open).await.unwrap().0, 1);
        }
        assert_eq!(opens.get(), 1);
        // A failed open is not kept: the next use tries again.
        let mut slot = AdapterSlot::<u32>::default();
        assert!(slot
            .get(|| async { Err(BleError::Adapter("no bus".into())) })
            .await
            .is_err());
        assert_eq!(
            slot.get(|| async { Ok((7, String::new())) })
                .await
                .unwrap()
                .0,
            7
        );
    }

    #[test]
    fn bus_addresses_are_checked() {
        let e = use_bus(Some("/run/bus")).unwrap_err();
        assert!(e.to_string().contains("not a D-Bus address"), "{e}");
        assert_eq!(e.owner(), crate::drivers::owner::Owner::Infrastructure);
        use_bus(None).unwrap();
    }

    #[test]
    fn picks_by_name_or_first() {
        let infos = vec![
            "hci0 (usb:v1D6Bp0246d0540)".to_string(),
            "hci1 (usb:v0A12p0001)".to_string(),
        ];
        assert_eq!(pick(&infos, None).unwrap(), 0);
        assert_eq!(pick(&infos, Some("hci1")).unwrap(), 1);
        let e = pick(&infos, Some("hci2")).unwrap_err();
        assert!(
            e.to_string()
                .contains("no adapter hci2; this host has: hci0"),
            "{e}"
        );
        assert!(pick(&[], None)
            .unwrap_err()
            .to_string()
            .contains("no Bluetooth adapter"));
        assert_eq!(
            pick(&infos, Some("hci0")).unwrap(),
            0,
            "a prefix of another name is no match"
        );
    }
}
