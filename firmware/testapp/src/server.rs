//! The GATT server: Nordic's buttonless DFU service (0xFE59) with the unbonded characteristic
//! 8EC90003 (write + indicate, open link), as SDK 17.1's `ble_dfu_unbonded.c` serves it.
//!
//! Writes are authorized by the application (deferred write), so a write while indications are
//! off is refused with ATT 0xFD (CCCD improperly configured), as the SDK does. The reply is
//! indicated; after "enter bootloader" is indicated and the client confirms it, the application
//! disconnects and, once the link is down, sets GPREGRET and resets (main.rs).

use core::cell::Cell;

use nrf_softdevice::ble::gatt_server::builder::ServiceBuilder;
use nrf_softdevice::ble::gatt_server::characteristic::{Attribute, Metadata, Properties};
use nrf_softdevice::ble::gatt_server::{self, CharacteristicHandles, WriteOp};
use nrf_softdevice::ble::{Connection, DeferredWriteReply, GattError, Uuid};
use nrf_softdevice::Softdevice;
use rig_testapp::buttonless::{
    self, BUTTONLESS_UNBONDED_UUID128, DFU_SERVICE_UUID16, MAX_REQUEST_LEN,
};

pub struct Server {
    buttonless: CharacteristicHandles,
    /// The peer enabled indications on the buttonless characteristic (per connection).
    indications: Cell<bool>,
    /// "Enter bootloader" was indicated; waiting for the confirmation.
    enter_pending: Cell<bool>,
    /// Confirmed: enter the bootloader when the link is down.
    enter_requested: Cell<bool>,
}

impl Server {
    /// Register the service. A SoftDevice that refuses a fresh table of one service is a build
    /// or memory-layout defect, so it stops the application (panic handler).
    pub fn new(sd: &mut Softdevice) -> Server {
        let mut service =
            ServiceBuilder::new(sd, Uuid::new_16(DFU_SERVICE_UUID16)).expect("add DFU service");
        let attr = Attribute::new([0u8; MAX_REQUEST_LEN as usize])
            .variable_len(MAX_REQUEST_LEN)
            .deferred_write();
        let md = Metadata::new(Properties::new().write().indicate());
        let handles = service
            .add_characteristic(Uuid::new_128(&BUTTONLESS_UNBONDED_UUID128), attr, md)
            .expect("add buttonless characteristic")
            .build();
        service.build();
        Server {
            buttonless: handles,
            indications: Cell::new(false),
            enter_pending: Cell::new(false),
            enter_requested: Cell::new(false),
        }
    }

    /// Whether the finished connection asked to enter the bootloader (and forget it).
    pub fn take_enter_request(&self) -> bool {
        self.enter_requested.replace(false)
    }

    /// Per-connection state back to a fresh link (CCCDs are not kept without bonds).
    pub fn connection_ended(&self) {
        self.indications.set(false);
        self.enter_pending.set(false);
    }
}

impl gatt_server::Server for Server {
    type Event = ();

    fn on_write(
        &self,
        _conn: &Connection,
        handle: u16,
        _op: WriteOp,
        _offset: usize,
        data: &[u8],
    ) -> Option<()> {
        if handle == self.buttonless.cccd_handle {
            self.indications.set(buttonless::indications_enabled(data));
        }
        None
    }

    fn on_deferred_write(
        &self,
        handle: u16,
        _op: WriteOp,
        _offset: usize,
        data: &[u8],
        reply: DeferredWriteReply,
    ) -> Option<()> {
        if handle != self.buttonless.value_handle {
            let _ = reply.reply(Err(GattError::ATTERR_WRITE_NOT_PERMITTED));
            return None;
        }
        if !self.indications.get() {
            let _ = reply.reply(Err(GattError::ATTERR_CPS_CCCD_CONFIG_ERROR));
            return None;
        }
        let conn = reply.conn().clone();
        if reply.reply(Ok(data)).is_err() {
            return None;
        }
        let answer = buttonless::reply(data);
        if gatt_server::indicate_value(&conn, handle, &answer.indication).is_ok() {
            self.enter_pending.set(answer.enter_on_confirm);
        }
        None
    }

    fn on_indicate_confirm(&self, conn: &Connection, handle: u16) -> Option<()> {
        if handle == self.buttonless.value_handle && self.enter_pending.replace(false) {
            self.enter_requested.set(true);
            // The link going down ends gatt_server::run; main then resets into DFU mode.
            let _ = conn.disconnect();
        }
        None
    }
}
