//! Whether a power cut really removed power (issue 12, finding 16). A power-on reset clears
//! RESETREAS (no cause bit: "the on-chip reset generator", nRF52832 PS v1.4, POWER RESETREAS)
//! and the retained registers GPREGRET and GPREGRET2 (kept through every reset but a power-on
//! or brown-out reset, PS v1.4, POWER). Read straight after the supply returns, all three must
//! be 0; anything else means the chip was kept alive, most often back-powered through a UART
//! adapter's TX line or the probe's SWD lines, and the iteration says nothing about the DUT: a
//! bench fault, not a verdict.
//!
//! A chip that stayed alive may well read 0 in all three anyway: the read-back before the update
//! clears RESETREAS, and the bootloader clears GPREGRET when it enters DFU mode through it. So
//! just before the cut the rig writes a mark into GPREGRET2 ([`MARK`]), which only a lost supply
//! removes. GPREGRET2 is the register no firmware here uses for anything the mark could trigger:
//! SDK 17.1 reads it only at boot, for its CRC-skip request (`nrf_bootloader_info.h`:
//! `BOOTLOADER_DFU_GPREGRET2_MASK` 0xF8 must read 0xA8 and bit 0 be set), which 0x50 is not.

use super::error::StepFailure;
use crate::campaign::failure_class::InfraFault;
use crate::drivers::power::probe_reset::SharedProbe;
use crate::drivers::ProbeError;
use nrf_dfu::memory_map::{POWER_GPREGRET, POWER_GPREGRET2, POWER_RESETREAS};
use std::time::Duration;

/// How long the DUT may take to answer over SWD once the switch reports power back: a PPK2 or
/// relay applies the command after the call returns, and the probe has to attach again.
pub const ANSWER_WAIT: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_millis(50);
/// What the rig leaves in GPREGRET2 before a cut (see the module comment).
pub const MARK: u32 = 0x50;

/// Mark the chip (GPREGRET2 = [`MARK`], read back) just before its supply is cut.
pub fn mark_before_cut(probe: &SharedProbe) -> Result<(), StepFailure> {
    let mut p = probe.borrow_mut();
    let r = p
        .write_memory(POWER_GPREGRET2, &MARK.to_le_bytes())
        .and_then(|_| p.read_word(POWER_GPREGRET2));
    match r {
        Ok(v) if v & 0xFF == MARK => Ok(()),
        Ok(v) => Err(StepFailure::infra(
            InfraFault::Probe,
            format!("GPREGRET2 reads {v:#04x} after writing {MARK:#04x} before the power cut"),
        )),
        Err(e) => Err(StepFailure::infra(
            InfraFault::Probe,
            format!("marking GPREGRET2 before the power cut: {}", e.message),
        )),
    }
}

/// The registers as read after power returned: a bench fault unless all are 0.
pub fn verdict(gpregret: u32, gpregret2: u32, resetreas: u32) -> Result<(), StepFailure> {
    let (gpregret, gpregret2) = (gpregret & 0xFF, gpregret2 & 0xFF);
    if gpregret == 0 && gpregret2 == 0 && resetreas == 0 {
        return Ok(());
    }
    Err(StepFailure::infra(
        InfraFault::PowerSwitch,
        format!(
            "after the power cut RESETREAS reads {resetreas:#010x}, GPREGRET {gpregret:#04x} and \
             GPREGRET2 {gpregret2:#04x} (the rig wrote {MARK:#04x} there before the cut), where a \
             chip that lost its supply reads 0 in all three: the DUT was kept powered, most \
             likely back-powered through its UART TX or SWD lines (an adapter's TX idles high), \
             so the cut never happened. Power the USB-serial adapter from the same switch or \
             disconnect it during cuts, and check that the switch removes VDD (not only data)"
        ),
    ))
}

/// Read GPREGRET, GPREGRET2 and RESETREAS once the DUT answers (within `wait`) and judge them.
pub async fn after_power_cut(probe: &SharedProbe, wait: Duration) -> Result<(), StepFailure> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let read = {
            let mut p = probe.borrow_mut();
            p.attach().and_then(|_| {
                Ok((
                    p.read_word(POWER_GPREGRET)?,
                    p.read_word(POWER_GPREGRET2)?,
                    p.read_word(POWER_RESETREAS)?,
                ))
            })
        };
        match read {
            Ok((g, g2, r)) => return verdict(g, g2, r),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("after the power cut, no answer over SWD yet: {}", e.message);
                tokio::time::sleep(RETRY).await;
            }
            Err(ProbeError { message, .. }) => {
                return Err(StepFailure::infra(
                    InfraFault::Probe,
                    format!(
                        "the DUT did not answer over SWD within {wait:?} after its power returned: {message}"
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::FailureClass;

    #[test]
    fn only_zero_in_all_three_registers_is_a_power_cut() {
        assert!(verdict(0, 0, 0).is_ok());
        // The retained registers are 8 bits wide; only those count.
        assert!(verdict(0xFFFF_FF00, 0x0000_FF00, 0).is_ok());
        // Kept alive: the mark survived, the SREQ of a soft reset, a retained GPREGRET.
        for (g, g2, r) in [(0, MARK, 0), (0, 0, 0x4), (0xB1, 0, 0), (0xB1, MARK, 0x4)] {
            let e = verdict(g, g2, r).unwrap_err();
            assert_eq!(e.class, FailureClass::Infra(InfraFault::PowerSwitch));
            assert!(e.message.contains("back-powered"), "{}", e.message);
        }
    }
}
