//! Where in an update something happens: the protocol phase and the object. Shared by fault
//! points (suites), failure classes and journal records.
//!
//! The protocol phase labels are those of the DFU client's progress events (`select`, `create`,
//! `write`, `crc`, `execute`, `activation`), so a fault point in a suite names exactly the
//! event the client announces; `enter-dfu` and `reconnect` are the runner's own waits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A phase of one update, in the order an update goes through them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Getting the device into DFU mode (buttonless or through SWD).
    EnterDfu,
    /// PING / SET_PRN / MTU_GET before an image.
    Setup,
    /// SELECT of the command (init packet) or data object type.
    Select,
    /// CREATE of an object.
    Create,
    /// Writing object data.
    Write,
    /// CRC_GET after an object or a PRN window.
    Crc,
    /// EXECUTE of an object.
    Execute,
    /// After the last EXECUTE: the bootloader validates, copies (SoftDevice/bootloader) and resets.
    Activation,
    /// Waiting for the device (bootloader or new app) to be reachable again.
    Reconnect,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::EnterDfu,
        Phase::Setup,
        Phase::Select,
        Phase::Create,
        Phase::Write,
        Phase::Crc,
        Phase::Execute,
        Phase::Activation,
        Phase::Reconnect,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Phase::EnterDfu => "enter-dfu",
            Phase::Setup => "setup",
            Phase::Select => "select",
            Phase::Create => "create",
            Phase::Write => "write",
            Phase::Crc => "crc",
            Phase::Execute => "execute",
            Phase::Activation => "activation",
            Phase::Reconnect => "reconnect",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The text is not a phase label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown phase `{0}`: expected one of {choices}", choices = Phase::ALL.map(Phase::label).join(", "))]
pub struct UnknownPhase(pub String);

impl FromStr for Phase {
    type Err = UnknownPhase;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.label() == s)
            .ok_or_else(|| UnknownPhase(s.to_string()))
    }
}

/// Which object: the init packet (command object) or data object N (0-based, `offset / max_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "ObjectRefRepr", into = "ObjectRefRepr")]
pub enum ObjectRef {
    Init,
    Data(u32),
}

/// Written `init` or a data object index.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
enum ObjectRefRepr {
    Index(u32),
    Name(InitName),
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum InitName {
    /// The init packet (command object).
    Init,
}

impl From<ObjectRefRepr> for ObjectRef {
    fn from(r: ObjectRefRepr) -> Self {
        match r {
            ObjectRefRepr::Index(i) => ObjectRef::Data(i),
            ObjectRefRepr::Name(InitName::Init) => ObjectRef::Init,
        }
    }
}

impl From<ObjectRef> for ObjectRefRepr {
    fn from(o: ObjectRef) -> Self {
        match o {
            ObjectRef::Init => ObjectRefRepr::Name(InitName::Init),
            ObjectRef::Data(i) => ObjectRefRepr::Index(i),
        }
    }
}

impl JsonSchema for ObjectRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObjectRef".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut s = ObjectRefRepr::json_schema(g);
        s.insert(
            "description".into(),
            "`init` for the init packet (command object), or a 0-based data object index".into(),
        );
        s
    }
}

impl fmt::Display for ObjectRef {
    /// `init` or `obj3`: short and free of `/` and `:` so it can sit in sub-case names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectRef::Init => f.write_str("init"),
            ObjectRef::Data(i) => write!(f, "obj{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Phase::EnterDfu, "enter-dfu")]
    #[case(Phase::Setup, "setup")]
    #[case(Phase::Select, "select")]
    #[case(Phase::Create, "create")]
    #[case(Phase::Write, "write")]
    #[case(Phase::Crc, "crc")]
    #[case(Phase::Execute, "execute")]
    #[case(Phase::Activation, "activation")]
    #[case(Phase::Reconnect, "reconnect")]
    fn phase_labels(#[case] p: Phase, #[case] label: &str) {
        assert_eq!(p.label(), label);
        assert_eq!(label.parse::<Phase>().unwrap(), p);
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{label}\""));
    }

    #[test]
    fn unknown_phase_names_the_choices() {
        let e = "flash".parse::<Phase>().unwrap_err().to_string();
        assert!(e.contains("`flash`") && e.contains("activation"), "{e}");
    }

    #[rstest]
    #[case("init", ObjectRef::Init)]
    #[case("3", ObjectRef::Data(3))]
    #[case("0", ObjectRef::Data(0))]
    fn object_ref_yaml(#[case] text: &str, #[case] want: ObjectRef) {
        let o: ObjectRef = crate::campaign::suite::yaml::from_str(text).unwrap();
        assert_eq!(o, want);
        let back = crate::campaign::suite::yaml::to_string(&o).unwrap();
        assert_eq!(back.trim(), text);
    }

    #[test]
    fn object_ref_rejects_other_words() {
        assert!(crate::campaign::suite::yaml::from_str::<ObjectRef>("data").is_err());
        assert!(crate::campaign::suite::yaml::from_str::<ObjectRef>("-1").is_err());
    }
}
