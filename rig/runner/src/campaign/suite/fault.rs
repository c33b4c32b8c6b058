//! A fault = what (reset, power cut, link drop) + where (a protocol point, a percentage of the
//! firmware, a seeded random point, a flash operation, a time). Written in a dfu step; the run
//! loop watches the client's progress events and acts when the point is reached.

use crate::campaign::phase::{ObjectRef, Phase};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One planned fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub action: FaultAction,
    pub at: FaultAt,
}

/// What happens to the device (or the link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultAction {
    /// Reset through SWD (or the reset pin): RAM lost, flash kept, power stays on.
    Reset,
    /// Power removed for `off_ms`, then restored: a flash operation in flight is torn.
    PowerCut {
        /// How long the power stays off, in milliseconds.
        off_ms: u64,
    },
    /// The BLE link (or serial line) is dropped; the device keeps running.
    LinkDrop,
}

/// Where in the update the fault fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultAt {
    /// An exact protocol point: before the client's step `phase` on `object`, after `byte`
    /// bytes of that object were written.
    Fixed(FixedPoint),
    /// When this percentage (0-100) of the firmware bytes has been written.
    Percent(f64),
    /// A point drawn from the iteration's seed.
    Random(RandomPoint),
    /// Inside flash operation N (0-based erase or write, counted from the start of the dfu step
    /// through activation, settings page writes included): what a power-loss sweep walks.
    FlashOp(u32),
    /// This many milliseconds after the dfu step started.
    AfterMs(u64),
}

/// An exact protocol point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedPoint {
    pub phase: Phase,
    /// The init packet or a data object; any object when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// Bytes of the object already written (for `write`); 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte: Option<u32>,
    /// 0-based image in send order for multi-image packages (SoftDevice + bootloader, then
    /// application); the first when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<u32>,
}

/// A seeded random point.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomPoint {
    #[serde(default)]
    pub distribution: Distribution,
    /// Only points in these phases; every phase when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<Phase>>,
}

/// How a random point is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// Uniform over the firmware bytes of the transfer (most points land in `write`).
    #[default]
    Uniform,
    /// Uniform over the client's progress events, so SELECT/CREATE/CRC/EXECUTE are hit as
    /// often as writes.
    ProtocolPoints,
    /// Just before or after a data object's CREATE or EXECUTE, where bootloaders erase, copy
    /// and write settings.
    ObjectBoundaries,
}

impl Distribution {
    pub fn label(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::ProtocolPoints => "protocol-points",
            Distribution::ObjectBoundaries => "object-boundaries",
        }
    }
}

impl fmt::Display for FaultAction {
    /// `reset`, `power-cut-200ms`, `link-drop`: usable in sub-case names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultAction::Reset => f.write_str("reset"),
            FaultAction::PowerCut { off_ms } => write!(f, "power-cut-{off_ms}ms"),
            FaultAction::LinkDrop => f.write_str("link-drop"),
        }
    }
}

impl fmt::Display for FaultAt {
    /// `write-obj3+1536`, `21%`, `random-uniform`, `flash-op-12`, `after-500ms`: no `/`, `,`,
    /// `[` or `]`, so they can sit in sub-case names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultAt::Fixed(p) => {
                if let Some(i) = p.image {
                    write!(f, "img{i}-")?;
                }
                write!(f, "{}", p.phase)?;
                if let Some(o) = p.object {
                    write!(f, "-{o}")?;
                }
                if let Some(b) = p.byte {
                    write!(f, "+{b}")?;
                }
                Ok(())
            }
            FaultAt::Percent(p) => write!(f, "{p}%"),
            FaultAt::Random(r) => {
                write!(f, "random-{}", r.distribution.label())?;
                if let Some(phases) = &r.phases {
                    for p in phases {
                        write!(f, "-{p}")?;
                    }
                }
                Ok(())
            }
            FaultAt::FlashOp(n) => write!(f, "flash-op-{n}"),
            FaultAt::AfterMs(ms) => write!(f, "after-{ms}ms"),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.action, self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "{ action: reset, at: { percent: 21 } }",
        FaultAction::Reset,
        FaultAt::Percent(21.0),
        "reset at 21%"
    )]
    #[case(
        "{ action: { power-cut: { off_ms: 200 } }, at: { fixed: { phase: write, object: 3, byte: 1536 } } }",
        FaultAction::PowerCut { off_ms: 200 },
        FaultAt::Fixed(FixedPoint { phase: Phase::Write, object: Some(ObjectRef::Data(3)), byte: Some(1536), image: None }),
        "power-cut-200ms at write-obj3+1536"
    )]
    #[case(
        "{ action: link-drop, at: { fixed: { phase: create, object: init } } }",
        FaultAction::LinkDrop,
        FaultAt::Fixed(FixedPoint { phase: Phase::Create, object: Some(ObjectRef::Init), byte: None, image: None }),
        "link-drop at create-init"
    )]
    #[case(
        "{ action: reset, at: { random: { distribution: protocol-points } } }",
        FaultAction::Reset,
        FaultAt::Random(RandomPoint { distribution: Distribution::ProtocolPoints, phases: None }),
        "reset at random-protocol-points"
    )]
    #[case(
        "{ action: reset, at: { random: {} } }",
        FaultAction::Reset,
        FaultAt::Random(RandomPoint::default()),
        "reset at random-uniform"
    )]
    #[case(
        "{ action: { power-cut: { off_ms: 50 } }, at: { flash-op: 12 } }",
        FaultAction::PowerCut { off_ms: 50 },
        FaultAt::FlashOp(12),
        "power-cut-50ms at flash-op-12"
    )]
    #[case(
        "{ action: reset, at: { after-ms: 1500 } }",
        FaultAction::Reset,
        FaultAt::AfterMs(1500),
        "reset at after-1500ms"
    )]
    fn fault_yaml(
        #[case] yaml: &str,
        #[case] action: FaultAction,
        #[case] at: FaultAt,
        #[case] shown: &str,
    ) {
        let f: Fault = crate::campaign::suite::yaml::from_str(yaml).unwrap();
        assert_eq!(f.action, action);
        assert_eq!(f.at, at);
        assert_eq!(f.to_string(), shown);
        // Written back and read again it is the same fault.
        let again: Fault = crate::campaign::suite::yaml::from_str(
            &crate::campaign::suite::yaml::to_string(&f).unwrap(),
        )
        .unwrap();
        assert_eq!(again, f);
    }

    #[rstest]
    #[case("{ action: reboot, at: { percent: 1 } }", "unknown variant `reboot`")]
    #[case(
        "{ action: { power-cut: {} }, at: { percent: 1 } }",
        "missing field `off_ms`"
    )]
    #[case(
        "{ action: reset, at: { fixed: { phase: write, offset: 3 } } }",
        "unknown field `offset`"
    )]
    #[case(
        "{ action: reset, at: { random: { distribution: gaussian } } }",
        "unknown variant `gaussian`"
    )]
    #[case("{ action: reset }", "missing field `at`")]
    fn bad_faults(#[case] yaml: &str, #[case] want: &str) {
        let e = crate::campaign::suite::yaml::from_str::<Fault>(yaml)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}
