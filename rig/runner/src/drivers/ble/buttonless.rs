//! Buttonless entry from the application (SDK 17.1 `ble_dfu.c` / `ble_dfu_unbonded.c`; pc-nrfutil
//! 6.1.7 `dfu_transport_ble.py`, `jump_from_buttonless_mode_to_bootloader`): enable indications on
//! the buttonless characteristic, write `01`, wait for the indication `20 01 01` (BlueZ confirms
//! it, and only then does the app reset), wait for the disconnect, then look for the bootloader: at
//! address + 1 without bonds, at the same address with bonds.

use super::adapter::bounded;
use super::address::BleAddress;
use super::error::BleError;
use super::freshness::Wanted;
use super::scan::find_fresh;
use super::{BUTTONLESS_BONDED, BUTTONLESS_UNBONDED, CONTROL_POINT, DFU_SERVICE};
use btleplug::api::{Central, CentralEvent, Peripheral as _, WriteType};
use btleplug::platform::{Adapter, Peripheral};
use futures_util::StreamExt;
use tokio::time::{timeout, Duration};

/// nrfutil waits 20 s for the indication.
pub const INDICATION_TIMEOUT: Duration = Duration::from_secs(20);
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Check the app's answer `20 01 <rsp>`.
pub fn check_response(bytes: &[u8]) -> Result<(), BleError> {
    match bytes {
        [0x20, 0x01, 0x01, ..] => Ok(()),
        [0x20, 0x01, rsp, ..] => Err(BleError::Gatt(format!(
            "buttonless enter-bootloader refused: response {rsp:#04x} ({})",
            match rsp {
                0x02 => "op code not supported",
                0x04 => "operation failed",
                0x06 => "busy",
                0x07 => "not bonded",
                _ => "unknown",
            }
        ))),
        other => Err(BleError::Gatt(format!(
            "unexpected buttonless indication {other:02x?}"
        ))),
    }
}

/// Where the bootloader will be after entry.
pub fn bootloader_target(app: BleAddress, bonded: bool, name: Option<String>) -> Wanted {
    Wanted {
        addresses: vec![if bonded { app } else { app.bootloader() }],
        name,
        service: Some(DFU_SERVICE),
    }
}

/// Run the entry on a connected, discovered app peripheral.
pub async fn enter(
    adapter: &Adapter,
    app: &Peripheral,
    bootloader_name: Option<String>,
) -> Result<Wanted, BleError> {
    let chars = app.characteristics();
    let (ch, bonded) = match chars.iter().find(|c| c.uuid == BUTTONLESS_UNBONDED) {
        Some(c) => (c.clone(), false),
        None => match chars.iter().find(|c| c.uuid == BUTTONLESS_BONDED) {
            Some(c) => (c.clone(), true),
            None => {
                return Err(BleError::Gatt(
                    "the application has no buttonless DFU characteristic (8EC90003/8EC90004)"
                        .into(),
                ))
            }
        },
    };
    let mut events = bounded("event stream", adapter.events()).await?;
    bounded("enable indications", app.subscribe(&ch)).await?;
    let mut notes = bounded("notifications", app.notifications()).await?;
    bounded(
        "write enter-bootloader",
        app.write(&ch, &[0x01], WriteType::WithResponse),
    )
    .await?;
    let ind = timeout(INDICATION_TIMEOUT, async {
        while let Some(n) = notes.next().await {
            if n.uuid == ch.uuid {
                return Some(n.value);
            }
        }
        None
    })
    .await
    .map_err(|_| {
        BleError::Gatt(format!(
            "no buttonless indication within {INDICATION_TIMEOUT:?}"
        ))
    })?
    .ok_or_else(|| BleError::Gatt("link closed before the buttonless indication".into()))?;
    check_response(&ind)?;
    let id = app.id();
    timeout(DISCONNECT_TIMEOUT, async {
        while let Some(ev) = events.next().await {
            if matches!(ev, CentralEvent::DeviceDisconnected(ref d) if *d == id) {
                return;
            }
        }
    })
    .await
    .map_err(|_| {
        BleError::Gatt(format!(
            "the application did not reset within {DISCONNECT_TIMEOUT:?} after entering DFU"
        ))
    })?;
    Ok(bootloader_target(
        BleAddress::from_btleplug(app.address()),
        bonded,
        bootloader_name,
    ))
}

