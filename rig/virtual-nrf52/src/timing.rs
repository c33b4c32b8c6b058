//! How long things take on the device: named timing profiles and a pure "virtual time cost" API.
//!
//! Nothing here waits. The device model adds up `Duration`s on its simulated clock; whoever drives
//! it decides how those map to real time (the virtual bench not at all, the lab at its speed).
//! Sources are cited per field; values not backed by a source say "assumption".

use nrf_dfu::SdkVersion;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// NVMC (direct flash controller) timing of the nRF52832 (docs/notes/flash-timing.md, section
/// "NVMC figures").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvmcTiming {
    /// One 4 KB page erase. Typical 85 ms (the nRF52840 figure of the Adafruit_nRF52_nrfutil
    /// `dfu_transport_serial.py` comment, borrowed; the nRF52832 product spec gives only the
    /// maximum); max 89.7 ms (Zephyr `FLASH_PAGE_ERASE_MAX_TIME_US = 89700`); min 2.05 ms (the
    /// same Adafruit comment).
    pub page_erase: Duration,
    /// One 32-bit word write. Typical 41 µs (the Adafruit comment's nRF52840 value, used as the
    /// 52832 typical because no 52832 typical was found); max 338 µs (same comment, unverified
    /// against the product spec).
    pub word_write: Duration,
    /// ERASEALL (flash + UICR): 169–179 ms (no primary source found: an assumption); 173 ms
    /// typical is the middle.
    pub erase_all: Duration,
}

/// SoftDevice flash scheduling. With the SoftDevice enabled every flash access is an
/// `sd_flash_*` call that the SoftDevice runs as a "flash timing-event" in the time left between
/// radio events (S132 SoftDevice Specification, "Flash API timing"); fstorage's SD backend
/// issues one call per `NRF_FSTORAGE_SD_MAX_WRITE_SIZE` bytes and the next only when the SoC
/// event of the previous one arrives (17.1 `nrf_fstorage_sd.c` `write_execute` /
/// `queue_process`). So writes go at a rate set by the connection interval: as many per
/// interval as fit in its radio-free gap. The per-operation waits below are derived from that by
/// [`SdScheduling::derived`]; the flash queue adds them before each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdScheduling {
    /// Cost of one flash timing-event beyond its words: the S132 specification's "Flash API
    /// processor usage patterns" table gives tISR(0),FlashWrite at most 500 µs for one word, so
    /// 500 µs less one 41 µs word.
    pub op_overhead: Duration,
    /// Time kept free before a radio event, where no flash timing-event may start. Assumption
    /// (no published figure; calibrated so the MTU 247 throughput meets the published ones,
    /// see `rig/runner/examples/dfu_throughput.rs`): 1.5 ms.
    pub radio_guard: Duration,
    /// Added before every `sd_flash_write`: the share of the connection interval a call waits
    /// for radio events and overhead (derived).
    pub latency_per_op: Duration,
    /// Added before every `sd_flash_page_erase`: a page erase (85 ms) fits in no gap of a 15 ms
    /// interval, so it is blocked until the SoftDevice raises the flash activity's priority and
    /// takes the time from the radio ("Flash timing-activity will use higher priority if it has
    /// been blocked many times", S132 specification "Flash API timing"): one connection
    /// interval (assumption on "many").
    pub erase_latency: Duration,
    /// Largest `sd_flash_write`, in bytes: `NRF_FSTORAGE_SD_MAX_WRITE_SIZE` = 20 in the 15.3 and
    /// 17.1 secure bootloader `sdk_config.h` (BLE and UART).
    pub max_write_bytes: u32,
}

impl SdScheduling {
    /// The scheduling on `ble` with the NVMC timing `nvmc`: a call costs `op_overhead` plus its
    /// words; `k` calls fit in the gap `interval − radio − guard` of each connection interval,
    /// so each takes `interval / k` on average.
    pub fn derived(
        nvmc: &NvmcTiming,
        ble: &BleTiming,
        op_overhead: Duration,
        radio_guard: Duration,
        max_write_bytes: u32,
    ) -> SdScheduling {
        let words = (max_write_bytes / 4).max(1);
        let work = nvmc.word_write * words;
        let t_op = op_overhead + work;
        let radio = ble.radio_per_event(true);
        let gap = ble
            .connection_interval
            .saturating_sub(radio)
            .saturating_sub(radio_guard);
        let fit = (gap.as_nanos() / t_op.as_nanos().max(1)).max(1) as u32;
        let per_op = ble.connection_interval / fit;
        SdScheduling {
            op_overhead,
            radio_guard,
            latency_per_op: per_op.saturating_sub(work),
            erase_latency: ble.connection_interval,
            max_write_bytes,
        }
    }

