//! The virtual device served to the outside world and its files: stand-in images, state
//! inspection, and the devices and bench file of the virtual lab (`rig lab`, `rig sim serve`).

pub mod ble_device;
pub mod device_setup;
pub mod images;
pub mod inspect;
pub mod lab_bench;
pub mod lab_firmware;
pub mod state_file;
