//! Serial DFU: the client's [`Transport`](nrf_dfu::client::transport::Transport) over a UART
//! (or USB CDC) port with SLIP framing.

pub mod port;
pub mod transport;

pub use port::PortSettings;
pub use transport::{SerialOptions, SerialTransport};
