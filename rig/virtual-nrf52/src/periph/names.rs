//! Which nRF52832 peripheral an address belongs to (nRF52832 Product Specification v1.4,
//! "Instantiation": peripheral ID n sits at 0x4000_0000 + n * 0x1000), so a count of
//! unmodelled accesses can say what the firmware reached for.

/// The instances at 0x4000_0000 + id * 0x1000, by ID (shared IDs list every peripheral there).
const APB: [&str; 39] = [
    "CLOCK/POWER/BPROT",
    "RADIO",
    "UARTE0/UART0",
    "SPIM0/SPIS0/TWIM0/TWIS0",
    "SPIM1/SPIS1/TWIM1/TWIS1",
    "NFCT",
    "GPIOTE",
    "SAADC",
    "TIMER0",
    "TIMER1",
    "TIMER2",
    "RTC0",
    "TEMP",
    "RNG",
    "ECB",
    "CCM/AAR",
    "WDT",
    "RTC1",
    "QDEC",
    "COMP/LPCOMP",
    "EGU0/SWI0",
    "EGU1/SWI1",
    "EGU2/SWI2",
    "EGU3/SWI3",
    "EGU4/SWI4",
    "EGU5/SWI5",
    "TIMER3",
    "TIMER4",
    "PWM0",
    "PDM",
    "ACL/NVMC",
    "PPI",
    "MWU",
    "PWM1",
    "PWM2",
    "SPIM2/SPIS2",
    "RTC2",
    "I2S",
    "FPU",
];

/// The peripheral at `addr`, or None outside the peripheral, FICR/UICR and GPIO ranges.
pub fn peripheral_name(addr: u32) -> Option<&'static str> {
    match addr {
        0x1000_0000..=0x1000_0FFF => Some("FICR"),
        0x1000_1000..=0x1000_1FFF => Some("UICR"),
        0x4000_0000..=0x4002_6FFF => APB.get(((addr - 0x4000_0000) >> 12) as usize).copied(),
        0x5000_0000..=0x5000_0FFF => Some("P0"),
        _ => None,
    }
}

/// `0x4000C508 (TEMP)`: an address with its peripheral, for logs and status lines.
pub fn describe_address(addr: u32) -> String {
    match peripheral_name(addr) {
        Some(name) => format!("{addr:#010x} ({name})"),
        None => format!("{addr:#010x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_named_from_the_product_specification() {
        assert_eq!(peripheral_name(0x4000_0524), Some("CLOCK/POWER/BPROT"));
        assert_eq!(peripheral_name(0x4000_2500), Some("UARTE0/UART0"));
        assert_eq!(peripheral_name(0x4000_D000), Some("RNG"));
        assert_eq!(peripheral_name(0x4001_E400), Some("ACL/NVMC"));
        assert_eq!(peripheral_name(0x4002_4540), Some("RTC2"));
        assert_eq!(peripheral_name(0x4002_6000), Some("FPU"));
        assert_eq!(peripheral_name(0x4002_7000), None);
        assert_eq!(peripheral_name(0x5000_0504), Some("P0"));
        assert_eq!(describe_address(0x4000_C508), "0x4000c508 (TEMP)");
        assert_eq!(describe_address(0x2000_0000), "0x20000000");
    }

    #[test]
    fn the_summary_lists_the_most_used_registers_with_their_peripherals() {
        let mut u = super::super::Unmodelled::default();
        assert_eq!(u.summary(2), "0 unmodelled peripheral accesses");
        for _ in 0..3 {
            u.note(0x4000_D508, false);
        }
        u.note(0x4000_D509, true); // a byte access counts for its word
        u.note(0x4000_C000, true);
        u.note(0x4001_F504, false);
        assert_eq!(
            u.summary(2),
            "6 unmodelled peripheral accesses (0x4000d508 (RNG) x4, 0x4000c000 (TEMP) x1, \
             1 more register)"
        );
    }
}
