//! A DUT's DFU link: BLE or serial, whichever its bootloader speaks. One generic type serves the
//! virtual and the hardware bench, so both dispatch the [`Transport`] calls the same way.

use nrf_dfu::client::{Link, LinkError};
use nrf_dfu::wire::Transport;

/// One link exists per DUT at a time, so the size difference of the variants costs nothing
/// worth a box.
#[allow(clippy::large_enum_variant)]
pub enum BleOrSerial<B, S> {
    Ble(B),
    Serial(S),
}

/// Call the same method on whichever link is inside.
macro_rules! either {
    ($self:ident, $l:ident => $call:expr) => {
        match $self {
            BleOrSerial::Ble($l) => $call,
            BleOrSerial::Serial($l) => $call,
        }
    };
}

impl<B: Link, S: Link> Link for BleOrSerial<B, S> {
    fn transport(&self) -> Transport {
        either!(self, l => l.transport())
    }
    fn max_write_len(&self) -> usize {
        either!(self, l => l.max_write_len())
    }
    fn observes_link_loss(&self) -> bool {
        either!(self, l => l.observes_link_loss())
    }
    async fn send_request(&mut self, request: &[u8]) -> Result<(), LinkError> {
        either!(self, l => l.send_request(request).await)
    }
    async fn write_data(&mut self, chunk: &[u8]) -> Result<(), LinkError> {
        either!(self, l => l.write_data(chunk).await)
    }
    async fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        either!(self, l => l.receive().await)
    }
    async fn reconnect(&mut self) -> Result<(), LinkError> {
        either!(self, l => l.reconnect().await)
    }
    async fn close(&mut self) -> Result<(), LinkError> {
        either!(self, l => l.close().await)
    }
}
