//! Connect-under-reset that halts: the chip's own debug sequence (probe-rs' Nordic nRF52 one)
//! with one step changed, so the attach-under-reset fallback of [`super::attach`] can work at
//! all on a core whose halting debug is off.
//!
//! probe-rs 0.32 attaches under reset as: assert nRESET, connect, `reset_catch_set` (the
//! Cortex-M one only sets DEMCR.VC_CORERESET, sequences.rs `cortex_m_reset_catch_set`),
//! release nRESET, then `enable_arm_debug` (DHCSR.C_DEBUGEN) and wait 100 ms for the halt
//! (session.rs `attach_arm_debug_interface`). A vector catch is a halting debug event and
//! needs DHCSR.C_DEBUGEN set when the reset ends (ARMv7-M ARM C1.6.3, DEMCR.VC_CORERESET), so
//! on a core nobody enabled debug on since power-on the firmware runs past the catch and
//! probe-rs gives up with "Timeout while attaching to target under reset" (seen on the lab:
//! tests/lab_probe_rs.rs). The Black Magic Probe sets up the catch together with C_DEBUGEN
//! while nRESET is held (blackmagic PR #454); [`HaltingResetCatch`] does the same: C_DEBUGEN,
//! then the sequence's own reset catch. DHCSR lives in the debug domain, which a pin reset
//! does not reset, so the write made under reset holds when the reset ends.

use probe_rs::architecture::arm::component::TraceSink;
use probe_rs::architecture::arm::dp::DpAddress;
use probe_rs::architecture::arm::memory::{ArmMemoryInterface, CoresightComponent};
use probe_rs::architecture::arm::sequences::{ArmDebugSequence, DebugEraseSequence};
use probe_rs::architecture::arm::{
    ArmDebugInterface, ArmError, DapAccess, DapProbe, FullyQualifiedApAddress,
};
use probe_rs::config::{DebugSequence, Registry, Target};
use probe_rs::CoreType;
use std::sync::Arc;

/// DHCSR (ARMv7-M C1.6.2): write key in bits 31:16, C_DEBUGEN bit 0.
const DHCSR: u64 = 0xE000_EDF0;
const DHCSR_KEY: u32 = 0xA05F << 16;
const C_DEBUGEN: u32 = 1;

/// The chip's debug sequence with a reset catch that also enables halting debug.
#[derive(Debug)]
pub struct HaltingResetCatch {
    inner: Arc<dyn ArmDebugSequence>,
}

/// `name` from probe-rs' built-in targets, its ARM debug sequence wrapped in
/// [`HaltingResetCatch`] (only for attaching under reset; everything else is the chip's own).
pub fn target_for_reset_attach(name: &str) -> Result<Target, probe_rs::Error> {
    let mut target = Registry::from_builtin_families()
        .get_target_by_name(name)
        .map_err(probe_rs::Error::from)?;
    if let DebugSequence::Arm(inner) = &target.debug_sequence {
        target.debug_sequence = DebugSequence::Arm(Arc::new(HaltingResetCatch {
            inner: inner.clone(),
        }));
    }
    Ok(target)
}

impl ArmDebugSequence for HaltingResetCatch {
    fn reset_catch_set(
        &self,
        core: &mut dyn ArmMemoryInterface,
        core_type: CoreType,
        debug_base: Option<u64>,
    ) -> Result<(), ArmError> {
        if core_type.is_cortex_m() {
            // Keep the other control bits probe-rs may have set (C_MASKINTS etc.): DHCSR
            // reads them back in bits 5:0.
            let ctrl = core.read_word_32(DHCSR)? & 0x3F;
            core.write_word_32(DHCSR, DHCSR_KEY | ctrl | C_DEBUGEN)?;
        }
        self.inner.reset_catch_set(core, core_type, debug_base)
    }

