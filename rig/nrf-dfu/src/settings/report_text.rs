//! Human-readable form of a [`SettingsReport`]: nrfutil's "Bootloader DFU Settings" block first
//! (so scripts reading nrfutil's output keep working), then what nrfutil does not show.

use super::check::{CrcCheck, CrcStatus};
use super::generate::NrfutilSummary;
use super::report::SettingsReport;
use super::{BootValidation, SettingsPage};
use std::fmt::Write;

fn crc_line(c: &CrcCheck) -> String {
    match c.status {
        CrcStatus::Valid => format!("0x{:08X} valid", c.stored),
        CrcStatus::Invalid => format!(
            "0x{:08X} INVALID (bytes give 0x{:08X})",
            c.stored, c.computed
        ),
        CrcStatus::Erased => format!("0x{:08X} unset (never written)", c.stored),
    }
}

fn area_line(c: Option<&CrcCheck>, what: impl FnOnce() -> String) -> String {
    match c.map(|c| c.status) {
        Some(CrcStatus::Erased) | None => "erased".to_string(),
        Some(CrcStatus::Valid) => format!("{} (crc valid)", what()),
        Some(CrcStatus::Invalid) => format!("{} (crc INVALID)", what()),
    }
}

fn bytes_summary(b: &[u8], used: usize) -> String {
    if b.iter().all(|&x| x == 0) {
        "all 0x00".into()
    } else if b.iter().all(|&x| x == 0xFF) {
        "all 0xFF".into()
    } else {
        let n = used.clamp(1, b.len());
        let shown = n.min(32);
        let more = if n > shown { "…" } else { "" };
        format!("{n} bytes: {}{more}", hex::encode(&b[..shown]))
    }
}

fn boot_validation(v: &BootValidation) -> String {
    if v.value().is_empty() {
        v.kind.to_string()
    } else {
        format!("{} {}", v.kind, hex::encode(v.value()))
    }
}

fn fields(out: &mut String, p: &SettingsPage, crcs: &super::CrcReport) {
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "* {:<27} {v}", format!("{k}:"));
    };
    line("crc", crc_line(&crcs.crc));
    if let Some(c) = &crcs.boot_validation_crc {
        line("boot_validation_crc", crc_line(c));
    }
    for (name, b) in [("bank_0", &p.bank_0), ("bank_1", &p.bank_1)] {
        line(
            name,
            format!(
                "{}, {} bytes, crc 0x{:08X}",
                b.bank_code, b.image_size, b.image_crc
            ),
        );
    }
    line("write_offset", format!("0x{:08X}", p.write_offset));
    let g = &p.progress;
    line(
        "progress",
        format!(
            "command {}/{} (crc 0x{:08X}); data object {}; image offset {} (last {}), crc 0x{:08X} (last 0x{:08X})",
            g.command_offset,
            g.command_size,
            g.command_crc,
            g.data_object_size,
            g.firmware_image_offset,
            g.firmware_image_offset_last,
            g.firmware_image_crc,
            g.firmware_image_crc_last
        ),
    );
    line("enter_buttonless_dfu", p.enter_buttonless_dfu.to_string());
    line(
        "init_command",
        bytes_summary(p.init_command(), g.command_size as usize),
    );
    if let Some(t) = p.v2() {
        line(
            "boot_validation_softdevice",
            boot_validation(&t.boot_validation_softdevice),
        );
        line(
            "boot_validation_app",
            boot_validation(&t.boot_validation_app),
        );
        line(
            "boot_validation_bootloader",
            boot_validation(&t.boot_validation_bootloader),
        );
    }
    if let Some(peer) = p.peer_data() {
        line(
            "peer_data",
            area_line(crcs.peer_data.as_ref(), || {
                format!("peer {}", hex::encode(peer.addr()))
            }),
        );
    }
    if let Some(a) = p.adv_name() {
        line(
            "adv_name",
            area_line(crcs.adv_name.as_ref(), || {
                format!("\"{}\"", String::from_utf8_lossy(a.name_bytes()))
            }),
        );
    }
}

impl SettingsReport {
    /// The report as text; `file` is the name shown in the nrfutil block.
    pub fn to_text(&self, file: &str) -> String {
        let family = self.family.map_or("unknown", |f| f.arch_str());
        let mut out = NrfutilSummary {
            file,
            family,
            address: self.address,
            page: &self.settings,
        }
        .to_string();
        let _ = writeln!(
            out,
            "\nSettings page at 0x{:08X}, {}:",
            self.address, self.layout
        );
        fields(&mut out, &self.settings, &self.crcs);
        match &self.backup {
            None => {
                let _ = writeln!(
                    out,
                    "\nBackup page: absent (the page below reads as erased flash)"
                );
            }
            Some(b) if b.equal_to_main => {
                let _ = writeln!(
                    out,
                    "\nBackup page at 0x{:08X}: identical to the main page",
                    b.address
                );
            }
            Some(b) => {
                let diff = if b.differing_fields.is_empty() {
                    "CRC words only".to_string()
                } else {
                    b.differing_fields.join(", ")
                };
                let _ = writeln!(
                    out,
                    "\nBackup page at 0x{:08X}: differs from the main page in {diff}",
                    b.address
                );
                fields(&mut out, &b.settings, &b.crcs);
            }
        }
        let _ = writeln!(out, "\nAt boot (settings init of each SDK's bootloader):");
        for c in &self.bootloaders {
            let mut writes = Vec::new();
            if c.writes_main {
                writes.push("main");
            }
            if c.writes_backup {
                writes.push("backup");
            }
            let writes = if writes.is_empty() {
                String::new()
            } else {
                format!("; rewrites {}", writes.join(" + "))
            };
            let upgraded = if c.upgraded_from_v1 {
                "; v1 page upgraded to v2"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "* {:<9} {}{upgraded}: app_version {}, bootloader_version {}, bank_0 {}, bank_1 {}{writes}",
                format!("{}:", c.sdk),
                c.outcome,
                c.app_version,
                c.bootloader_version,
                c.bank_0,
                c.bank_1
            );
        }
        out
    }
}
