//! The client's [`Transport`] over btleplug: Control Point writes with response and
//! notifications, Packet writes without response, rediscovery on every connect (BlueZ's GATT
//! cache can be stale after the app/bootloader switch), connection retries with back-off.

use super::adapter::bounded;
use super::backoff::Backoff;
use super::error::BleError;
use super::freshness::Wanted;
use super::scan::find_fresh;
use super::{CONTROL_POINT, PACKET};
use btleplug::api::{
    Central, CentralEvent, Characteristic, Peripheral as _, ValueNotification, WriteType,
};
use btleplug::platform::{Adapter, Peripheral};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use nrf_dfu::client::{Link, LinkError};
use nrf_dfu::wire::Transport;
use std::pin::Pin;
use tokio::time::Duration;

/// ATT default MTU 23 − 3: what to write when the MTU is unknown.
pub const DEFAULT_PACKET: usize = 20;

type Events = Pin<Box<dyn futures_util::Stream<Item = CentralEvent> + Send>>;

/// Bytes per Packet write: never more than the negotiated ATT MTU allows (MTU − 3), nor more
/// than a swept `mtu` allows, nor more than the bench file's `packet_size`.
///
/// The host cannot choose the ATT MTU through BlueZ's D-Bus API: bluetoothd negotiates it on
/// connect from its own configuration (main.conf `[GATT] ExchangeMTU`), and btleplug only
/// reads the result (btleplug 0.13.5 `src/bluez/peripheral.rs` `mtu()`: the first
/// characteristic's `MTU` property, bluez-async 0.9.0 `src/characteristic.rs`
/// `CharacteristicInfo::mtu`, which BlueZ 5.62+ exposes; `api::DEFAULT_MTU_SIZE` = 23 when none
/// does). So a swept MTU is applied where the rig controls it, the write size: writes of
/// `mtu − 3` bytes are what a link with that MTU carries, and the effective MTU is recorded.
/// A `packet_size` above the negotiated MTU would make BlueZ refuse the write (a write without
/// response longer than MTU − 3 is an error in `bt_gatt_client_write_without_response`) and the
/// DUT would be blamed, so it is clamped too.
pub fn packet_size(
    override_len: Option<usize>,
    negotiated_mtu: u16,
    sweep_mtu: Option<u16>,
) -> usize {
    let att = sweep_mtu
        .map_or(negotiated_mtu, |m| m.min(negotiated_mtu))
        .max(23);
    let most = att as usize - 3;
    override_len.map_or(most, |o| o.clamp(1, most))
}

/// What the link carries, for the iteration's evidence: the MTU BlueZ negotiated, the one a
/// sweep asked for, and the write size used (its effective MTU is the write size + 3).
pub fn mtu_note(negotiated: u16, sweep: Option<u16>, packet_len: usize) -> String {
    let asked = sweep.map_or(String::new(), |m| format!(", sweep asked {m}"));
    format!(
        "BLE: ATT MTU {negotiated} negotiated{asked}; Packet writes of {packet_len} bytes (effective MTU {})",
        packet_len + 3
    )
}

/// How long BlueZ may take to let go of a dead link: its disconnect timer (device.c
/// `DISCONNECT_TIMER`, 2 s) and then, for a peer that no longer answers, the link supervision
/// timeout, at most 32 s (Core 5.3 Vol 6 Part B 4.5.2, connSupervisionTimeout ≤ 32 s).
pub const STALE_LINK_BOUND: Duration = Duration::from_secs(35);

