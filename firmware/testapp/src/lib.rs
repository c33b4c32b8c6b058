//! What the rig's test application puts on the air and in RAM, as plain data: the advertising
//! payload, the unbonded buttonless DFU exchange and the version block the rig reads over SWD.
//! No hardware here, so these build and are tested on the host too
//! (`cargo test --lib --target x86_64-unknown-linux-gnu`).
#![no_std]

pub mod advertising;
pub mod buttonless;
pub mod info_block;
pub mod version;
