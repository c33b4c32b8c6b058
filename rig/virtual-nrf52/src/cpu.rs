//! CPU time the bootloader spends computing (not waiting for flash). No source we read gives
//! figures; these are assumptions for a 64 MHz Cortex-M4 without a crypto accelerator
//! (nRF52832), stated so they can be replaced by measurements.

use std::time::Duration;

/// Per-operation CPU costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuCosts {
    /// `crc32_compute` is a bitwise loop (8 shift/xor rounds per byte, about 32 cycles): 0.5 µs
    /// per byte at 64 MHz. Assumption.
    pub crc32_per_kib: Duration,
    /// Software SHA-256 (nrf_oberon / micro-ecc builds), about 30 cycles per byte. Assumption.
    pub sha256_per_kib: Duration,
    /// One ECDSA P-256 verification in software (micro-ecc): about 1.5 M cycles. Assumption.
    pub ecdsa_verify: Duration,
    /// BLE transport close before a bootloader reset: disconnect (0x13), 200 ms delay, SoftDevice
    /// disable (17.1 `nrf_dfu_ble.c`, `ble_dfu_transport_close`).
    pub ble_close: Duration,
}

impl Default for CpuCosts {
    fn default() -> Self {
        CpuCosts {
            crc32_per_kib: Duration::from_micros(512),
            sha256_per_kib: Duration::from_micros(480),
            ecdsa_verify: Duration::from_millis(24),
            ble_close: Duration::from_millis(200),
        }
    }
}

impl CpuCosts {
    /// No CPU time at all (tests that only look at flash timing).
    pub const ZERO: CpuCosts = CpuCosts {
        crc32_per_kib: Duration::ZERO,
        sha256_per_kib: Duration::ZERO,
        ecdsa_verify: Duration::ZERO,
        ble_close: Duration::ZERO,
    };

    pub fn crc32(&self, bytes: u32) -> Duration {
        per_kib(self.crc32_per_kib, bytes)
    }

    pub fn sha256(&self, bytes: u32) -> Duration {
        per_kib(self.sha256_per_kib, bytes)
    }
}

fn per_kib(rate: Duration, bytes: u32) -> Duration {
    Duration::from_nanos((rate.as_nanos() as u64).saturating_mul(bytes as u64) / 1024)
}