    // Everything else is the chip's sequence.
    fn reset_hardware_assert(&self, interface: &mut dyn DapProbe) -> Result<(), ArmError> {
        self.inner.reset_hardware_assert(interface)
    }
    fn reset_hardware_deassert(
        &self,
        probe: &mut dyn ArmDebugInterface,
        default_ap: &FullyQualifiedApAddress,
    ) -> Result<(), ArmError> {
        self.inner.reset_hardware_deassert(probe, default_ap)
    }
    fn debug_port_setup(
        &self,
        interface: &mut dyn DapProbe,
        dp: DpAddress,
    ) -> Result<(), ArmError> {
        self.inner.debug_port_setup(interface, dp)
    }
    fn debug_port_start(
        &self,
        interface: &mut dyn DapAccess,
        dp: DpAddress,
    ) -> Result<(), ArmError> {
        self.inner.debug_port_start(interface, dp)
    }
    fn debug_core_start(
        &self,
        interface: &mut dyn ArmDebugInterface,
        core_ap: &FullyQualifiedApAddress,
        core_type: CoreType,
        debug_base: Option<u64>,
        cti_base: Option<u64>,
    ) -> Result<(), ArmError> {
        self.inner
            .debug_core_start(interface, core_ap, core_type, debug_base, cti_base)
    }
    fn reset_catch_clear(
        &self,
        core: &mut dyn ArmMemoryInterface,
        core_type: CoreType,
        debug_base: Option<u64>,
    ) -> Result<(), ArmError> {
        self.inner.reset_catch_clear(core, core_type, debug_base)
    }
    fn trace_start(
        &self,
        interface: &mut dyn ArmDebugInterface,
        components: &[CoresightComponent],
        sink: &TraceSink,
    ) -> Result<(), ArmError> {
        self.inner.trace_start(interface, components, sink)
    }
    fn reset_system(
        &self,
        interface: &mut dyn ArmMemoryInterface,
        core_type: CoreType,
        debug_base: Option<u64>,
    ) -> Result<(), ArmError> {
        self.inner.reset_system(interface, core_type, debug_base)
    }
    fn debug_device_unlock(
        &self,
        interface: &mut dyn ArmDebugInterface,
        default_ap: &FullyQualifiedApAddress,
        permissions: &probe_rs::Permissions,
    ) -> Result<(), ArmError> {
        self.inner
            .debug_device_unlock(interface, default_ap, permissions)
    }
    fn recover_support_start(
        &self,
        interface: &mut dyn ArmMemoryInterface,
    ) -> Result<(), ArmError> {
        self.inner.recover_support_start(interface)
    }
    fn debug_core_stop(
        &self,
        interface: &mut dyn ArmMemoryInterface,
        core_type: CoreType,
    ) -> Result<(), ArmError> {
        self.inner.debug_core_stop(interface, core_type)
    }
    fn debug_port_stop(&self, interface: &mut dyn DapProbe, dp: DpAddress) -> Result<(), ArmError> {
        self.inner.debug_port_stop(interface, dp)
    }
    fn debug_port_connect(
        &self,
        interface: &mut dyn DapProbe,
        dp: DpAddress,
    ) -> Result<(), ArmError> {
        self.inner.debug_port_connect(interface, dp)
    }
    fn prepare_running_on_ram(
        &self,
        session: &mut probe_rs::Session,
        vector_table_addr: u64,
        core_id: usize,
    ) -> Result<(), probe_rs::Error> {
        self.inner
            .prepare_running_on_ram(session, vector_table_addr, core_id)
    }
    fn on_attach(
        &self,
        interface: &mut dyn ArmDebugInterface,
        ap: &FullyQualifiedApAddress,
        core_type: CoreType,
    ) -> Result<(), ArmError> {
        self.inner.on_attach(interface, ap, core_type)
    }
    fn debug_erase_sequence(&self) -> Option<Arc<dyn DebugEraseSequence>> {
        self.inner.debug_erase_sequence()
    }
    fn allowed_access_ports(&self) -> Vec<u8> {
        self.inner.allowed_access_ports()
    }
}
