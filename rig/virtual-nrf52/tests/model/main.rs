//! Behaviour of the virtual nRF52832 and its Secure DFU bootloader model, rule by rule
//! (facts sections 1-3 and 6-10; section 10 is the checklist the `checklist_*` modules follow).

#[path = "../support/mod.rs"]
mod support;

mod checklist_activation;
mod checklist_ble;
mod checklist_resets;
mod checklist_settings;
mod checklist_timing;
mod common;
mod data_objects;
mod defects;
mod enter_dfu;
mod faults;
mod result_codes;
mod smoke;
mod sweep;
mod uart;
