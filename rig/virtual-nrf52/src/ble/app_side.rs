//! The stand-in application's buttonless DFU service (SDK 17.1 `ble_dfu.c`, `ble_dfu_unbonded.c`,
//! `ble_dfu_bonded.c`), on the BLE surface: what a
//! write to 8EC90003/8EC90004 does, and what the application does once the client confirms
//! the indication.
//!
//! Unbonded, 14+: `01` → indication `20 01 01` → on the confirmation the application prepares
//! (`BLE_DFU_EVT_BOOTLOADER_ENTER_PREPARE`: the SDK example stops advertising on disconnect and
//! disconnects every link with 0x13, `ble_app_buttonless_dfu/main.c`), then sets GPREGRET to
//! 0xB1 and resets. No confirmation, no reset. `02 <len> <name>` stores the bootloader's
//! advertising name (success indicated when the flash write completes). Bonded
//! (`ble_dfu_bonded.c`): writes need an encrypted link (checked before, [`super::security`]);
//! `01` hands the bond to the bootloader (`enter_bootloader` → `retrieve_peer_data` →
//! `nrf_dfu_set_peer_data`), and the success indication goes out when that flash write is done
//! (`ble_dfu_buttonless_on_sys_evt`); a refused write (peer data area not erased) answers 0x04
//! operation failed; every other op code 0x02 not supported (`ble_dfu_buttonless_on_ctrl_pt_write`).

use super::att::AttError;
use super::buttonless::{indication, ButtonlessRequest, ButtonlessResponse};
use super::connection::{DisconnectReason, Role, CCCD_INDICATE};
use super::gatt::Characteristic;
use super::peripheral::{BleError, BlePeripheral, PeripheralEvent};
use crate::app::AppError;
use crate::descriptor::Buttonless;
use crate::events::SimTime;
use crate::virtual_device::Device;

/// Op code of "enter bootloader".
const OP_ENTER: u8 = 0x01;

/// A write request to the application's buttonless characteristic, received in the event at
/// `sent`; the write response goes out at `rsp`.
pub(crate) fn buttonless_write(
    p: &mut BlePeripheral,
    dev: &mut Device,
    sent: SimTime,
    rsp: SimTime,
    ch: &Characteristic,
    value: &[u8],
) -> Result<SimTime, BleError> {
    let att = |error| BleError::Att { error, at: rsp };
    let handle = ch.value_handle;
    let c = p.conn_mut().ok_or(BleError::NotConnected)?;
    let bonded = match c.role {
        Role::App {
            buttonless: Buttonless::Bonded,
        } => true,
        Role::App {
            buttonless: Buttonless::Unbonded,
        } => false,
        _ => return Err(att(AttError::WriteNotPermitted(handle))),
    };
    if !c.enabled(&ch.uuid, CCCD_INDICATE) {
        return Err(att(AttError::CccdImproperlyConfigured(handle)));
    }
    let req = ButtonlessRequest::decode(value);
    let op = req.op();
    let central = c.central.unwrap_or_default();
    let sc_cccd = super::security::service_changed_handles(c)
        .map(|(_, h)| (h, c.cccd.get(&h).copied().unwrap_or(0)));
    let bond = p.bond(central);
    let (rsp_code, ready) = match &req {
        _ if bonded => match (&req, bond) {
            (ButtonlessRequest::EnterBootloader, None) => (ButtonlessResponse::NotBonded, sent),
            (ButtonlessRequest::EnterBootloader, Some(keys)) => {
                let peer = super::security::peer_data(central, &keys, sc_cccd);
                match dev.app_set_peer_data(sent, &peer) {
                    Ok(done) => (ButtonlessResponse::Success, done),
                    Err(_) => (ButtonlessResponse::OperationFailed, sent),
                }
            }
            _ => (ButtonlessResponse::OpCodeNotSupported, sent),
        },
        ButtonlessRequest::EnterBootloader => (ButtonlessResponse::Success, sent),
        ButtonlessRequest::SetAdvName { len, name } => {
            match ButtonlessRequest::valid_adv_name(*len, name) {
                None => (ButtonlessResponse::InvalidAdvName, sent),
                Some(n) => match dev.app_set_adv_name(sent, n) {
                    Ok(done) => (ButtonlessResponse::Success, done),
                    Err(AppError::InvalidState) => (ButtonlessResponse::Busy, sent),
                    Err(AppError::BadName(_)) => (ButtonlessResponse::InvalidAdvName, sent),
                    Err(_) => (ButtonlessResponse::OperationFailed, sent),
                },
            }
        }
        ButtonlessRequest::Unknown(_) => (ButtonlessResponse::OpCodeNotSupported, sent),
    };
    let c = p.conn_mut().ok_or(BleError::NotConnected)?;
    let at = c.link.reply_at(sent, ready);
    c.unconfirmed.push((
        at,
        if rsp_code == ButtonlessResponse::Success {
            op
        } else {
            0
        },
    ));
    p.push_event(PeripheralEvent::Indication {
        at,
        handle,
        value: indication(op, rsp_code).to_vec(),
    });
    Ok(rsp)
}

/// The confirmation of an indication for `op` reached the application at `at`.
pub(crate) fn indication_confirmed(p: &mut BlePeripheral, dev: &mut Device, at: SimTime, op: u8) {
    if op != OP_ENTER {
        return;
    }
    let Some(c) = p.conn_mut().filter(|c| c.ended.is_none()) else {
        return;
    };
    // ENTER_PREPARE: disconnect (LL_TERMINATE_IND in the next event), then GPREGRET + reset.
    let end = c.link.event_at_or_after(at + c.link.interval);
    c.end(end, DisconnectReason::RemoteUserTerminated);
    p.push_event(PeripheralEvent::Disconnected {
        at: end,
        reason: DisconnectReason::RemoteUserTerminated,
    });
    // The application is gone (reset) once the terminate is out; an error means it was not
    // running any more (reset or power loss meanwhile): nothing to do then.
    let _ = dev.app_enter_bootloader(end);
    p.sync(dev, end);
}