    /// No SoftDevice in the way: calls run back to back.
    pub fn unscheduled(max_write_bytes: u32) -> SdScheduling {
        SdScheduling {
            op_overhead: Duration::ZERO,
            radio_guard: Duration::ZERO,
            latency_per_op: Duration::ZERO,
            erase_latency: Duration::ZERO,
            max_write_bytes,
        }
    }
}

/// One link-layer packet and its acknowledgement on the 1M PHY: (10 + payload) bytes of 8 µs
/// (preamble, access address, header, CRC), an empty packet back (80 µs) and two inter-frame
/// spaces of 150 µs (Bluetooth Core Specification, Vol 6 Part B, 2.1 and 4.1).
pub fn ll_exchange(payload: u32) -> Duration {
    Duration::from_micros(u64::from(10 + payload) * 8 + 150 + 80 + 150)
}

/// BLE link timing as the bootloader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BleTiming {
    /// Connection interval granted: the central grants the bootloader's preferred minimum.
    /// 15+: min = max = 12 units = 15 ms (17.1 `sdk_config.h` `NRF_DFU_BLE_MIN/MAX_CONN_INTERVAL`,
    /// `nrf_dfu_ble.c` `m_gap_conn_params`); 12.3: 15–30 ms (`nrf_ble_dfu.c`
    /// `MIN_CONN_INTERVAL`/`MAX_CONN_INTERVAL`); 14: 7.5–30 ms.
    pub connection_interval: Duration,
    /// ATT packets per connection event with a large ATT MTU: the smaller of what the central
    /// sends per event and what fits in the peripheral's event length; the 15+ bootloaders
    /// answer data length update requests with AUTO (17.1 `nrf_dfu_ble.c`
    /// `BLE_GAP_EVT_DATA_LENGTH_UPDATE_REQUEST`), so one ATT write is one 251-byte LL packet.
    pub packets_per_event_large_mtu: u32,
    /// The same at the default 23-byte ATT MTU (27-byte LL packets).
    pub packets_per_event_default_mtu: u32,
    /// Supervision timeout: 6 s in 15+ (`NRF_DFU_BLE_CONN_SUP_TIMEOUT_MS`), 4 s in 12/14
    /// (`CONN_SUP_TIMEOUT` in 12.3 `nrf_ble_dfu.c`).
    pub supervision_timeout: Duration,
    /// Advertising interval: 40 × 0.625 ms = 25 ms in all versions (`NRF_DFU_BLE_ADV_INTERVAL`,
    /// 17.1 `nrf_dfu_ble.c`; `APP_ADV_INTERVAL`, 12.3 `nrf_ble_dfu.c`).
    pub advertising_interval: Duration,
}

/// Packets a phone sends per connection event with write-without-response. Assumption: 2 (it
/// is the central's controller and GATT stack that decide; this value is what the published
/// MTU 23 figures of 2.5–2.8 kB/s at a 15 ms interval imply, see
/// `rig/runner/examples/dfu_throughput.rs`).
pub const CENTRAL_PACKETS_PER_EVENT: u32 = 2;

/// `NRF_SDH_BLE_GAP_EVENT_LENGTH` = 6 units of 1.25 ms in the 15.3 and 17.1 secure bootloader
/// `sdk_config.h`: the time the SoftDevice gives each connection event.
pub const GAP_EVENT_LENGTH: Duration = Duration::from_micros(7_500);

impl BleTiming {
    /// The link as a bootloader of `sdk` sets it up, assuming the central grants the bootloader's
    /// preferred minimum interval.
    pub fn for_sdk(sdk: SdkVersion) -> BleTiming {
        let (interval_us, supervision_ms) = match sdk {
            SdkVersion::Sdk12 => (15_000, 4_000),
            SdkVersion::Sdk14 => (7_500, 4_000),
            _ => (15_000, 6_000),
        };
        let fits = |payload: u32| {
            (GAP_EVENT_LENGTH.as_micros() / ll_exchange(payload).as_micros()).max(1) as u32
        };
        BleTiming {
            connection_interval: Duration::from_micros(interval_us),
            packets_per_event_large_mtu: CENTRAL_PACKETS_PER_EVENT.min(fits(251)),
            packets_per_event_default_mtu: CENTRAL_PACKETS_PER_EVENT.min(fits(27)),
            supervision_timeout: Duration::from_millis(supervision_ms),
            advertising_interval: Duration::from_micros(25_000),
        }
    }

    /// Radio time of a connection event that carries its packets: 251-byte LL packets with a
    /// large MTU (data length extension), 27-byte ones without.
    pub fn radio_per_event(&self, large_mtu: bool) -> Duration {
        if large_mtu {
            ll_exchange(251) * self.packets_per_event_large_mtu
        } else {
            ll_exchange(27) * self.packets_per_event_default_mtu
        }
    }

