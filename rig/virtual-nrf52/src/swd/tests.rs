//! The SWD port driven the way probe-rs drives it: line reset, DPIDR, the power-up handshake,
//! the AP scan, the ROM table walk, halting and core registers through DCRSR/DCRDR, memory of
//! every size with auto-increment, CTRL-AP ERASEALL on a locked part, reset with vector catch,
//! and a hand-assembled flash routine run on the core through the NVMC.

use super::*;
use crate::armv7m::scs::{addr as scs, dhcsr};
use crate::sysbus::PartRevision;
use crate::{DebugPort, Device, ProgramOptions};
use nrf_dfu::memory_map::{UICR_APPROTECT, UICR_PSELRESET0, UICR_PSELRESET1};
use nrf_dfu::Chip;

const RAM: u32 = 0x2000_0000;

/// What a probe driver does on top of SWD packets: SELECT, posted AP reads, WAIT retries.
struct Probe<'a> {
    d: &'a mut Device,
}

impl Probe<'_> {
    fn retry<T>(
        &mut self,
        mut f: impl FnMut(&mut Device) -> Result<T, SwdAck>,
    ) -> Result<T, SwdAck> {
        for _ in 0..100_000 {
            match f(self.d) {
                Err(SwdAck::Wait) => continue,
                r => return r,
            }
        }
        panic!("WAIT forever");
    }

    fn dp_read(&mut self, a: u8) -> u32 {
        self.retry(|d| d.swd_read(SwdPort::Dp, a)).unwrap()
    }

    fn dp_write(&mut self, a: u8, v: u32) {
        self.retry(|d| d.swd_write(SwdPort::Dp, a, v)).unwrap()
    }

    fn select(&mut self, ap: u32, reg: u32) {
        self.dp_write(8, ap << 24 | (reg & 0xF0));
    }

    fn try_ap_read(&mut self, ap: u32, reg: u32) -> Result<u32, SwdAck> {
        self.select(ap, reg);
        self.retry(|d| d.swd_read(SwdPort::Ap, (reg & 0xC) as u8))?;
        self.retry(|d| d.swd_read(SwdPort::Dp, 0xC))
    }

    fn ap_read(&mut self, ap: u32, reg: u32) -> u32 {
        self.try_ap_read(ap, reg).unwrap()
    }

    fn ap_write(&mut self, ap: u32, reg: u32, v: u32) {
        self.select(ap, reg);
        self.retry(|d| d.swd_write(SwdPort::Ap, (reg & 0xC) as u8, v))
            .unwrap()
    }

    fn attach(&mut self) {
        self.d.swd_line_reset();
        assert_eq!(self.dp_read(0), DPIDR);
        self.dp_write(0, 0x1E); // ABORT: clear every sticky flag
        self.dp_write(8, 0);
        self.dp_write(4, 0x5000_0F00);
        let cs = self.dp_read(4);
        assert_eq!(
            cs & 0xA000_0000,
            0xA000_0000,
            "power-up acknowledged: {cs:#x}"
        );
    }

    fn csw(&mut self, size: u32, inc: u32) {
        self.ap_write(0, 0x00, 0x2300_0000 | inc << 4 | size);
    }

    fn read32(&mut self, addr: u32) -> u32 {
        self.csw(2, 1);
        self.ap_write(0, 0x04, addr);
        self.ap_read(0, 0x0C)
    }

    fn write32(&mut self, addr: u32, v: u32) {
        self.csw(2, 1);
        self.ap_write(0, 0x04, addr);
        self.ap_write(0, 0x0C, v);
    }

    fn halt(&mut self) {
        self.write32(scs::DHCSR, dhcsr::KEY | dhcsr::C_DEBUGEN | dhcsr::C_HALT);
        assert_ne!(self.read32(scs::DHCSR) & dhcsr::S_HALT, 0);
    }

    fn write_reg(&mut self, sel: u32, v: u32) {
        self.write32(scs::DCRDR, v);
        self.write32(scs::DCRSR, 1 << 16 | sel);
        assert_ne!(self.read32(scs::DHCSR) & dhcsr::S_REGRDY, 0);
    }

    fn read_reg(&mut self, sel: u32) -> u32 {
        self.write32(scs::DCRSR, sel);
        assert_ne!(self.read32(scs::DHCSR) & dhcsr::S_REGRDY, 0);
        self.read32(scs::DCRDR)
    }
}

fn device() -> Device {
    Device::new(Chip::Nrf52832Qfaa, 5)
}