/// How long a connection to the application may take (BlueZ answers Connect once the link is
/// up; a device that stopped advertising makes it wait for the kernel's 20 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(25);

/// `nrfutil dfu ble -a ADDR` pointed at an application: connect to what `target` finds; if it
/// is already the bootloader, leave it as it is; if it is an application with the buttonless
/// service, enter the bootloader and return where it will advertise (address + 1 unbonded).
pub async fn enter_if_app(
    adapter: &Adapter,
    target: Wanted,
    bootloader_name: Option<String>,
    wait: Duration,
) -> Result<Wanted, BleError> {
    let mut removed = false;
    let (p, s) = loop {
        let (id, s) = find_fresh(adapter, &target, wait).await?;
        let p = bounded("peripheral", adapter.peripheral(&id)).await?;
        super::transport::drop_stale_link(&p).await?;
        timeout(CONNECT_TIMEOUT, p.connect())
            .await
            .map_err(|_| BleError::Connect {
                target: s.address.to_string(),
                detail: format!("no connection within {CONNECT_TIMEOUT:?}"),
            })?
            .map_err(|e| BleError::Connect {
                target: s.address.to_string(),
                detail: e.to_string(),
            })?;
        timeout(Duration::from_secs(30), p.discover_services())
            .await
            .map_err(|_| BleError::Gatt("service discovery timed out".into()))??;
        let known = [CONTROL_POINT, BUTTONLESS_UNBONDED, BUTTONLESS_BONDED];
        if p.characteristics().iter().any(|c| known.contains(&c.uuid)) || removed {
            break (p, s);
        }
        // Neither DFU nor buttonless: maybe a stale cached tree (bluez_cache.rs). Remove an
        // unpaired device once; never a bonded one.
        let _ = timeout(Duration::from_secs(5), p.disconnect()).await;
        if super::bluez_cache::paired(&id).await? {
            return Err(BleError::Gatt(super::bluez_cache::stale_bonded_advice(
                &s.address.to_string(),
            )));
        }
        tracing::info!(address = %s.address, "no DFU or buttonless characteristics: removing the unpaired device from BlueZ (stale GATT cache) and connecting again");
        super::bluez_cache::remove(&id).await?;
        removed = true;
    };
    let chars = p.characteristics();
    if chars.iter().any(|c| c.uuid == CONTROL_POINT) {
        let _ = timeout(Duration::from_secs(5), p.disconnect()).await;
        return Ok(Wanted {
            addresses: vec![s.address],
            ..target
        });
    }
    let entered = enter(adapter, &p, bootloader_name).await;
    if entered.is_err() {
        let _ = timeout(Duration::from_secs(5), p.disconnect()).await;
    }
    entered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        check_response(&[0x20, 0x01, 0x01]).unwrap();
        assert!(check_response(&[0x20, 0x01, 0x07])
            .unwrap_err()
            .to_string()
            .contains("not bonded"));
        assert!(check_response(&[0x20, 0x01, 0x06])
            .unwrap_err()
            .to_string()
            .contains("busy"));
        assert!(check_response(&[0x60]).is_err());
    }

    #[test]
    fn target_address_by_bonding() {
        let app: BleAddress = "F1:22:33:44:55:66".parse().unwrap();
        assert_eq!(
            bootloader_target(app, false, None).addresses[0].to_string(),
            "F1:22:33:44:55:67"
        );
        assert_eq!(bootloader_target(app, true, None).addresses[0], app);
    }
}