/// Before connecting: a link BlueZ still reports that this process holds no handle to is a
/// dead one. The DUT reset or lost power under it (a fault, `enter_dfu: swd`, a power cycle),
/// and the central only notices after the supervision timeout, while the DUT already
/// advertises again at the same address. Device1.Connect on it answers at once (BlueZ
/// src/device.c `dev_connect`: `if (dev->le_state.connected) return
/// dbus_message_new_method_return(msg)`), bluez-async 0.9 `connect_with_timeout` then only
/// waits for ServicesResolved (still true), so btleplug 0.13.5 `Peripheral::connect` succeeds
/// and the first GATT call fails with "Not Connected" once the loss is seen. So: disconnect,
/// and wait (bounded) until BlueZ says the link is gone.
pub async fn drop_stale_link(p: &Peripheral) -> Result<(), BleError> {
    if !bounded("connection state", p.is_connected()).await? {
        return Ok(());
    }
    tracing::debug!(address = %p.address(), "BlueZ holds a stale link: disconnecting it first");
    let deadline = tokio::time::Instant::now() + STALE_LINK_BOUND;
    let _ = tokio::time::timeout(STALE_LINK_BOUND, p.disconnect()).await;
    while bounded("connection state", p.is_connected()).await? {
        if tokio::time::Instant::now() >= deadline {
            return Err(BleError::Connect {
                target: p.address().to_string(),
                detail: format!(
                    "BlueZ still holds a link to it after {STALE_LINK_BOUND:?} (disconnect it with `bluetoothctl disconnect {}`)",
                    p.address()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// One connection attempt. The Linux kernel gives an LE connection 20 s before it cancels it
/// (`HCI_LE_CONN_TIMEOUT`, net/bluetooth); nrfutil 6.1.7 `dfu_transport_ble.py` makes 3 bounded
/// attempts instead of one long one, retrying when BlueZ/the controller aborts. 10 s covers the
/// bootloader's advertising interval (25 ms to 1 s) many times over; then the rig cancels and
/// retries after the back-off.
pub const CONNECT_ATTEMPT: Duration = Duration::from_secs(10);
/// Bound on `Device1.Disconnect` (also cancels a pending connect in BlueZ).
pub const DISCONNECT_BOUND: Duration = Duration::from_secs(2);

/// Connect with back-off. Every failed attempt, above all one that timed out, is followed by a
/// disconnect: dropping btleplug's `connect()` future does not cancel BlueZ's `Device1.Connect`
/// (btleplug 0.13.5 `src/bluez/peripheral.rs` `connect` awaits bluez-async
/// `BluetoothSession::connect`, a D-Bus method call that BlueZ keeps running), so BlueZ would
/// finish the connection later, leave the DUT connected and silent, and the next attempt would
/// get `org.bluez.Error.InProgress`. `Device1.Disconnect` aborts a pending connection too.
pub async fn connect_retrying<C, CF, D, DF>(
    mut connect: C,
    mut disconnect: D,
    backoff: &Backoff,
) -> Result<(), String>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = Result<(), String>>,
    D: FnMut() -> DF,
    DF: std::future::Future<Output = ()>,
{
    let mut delays = backoff.delays().into_iter();
    loop {
        let last = match tokio::time::timeout(CONNECT_ATTEMPT, connect()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e,
            Err(_) => format!("no connection within {CONNECT_ATTEMPT:?}"),
        };
        let _ = tokio::time::timeout(DISCONNECT_BOUND, disconnect()).await;
        match delays.next() {
            Some(d) => tokio::time::sleep(d).await,
            None => return Err(last),
        }
    }
}

pub struct BleTransport {
    adapter: Adapter,
    target: Wanted,
    packet_override: Option<usize>,
    /// The ATT MTU a campaign's `mtu` sweep asks for (applied to the write size).
    sweep_mtu: Option<u16>,
    scan_wait: Duration,
    backoff: Backoff,
    link: Option<Connection>,
}

struct Connection {
    peripheral: Peripheral,
    cp: Characteristic,
    packet: Characteristic,
    notes: BoxStream<'static, ValueNotification>,
    events: Events,
    packet_len: usize,
    negotiated_mtu: u16,
}

fn io(e: BleError) -> LinkError {
    match e.owner() {
        crate::drivers::Owner::Infrastructure => LinkError::io(e.to_string()),
        crate::drivers::Owner::Device => LinkError::timeout(e.to_string()),
    }
}

/// Discover (always: BlueZ rediscovers on every connection, see [`super::bluez_cache`]) and
/// find Control Point and Packet.
async fn dfu_characteristics(
    p: &Peripheral,
) -> Result<Option<(Characteristic, Characteristic)>, BleError> {
    tokio::time::timeout(Duration::from_secs(30), p.discover_services())
        .await
        .map_err(|_| BleError::Gatt("service discovery timed out".into()))??;
    let chars = p.characteristics();
    let find = |u| chars.iter().find(|c| c.uuid == u).cloned();
    Ok(find(CONTROL_POINT).zip(find(PACKET)))
}

impl BleTransport {
    pub async fn connect(
        adapter: Adapter,
        target: Wanted,
        packet_override: Option<usize>,
        sweep_mtu: Option<u16>,
    ) -> Result<BleTransport, LinkError> {
        let mut t = BleTransport {
            adapter,
            target,
            packet_override,
            sweep_mtu,
            scan_wait: Duration::from_secs(10),
            backoff: Backoff::default(),
            link: None,
        };
        t.reconnect().await?;
        Ok(t)
    }

    async fn open_link(&mut self) -> Result<Connection, BleError> {
        let mut removed = false;
        loop {
            let (id, sighting) = find_fresh(&self.adapter, &self.target, self.scan_wait).await?;
            let p = bounded("peripheral", self.adapter.peripheral(&id)).await?;
            let address = sighting.address.to_string();
            drop_stale_link(&p).await?;
            connect_retrying(
                || async { p.connect().await.map_err(|e| e.to_string()) },
                || async {
                    let _ = p.disconnect().await;
                },
                &self.backoff,
            )
            .await
            .map_err(|detail| BleError::Connect {
                target: address.clone(),
                detail,
            })?;
            let opened = match dfu_characteristics(&p).await {
                Ok(Some((cp, packet))) => self.finish_link(p.clone(), cp, packet).await.map(Some),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            match opened {
                Ok(Some(l)) => return Ok(l),
                other => {
                    // Connected but unusable: leave no connection behind for BlueZ to keep open.
                    let _ = tokio::time::timeout(DISCONNECT_BOUND, p.disconnect()).await;
                    other?;
                    // No DFU characteristics: not the bootloader, or BlueZ's cached tree is
                    // stale (bluez_cache.rs). Remove an unpaired device once and look again.
                    if super::bluez_cache::paired(&id).await? {
                        return Err(BleError::Gatt(super::bluez_cache::stale_bonded_advice(
                            &address,
                        )));
                    }
                    if removed {
                        return Err(BleError::Gatt(format!(
                            "{address} has no DFU Control Point/Packet characteristics even after BlueZ forgot it: it is not in the bootloader"
                        )));
                    }
                    tracing::info!(%address, "no DFU characteristics: removing the unpaired device from BlueZ (stale GATT cache) and connecting again");
                    super::bluez_cache::remove(&id).await?;
                    removed = true;
                }
            }
        }
    }

    async fn finish_link(
        &mut self,
        p: Peripheral,
        cp: Characteristic,
        packet: Characteristic,
    ) -> Result<Connection, BleError> {
        let events = bounded("event stream", self.adapter.events()).await?;
        bounded("enable Control Point notifications", p.subscribe(&cp)).await?;
        let notes = bounded("notifications", p.notifications()).await?;
        let negotiated_mtu = p.mtu();
        let packet_len = packet_size(self.packet_override, negotiated_mtu, self.sweep_mtu);
        Ok(Connection {
            peripheral: p,
            cp,
            packet,
            notes,
            events,
            packet_len,
            negotiated_mtu,
        })
    }

    /// The link's MTU and write size in words ([`mtu_note`]), while connected.
    pub fn mtu_note(&self) -> Option<String> {
        self.link
            .as_ref()
            .map(|l| mtu_note(l.negotiated_mtu, self.sweep_mtu, l.packet_len))
    }

    fn link(&mut self) -> Result<&mut Connection, LinkError> {
        self.link
            .as_mut()
            .ok_or_else(|| LinkError::closed("BLE link is closed"))
    }
}

impl Link for BleTransport {
    fn transport(&self) -> Transport {
        Transport::Ble
    }

    fn max_write_len(&self) -> usize {
        self.link
            .as_ref()
            .map(|l| l.packet_len)
            .unwrap_or(DEFAULT_PACKET)
    }

    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        let l = self.link()?;
        l.peripheral
            .write(&l.cp, request, WriteType::WithResponse)
            .await
            .map_err(|e| LinkError::link_lost(format!("Control Point write: {e}")))
    }

    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        let l = self.link()?;
        l.peripheral
            .write(&l.packet, chunk, WriteType::WithoutResponse)
            .await
            .map_err(|e| LinkError::link_lost(format!("Packet write: {e}")))
    }

    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        let l = self.link()?;
        let id = l.peripheral.id();
        loop {
            tokio::select! {
                // Notifications first: bluetoothd sends the last one (the final EXECUTE's
                // response) before the disconnection, on the same connection, but btleplug
                // hands them out on two streams; an unbiased select may report the loss first.
                biased;
                n = l.notes.next() => match n {
                    Some(n) if n.uuid == CONTROL_POINT => return Ok(n.value),
                    Some(_) => continue,
                    None => return Err(LinkError::link_lost("notification stream ended")),
                },
                ev = l.events.next() => match ev {
                    Some(CentralEvent::DeviceDisconnected(d)) if d == id => {
                        return Err(LinkError::link_lost("the device disconnected"))
                    }
                    Some(_) => continue,
                    None => return Err(LinkError::io("adapter event stream ended")),
                },
            }
        }
    }

    async fn reconnect(&mut self) -> Result<(), LinkError> {
        if let Some(l) = self.link.take() {
            let _ = tokio::time::timeout(DISCONNECT_BOUND, l.peripheral.disconnect()).await;
        }
        let link = self.open_link().await.map_err(io)?;
        self.link = Some(link);
        Ok(())
    }

    async fn close(&mut self) -> Result<(), LinkError> {
        if let Some(l) = self.link.take() {
            let _ = tokio::time::timeout(DISCONNECT_BOUND, l.peripheral.disconnect()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_failed_connect_is_cancelled_before_the_next() {
        use std::cell::RefCell;
        // What happened, in order: 'c' connect attempt, 'd' disconnect.
        let log = RefCell::new(String::new());
        let backoff = Backoff::default();
        let r = connect_retrying(
            || async {
                log.borrow_mut().push('c');
                // BlueZ never answers: the attempt times out.
                std::future::pending::<Result<(), String>>().await
            },
            || async { log.borrow_mut().push('d') },
            &backoff,
        )
        .await;
        assert!(r.unwrap_err().contains("no connection within"));
        assert_eq!(*log.borrow(), "cd".repeat(backoff.attempts as usize));

        // An error (e.g. le-connection-abort-by-local) is cancelled too; the retry succeeds.
        log.borrow_mut().clear();
        let n = RefCell::new(0);
        connect_retrying(
            || async {
                log.borrow_mut().push('c');
                *n.borrow_mut() += 1;
                if *n.borrow() == 1 {
                    Err("le-connection-abort-by-local".to_string())
                } else {
                    Ok(())
                }
            },
            || async { log.borrow_mut().push('d') },
            &backoff,
        )
        .await
        .unwrap();
        assert_eq!(*log.borrow(), "cdc");
    }

    #[test]
    fn packet_size_rules() {
        assert_eq!(packet_size(None, 23, None), 20);
        assert_eq!(packet_size(None, 247, None), 244);
        assert_eq!(packet_size(Some(180), 247, None), 180);
        // The bench file's size cannot exceed what the negotiated MTU carries.
        assert_eq!(packet_size(Some(244), 23, None), 20);
        assert_eq!(packet_size(Some(244), 185, None), 182);
        // A swept MTU caps the writes below the negotiated one, never above it.
        assert_eq!(packet_size(None, 247, Some(23)), 20);
        assert_eq!(packet_size(None, 247, Some(100)), 97);
        assert_eq!(packet_size(None, 185, Some(247)), 182);
        assert_eq!(packet_size(Some(180), 247, Some(100)), 97);
        assert_eq!(
            mtu_note(247, Some(100), 97),
            "BLE: ATT MTU 247 negotiated, sweep asked 100; Packet writes of 97 bytes (effective MTU 100)"
        );
    }
}