#[test]
fn no_response_until_line_reset_then_only_dpidr() {
    let mut d = device();
    assert_eq!(d.swd_read(SwdPort::Dp, 0), Err(SwdAck::NoResponse));
    d.swd_line_reset();
    // Anything but a DPIDR read after a line reset is a protocol error.
    assert_eq!(d.swd_read(SwdPort::Dp, 4), Err(SwdAck::NoResponse));
    assert_eq!(
        d.swd_read(SwdPort::Dp, 0),
        Err(SwdAck::NoResponse),
        "needs another line reset"
    );
    d.swd_line_reset();
    assert_eq!(d.swd_read(SwdPort::Dp, 0), Ok(DPIDR));
    assert_eq!(d.swd_read(SwdPort::Dp, 4), Ok(0));
    // Unpowered: silence.
    d.power_off(d.now());
    assert_eq!(d.swd_read(SwdPort::Dp, 0), Err(SwdAck::NoResponse));
}

#[test]
fn each_packet_costs_its_clocks() {
    let mut d = device();
    let t0 = d.now();
    d.swd_line_reset();
    d.swd_read(SwdPort::Dp, 0).unwrap();
    let at_1mhz = d.now() - t0;
    assert_eq!(
        at_1mhz.as_nanos() as u64,
        (CLOCKS_PER_LINE_RESET + CLOCKS_PER_TRANSFER) * 1000
    );
    d.set_swd_clock_khz(4000);
    let t1 = d.now();
    d.swd_read(SwdPort::Dp, 0).unwrap();
    assert_eq!((d.now() - t1).as_nanos(), 46_000 / 4);
    let s = d.swd_stats();
    assert_eq!((s.transfers, s.line_resets), (2, 1));
}

#[test]
fn probe_rs_like_attach_scan_and_rom_table_walk() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    // AP scan: probe-rs reads IDRs until one is 0.
    assert_eq!(p.ap_read(0, 0xFC), 0x2477_0011);
    assert_eq!(p.ap_read(1, 0xFC), 0x0288_0000);
    assert_eq!(p.ap_read(2, 0xFC), 0);
    assert_eq!(p.ap_read(0, 0xF4), 0, "CFG: little-endian");
    assert_ne!(p.ap_read(0, 0x00) & (1 << 6), 0, "CSW.DeviceEn");
    let base = p.ap_read(0, 0xF8);
    assert_eq!(base, 0xE00F_F003);
    let rom = base & !0xFFF;
    let cidr = |p: &mut Probe, b: u32| -> u32 {
        (0..4)
            .map(|i| (p.read32(b + 0xFF0 + 4 * i) & 0xFF) << (8 * i))
            .sum()
    };
    let pidr = |p: &mut Probe, b: u32| -> u64 {
        let lo: u64 = (0..4)
            .map(|i| ((p.read32(b + 0xFE0 + 4 * i) & 0xFF) as u64) << (8 * i))
            .sum();
        lo | ((p.read32(b + 0xFD0) & 0xFF) as u64) << 32
    };
    assert_eq!(cidr(&mut p, rom), 0xB105_100D, "ROM table class 1");
    // JEP106 of the ROM table: Nordic (continuation 2, code 0x44), what probe-rs keys on.
    let id = pidr(&mut p, rom);
    assert_eq!(((id >> 12) & 0x7F, (id >> 32) & 0xF), (0x44, 2));
    let mut found = Vec::new();
    for i in 0.. {
        let e = p.read32(rom + 4 * i);
        if e == 0 {
            break;
        }
        assert_eq!(e & 3, 3, "present, 32-bit format");
        let b = rom.wrapping_add(e & 0xFFFF_F000);
        let class = (cidr(&mut p, b) >> 12) & 0xF;
        let id = pidr(&mut p, b);
        assert_eq!((id >> 12) & 0x7F, 0x3B, "designed by ARM");
        found.push((b, class, id & 0xFFF));
    }
    assert_eq!(
        found,
        vec![
            (0xE000_E000, 0xE, 0x00C),
            (0xE000_1000, 0xE, 0x002),
            (0xE000_2000, 0xE, 0x003),
            (0xE000_0000, 0xE, 0x001),
            (0xE004_0000, 0x9, 0x9A1),
            (0xE004_1000, 0x9, 0x925),
        ]
    );
    assert_eq!(p.read32(scs::CPUID), 0x410F_C241);
    assert_eq!(p.read32(0x1000_0100), 0x52832, "FICR INFO.PART");
    assert_eq!(p.read32(scs::MVFR0), 0x1011_0021);
}

