//! YAML in and out for suites. yaml_serde writes enums as YAML tags (`!power-cut`) and reads
//! only those; suites use the single-key map form (`power-cut: { off_ms: 200 }`) that editors,
//! the JSON Schema and JSON agree on, so every read and write goes through yaml_serde's
//! `singleton_map_recursive`.

use serde::de::DeserializeOwned;
use serde::Serialize;

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
    serde_yaml::with::singleton_map_recursive::deserialize(serde_yaml::Deserializer::from_str(text))
}

pub fn to_string<T: Serialize>(value: &T) -> Result<String, serde_yaml::Error> {
    let mut out = Vec::new();
    let mut ser = serde_yaml::Serializer::new(&mut out);
    serde_yaml::with::singleton_map_recursive::serialize(value, &mut ser)?;
    drop(ser);
    String::from_utf8(out)
        .map_err(|e| <serde_yaml::Error as serde::ser::Error>::custom(e.to_string()))
}
