//! Client settings: PRN, timeouts per phase, retry limits, resume.

use std::time::Duration;

use crate::SdkVersion;

/// How long the client waits for the device, per phase. Every wait has one (a silent device
/// never hangs a run); the defaults sit above the worst cases seen in the field (SD+BL
/// activation ~13 s, pc-nrfutil PR #201; 0.3–0.4 s before the first data object on SDK 15–17,
/// IOS-DFU-Library PR #377) and below the bootloader's 120 s inactivity reset
/// (`NRF_BL_DFU_INACTIVITY_TIMEOUT_MS`, SDK 17.1 `nrf_bootloader.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Any response in steady state (SELECT, SET_PRN, CRC_GET, a PRN notification, a
    /// non-final data EXECUTE, PING, MTU_GET).
    pub response: Duration,
    /// The response to a CREATE and the first response after a data CREATE: the data CREATE
    /// queues a page erase (≈85 ms on an idle nRF52832, much longer when the SoftDevice
    /// time-slices flash access or the bootloader is single-bank).
    pub create: Duration,
    /// The init packet EXECUTE (signature check, settings write) and the final data EXECUTE
    /// (SHA-256 over the image, boot validation, settings write).
    pub validation: Duration,
    /// From the final EXECUTE response to the link loss that shows the device reset to
    /// activate the image.
    pub activation: Duration,
    /// From that link loss until the bootloader is reachable again for the next image of a
    /// multi-image update (SD+BL activation alone can take ~13 s, pc-nrfutil PR #201).
    pub reconnect: Duration,
}

