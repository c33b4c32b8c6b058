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

/// Packet size: the bench's override, else the MTU BlueZ reports (when it reports one), else 20.
pub fn packet_size(override_len: Option<usize>, reported_mtu: u16) -> usize {
    override_len.unwrap_or(if reported_mtu > 23 {
        reported_mtu as usize - 3
    } else {
        DEFAULT_PACKET
    })
}

pub struct BleTransport {
    adapter: Adapter,
    target: Wanted,
    packet_override: Option<usize>,
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
}

fn io(e: BleError) -> LinkError {
    match e.owner() {
        crate::backend::Owner::Infrastructure => LinkError::io(e.to_string()),
        crate::backend::Owner::Device => LinkError::timeout(e.to_string()),
    }
}

impl BleTransport {
    pub async fn connect(
        adapter: Adapter,
        target: Wanted,
        packet_override: Option<usize>,
    ) -> Result<BleTransport, LinkError> {
        let mut t = BleTransport {
            adapter,
            target,
            packet_override,
            scan_wait: Duration::from_secs(10),
            backoff: Backoff::default(),
            link: None,
        };
        t.reconnect().await?;
        Ok(t)
    }

    async fn open_link(&mut self) -> Result<Connection, BleError> {
        let (id, sighting) = find_fresh(&self.adapter, &self.target, self.scan_wait).await?;
        let p = bounded("peripheral", self.adapter.peripheral(&id)).await?;
        let mut last;
        let mut delays = self.backoff.delays().into_iter();
        loop {
            match tokio::time::timeout(Duration::from_secs(10), p.connect()).await {
                Ok(Ok(())) => break,
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "no connection within 10 s".into(),
            }
            match delays.next() {
                Some(d) => tokio::time::sleep(d).await,
                None => {
                    return Err(BleError::Connect {
                        target: sighting.address.to_string(),
                        detail: last,
                    })
                }
            }
        }
        // Always rediscover: never trust BlueZ's cached table across app/bootloader switches.
        tokio::time::timeout(Duration::from_secs(30), p.discover_services())
            .await
            .map_err(|_| BleError::Gatt("service discovery timed out".into()))??;
        let chars = p.characteristics();
        let find = |u| chars.iter().find(|c| c.uuid == u).cloned();
        let (cp, packet) = match (find(CONTROL_POINT), find(PACKET)) {
            (Some(c), Some(p)) => (c, p),
            _ => return Err(BleError::Gatt(format!(
                "{} has no DFU Control Point/Packet characteristics: not in the bootloader, or BlueZ serves a stale GATT cache (`bluetoothctl remove {}`)",
                sighting.address, sighting.address
            ))),
        };
        let events = bounded("event stream", self.adapter.events()).await?;
        bounded("enable Control Point notifications", p.subscribe(&cp)).await?;
        let notes = bounded("notifications", p.notifications()).await?;
        let packet_len = packet_size(self.packet_override, p.mtu());
        Ok(Connection {
            peripheral: p,
            cp,
            packet,
            notes,
            events,
            packet_len,
        })
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
            let _ = tokio::time::timeout(Duration::from_secs(2), l.peripheral.disconnect()).await;
        }
        let link = self.open_link().await.map_err(io)?;
        self.link = Some(link);
        Ok(())
    }

    async fn close(&mut self) -> Result<(), LinkError> {
        if let Some(l) = self.link.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), l.peripheral.disconnect()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_size_rules() {
        assert_eq!(packet_size(None, 23), 20);
        assert_eq!(packet_size(None, 247), 244);
        assert_eq!(packet_size(Some(180), 247), 180);
        assert_eq!(packet_size(Some(244), 23), 244);
    }
}
