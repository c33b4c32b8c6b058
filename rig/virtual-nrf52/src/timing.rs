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

/// SoftDevice flash scheduling: with the SoftDevice enabled every flash access goes through
/// `sd_flash_*`, which runs it between radio events (docs/notes/flash-timing.md, section
/// "SoftDevice flash scheduling").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdScheduling {
    /// Added before every `sd_flash_page_erase` / `sd_flash_write` call while waiting for a gap
    /// between radio events. Assumption: half a 15 ms connection interval (7.5 ms) typical, a full
    /// interval worst case; no measured source.
    pub latency_per_op: Duration,
    /// Largest `sd_flash_write`, in bytes: fstorage's SD backend splits writes into chunks of
    /// `NRF_FSTORAGE_SD_MAX_WRITE_SIZE` = 20 bytes (15.3 and 17.1 BLE and UART `sdk_config.h`).
    pub max_write_bytes: u32,
}

/// BLE link timing as the bootloader sees it (docs/notes/flash-timing.md, section "BLE and UART
/// link figures").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BleTiming {
    /// Connection interval granted. 15+ bootloaders ask for min = max = 15 ms; SDK 12 prefers
    /// 15–30 ms and SDK 14 7.5–30 ms, and the central picks inside that range.
    pub connection_interval: Duration,
    /// Packets the link carries per connection event with a large ATT MTU (247) and data length
    /// extension. Assumption: 6 (depends on the central's controller; no source).
    pub packets_per_event_large_mtu: u32,
    /// Packets per connection event with the default 23-byte ATT MTU. Assumption: 3.
    pub packets_per_event_default_mtu: u32,
    /// Supervision timeout: 6 s in 15+ (`NRF_DFU_BLE_CONN_SUP_TIMEOUT_MS`), 4 s in 12/14
    /// (`CONN_SUP_TIMEOUT` in 12.3 `nrf_ble_dfu.c`).
    pub supervision_timeout: Duration,
    /// Advertising interval: 40 × 0.625 ms = 25 ms in all versions (`NRF_DFU_BLE_ADV_INTERVAL`,
    /// 17.1 `nrf_dfu_ble.c`; `APP_ADV_INTERVAL`, 12.3 `nrf_ble_dfu.c`).
    pub advertising_interval: Duration,
}

impl BleTiming {
    /// The link as a bootloader of `sdk` sets it up, assuming the central grants the bootloader's
    /// preferred minimum interval.
    pub fn for_sdk(sdk: SdkVersion) -> BleTiming {
        let (interval_us, supervision_ms) = match sdk {
            SdkVersion::Sdk12 => (15_000, 4_000),
            SdkVersion::Sdk14 => (7_500, 4_000),
            _ => (15_000, 6_000),
        };
        BleTiming {
            connection_interval: Duration::from_micros(interval_us),
            packets_per_event_large_mtu: 6,
            packets_per_event_default_mtu: 3,
            supervision_timeout: Duration::from_millis(supervision_ms),
            advertising_interval: Duration::from_micros(25_000),
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

    /// Typical values: 85 ms erase, 41 µs word write, 7.5 ms SD latency, SDK 15+ BLE link.
    pub fn typical() -> TimingProfile {
        TimingProfile {
            name: "typical".into(),
            nvmc: NvmcTiming {
                page_erase: Duration::from_millis(85),
                word_write: Duration::from_micros(41),
                erase_all: Duration::from_millis(173),
            },
            softdevice: SdScheduling {
                latency_per_op: Duration::from_micros(7_500),
                max_write_bytes: 20,
            },
            ble: BleTiming::for_sdk(SdkVersion::Sdk17),
            uart: UartTiming { baud: 115_200 },
        }
    }

    /// Data-sheet maxima: 89.7 ms erase, 338 µs word write, 179 ms erase-all, a full 15 ms
    /// connection interval of SD latency per flash operation.
    pub fn worst_case() -> TimingProfile {
        TimingProfile {
            name: "worst-case".into(),
            nvmc: NvmcTiming {
                page_erase: Duration::from_micros(89_700),
                word_write: Duration::from_micros(338),
                erase_all: Duration::from_millis(179),
            },
            softdevice: SdScheduling {
                latency_per_op: Duration::from_millis(15),
                max_write_bytes: 20,
            },
            ..TimingProfile::typical()
        }
    }

    /// Lower bounds (docs/notes/flash-timing.md): 2.05 ms erase, 67.5 µs word write, 169 ms
    /// erase-all, no SD latency.
    pub fn best_case() -> TimingProfile {
        TimingProfile {
            name: "best-case".into(),
            nvmc: NvmcTiming {
                page_erase: Duration::from_micros(2_050),
                word_write: Duration::from_nanos(67_500),
                erase_all: Duration::from_millis(169),
            },
            softdevice: SdScheduling {
                latency_per_op: Duration::ZERO,
                max_write_bytes: 20,
            },
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

    /// The same profile with the BLE link a bootloader of `sdk` sets up.
    pub fn with_sdk_link(mut self, sdk: SdkVersion) -> TimingProfile {
        let ble = BleTiming::for_sdk(sdk);
        self.ble = BleTiming {
            packets_per_event_large_mtu: self.ble.packets_per_event_large_mtu,
            packets_per_event_default_mtu: self.ble.packets_per_event_default_mtu,
            ..ble
        };
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
        // 4096 bytes at MTU 247 = 17 packets of 244 = 3 events of 6.
        assert_eq!(b.bytes_time(4096, 247), Duration::from_millis(45));
        // 4096 bytes at MTU 23 = 205 packets of 20 = 69 events of 3.
        assert_eq!(b.bytes_time(4096, 23), Duration::from_millis(15 * 69));
        assert_eq!(b.packets_time(0, 247), Duration::ZERO);
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
