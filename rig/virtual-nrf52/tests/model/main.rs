//! Behaviour of the virtual nRF52832 and its Secure DFU bootloader model, rule by rule
//! (each module names the SDK sources of its rules; the `checklist_*` modules go area by area
//! through what a faithful model of the bootloader has to reproduce).

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
