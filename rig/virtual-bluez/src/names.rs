//! D-Bus names bluetoothd uses, and its errors (BlueZ src/error.c, src/error.h).

pub const BLUEZ: &str = "org.bluez";
pub const ADAPTER: &str = "org.bluez.Adapter1";
pub const DEVICE: &str = "org.bluez.Device1";
pub const SERVICE: &str = "org.bluez.GattService1";
pub const CHARACTERISTIC: &str = "org.bluez.GattCharacteristic1";
pub const DESCRIPTOR: &str = "org.bluez.GattDescriptor1";
pub const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
pub const OBJECT_MANAGER: &str = "org.freedesktop.DBus.ObjectManager";
pub const INTROSPECTABLE: &str = "org.freedesktop.DBus.Introspectable";

/// An error reply as bluetoothd sends it: `org.bluez.Error.<name>` and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct BluezError {
    pub name: String,
    pub message: String,
}

impl BluezError {
    fn new(name: &str, message: impl Into<String>) -> BluezError {
        BluezError {
            name: name.to_string(),
            message: message.into(),
        }
    }

    /// error.c `btd_error_failed(msg, str)`.
    pub fn failed(message: impl Into<String>) -> BluezError {
        BluezError::new("org.bluez.Error.Failed", message)
    }

    /// error.c `btd_error_already_exists` (Pair on a bonded device).
    pub fn already_exists() -> BluezError {
        BluezError::new("org.bluez.Error.AlreadyExists", "Already Exists")
    }

    /// device.c `new_authentication_return` for a pairing the peer refused.
    pub fn authentication_failed() -> BluezError {
        BluezError::new(
            "org.bluez.Error.AuthenticationFailed",
            "Authentication Failed",
        )
    }

    /// error.c `btd_error_in_progress`.
    pub fn in_progress() -> BluezError {
        BluezError::new("org.bluez.Error.InProgress", "In Progress")
    }

    /// error.c `btd_error_not_connected`.
    pub fn not_connected() -> BluezError {
        BluezError::new("org.bluez.Error.NotConnected", "Not Connected")
    }

    /// error.c `btd_error_not_ready` (adapter not powered).
    pub fn not_ready() -> BluezError {
        BluezError::new("org.bluez.Error.NotReady", "Resource Not Ready")
    }

    /// error.c `btd_error_invalid_args`.
    pub fn invalid_args() -> BluezError {
        BluezError::new(
            "org.bluez.Error.InvalidArguments",
            "Invalid arguments in method call",
        )
    }

    /// error.c `btd_error_invalid_args_str`.
    pub fn invalid_args_str(s: &str) -> BluezError {
        BluezError::new("org.bluez.Error.InvalidArguments", s)
    }

    /// error.c `btd_error_not_supported`.
    pub fn not_supported() -> BluezError {
        BluezError::new("org.bluez.Error.NotSupported", "Operation is not supported")
    }

    /// error.c `btd_error_not_permitted(msg, str)`.
    pub fn not_permitted(s: &str) -> BluezError {
        BluezError::new("org.bluez.Error.NotPermitted", s)
    }

    /// error.c `btd_error_does_not_exist`.
    pub fn does_not_exist() -> BluezError {
        BluezError::new("org.bluez.Error.DoesNotExist", "Does Not Exist")
    }

    /// libdbus for a path nobody registered (dbus-connection.c
    /// `_dbus_connection_update_dispatch_status_and_unlock` dispatch fallback: UnknownObject when
    /// no object handled the path, with the "Method ... doesn't exist" text).
    pub fn unknown_object(member: &str, signature: &str, iface: &str) -> BluezError {
        BluezError::new(
            "org.freedesktop.DBus.Error.UnknownObject",
            format!(
                "Method \"{member}\" with signature \"{signature}\" on interface \"{iface}\" doesn't exist\n"
            ),
        )
    }

    /// The same dispatch fallback when the object exists but not the method.
    pub fn unknown_method(member: &str, signature: &str, iface: &str) -> BluezError {
        BluezError::new(
            "org.freedesktop.DBus.Error.UnknownMethod",
            format!(
                "Method \"{member}\" with signature \"{signature}\" on interface \"{iface}\" doesn't exist\n"
            ),
        )
    }

    /// gdbus/object.c `properties_get`: unknown property.
    pub fn no_such_property(name: &str) -> BluezError {
        BluezError::new(
            "org.freedesktop.DBus.Error.InvalidArgs",
            format!("No such property '{name}'"),
        )
    }

    /// gatt-client.c `create_gatt_dbus_error`: what an ATT error code becomes.
    pub fn from_att(code: u8) -> BluezError {
        match code {
            0x02 => BluezError::not_permitted("Read not permitted"),
            0x03 => BluezError::not_permitted("Write not permitted"),
            0x05 | 0x0F | 0x0C => BluezError::not_permitted("Not paired"),
            0x07 => BluezError::invalid_args_str("Invalid offset"),
            0x0D => BluezError::invalid_args_str("Invalid Length"),
            0x08 => BluezError::new("org.bluez.Error.NotAuthorized", "Operation Not Authorized"),
            0x06 => BluezError::not_supported(),
            0 => BluezError::failed("Operation failed"),
            c => BluezError::failed(format!("Operation failed with ATT error: 0x{c:02x}")),
        }
    }
}

/// LE connection errors (error.h `ERR_LE_CONN_*`, error.c `btd_error_le_str`).
#[allow(dead_code)] // the names BlueZ has, not only those the model raises
pub mod le {
    /// -ECONNABORTED: the kernel gave up the connection attempt (LE Create Connection
    /// cancelled, HCI 0x16 "local host terminated", `bt_to_errno` → ECONNABORTED).
    pub const ABORT_BY_LOCAL: &str = "le-connection-abort-by-local";
    /// -ECONNRESET.
    pub const ABORT_BY_REMOTE: &str = "le-connection-abort-by-remote";
    /// -EHOSTUNREACH: adapter off.
    pub const ADAPTER_NOT_POWERED: &str = "le-connection-adapter-not-powered";
    /// device.c `device_request_disconnect` answering a pending Connect
    /// (`ERR_BREDR_CONN_CANCELED`, used for LE too).
    pub const CANCELED: &str = "br-connection-canceled";
}

/// The Device1.Disconnected signal's reason for an HCI disconnect reason (device.c
/// `device_disconnected`; the kernel's mgmt reason: 0x08 → MGMT_DEV_DISCONN_TIMEOUT,
/// 0x13/0x14/0x15 → REMOTE, 0x16 → LOCAL_HOST, hci_event.c `hci_disconn_complete_evt`).
pub fn disconnect_reason(hci: u8) -> (&'static str, &'static str) {
    match hci {
        0x08 => ("org.bluez.Reason.Timeout", "Connection timeout"),
        0x13..=0x15 => (
            "org.bluez.Reason.Remote",
            "Connection terminated by remote user",
        ),
        0x16 => (
            "org.bluez.Reason.Local",
            "Connection terminated by local host",
        ),
        _ => ("org.bluez.Reason.Unknown", "Unspecified"),
    }
}