    /// Packets per connection event for a negotiated ATT MTU.
    pub fn packets_per_event(&self, att_mtu: u16) -> u32 {
        if att_mtu > 23 {
            self.packets_per_event_large_mtu.max(1)
        } else {
            self.packets_per_event_default_mtu.max(1)
        }
    }

    /// Time to carry `packets` write-without-response packets: whole connection events.
    pub fn packets_time(&self, packets: u64, att_mtu: u16) -> Duration {
        let per_event = self.packets_per_event(att_mtu) as u64;
        let events = packets.div_ceil(per_event);
        self.connection_interval
            .saturating_mul(events.min(u32::MAX as u64) as u32)
    }

    /// Time to stream `bytes` of payload over the Packet characteristic (payload = MTU − 3).
    pub fn bytes_time(&self, bytes: u64, att_mtu: u16) -> Duration {
        let payload = (att_mtu.max(23) - 3) as u64;
        self.packets_time(bytes.div_ceil(payload), att_mtu)
    }
}

/// UART timing: 8N1 framing is 10 bit times per byte (start + 8 data + stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UartTiming {
    /// 115 200 baud is the pca10040_uart default (SDK 17.1 `sdk_config.h`,
    /// `NRFX_UART_DEFAULT_CONFIG_BAUDRATE`).
    pub baud: u32,
}

impl UartTiming {
    pub const BITS_PER_BYTE: u64 = 10;

    pub fn byte_time(&self) -> Duration {
        self.bytes_time(1)
    }

    /// Time on the wire for `bytes` bytes, rounded to whole nanoseconds.
    pub fn bytes_time(&self, bytes: u64) -> Duration {
        let baud = self.baud.max(1) as u128;
        let ns = (bytes as u128 * Self::BITS_PER_BYTE as u128 * 1_000_000_000u128) / baud;
        Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
    }
}

/// A named, complete timing model of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingProfile {
    pub name: String,
    pub nvmc: NvmcTiming,
    pub softdevice: SdScheduling,
    pub ble: BleTiming,
    pub uart: UartTiming,
}

impl TimingProfile {
    /// Names accepted by [`TimingProfile::by_name`].
    pub const NAMES: [&'static str; 3] = ["typical", "worst-case", "best-case"];

    /// The S132 flash timing-event overhead (see [`SdScheduling::op_overhead`]).
    pub const SD_OP_OVERHEAD: Duration = Duration::from_micros(459);
    /// See [`SdScheduling::radio_guard`].
    pub const SD_RADIO_GUARD: Duration = Duration::from_micros(1_500);

    fn with_nvmc(name: &str, nvmc: NvmcTiming) -> TimingProfile {
        let ble = BleTiming::for_sdk(SdkVersion::Sdk17);
        TimingProfile {
            name: name.into(),
            nvmc,
            softdevice: SdScheduling::derived(
                &nvmc,
                &ble,
                Self::SD_OP_OVERHEAD,
                Self::SD_RADIO_GUARD,
                20,
            ),
            ble,
            uart: UartTiming { baud: 115_200 },
        }
    }

    /// Typical values: 85 ms erase, 41 µs word write, SoftDevice scheduling on the SDK 17.1 link.
    pub fn typical() -> TimingProfile {
        Self::with_nvmc(
            "typical",
            NvmcTiming {
                page_erase: Duration::from_millis(85),
                word_write: Duration::from_micros(41),
                erase_all: Duration::from_millis(173),
            },
        )
    }

    /// Data-sheet maxima: 89.7 ms erase, 338 µs word write, 179 ms erase-all (fewer writes fit
    /// between radio events).
    pub fn worst_case() -> TimingProfile {
        Self::with_nvmc(
            "worst-case",
            NvmcTiming {
                page_erase: Duration::from_micros(89_700),
                word_write: Duration::from_micros(338),
                erase_all: Duration::from_millis(179),
            },
        )
    }

    /// Lower bounds (docs/notes/flash-timing.md): 2.05 ms erase, 67.5 µs word write, 169 ms
    /// erase-all, and no SoftDevice in the flash's way.
    pub fn best_case() -> TimingProfile {
        TimingProfile {
            name: "best-case".into(),
            nvmc: NvmcTiming {
                page_erase: Duration::from_micros(2_050),
                word_write: Duration::from_nanos(67_500),
                erase_all: Duration::from_millis(169),
            },
            softdevice: SdScheduling::unscheduled(20),
            ..TimingProfile::typical()
        }
    }

    pub fn by_name(name: &str) -> Option<TimingProfile> {
        match name {
            "typical" => Some(Self::typical()),
            "worst-case" => Some(Self::worst_case()),
            "best-case" => Some(Self::best_case()),
            _ => None,
        }
    }

    /// The same profile with the BLE link a bootloader of `sdk` sets up, and the SoftDevice
    /// flash scheduling on that link (unchanged for a profile without it).
    pub fn with_sdk_link(mut self, sdk: SdkVersion) -> TimingProfile {
        self.ble = BleTiming::for_sdk(sdk);
        let sd = self.softdevice;
        if sd != SdScheduling::unscheduled(sd.max_write_bytes) {
            self.softdevice = SdScheduling::derived(
                &self.nvmc,
                &self.ble,
                sd.op_overhead,
                sd.radio_guard,
                sd.max_write_bytes,
            );
        }
        self
    }
}

impl Default for TimingProfile {
    fn default() -> Self {
        TimingProfile::typical()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(115_200, 86_805)]
    #[case(1_000_000, 10_000)]
    #[case(9_600, 1_041_666)]
    fn uart_byte_time_is_ten_bit_times(#[case] baud: u32, #[case] ns: u64) {
        assert_eq!(UartTiming { baud }.byte_time(), Duration::from_nanos(ns));
    }

