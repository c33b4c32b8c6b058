//! One BLE connection as the central sees it: which firmware it reached, its GATT table, the
//! negotiated MTU, the CCCDs the client wrote, the link's event schedule, and how it ended.

use super::att::AttError;
use super::gatt::GattTable;
use super::link::LinkClock;
use super::mtu;
use super::uuid::{BUTTONLESS_BONDED, BUTTONLESS_UNBONDED};
use crate::descriptor::Buttonless;
use crate::events::SimTime;
use crate::status::{AppStatus, BootloaderStatus};
use ::uuid::Uuid;
use nrf_dfu::SdkVersion;
use std::collections::BTreeMap;

/// CCCD bits (Core Vol 3 Part G 3.3.3.3).
pub const CCCD_NOTIFY: u16 = 0x0001;
pub const CCCD_INDICATE: u16 = 0x0002;

/// What the central is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The Secure DFU bootloader of `sdk`.
    Bootloader {
        sdk: SdkVersion,
        requires_bonds: bool,
        max_att_mtu: u16,
    },
    /// A stand-in application.
    App { buttonless: Buttonless },
}

impl Role {
    pub fn from_bootloader(s: &BootloaderStatus) -> Role {
        Role::Bootloader {
            sdk: s.sdk,
            requires_bonds: s.requires_bonds,
            max_att_mtu: s.max_att_mtu,
        }
    }

    pub fn from_app(s: &AppStatus) -> Role {
        Role::App {
            buttonless: s.buttonless,
        }
    }

    /// The attribute table this firmware registers.
    pub fn gatt(&self) -> GattTable {
        match self {
            Role::Bootloader {
                requires_bonds,
                max_att_mtu,
                ..
            } => GattTable::bootloader(mtu::payload(*max_att_mtu), *requires_bonds),
            Role::App { buttonless } => GattTable::app(buttonless_uuid(*buttonless)),
        }
    }

    /// The reply to an Exchange MTU Request asking `asked`.
    pub fn mtu_reply(&self, asked: u16) -> u16 {
        match self {
            Role::Bootloader { sdk, .. } => mtu::bootloader_mtu_reply(*sdk, asked),
            Role::App { .. } => mtu::app_mtu_reply(asked),
        }
    }
}

/// The buttonless characteristic an application with `b` exposes.
pub fn buttonless_uuid(b: Buttonless) -> Option<Uuid> {
    match b {
        Buttonless::None => None,
        Buttonless::Unbonded => Some(BUTTONLESS_UNBONDED),
        Buttonless::Bonded => Some(BUTTONLESS_BONDED),
    }
}

/// Why a connection ended (HCI error codes, Core Vol 1 Part F).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// 0x08: the supervision timeout expired (the peripheral went silent: reset, power loss,
    /// halted CPU).
    ConnectionTimeout,
    /// 0x13: the peripheral disconnected (bootloader after the final EXECUTE or ABORT, the
    /// application before it resets into DFU).
    RemoteUserTerminated,
    /// 0x16: the central disconnected.
    LocalHostTerminated,
}

impl DisconnectReason {
    pub fn code(self) -> u8 {
        match self {
            DisconnectReason::ConnectionTimeout => 0x08,
            DisconnectReason::RemoteUserTerminated => 0x13,
            DisconnectReason::LocalHostTerminated => 0x16,
        }
    }
}

/// A connection and its state.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The device epoch the connection was made in: a reset or power event ends it.
    pub epoch: u64,
    pub role: Role,
    pub gatt: GattTable,
    pub mtu: u16,
    pub link: LinkClock,
    pub cccd: BTreeMap<u16, u16>,
    /// When the central learns that the link is gone, and why.
    pub ended: Option<(SimTime, DisconnectReason)>,
    /// Since when the peripheral sends nothing while the link is still up (CPU halted).
    pub silent_since: Option<SimTime>,
    /// Indications sent and not yet confirmed, oldest first: (delivered at, op code).
    pub unconfirmed: Vec<(SimTime, u8)>,
    /// The central's identity address (LSB first), when it said (the whitelist and the bond
    /// store go by it).
    pub central: Option<[u8; 6]>,
    /// Whether the link is encrypted (pairing or a bond's LTK).
    pub encrypted: bool,
}

impl Connection {
    pub fn new(epoch: u64, role: Role, link: LinkClock) -> Connection {
        let gatt = role.gatt();
        Connection {
            epoch,
            role,
            gatt,
            mtu: mtu::ATT_DEFAULT_MTU,
            link,
            cccd: BTreeMap::new(),
            ended: None,
            silent_since: None,
            unconfirmed: Vec::new(),
            central: None,
            encrypted: false,
        }
    }

    /// Whether the CCCD of the characteristic with value `uuid` has `bit` set.
    pub fn enabled(&self, uuid: &Uuid, bit: u16) -> bool {
        self.gatt
            .characteristic(uuid)
            .and_then(|c| c.cccd_handle)
            .and_then(|h| self.cccd.get(&h))
            .is_some_and(|v| v & bit != 0)
    }

    /// Whether the link is up at `t` from the device's side (not ended, or ending later only
    /// in the central's view).
    pub fn device_sees_link(&self) -> bool {
        self.ended.is_none()
    }

    /// The write length check: the attribute's `max_len` and the negotiated MTU.
    pub fn check_len(&self, handle: u16, max_len: usize, len: usize) -> Result<(), AttError> {
        let max = max_len.min(mtu::payload(self.mtu));
        if len > max {
            return Err(AttError::InvalidAttributeValueLength { handle, len, max });
        }
        Ok(())
    }

    /// End the link: the central learns at `at`.
    pub fn end(&mut self, at: SimTime, reason: DisconnectReason) {
        if self.ended.is_none() {
            self.ended = Some((at, reason));
        }
    }
}
