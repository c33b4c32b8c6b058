//! What the device shows the outside world right now: off, silent, a bootloader in DFU mode or
//! an application. The BLE and UART surfaces decide what to advertise or answer from this.

use crate::descriptor::{Buttonless, Transport};
use nrf_dfu::SdkVersion;

/// The device as a radio or a serial port sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No power.
    Off,
    /// Powered but nothing talks: no MBR, an erased or unknown image without a fallback, the
    /// CPU halted, the bootloader busy with boot-time flash work (settings, activation copy),
    /// a transport being closed before a reset, an application without descriptor, or the
    /// `stuck-after-create-failure` defect. [`crate::Device::silent_reason`] says which.
    Silent,
    /// The Secure DFU bootloader in DFU mode, listening on its transport.
    Bootloader(BootloaderStatus),
    /// A stand-in application is running.
    App(AppStatus),
}

/// A bootloader in DFU mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootloaderStatus {
    pub sdk: SdkVersion,
    pub transport: Transport,
    /// Advertised name: the settings `adv_name` when the app set one (no bonds), else the
    /// build's `NRF_DFU_BLE_ADV_NAME` ("DfuTarg").
    pub adv_name: String,
    /// LSB first. Without bonds: the FICR address with byte 0 incremented (wrapping, no carry),
    /// (`gap_address_change` in `nrf_dfu_ble.c`); with bonds: the FICR address.
    pub ble_address: [u8; 6],
    pub requires_bonds: bool,
    /// Largest ATT MTU the bootloader's GATT layer takes: 247 from 15.0, 23 in 12/14
    /// (`NRF_SDH_BLE_GATT_MAX_MTU_SIZE`; 12.3 `nrf_ble_dfu.c` `NRF_BLE_MAX_MTU_SIZE`).
    pub max_att_mtu: u16,
    /// Whether a valid init packet is active (data objects may be created).
    pub init_valid: bool,
    /// With bonds: the bonded peer the application handed over (settings `peer_data` with a
    /// valid CRC), which the bootloader whitelists and encrypts with (17.1 `nrf_dfu_ble.c`).
    pub peer: Option<nrf_dfu::settings::PeerData>,
}

/// A running stand-in application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatus {
    pub name: String,
    pub version: u32,
    pub buttonless: Buttonless,
    /// LSB first: the FICR address.
    pub ble_address: [u8; 6],
}

/// Why [`Status::Silent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilentReason {
    /// Page 0 holds no MBR, or the MBR/SoftDevice jumps into erased flash (the MBR's
    /// [`crate::mbr::NoHandover`] says which), or a debugger erased the chip.
    NothingToRun,
    /// A bootloader image without a stand-in descriptor and no fallback configured, or a
    /// damaged descriptor.
    UnknownBootloader,
    /// An application image without a stand-in descriptor (it runs, but says nothing).
    UnknownApplication,
    /// The bootloader is doing boot-time flash work (settings init, activation copy).
    Booting,
    /// The bootloader closed its transport and is about to reset.
    Resetting,
    /// The CPU is halted by the debugger.
    Halted,
    /// `stuck-after-create-failure`: wedged until the power is cycled.
    Stuck,
    /// The core runs code a debugger loaded (a flash algorithm) instead of the firmware.
    DebuggerCode,
}

/// A BLE address as it is usually written: most significant byte first, colon separated.
fn fmt_address(f: &mut std::fmt::Formatter<'_>, lsb_first: &[u8; 6]) -> std::fmt::Result {
    let mut bytes = lsb_first.iter().rev();
    if let Some(b) = bytes.next() {
        write!(f, "{b:02X}")?;
    }
    for b in bytes {
        write!(f, ":{b:02X}")?;
    }
    Ok(())
}

/// One line for people, e.g. `bootloader SDK 17 (Ble) advertising "DfuTarg" at FD:0A:B2:5D:35:B4`.
impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Off => f.write_str("off"),
            Status::Silent => f.write_str("silent"),
            Status::Bootloader(b) => {
                write!(
                    f,
                    "bootloader {} ({:?}) advertising \"{}\" at ",
                    b.sdk, b.transport, b.adv_name
                )?;
                fmt_address(f, &b.ble_address)
            }
            Status::App(a) => {
                write!(f, "application \"{}\" version {} at ", a.name, a.version)?;
                fmt_address(f, &a.ble_address)
            }
        }
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn status_reads_as_a_sentence_with_msb_first_address() {
        let app = Status::App(AppStatus {
            name: "rig-app".into(),
            version: 2,
            buttonless: Buttonless::Unbonded,
            ble_address: [0xB3, 0x35, 0x5D, 0xB2, 0x0A, 0xFD],
        });
        assert_eq!(
            app.to_string(),
            "application \"rig-app\" version 2 at FD:0A:B2:5D:35:B3"
        );
        assert_eq!(Status::Off.to_string(), "off");
    }
}