#[test]
fn halt_and_core_registers_through_dcrsr() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    for sel in (0..=12).chain([14, 15, 17, 18, 33]).chain(64..96) {
        p.write_reg(sel, 0x1000_0000 + sel * 4);
    }
    for sel in (0..=12).chain([14, 17, 18, 33]).chain(64..96) {
        let want = match sel {
            33 => (0x1000_0000 + sel * 4) & 0xF7C0_009F,
            _ => 0x1000_0000 + sel * 4,
        };
        assert_eq!(p.read_reg(sel), want, "register {sel}");
    }
    assert_eq!(p.read_reg(15), 0x1000_003C, "PC (DebugReturnAddress)");
    // SP is the MSP in thread mode; xPSR and CONTROL/PRIMASK round-trip.
    assert_eq!(p.read_reg(13), p.read_reg(17));
    p.write_reg(16, 0x0100_0000);
    assert_eq!(p.read_reg(16), 0x0100_0000);
    p.write_reg(20, 0x0000_0001);
    assert_eq!(p.read_reg(20), 1);
    // A wrong key is ignored.
    p.write32(scs::DHCSR, dhcsr::C_DEBUGEN);
    assert_ne!(p.read32(scs::DHCSR) & dhcsr::S_HALT, 0);
    // FPB: probe-rs reads FP_CTRL and clears the comparators.
    assert_eq!(p.read32(scs::FP_CTRL) & 0xFF0, 0x260);
    p.write32(scs::FP_COMP0, 0);
    assert_eq!(p.read32(scs::FP_COMP0), 0);
}

#[test]
fn memory_of_every_size_with_auto_increment_and_1k_wrap() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    // Bytes, single increment: the data rides on the lane of TAR[1:0].
    p.csw(0, 1);
    p.ap_write(0, 0x04, RAM + 0x101);
    for (i, b) in [0x11u32, 0x22, 0x33].iter().enumerate() {
        p.ap_write(0, 0x0C, b << (8 * ((1 + i) % 4)));
    }
    assert_eq!(p.read32(RAM + 0x100) & 0xFFFF_FF00, 0x3322_1100);
    // Halfwords: lane TAR[1].
    p.csw(1, 1);
    p.ap_write(0, 0x04, RAM + 0x202);
    p.ap_write(0, 0x0C, 0xBEEF << 16);
    p.ap_write(0, 0x0C, 0xCAFE);
    assert_eq!(p.read32(RAM + 0x200) >> 16, 0xBEEF);
    assert_eq!(p.read32(RAM + 0x204) & 0xFFFF, 0xCAFE);
    p.csw(1, 1);
    p.ap_write(0, 0x04, RAM + 0x202);
    assert_eq!(p.ap_read(0, 0x0C) >> 16, 0xBEEF);
    // Packed bytes: four per DRW access.
    p.csw(0, 2);
    p.ap_write(0, 0x04, RAM + 0x300);
    p.ap_write(0, 0x0C, 0x4433_2211);
    assert_eq!(p.read32(RAM + 0x300), 0x4433_2211);
    // Words with posted reads: each AP read returns the previous one's value.
    p.write32(RAM + 0x3FC, 0xAAAA_AAAA);
    p.write32(RAM + 0x400, 0x5555_5555);
    p.csw(2, 1);
    p.ap_write(0, 0x04, RAM + 0x3F8);
    p.select(0, 0);
    let _ = p.d.swd_read(SwdPort::Ap, 0xC).unwrap(); // starts the read of 0x3F8
    let _ = p.d.swd_read(SwdPort::Ap, 0xC).unwrap(); // returns 0x3F8's, starts 0x3FC
    let v3fc = p.d.swd_read(SwdPort::Ap, 0xC).unwrap(); // 0x3FC's; starts the wrapped read
    assert_eq!(v3fc, 0xAAAA_AAAA);
    assert_eq!(
        p.ap_read(0, 0x04),
        RAM + 0x004,
        "TAR wrapped inside its 1 KB block"
    );
    // Auto-increment writes wrap too: 0x3FC then 0x000 of the same block.
    p.csw(2, 1);
    p.ap_write(0, 0x04, RAM + 0x3FC);
    p.ap_write(0, 0x0C, 1);
    p.ap_write(0, 0x0C, 2);
    assert_eq!(p.read32(RAM), 2);
    assert_eq!(
        p.read32(RAM + 0x400),
        0x5555_5555,
        "the next block is untouched"
    );
    // BD0-3: TAR[31:4] + n*4.
    p.ap_write(0, 0x04, RAM + 0x3F0);
    p.ap_write(0, 0x1C, 0x77);
    assert_eq!(p.read32(RAM + 0x3FC), 0x77);
}

