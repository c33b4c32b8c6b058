//! The virtual device served to the outside world and its files: stand-in images, state
//! inspection, and a UART bootloader on a pseudo-terminal.

pub mod device_setup;
pub mod images;
pub mod inspect;
pub mod pty;
pub mod serve;
