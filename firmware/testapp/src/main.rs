//! The rig's test application for an nRF52832 on S132 7.2.0 (firmware/README.md): advertises
//! as `rig-app` with its version, serves the unbonded buttonless DFU characteristic, and keeps
//! its version in the RAM block the rig reads over SWD.
#![no_std]
#![no_main]

mod debug_port;
mod server;

use core::mem::MaybeUninit;
use core::ptr::{addr_of_mut, write_volatile};

use embassy_executor::Spawner;
use nrf_softdevice::ble::{gatt_server, peripheral};
use nrf_softdevice::{raw, Softdevice};
use rig_testapp::advertising::advertising_data;
use rig_testapp::buttonless::GPREGRET_DFU_START;
use rig_testapp::info_block::InfoBlock;
use rig_testapp::version;

/// The application version (init packet fw_version), from `RIG_APP_VERSION` at build time.
const VERSION: u32 = match option_env!("RIG_APP_VERSION") {
    Some(text) => match version::parse(text) {
        Some(v) => v,
        None => panic!("RIG_APP_VERSION must be a u32, decimal or 0x hex (e.g. 1, 2, 0x10)"),
    },
    None => panic!("set RIG_APP_VERSION to the application version (build-images.sh does)"),
};

static ADV_DATA: [u8; rig_testapp::advertising::ADV_LEN] = advertising_data(VERSION);

/// The version block at `info_block::ADDRESS` (memory.x places `.rig_info` there).
#[used]
#[link_section = ".rig_info"]
static mut INFO_BLOCK: MaybeUninit<InfoBlock> = MaybeUninit::uninit();

#[embassy_executor::task]
async fn softdevice_task(sd: &'static Softdevice) -> ! {
    sd.run().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    // Before the SoftDevice owns the POWER/APPROTECT registers.
    debug_port::keep_open();
    // SAFETY: written once here, before anything else reads it; the rig reads it over SWD.
    unsafe {
        write_volatile(
            addr_of_mut!(INFO_BLOCK),
            MaybeUninit::new(InfoBlock::new(VERSION)),
        )
    };

    let sd = Softdevice::enable(&softdevice_config());
    let server = server::Server::new(sd);
    spawner.spawn(softdevice_task(sd).expect("one softdevice task"));

    let config = peripheral::Config {
        interval: 160,
        ..Default::default()
    }; // 100 ms
    loop {
        let adv = peripheral::ConnectableAdvertisement::ScannableUndirected {
            adv_data: &ADV_DATA,
            scan_data: &[],
        };
        let conn = match peripheral::advertise_connectable(sd, adv, &config).await {
            Ok(conn) => conn,
            Err(_) => continue, // no timeout is set; retry whatever stopped advertising
        };
        gatt_server::run(&conn, &server, |_| {}).await;
        if server.take_enter_request() {
            enter_bootloader();
        }
        server.connection_ended();
    }
}

/// GPREGRET = 0xB1 (stay in DFU mode) through the SoftDevice, which owns POWER while it is
/// enabled, then a system reset. The SDK's `sd_nvic_SystemReset` is not an SVC but an inline
/// `NVIC_SystemReset()` (nrf_nvic.h), which is what `SCB::sys_reset` does.
fn enter_bootloader() -> ! {
    // SAFETY: plain SoftDevice calls with a valid register id (GPREGRET = 0).
    unsafe {
        raw::sd_power_gpregret_clr(0, 0xFFFF_FFFF);
        raw::sd_power_gpregret_set(0, GPREGRET_DFU_START as u32);
    }
    cortex_m::peripheral::SCB::sys_reset()
}

fn softdevice_config() -> nrf_softdevice::Config {
    nrf_softdevice::Config {
        // PCA10040 has the 32.768 kHz crystal (20 ppm).
        clock: Some(raw::nrf_clock_lf_cfg_t {
            source: raw::NRF_CLOCK_LF_SRC_XTAL as u8,
            rc_ctiv: 0,
            rc_temp_ctiv: 0,
            accuracy: raw::NRF_CLOCK_LF_ACCURACY_20_PPM as u8,
        }),
        conn_gap: Some(raw::ble_gap_conn_cfg_t {
            conn_count: 1,
            event_length: 6,
        }),
        gap_role_count: Some(raw::ble_gap_cfg_role_count_t {
            adv_set_count: 1,
            periph_role_count: 1,
            central_role_count: 0,
            central_sec_count: 0,
            _bitfield_1: raw::ble_gap_cfg_role_count_t::new_bitfield_1(0),
        }),
        // One vendor UUID base: 8EC9xxxx-F315-4F60-9FB8-838830DAEA50.
        common_vs_uuid: Some(raw::ble_common_cfg_vs_uuid_t { vs_uuid_count: 1 }),
        gap_device_name: Some(raw::ble_gap_cfg_device_name_t {
            p_value: rig_testapp::advertising::APP_NAME.as_ptr() as *mut u8,
            current_len: rig_testapp::advertising::APP_NAME.len() as u16,
            max_len: rig_testapp::advertising::APP_NAME.len() as u16,
            write_perm: raw::ble_gap_conn_sec_mode_t {
                _bitfield_1: raw::ble_gap_conn_sec_mode_t::new_bitfield_1(0, 0),
            },
            _bitfield_1: raw::ble_gap_cfg_device_name_t::new_bitfield_1(
                raw::BLE_GATTS_VLOC_USER as u8,
            ),
        }),
        ..Default::default()
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // Stay put: the rig sees a silent device and can read the state over SWD.
    loop {
        cortex_m::asm::wfe();
    }
}