#[test]
fn bus_error_is_sticky_until_abort() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.csw(2, 1);
    p.ap_write(0, 0x04, 0x6000_0000);
    p.select(0, 0);
    assert!(
        p.d.swd_read(SwdPort::Ap, 0xC).is_ok(),
        "the faulting packet itself is OK"
    );
    assert_eq!(p.d.swd_read(SwdPort::Dp, 0xC), Err(SwdAck::Fault));
    assert_eq!(p.d.swd_read(SwdPort::Ap, 0x4), Err(SwdAck::Fault));
    assert_ne!(
        p.dp_read(4) & ctrl_stat::STICKYERR,
        0,
        "CTRL/STAT still readable"
    );
    assert_eq!(p.dp_read(0), DPIDR);
    p.dp_write(0, 1 << 2); // STKERRCLR
    assert_eq!(p.dp_read(4) & ctrl_stat::STICKYERR, 0);
    assert_eq!(p.read32(RAM), p.read32(RAM));
    assert!(p.d.swd_stats().faults >= 2);
}

/// probe-rs's nRF52 unlock (vendor/nordicsemi/sequences/nrf52.rs) on a locked part.
fn unlock(p: &mut Probe) -> u32 {
    assert_eq!(p.ap_read(1, 0x0C), 0, "APPROTECTSTATUS: locked");
    p.ap_write(1, 0x00, 1);
    p.ap_write(1, 0x00, 0);
    p.ap_write(1, 0x04, 1);
    let mut polls = 0;
    while p.ap_read(1, 0x08) != 0 {
        polls += 1;
    }
    p.ap_write(1, 0x00, 1);
    p.ap_write(1, 0x00, 0);
    assert_ne!(p.ap_read(1, 0x0C), 0, "unlocked after ERASEALL");
    polls
}

fn locked_rev2() -> Device {
    let mut d = device();
    DebugPort::program(
        &mut d,
        &[(0x1000, vec![0xA5; 8]), (UICR_APPROTECT, vec![0; 4])],
        ProgramOptions::default(),
    )
    .unwrap();
    DebugPort::soft_reset(&mut d).unwrap();
    d
}

#[test]
fn ctrl_ap_eraseall_unlocks_a_locked_rev2_part() {
    let mut d = locked_rev2();
    assert!(d.ap_locked());
    let mut p = Probe { d: &mut d };
    p.attach();
    // The AHB-AP answers, but every memory access is a bus error.
    assert_eq!(p.ap_read(0, 0xFC), 0x2477_0011);
    p.csw(2, 1);
    p.ap_write(0, 0x04, 0x1000);
    p.select(0, 0);
    p.d.swd_read(SwdPort::Ap, 0xC).unwrap();
    assert_eq!(p.d.swd_read(SwdPort::Dp, 0xC), Err(SwdAck::Fault));
    p.dp_write(0, 0x1E);
    let t0 = p.d.now();
    let polls = unlock(&mut p);
    assert!(polls > 100, "ERASEALL takes its time ({polls} polls)");
    assert!(p.d.now() - t0 >= p.d.timing().nvmc.erase_all);
    assert_eq!(p.read32(0x1000), 0xFFFF_FFFF, "flash blank");
    assert_eq!(p.read32(UICR_APPROTECT), 0xFFFF_FFFF, "UICR blank");
    assert_eq!(p.read32(RAM), 0, "RAM cleared");
}

#[test]
fn rev3_locks_at_reset_unless_uicr_and_firmware_open_it() {
    let mut d = device();
    d.set_part_revision(PartRevision::Rev3);
    // A blank rev3 part is locked at reset (UICR.APPROTECT erased is not HwDisabled).
    d.reset(d.now(), crate::power::ResetKind::SoftReset);
    assert!(d.ap_locked());
    let mut p = Probe { d: &mut d };
    p.attach();
    unlock(&mut p);
    // Open through a system reset (probe-rs resets with SYSRESETREQ before it flashes the
    // unlocked part); write UICR.APPROTECT = HwDisabled through the NVMC meanwhile.
    p.write32(0x4001_E504, 1);
    p.write32(UICR_APPROTECT, 0xFFFF_FF5A);
    while p.read32(0x4001_E400) == 0 {}
    p.write32(0x4001_E504, 0);
    p.write32(scs::AIRCR, 0x05FA_0004);
    assert!(!p.d.ap_locked(), "open after SYSRESETREQ");
    // A power-on reset ends it. Nothing runs to write APPROTECT.DISABLE: locked again.
    let t = p.d.now();
    p.d.power_off(t);
    p.d.power_on(t + std::time::Duration::from_millis(1));
    assert!(
        p.d.ap_locked(),
        "rev3 after power-on with no firmware to open the port"
    );
    p.attach();
    // Firmware writing APPROTECT.DISABLE = SwDisable opens it (the register the core writes).
    p.d.si.soc.approtect_disable = 0x5A;
    assert!(!p.d.ap_locked());
    assert_eq!(p.ap_read(1, 0x0C), 1);
}