impl Default for Timeouts {
    /// For the virtual bench (simulated time), where nothing but the model answers: tight enough
    /// that a silent device is found quickly, far above what the model can legitimately take.
    /// Hardware (and the lab, which serves the hardware path) uses [`Timeouts::for_hardware`]:
    /// nrfutil's 20 s (BLE) and 30 s (serial) would only make a silent virtual DUT slower to
    /// find.
    fn default() -> Timeouts {
        Timeouts {
            // A steady-state answer costs the model a few milliseconds of CPU time plus link
            // latency (≤ 2 connection intervals of 30 ms); 5 s is three orders above it.
            response: Duration::from_secs(5),
            // A data CREATE waits for its page erase behind up to a full queue of writes: the
            // model's worst case (SoftDevice time-slicing, slow flash profile) stays under 2 s.
            create: Duration::from_secs(10),
            // The final EXECUTE hashes the whole image (SHA-256 of up to 472 KB at the model's
            // 64 MHz CPU cost, under 1 s) and writes the settings page (erase + write, ~90 ms).
            validation: Duration::from_secs(10),
            // Activation of SoftDevice + bootloader copies and erases up to ~150 pages through
            // the MBR (~13 s on silicon, pc-nrfutil PR #201) before the device resets.
            activation: Duration::from_secs(60),
            // After that reset the bootloader may finish the same copy before it advertises.
            reconnect: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// What nrfutil waits on real hardware, where the link, the host's BLE stack or a
    /// USB-serial adapter add latency the virtual bench does not have. The defaults
    /// ([`Timeouts::default`]) stay tight for the virtual bench, where the model answers in
    /// simulated milliseconds and a silent device should be found quickly.
    ///
    /// - BLE: pc-nrfutil 6.1.7 `dfu_transport_ble.py` `DfuTransportBle.DEFAULT_TIMEOUT` = 20 s
    ///   for every Control Point response (a SoftDevice-timesliced erase or the final
    ///   validation can take seconds).
    /// - Serial: pc-nrfutil 6.1.7 `dfu_transport_serial.py` `DfuTransportSerial.DEFAULT_TIMEOUT`
    ///   = 30 s (its `--timeout`, the bound on waiting for the board's response).
    /// - CREATE and the final EXECUTE get the same; activation and reconnect keep their
    ///   defaults (SD+BL activation ~13 s, pc-nrfutil PR #201, well inside 60 s).
    pub fn for_hardware(kind: super::Transport) -> Timeouts {
        let response = match kind {
            super::Transport::Ble => Duration::from_secs(20),
            super::Transport::Uart => Duration::from_secs(30),
        };
        Timeouts {
            response,
            create: response,
            validation: response,
            ..Timeouts::default()
        }
    }
}

/// Settings of a [`super::DfuClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfuConfig {
    /// Packet receipt notification interval in data writes; 0 disables PRN (nrfutil's default).
    /// The client falls back to 1 by itself when it detects lost bytes, as Android-DFU-Library's
    /// `SecureDfuImpl.sendFirmware` does (lost writes after CREATE: Android-DFU-Library #208).
    pub prn: u16,
    pub timeouts: Timeouts,
    /// Attempts per object (init packet or data object) when the CRC the device reports
    /// differs from ours; each attempt re-creates the object. Android uses 3.
    pub max_object_attempts: u8,
    /// Rewinds after lost bytes (device offset below what was sent) without the device's
    /// offset moving forward, before the client gives up on the object. Each rewind resends
    /// the missing tail without CREATE.
    pub max_rewinds_per_object: u8,
    /// Wait before resending after a rewind that found the device no further than the last
    /// one, doubled for each further such rewind (up to 16×). Android resends at once, which a
    /// device whose flash lags the link (fstorage queue full) drops again; the first rewind of
    /// a run is always immediate. Zero: always immediate.
    pub rewind_backoff: Duration,
    /// Repeats of a data CREATE refused with INVALID_OBJECT because the erase could not be
    /// queued (flash queue still full of the previous object), 500 ms apart.
    pub create_busy_retries: u8,
    /// Resume a transfer the device already holds (init packet and data) when its offset and
    /// CRC agree with ours. Off: the init packet is always re-created, which makes the
    /// bootloader discard all progress, so the image is sent from byte 0.
    pub resume: bool,
    /// Wait after each data CREATE before streaming (Android's prepare-data-object delay, iOS's
    /// data object preparation delay; 0.3–0.4 s helped SDK 15–16 bootloaders: Android-DFU-Library
    /// #208, IOS-DFU-Library PRs #349 and #377).
    pub prepare_object_delay: Duration,
    /// Wait after the link loss that ends an image before reconnecting for the next one
    /// (nrfutil waits `connect_delay` = 3 s before each connection; 0 lets the reconnect loop
    /// find the bootloader as soon as it advertises). On a transport that cannot observe the
    /// reset ([`super::Link::observes_link_loss`] false, plain UART) set it to cover the
    /// settings write and reset, or the next PING may reach the old session.
    pub reconnect_delay: Duration,
    /// The bootloader's SDK version when known (a bench file names it). It refines how replies
    /// are read: SDK 12 sends no extended errors and reports every init packet check as
    /// OPERATION_FAILED; SDK 12/14 answer unknown opcodes with INVALID_PARAMETER.
    pub sdk: Option<SdkVersion>,
    /// Serial only: PING the bootloader before each image until it answers (nrfutil does this
    /// for UART), within [`Timeouts::reconnect`].
    pub serial_ping: bool,
    /// Serial only: ask MTU_GET and derive the OBJECT_WRITE payload from it as nrfutil does.
    pub serial_mtu_query: bool,
    /// On resume, EXECUTE an init packet the device already holds whole (nrfutil, Android and
    /// iOS all do: "better executed twice than not at all"). Off: go straight to the data, as a
    /// client may; a bootloader that restores its init command at boot (17.1
    /// `nrf_dfu_req_handler_init`) takes the data either way, so a test rig turns this off to
    /// check that it does.
    pub reexecute_init: bool,
    /// The bootloader writes its settings page and backup after answering each data EXECUTE
    /// (SDK 15+ built with `NRF_DFU_SAVE_PROGRESS_IN_FLASH=1`: 17.1 `nrf_dfu_req_handler.c`
    /// `on_data_obj_execute_request_sched` calls `nrf_dfu_settings_write_and_backup` after the
    /// response). Those flash operations may still hold fstorage queue entries at the next data
    /// CREATE, so fewer writes are sure to be kept after it
    /// ([`super::writes_always_accepted_after_create`]).
    pub settings_write_per_data_object: bool,
}

impl Default for DfuConfig {
    fn default() -> DfuConfig {
        DfuConfig {
            prn: 0,
            timeouts: Timeouts::default(),
            max_object_attempts: 3,
            max_rewinds_per_object: 8,
            create_busy_retries: 8,
            rewind_backoff: Duration::from_millis(100),
            resume: true,
            prepare_object_delay: Duration::ZERO,
            reconnect_delay: Duration::ZERO,
            sdk: None,
            serial_ping: true,
            serial_mtu_query: true,
            reexecute_init: true,
            settings_write_per_data_object: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Transport as TransportKind;

    #[test]
    fn hardware_waits_are_nrfutils() {
        let ble = Timeouts::for_hardware(TransportKind::Ble);
        assert_eq!(
            (ble.response, ble.validation),
            (Duration::from_secs(20), Duration::from_secs(20))
        );
        let serial = Timeouts::for_hardware(TransportKind::Uart);
        assert_eq!(serial.response, Duration::from_secs(30));
        assert!(ble.create >= Timeouts::default().create);
        assert_eq!(ble.activation, Timeouts::default().activation);
    }
}
