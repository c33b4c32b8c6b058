//! Whether a bench DUT can run a suite at all: the suite's `dut:` (chip, transport) against what
//! the bench file wires to it. A BLE suite on a DUT with only a serial port would otherwise run
//! its first update into a 30 s silence and report a healthy device as bricked.

use crate::benchfile::Dut;
use crate::campaign::suite::DutRequirements;
use nrf_dfu::wire::Transport;

/// Why DUT `name` cannot run a suite that requires `req`, if it cannot.
/// Virtual DUTs of a bench file take what the suite needs; only wired DUTs are checked.
pub fn unmet(suite: &str, req: &DutRequirements, name: &str, dut: &Dut) -> Option<String> {
    if dut.is_virtual {
        return None;
    }
    if let Some(chip) = req.chip.filter(|c| *c != dut.chip) {
        return Some(format!(
            "suite {suite} needs an {} and the bench file says {name} is an {}: run it on a DUT with that chip (--dut), or change the suite's `dut: {{ chip }}`",
            chip.probe_rs_name(),
            dut.chip.probe_rs_name(),
        ));
    }
    let (has, what) = match req.transport? {
        Transport::Ble => (dut.ble.is_some(), "ble"),
        Transport::Uart => (dut.serial.is_some(), "serial"),
    };
    (!has).then(|| {
        format!(
            "suite {suite} updates over {} (`dut: {{ transport: {} }}`) and {name} has no `{what}` in the bench file: run a suite for the DUT's transport (a copy with the transport and the stand-in bootloader changed), or wire the DUT's {what}",
            what.to_uppercase().replace("SERIAL", "UART"),
            req.transport.map_or("", |t| t.label()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nrf_dfu::Chip;

    fn dut(yaml: &str) -> Dut {
        let b = crate::benchfile::parse(std::path::Path::new("bench.yaml"), yaml).unwrap();
        b.duts["d"].clone()
    }

    #[test]
    fn a_ble_suite_on_a_serial_only_dut_is_refused_before_anything_runs() {
        let uart = dut("duts:\n  d:\n    serial: { port: /dev/ttyACM0 }\n");
        let ble = DutRequirements {
            chip: Some(Chip::Nrf52832Qfaa),
            transport: Some(Transport::Ble),
            ..Default::default()
        };
        let e = unmet("smoke", &ble, "d", &uart).unwrap();
        assert!(e.contains("suite smoke updates over BLE"), "{e}");
        assert!(e.contains("d has no `ble` in the bench file"), "{e}");
        let serial = DutRequirements {
            transport: Some(Transport::Uart),
            ..ble
        };
        assert_eq!(unmet("smoke", &serial, "d", &uart), None);
        assert_eq!(
            unmet("smoke", &DutRequirements::default(), "d", &uart),
            None
        );
        let qfab = DutRequirements {
            chip: Some(Chip::Nrf52832Qfab),
            transport: None,
            ..Default::default()
        };
        let e = unmet("seed", &qfab, "d", &uart).unwrap();
        assert!(e.contains("needs an nRF52832_xxAB"), "{e}");
    }
}