    #[test]
    fn uart_bytes_time_scales() {
        let u = UartTiming { baud: 115_200 };
        assert_eq!(u.bytes_time(11_520), Duration::from_secs(1));
    }

    #[rstest]
    #[case(SdkVersion::Sdk12, 15_000, 4_000)]
    #[case(SdkVersion::Sdk14, 7_500, 4_000)]
    #[case(SdkVersion::Sdk15_0, 15_000, 6_000)]
    #[case(SdkVersion::Sdk17, 15_000, 6_000)]
    fn link_per_sdk(#[case] sdk: SdkVersion, #[case] interval_us: u64, #[case] sup_ms: u64) {
        let b = BleTiming::for_sdk(sdk);
        assert_eq!(b.connection_interval, Duration::from_micros(interval_us));
        assert_eq!(b.supervision_timeout, Duration::from_millis(sup_ms));
        assert_eq!(b.advertising_interval, Duration::from_millis(25));
    }

    #[test]
    fn ble_packets_fill_connection_events() {
        let b = BleTiming::for_sdk(SdkVersion::Sdk17);
        // The central's 2 packets fit the 7.5 ms event either way (3 DLE or 11 short ones do).
        assert_eq!(ll_exchange(251), Duration::from_micros(2_468));
        assert_eq!(ll_exchange(27), Duration::from_micros(676));
        assert_eq!((b.packets_per_event(247), b.packets_per_event(23)), (2, 2));
        // 4096 bytes at MTU 247 = 17 packets of 244 = 9 events of 2.
        assert_eq!(b.bytes_time(4096, 247), Duration::from_millis(15 * 9));
        // 4096 bytes at MTU 23 = 205 packets of 20 = 103 events of 2.
        assert_eq!(b.bytes_time(4096, 23), Duration::from_millis(15 * 103));
        assert_eq!(b.packets_time(0, 247), Duration::ZERO);
    }

    #[test]
    fn flash_writes_share_the_interval_with_the_radio() {
        let t = TimingProfile::typical();
        // 15 ms − 2 × 2.468 ms radio − 1.5 ms guard = 8.564 ms; a 20-byte call costs
        // 459 + 5 × 41 = 664 µs, so 12 fit: 1.25 ms each, 1.045 ms of it waiting.
        assert_eq!(t.softdevice.latency_per_op, Duration::from_micros(1_045));
        assert_eq!(t.softdevice.erase_latency, Duration::from_millis(15));
        // SDK 14's 7.5 ms interval: 7.5 − 4.936 − 1.5 = 1.064 ms gap, one call per interval.
        let t14 = TimingProfile::typical().with_sdk_link(SdkVersion::Sdk14);
        assert_eq!(
            t14.softdevice.latency_per_op,
            Duration::from_micros(7_500 - 205)
        );
        // Without a SoftDevice schedule nothing waits, whatever the link.
        let b = TimingProfile::best_case().with_sdk_link(SdkVersion::Sdk12);
        assert_eq!(b.softdevice.latency_per_op, Duration::ZERO);
        assert!(
            TimingProfile::worst_case().softdevice.latency_per_op > t.softdevice.latency_per_op
        );
    }

    #[test]
    fn named_profiles() {
        for n in TimingProfile::NAMES {
            assert_eq!(TimingProfile::by_name(n).unwrap().name, n);
        }
        assert!(TimingProfile::by_name("fast").is_none());
        let w = TimingProfile::worst_case();
        assert_eq!(w.nvmc.page_erase, Duration::from_micros(89_700));
        assert_eq!(w.nvmc.word_write, Duration::from_micros(338));
        let t = TimingProfile::typical();
        assert_eq!(t.nvmc.page_erase, Duration::from_millis(85));
        assert_eq!(t.softdevice.max_write_bytes, 20);
        assert_eq!(
            t.with_sdk_link(SdkVersion::Sdk12).ble.supervision_timeout,
            Duration::from_secs(4)
        );
    }
}