#[test]
fn rev3_firmware_opens_the_port_when_uicr_says_hw_disabled() {
    use crate::descriptor::BootloaderDescriptor;
    use crate::standin;
    let mut d = device();
    d.set_part_revision(PartRevision::Rev3);
    let mut segs = standin::softdevice_hex_segments(&crate::softdevice::S132_7_2_0);
    let bl = BootloaderDescriptor::sdk_default(nrf_dfu::SdkVersion::Sdk17, [4; 64]);
    segs.extend(standin::bootloader_segments(&bl, Chip::Nrf52832Qfaa, 0x5000).unwrap());
    let mut hw_disabled = segs.clone();
    hw_disabled.push((UICR_APPROTECT, 0xFFFF_FF5Au32.to_le_bytes().to_vec()));
    DebugPort::program(&mut d, &hw_disabled, ProgramOptions::default()).unwrap();
    d.reset(d.now(), crate::power::ResetKind::SoftReset);
    assert!(
        !d.ap_locked(),
        "the bootloader wrote APPROTECT.DISABLE at start-up"
    );
    assert_eq!(d.si.soc.approtect_disable, 0x5A);
    // The same firmware with UICR.APPROTECT erased: locked (the default of revision 3).
    let mut d = device();
    d.set_part_revision(PartRevision::Rev3);
    DebugPort::program(&mut d, &segs, ProgramOptions::default()).unwrap();
    d.reset(d.now(), crate::power::ResetKind::SoftReset);
    assert!(d.ap_locked());
    let mut p = Probe { d: &mut d };
    p.attach();
    assert_eq!(p.ap_read(1, 0x0C), 0, "APPROTECTSTATUS");
}

#[test]
fn reset_with_vector_catch_halts_at_the_reset_vector() {
    let mut d = device();
    // A vector table: SP 0x20001000, reset handler 0x1041 (Thumb).
    let table: Vec<u8> = [0x2000_1000u32, 0x1041]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    DebugPort::program(&mut d, &[(0, table)], ProgramOptions::default()).unwrap();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    p.write32(scs::DEMCR, 1); // VC_CORERESET
    let before = p.d.hardware().boot_record().unwrap().count;
    p.write32(scs::AIRCR, 0x05FA_0004);
    let s = p.read32(scs::DHCSR);
    assert_ne!(s & dhcsr::S_RESET_ST, 0, "reset seen");
    assert_ne!(s & dhcsr::S_HALT, 0, "halted by the vector catch");
    assert_eq!(
        p.read32(scs::DHCSR) & dhcsr::S_RESET_ST,
        0,
        "S_RESET_ST clears on read"
    );
    assert_eq!(p.d.hardware().boot_record().unwrap().count, before + 1);
    assert_ne!(p.read32(scs::DFSR) & 0x8, 0, "DFSR.VCATCH");
    assert_eq!(p.read_reg(15), 0x1040);
    assert_eq!(p.read_reg(13), 0x2000_1000);
    assert_eq!(
        p.read_reg(16),
        0x0100_0000,
        "EPSR.T from the vector's bit 0"
    );
    assert_eq!(p.read32(0x4000_0400) & 0x4, 0x4, "RESETREAS.SREQ");
}

#[test]
fn nreset_pin_when_routed() {
    let mut d = device();
    d.swd_set_nreset(true);
    d.swd_set_nreset(false);
    assert_eq!(
        d.read_u32(0x4000_0400).unwrap() & 1,
        0,
        "unrouted pin: nothing"
    );
    DebugPort::program(
        &mut d,
        &[
            (UICR_PSELRESET0, 21u32.to_le_bytes().to_vec()),
            (UICR_PSELRESET1, 21u32.to_le_bytes().to_vec()),
        ],
        ProgramOptions::default(),
    )
    .unwrap();
    d.swd_set_nreset(true);
    assert!(d.held_in_reset());
    d.swd_set_nreset(false);
    assert_eq!(
        d.read_u32(0x4000_0400).unwrap() & 1,
        1,
        "RESETREAS.RESETPIN"
    );
}

// --- the core running a flash routine -------------------------------------------------------

