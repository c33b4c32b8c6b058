//! The JSON Schema of suite files (`rig suite schema`), generated from the same types that read
//! them, for editors (yaml-language-server: `# yaml-language-server: $schema=suite.schema.json`).

use super::Suite;
use schemars::JsonSchema;
use virtual_nrf52::defects::Defect;

/// The suite file schema.
pub fn suite_schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(Suite);
    schema.insert("title".into(), "rig suite".into());
    schema.insert(
        "description".into(),
        "A campaign file for rig: setup steps and cases of DFU updates with faults".into(),
    );
    schema
}

/// The schema as pretty JSON text.
pub fn suite_schema_json() -> String {
    // A Schema is a JSON value: serializing cannot fail.
    serde_json::to_string_pretty(&suite_schema()).unwrap_or_default()
}

/// Names of the virtual device's defect catalogue (schema only; values are read as [`Defect`]).
pub struct DefectName;

impl JsonSchema for DefectName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Defect".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Defect::ALL.iter().map(|d| d.name()).collect();
        schemars::json_schema!({
            "description": "A bootloader defect from the virtual device's catalogue",
            "type": "string",
            "enum": names,
        })
    }
}

/// Chip names as nrf_dfu::Chip reads them (schema only).
pub struct ChipName;

impl JsonSchema for ChipName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Chip".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<String> = [nrf_dfu::Chip::Nrf52832Qfaa, nrf_dfu::Chip::Nrf52832Qfab]
            .iter()
            .filter_map(|c| serde_json::to_value(c).ok())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        schemars::json_schema!({
            "description": "nRF52832 variant: QFAA (512 KB flash) or QFAB (256 KB)",
            "type": "string",
            "enum": names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_the_vocabulary() {
        let text = suite_schema_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["title"], "rig suite");
        for word in [
            "old-app-running",
            "power-cut",
            "flash-op",
            "stuck-after-create-failure",
            "nRF52832_xxAB",
            "standin:bootloader-17.1-ble",
            "enter_dfu",
        ] {
            assert!(text.contains(word), "schema lacks {word}");
        }
    }
}
