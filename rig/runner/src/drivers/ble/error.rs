//! BLE failures, classed: the adapter and host stack are infrastructure; a device that does
//! not advertise, refuses a connection or lacks the DFU service is the device.

use crate::drivers::owner::Owner;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BleError {
    #[error("BLE adapter: {0}")]
    Adapter(String),
    #[error("{0}")]
    NotFound(String),
    #[error("connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    #[error("{0}")]
    Gatt(String),
    #[error("{0}")]
    Config(String),
}

impl BleError {
    pub fn owner(&self) -> Owner {
        match self {
            BleError::Adapter(_) | BleError::Config(_) => Owner::Infrastructure,
            _ => Owner::Device,
        }
    }
}

impl From<btleplug::Error> for BleError {
    fn from(e: btleplug::Error) -> Self {
        BleError::Gatt(e.to_string())
    }
}