use super::routine::{BUFFER, ERASE, LOAD, PROGRAM, ROUTINE, STACK};

/// As probe-rs's Flasher::call_function does: PC, R0-R3, SP, LR = LOAD + 1 (the BKPT), run,
/// wait for the halt, read R0.
fn call(p: &mut Probe, pc: u32, args: &[u32]) -> u32 {
    p.halt();
    p.write_reg(15, pc);
    for (i, a) in args.iter().enumerate() {
        p.write_reg(i as u32, *a);
    }
    p.write_reg(13, STACK);
    p.write_reg(14, LOAD + 1);
    p.write_reg(16, 0x0100_0000);
    p.write32(scs::DHCSR, dhcsr::KEY | dhcsr::C_DEBUGEN);
    let mut polls = 0;
    while p.read32(scs::DHCSR) & dhcsr::S_HALT == 0 {
        polls += 1;
        assert!(polls < 1_000_000, "routine never halted");
    }
    assert_ne!(p.read32(scs::DFSR) & 0x2, 0, "halted by BKPT");
    p.write32(scs::DFSR, 0x1F);
    assert_eq!(p.read_reg(15), LOAD, "PC on the BKPT");
    p.read_reg(0)
}

fn load_routine(p: &mut Probe) {
    p.halt();
    p.csw(2, 1);
    p.ap_write(0, 0x04, LOAD);
    for pair in ROUTINE.chunks(2) {
        p.ap_write(0, 0x0C, pair[0] as u32 | (pair[1] as u32) << 16);
    }
}

#[test]
fn flash_routine_erases_and_programs_through_the_nvmc() {
    let mut d = device();
    DebugPort::program(
        &mut d,
        &[(0x3000, vec![0x00; 16])],
        ProgramOptions::default(),
    )
    .unwrap();
    let mut p = Probe { d: &mut d };
    p.attach();
    load_routine(&mut p);
    let (t0, i0) = (p.d.now(), p.d.swd_stats().instructions);
    assert_eq!(call(&mut p, ERASE, &[0x3000]), 0);
    assert!(
        p.d.now() - t0 >= p.d.timing().nvmc.page_erase,
        "the erase took its time"
    );
    assert_eq!(p.read32(0x3000), 0xFFFF_FFFF, "page erased");
    assert!(
        p.d.swd_stats().instructions > i0 + 10,
        "the core ran the routine"
    );
    assert_eq!(p.d.hardware().memory().code.erase_count(0x3000).unwrap(), 2);
    // ProgramPage: 256 bytes from a RAM buffer.
    p.csw(2, 1);
    p.ap_write(0, 0x04, BUFFER);
    for i in 0..64u32 {
        p.ap_write(0, 0x0C, 0x1000_0000 | i);
    }
    let t1 = p.d.now();
    assert_eq!(call(&mut p, PROGRAM, &[0x3000, 256, BUFFER]), 0);
    assert!(p.d.now() - t1 >= p.d.timing().nvmc.word_write * 64);
    for i in [0u32, 1, 63] {
        assert_eq!(p.read32(0x3000 + 4 * i), 0x1000_0000 | i);
    }
    assert_eq!(p.read32(0x3000 + 256), 0xFFFF_FFFF);
    assert_eq!(p.read32(0x4001_E504), 0, "CONFIG back to read-only");
    assert!(p.d.cpu_fault().is_none());
    // Writing ones over zeros changes nothing: bits only go 1 -> 0.
    p.csw(2, 1);
    p.ap_write(0, 0x04, BUFFER);
    p.ap_write(0, 0x0C, 0xFFFF_FFFF);
    call(&mut p, PROGRAM, &[0x3000, 4, BUFFER]);
    assert_eq!(p.read32(0x3000), 0x1000_0000);
}

#[test]
fn flash_reads_wait_while_the_nvmc_erases() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.write32(0x4001_E504, 2);
    p.write32(0x4001_E508, 0x2000);
    assert_eq!(p.read32(0x4001_E400), 0, "READY: busy");
    let waits = p.d.swd_stats().waits;
    assert_eq!(p.read32(0x2000), 0xFFFF_FFFF);
    assert!(
        p.d.swd_stats().waits > waits,
        "the AP answered WAIT while the page erased"
    );
    assert_eq!(p.read32(0x4001_E400), 1);
    // Erase registers with CONFIG != EEN are ignored.
    p.write32(0x4001_E504, 0);
    p.write32(0x4001_E508, 0x2000);
    assert_eq!(p.read32(0x4001_E400), 1);
}

