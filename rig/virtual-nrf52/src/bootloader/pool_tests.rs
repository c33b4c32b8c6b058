//! The BLE RX buffer pool on its own: with the default 16-entry flash queue it never binds
//! (17 buffers), so these tests deepen the queue to see the pool's rule (17.1 `nrf_dfu_ble.c`,
//! `MAX_DFU_BUFFERS`, `on_write` / `on_flash_write`): 17 buffers,
//! each held until its flash write completes, a packet without a free buffer silently lost.

use super::init_validation::InitInfo;
use super::profile::Profile;
use super::{Dfu, EnterReason};
use crate::core::Core;
use crate::descriptor::BootloaderDescriptor;
use crate::events::DropReason;
use crate::flash_queue::Done;
use crate::hardware::Hardware;
use nrf_dfu::settings::{SettingsLayout, SettingsPage};
use nrf_dfu::{Chip, SdkVersion};

fn dfu_with_deep_queue() -> (Core, Dfu) {
    let mut hw = Hardware::new(Chip::Nrf52832Qfaa, 1);
    hw.power_on().unwrap();
    let mut core = Core::new(hw, 1);
    let mut profile = Profile::new(
        &BootloaderDescriptor::sdk_default(SdkVersion::Sdk17, [0; 64]),
        Default::default(),
    );
    profile.flash_queue_depth = 64;
    let mut dfu = Dfu::open(
        &mut core,
        profile,
        SettingsPage::defaults(SettingsLayout::V2),
        EnterReason::AppInvalid,
        None,
    );
    dfu.ctx.limit = Some(64);
    dfu.init = Some(InitInfo {
        fw_type: 0,
        fw_version: Some(1),
        hash: vec![],
        sd_size: 0,
        boot_validation: vec![],
        is_debug: false,
    });
    dfu.fw_start = 0x30000;
    dfu.fw_size = 0x2000;
    dfu.current = super::Current::Data;
    assert!(dfu.data_create(&mut core, 0x1000).is_ok());
    (core, dfu)
}

#[test]
fn rx_pool_of_17_buffers_drops_silently_when_exhausted() {
    let (mut core, mut dfu) = dfu_with_deep_queue();
    assert_eq!(dfu.rx_free, 17);
    let outcomes: Vec<_> = (0..17)
        .map(|_| dfu.packet(&mut core, &[0u8; 240]))
        .collect();
    assert!(outcomes.iter().all(|o| o.is_accepted()));
    assert_eq!(dfu.rx_free, 0);
    let lost = dfu.packet(&mut core, &[0u8; 240]);
    assert_eq!(lost.dropped, Some(DropReason::RxBuffersFull));
    assert_eq!(
        dfu.s.progress.firmware_image_offset,
        17 * 240,
        "the lost packet does not count"
    );
    // The erase, then the first write complete: one buffer comes back.
    for _ in 0..2 {
        let item = core.queue.pop_head().unwrap();
        core.apply(&item);
        if item.done == Done::RxBufferFree {
            dfu.rx_free += 1;
        }
    }
    assert_eq!(dfu.rx_free, 1);
    assert!(dfu.packet(&mut core, &[0u8; 240]).is_accepted());
}

#[test]
fn command_object_writes_do_not_hold_buffers() {
    let (mut core, mut dfu) = dfu_with_deep_queue();
    dfu.current = super::Current::Command;
    dfu.s.progress.command_size = 200;
    let out = dfu.packet(&mut core, &[1u8; 100]);
    assert!(out.is_accepted());
    assert_eq!(dfu.rx_free, 17);
}
