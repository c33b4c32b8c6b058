//! What persists, read back from each device after a reset and at the end of a scenario: the
//! settings page and its backup (SDK 15.2+: the MBR parameter page), and the application area
//! with the banks the SDK 17 dual-bank layout places in it (`nrf_dfu_utils.c`:
//! `nrf_dfu_bank0_start_addr`, `nrf_dfu_bank1_start_addr` = bank 0 + ALIGN_TO_PAGE(bank_0
//! size)). Compared field by field through nrf-dfu's settings-page codec, so a difference
//! names the field.

use super::images::CHIP;
use nrf_dfu::memory_map::{APP_DATA_AREA_SIZE, MBR_SIZE, PAGE_SIZE};
use nrf_dfu::settings::{SettingsLayout, SettingsPage};
use nrf_dfu::SdkVersion;
use serde_json::Value;
use std::collections::BTreeMap;

/// One device's persistent state.
pub struct Snapshot {
    pub settings: Vec<u8>,
    pub backup: Vec<u8>,
    /// Flash from bank 0's start (0x1000: no SoftDevice) to [`app_area_end`].
    pub app_area: Vec<u8>,
}

/// The end of the application area both bootloaders leave alone: the lower of the two
/// bootloader start addresses (UICR.NRFFW\[0\]) less the SDK's 3-page app data area
/// (`NRF_DFU_APP_DATA_AREA_SIZE`), so the comparison reads only flash both may write.
pub fn app_area_end(bootloader_starts: [u32; 2]) -> u32 {
    bootloader_starts
        .into_iter()
        .min()
        .unwrap_or(0)
        .saturating_sub(APP_DATA_AREA_SIZE)
        .max(MBR_SIZE)
}

/// One difference in persistent state: what, the model's value, the genuine value.
pub type StateDifference = (String, String, String);

impl Snapshot {
    pub fn read(target: &super::target::Target, area_end: u32) -> Snapshot {
        Snapshot {
            settings: target.read_flash(CHIP.settings_address(), PAGE_SIZE),
            backup: target.read_flash(CHIP.mbr_params_address(), PAGE_SIZE),
            app_area: target.read_flash(MBR_SIZE, area_end.saturating_sub(MBR_SIZE)),
        }
    }

    fn page(bytes: &[u8]) -> Option<SettingsPage> {
        SettingsPage::decode(bytes, SettingsLayout::for_sdk(SdkVersion::Sdk17)).ok()
    }
}