#[test]
fn power_loss_tears_the_erase_in_flight() {
    let mut d = device();
    DebugPort::program(
        &mut d,
        &[(0x2000, vec![0; 4096])],
        ProgramOptions::default(),
    )
    .unwrap();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.write32(0x4001_E504, 2);
    p.write32(0x4001_E508, 0x2000);
    let t = p.d.now() + p.d.timing().nvmc.page_erase / 2;
    d.power_off(t);
    let page = d.read_flash(0x2000, 4096);
    assert!(
        page.iter().any(|&b| b != 0xFF) && page.iter().any(|&b| b != 0),
        "torn half way"
    );
}

#[test]
fn undefined_instruction_is_a_hardfault_and_a_lockup_without_handler() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    p.write32(RAM + 0x100, 0xDE00_DE00); // UDF
    p.write_reg(15, RAM + 0x100);
    p.write_reg(13, STACK);
    p.write32(scs::DHCSR, dhcsr::KEY | dhcsr::C_DEBUGEN);
    let s = p.read32(scs::DHCSR);
    assert_ne!(
        s & dhcsr::S_LOCKUP,
        0,
        "erased HardFault vector: the handler fetch faults"
    );
    let f = p.d.cpu_fault().unwrap();
    assert_eq!(
        f.kind,
        crate::armv7m::exec::FaultKind::Bus { addr: 0xFFFF_FFFE }
    );
    assert!(f.lockup);
    assert_ne!(
        p.read32(scs::CFSR) & (1 << 16),
        0,
        "UFSR.UNDEFINSTR from the first fault"
    );
    assert_eq!(p.read_reg(15), 0xFFFF_FFFE);
    // With VC_HARDERR the debugger catches it instead.
    p.write32(scs::AIRCR, 0x05FA_0004);
    p.halt();
    p.write32(scs::DEMCR, 1 << 10);
    p.write32(RAM + 0x100, 0xDE00_DE00);
    p.write_reg(15, RAM + 0x100);
    p.write_reg(13, STACK);
    p.write32(scs::DHCSR, dhcsr::KEY | dhcsr::C_DEBUGEN);
    assert_ne!(p.read32(scs::DHCSR) & dhcsr::S_HALT, 0);
    assert_ne!(p.read32(scs::DFSR) & 0x8, 0, "VCATCH");
}

#[test]
fn a_step_of_modelled_firmware_halts_again_at_once() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    let pc = p.read_reg(15);
    p.write32(
        scs::DHCSR,
        dhcsr::KEY | dhcsr::C_DEBUGEN | dhcsr::C_STEP | dhcsr::C_MASKINTS,
    );
    let s = p.read32(scs::DHCSR);
    assert_ne!(s & dhcsr::S_HALT, 0, "probe-rs waits 100 ms for this halt");
    assert_ne!(s & dhcsr::C_HALT, 0);
    assert_eq!(p.read_reg(15), pc);
    // Run: the model carries on.
    p.write32(scs::DHCSR, dhcsr::KEY | dhcsr::C_DEBUGEN);
    assert_eq!(p.read32(scs::DHCSR) & (dhcsr::S_HALT | dhcsr::C_HALT), 0);
}

#[test]
fn step_runs_one_instruction() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    p.write32(RAM + 0x100, 0x2107_2005); // movs r0,#5; movs r1,#7
    p.write_reg(15, RAM + 0x100);
    p.write32(
        scs::DHCSR,
        dhcsr::KEY | dhcsr::C_DEBUGEN | dhcsr::C_STEP | dhcsr::C_MASKINTS,
    );
    let s = p.read32(scs::DHCSR);
    assert_ne!(s & dhcsr::S_HALT, 0);
    assert_ne!(s & dhcsr::S_RETIRE_ST, 0, "an instruction retired");
    assert_eq!(
        p.read32(scs::DHCSR) & dhcsr::S_RETIRE_ST,
        0,
        "cleared by the read"
    );
    assert_eq!((p.read_reg(0), p.read_reg(15)), (5, RAM + 0x102));
    assert_eq!(p.read_reg(1), 0);
}

