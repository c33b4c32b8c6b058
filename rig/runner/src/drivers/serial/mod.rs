//! Serial DFU: the client's [`Link`](nrf_dfu::client::Link) over a UART
//! (or USB CDC) port with SLIP framing.

pub mod port;
pub mod transport;

pub use port::PortSettings;
pub use transport::{SerialOptions, SerialTransport};
