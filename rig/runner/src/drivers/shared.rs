//! The handle through which the virtual probe, the virtual power switch and the virtual links
//! share one virtual device. Campaigns run on a current-thread runtime, so `Rc<RefCell<..>>`.

use std::cell::RefCell;
use std::rc::Rc;
use virtual_nrf52::Device;

/// One virtual nRF52832 shared by every backend of a virtual DUT.
pub type SharedDevice = Rc<RefCell<Device>>;

/// Wrap a device for sharing.
pub fn share(device: Device) -> SharedDevice {
    Rc::new(RefCell::new(device))
}