/// `value` as (dotted path, text) leaves.
fn leaves(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Number(n) => {
            let text = n
                .as_u64()
                .map_or_else(|| n.to_string(), |v| format!("{v:#x}"));
            out.insert(prefix.to_string(), text);
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Long values (the init command in hex) shortened to where they differ.
fn shorten(a: &str, b: &str) -> (String, String) {
    const MAX: usize = 48;
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() <= MAX && b.len() <= MAX {
        return (a.iter().collect(), b.iter().collect());
    }
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let at = at - at % 2;
    let cut = |s: &[char]| {
        let end = (at + 32).min(s.len());
        let part: String = s[at.min(s.len())..end].iter().collect();
        format!("char {at}: {part}…")
    };
    (cut(&a), cut(&b))
}

/// The settings copy `name` of both, field by field (raw bytes when one does not decode).
fn compare_page(name: &str, model: &[u8], genuine: &[u8], out: &mut Vec<StateDifference>) {
    let layout_len = SettingsLayout::for_sdk(SdkVersion::Sdk17).size();
    let (Some(m), Some(g)) = (Snapshot::page(model), Snapshot::page(genuine)) else {
        if model[..layout_len] != genuine[..layout_len] {
            let (m, g) = shorten(&hex::encode(model), &hex::encode(genuine));
            out.push((format!("{name} (raw)"), m, g));
        }
        return;
    };
    let mut ml = BTreeMap::new();
    let mut gl = BTreeMap::new();
    leaves(
        name,
        &serde_json::to_value(&m).unwrap_or(Value::Null),
        &mut ml,
    );
    leaves(
        name,
        &serde_json::to_value(&g).unwrap_or(Value::Null),
        &mut gl,
    );
    let keys: std::collections::BTreeSet<&String> = ml.keys().chain(gl.keys()).collect();
    for k in keys {
        let mv = ml.get(k).map_or("(absent)", String::as_str);
        let gv = gl.get(k).map_or("(absent)", String::as_str);
        if mv != gv {
            let (mv, gv) = shorten(mv, gv);
            out.push((k.clone(), mv, gv));
        }
    }
}

/// Bytes of `[start, end)` (absolute addresses) that differ: a summary naming the first.
fn compare_region(
    name: &str,
    start: u32,
    end: u32,
    model: &Snapshot,
    genuine: &Snapshot,
    skip: &[(u32, u32)],
    out: &mut Vec<StateDifference>,
) {
    let len = model.app_area.len().min(genuine.app_area.len()) as u32;
    let (lo, hi) = (
        start.saturating_sub(MBR_SIZE).min(len),
        end.saturating_sub(MBR_SIZE).min(len),
    );
    let mut first = None;
    let mut count = 0usize;
    for off in lo..hi {
        let addr = off + MBR_SIZE;
        if skip.iter().any(|&(a, b)| a <= addr && addr < b) {
            continue;
        }
        if model.app_area[off as usize] != genuine.app_area[off as usize] {
            count += 1;
            first.get_or_insert(off);
        }
    }
    if let Some(off) = first {
        let o = off as usize;
        let n = 16.min(model.app_area.len() - o);
        out.push((
            format!("{name} [{start:#x}, {end:#x})"),
            format!(
                "{count} bytes differ, first at {:#x}: {}",
                off + MBR_SIZE,
                hex::encode(&model.app_area[o..o + n])
            ),
            format!(
                "{count} bytes differ, first at {:#x}: {}",
                off + MBR_SIZE,
                hex::encode(&genuine.app_area[o..o + n])
            ),
        ));
    }
}

fn align_to_page(v: u32) -> u32 {
    v.div_ceil(PAGE_SIZE) * PAGE_SIZE
}

/// Every difference between the model's state and the genuine code's.
pub fn compare(model: &Snapshot, genuine: &Snapshot) -> Vec<StateDifference> {
    let mut out = Vec::new();
    compare_page("settings", &model.settings, &genuine.settings, &mut out);
    compare_page("backup", &model.backup, &genuine.backup, &mut out);
    // The banks as the genuine settings (the reference) place them, each as large as either
    // side's settings say.
    let (mp, gp) = (
        Snapshot::page(&model.settings),
        Snapshot::page(&genuine.settings),
    );
    let size = |f: fn(&SettingsPage) -> u32| {
        mp.as_ref()
            .map_or(0, f)
            .max(gp.as_ref().map_or(0, f))
            .min(0x10_0000)
    };
    let bank0_size = size(|p| p.bank_0.image_size);
    let bank1_size = size(|p| p.bank_1.image_size);
    let bank0 = (MBR_SIZE, MBR_SIZE + align_to_page(bank0_size));
    let b1 = align_to_page(MBR_SIZE + gp.as_ref().map_or(0, |p| p.bank_0.image_size));
    let bank1 = (b1, b1 + align_to_page(bank1_size));
    let end = MBR_SIZE + model.app_area.len().min(genuine.app_area.len()) as u32;
    let mut covered = Vec::new();
    if bank0.1 > bank0.0 {
        compare_region("bank 0", bank0.0, bank0.1, model, genuine, &[], &mut out);
        covered.push(bank0);
    }
    if bank1.1 > bank1.0 {
        compare_region(
            "bank 1", bank1.0, bank1.1, model, genuine, &covered, &mut out,
        );
        covered.push(bank1);
    }
    compare_region(
        "app area outside the banks",
        MBR_SIZE,
        end,
        model,
        genuine,
        &covered,
        &mut out,
    );
    out
}