/// An EraseSector that feeds the watchdog on every turn of its READY poll, as probe-rs 0.32's
/// nRF52 algorithm does (targets/nRF52_Series.yaml, `nrf52`): hand-assembled, loaded at
/// [`FEED`]. Returns with CONFIG left at EEN.
const FEED: u32 = LOAD + 0x200;
#[rustfmt::skip]
const FEED_ERASE: &[u16] = &[
    0x4907,         // 0x00 ldr r1, =0x4001E500
    0x2202, 0x604A, // 0x02 movs r2, #2; str r2, [r1, #4]      CONFIG = EEN
    0x6088,         // 0x06 str r0, [r1, #8]                   ERASEPAGE = r0
    0x4B06,         // 0x08 ldr r3, =0x4001E400 (READY)
    0x4907,         // 0x0A ldr r1, =0x40010600 (WDT RR[0])
    0x4A07,         // 0x0C ldr r2, =0x6E524635 (reload value)
    0x600A,         // 0x0E 1: str r2, [r1]                    feed the dog
    0x6818, 0x2800, // 0x10 ldr r0, [r3]; cmp r0, #0
    0xD0FB,         // 0x14 beq 1b
    0x2000, 0x4770, // 0x16 movs r0, #0; bx lr
    0xBF00, 0xBF00, 0xBF00, // 0x1A nop (literal pool alignment)
    0xE500, 0x4001, 0xE400, 0x4001, 0x0600, 0x4001, 0x4635, 0x6E52, // 0x20 literals
];

#[test]
fn a_ready_poll_that_feeds_the_watchdog_is_skipped_as_an_idle_loop() {
    let mut d = device();
    let mut p = Probe { d: &mut d };
    p.attach();
    load_routine(&mut p);
    p.csw(2, 1);
    p.ap_write(0, 0x04, FEED);
    for pair in FEED_ERASE.chunks(2) {
        p.ap_write(0, 0x0C, pair[0] as u32 | (pair[1] as u32) << 16);
    }
    let (t0, i0) = (p.d.now(), p.d.swd_stats().instructions);
    assert_eq!(call(&mut p, FEED, &[0x3000]), 0);
    assert!(p.d.now() - t0 >= p.d.timing().nvmc.page_erase);
    assert_eq!(p.read32(0x3000), 0xFFFF_FFFF, "page erased");
    assert!(p.d.cpu_fault().is_none(), "{:?}", p.d.cpu_fault());
    let ran = p.d.swd_stats().instructions - i0;
    let skipped = p.d.si.skipped_instructions;
    // The erase is ~85 ms: about a million turns of four instructions at 64 MHz, nearly all
    // skipped (a write to RR[0] changes no modelled state, so the loop is idle; each DHCSR
    // poll of the probe ends a skip, and the next turns find the loop again).
    assert!(ran > 100_000, "the loop's time was accounted: {ran}");
    assert!(
        ran - skipped < ran / 100,
        "interpreted {} of {ran} instructions",
        ran - skipped
    );
}

#[test]
fn emulated_blank_chip_locks_up_and_a_debugger_halts_it() {
    let mut d = device();
    d.set_emulated_cpu(true);
    let t = d.now() + std::time::Duration::from_millis(1);
    d.advance_to(t);
    assert_eq!(d.cpu_state(), "locked up");
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    assert_eq!(p.d.cpu_state(), "halted");
    assert_eq!(
        p.read32(scs::DHCSR) & dhcsr::S_LOCKUP,
        0,
        "debug state ends the lockup (B1.5.15)"
    );
    assert_eq!(p.read_reg(15), 0xFFFF_FFFE);
}

#[test]
fn halting_a_core_asleep_in_wfe_wakes_it_and_it_sleeps_again_on_resume() {
    // Vector table (SP, reset at 0x9), then at 0x8: WFE; B back to it.
    let mut image = Vec::new();
    for w in [0x2000_1000u32, 0x0000_0009] {
        image.extend_from_slice(&w.to_le_bytes());
    }
    image.extend_from_slice(&[0x20, 0xBF, 0xFD, 0xE7]);
    let mut d = device();
    d.set_emulated_cpu(true);
    d.program(&[(0, image)], ProgramOptions::default())
        .expect("program");
    d.soft_reset().expect("reset");
    let t = d.now() + std::time::Duration::from_millis(1);
    d.advance_to(t);
    assert_eq!(d.cpu_state(), "sleeping");
    let mut p = Probe { d: &mut d };
    p.attach();
    p.halt();
    // probe-rs checks S_SLEEP before S_HALT: a halted core must not read as asleep (C1.6.3).
    assert_eq!(
        p.read32(scs::DHCSR) & dhcsr::S_SLEEP,
        0,
        "halted, not sleeping"
    );
    p.write32(scs::DHCSR, dhcsr::KEY | dhcsr::C_DEBUGEN);
    let t = p.d.now() + std::time::Duration::from_millis(1);
    p.d.advance_to(t);
    assert_eq!(p.d.cpu_state(), "sleeping");
    assert_ne!(p.read32(scs::DHCSR) & dhcsr::S_SLEEP, 0, "back in WFE");
}
