//! Errors of the device model.

use crate::flash::FlashError;
use crate::nvmc::NvmcConfig;
use std::time::Duration;

/// Power went away during a flash operation (a planned cut, or one armed with
/// [`crate::hardware::CutPlan`]). The device is off afterwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("power lost {elapsed:?} into {during} (of {duration:?})")]
pub struct PowerLoss {
    /// The operation in flight.
    pub during: String,
    pub elapsed: Duration,
    pub duration: Duration,
}

/// Something the device could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    #[error("the device is not powered")]
    Off,
    #[error(transparent)]
    PowerLost(#[from] PowerLoss),
    #[error(transparent)]
    Flash(#[from] FlashError),
    #[error("bus access to {addr:#010x}: nothing is mapped there")]
    Unmapped { addr: u32 },
    #[error("bus access to {addr:#010x}: {what} is not modelled")]
    Unmodelled { addr: u32, what: &'static str },
    #[error("bus write to {addr:#010x}: {region} is read only")]
    ReadOnly { addr: u32, region: &'static str },
    #[error("bus access to {addr:#010x}: {region} registers take aligned 32-bit accesses only")]
    RegisterAccess { addr: u32, region: &'static str },
    #[error("bus write to flash at {addr:#010x} with NVMC.CONFIG = {config:?} (needs WEN; the model refuses what silicon would ignore)")]
    FlashWriteDisabled { addr: u32, config: NvmcConfig },
    #[error("NVMC {register} written with NVMC.CONFIG = {config:?} (needs EEN)")]
    EraseDisabled {
        register: &'static str,
        config: NvmcConfig,
    },
}
