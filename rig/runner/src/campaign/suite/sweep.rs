//! Parameter sweeps: each listed parameter multiplies the case into sub-cases (a cartesian
//! product, in the order the fields are declared here), each named
//! `case[prn=1,mtu=247,fault_at=21%]` and run `iterations` times.
//!
//! `prn`, `mtu` and `transport` apply to every dfu step of the case; `fault_action`,
//! `fault_at` and `flash_op` to every dfu step that has a `fault`. `flash_op: all` needs the
//! number of flash operations of one update, which only a run knows (it depends on the image,
//! the bootloader profile and the activation): the run loop counts them with a clean update
//! first and expands then.

use super::fault::{FaultAction, FaultAt};
use super::step::{Step, Transport};
use super::Case;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prn: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Vec<Transport>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_action: Option<Vec<FaultAction>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_at: Option<Vec<FaultAt>>,
    /// A power cut inside each of these flash operations, or `all` of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_op: Option<FlashOps>,
}

/// `all` or a list of 0-based flash operation indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashOps {
    All,
    List(Vec<u32>),
}

/// One parameter value of a sub-case.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepValue {
    Prn(u16),
    Mtu(u16),
    Transport(Transport),
    FaultAction(FaultAction),
    FaultAt(FaultAt),
    FlashOp(u32),
}

impl SweepValue {
    /// The sweep field it comes from.
    pub fn key(&self) -> &'static str {
        match self {
            SweepValue::Prn(_) => "prn",
            SweepValue::Mtu(_) => "mtu",
            SweepValue::Transport(_) => "transport",
            SweepValue::FaultAction(_) => "fault_action",
            SweepValue::FaultAt(_) => "fault_at",
            SweepValue::FlashOp(_) => "flash_op",
        }
    }

    /// Set this value in `steps`.
    fn apply(&self, steps: &mut [Step]) {
        for step in steps {
            let Step::Dfu(d) = step else { continue };
            match self {
                SweepValue::Prn(v) => d.prn = Some(*v),
                SweepValue::Mtu(v) => d.mtu = Some(*v),
                SweepValue::Transport(t) => d.transport = Some(*t),
                SweepValue::FaultAction(a) => {
                    if let Some(f) = &mut d.fault {
                        f.action = *a;
                    }
                }
                SweepValue::FaultAt(at) => {
                    if let Some(f) = &mut d.fault {
                        f.at = at.clone();
                    }
                }
                SweepValue::FlashOp(n) => {
                    if let Some(f) = &mut d.fault {
                        f.at = FaultAt::FlashOp(*n);
                    }
                }
            }
        }
    }
}

impl fmt::Display for SweepValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepValue::Prn(v) | SweepValue::Mtu(v) => write!(f, "{v}"),
            SweepValue::Transport(t) => f.write_str(t.label()),
            SweepValue::FaultAction(a) => write!(f, "{a}"),
            SweepValue::FaultAt(at) => write!(f, "{at}"),
            SweepValue::FlashOp(n) => write!(f, "{n}"),
        }
    }
}

/// One sub-case: a case with one value of each swept parameter, its steps resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SubCase {
    pub case_index: usize,
    pub case: String,
    /// `case` alone without a sweep, else `case[k=v,...]`.
    pub name: String,
    pub params: Vec<SweepValue>,
    /// The case's steps with the parameters applied.
    pub steps: Vec<Step>,
    pub iterations: u32,
}

impl SubCase {
    /// Parameters as text, for journal records.
    pub fn param_map(&self) -> BTreeMap<String, String> {
        self.params
            .iter()
            .map(|p| (p.key().to_string(), p.to_string()))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("case `{case}` sweeps `flash_op: all`: the number of flash operations of one update must be counted first")]
    FlashOpsUnknown { case: String },
}

impl Sweep {
    /// The swept values, one list per parameter, in product order.
    fn axes(
        &self,
        case: &str,
        flash_ops: Option<u32>,
    ) -> Result<Vec<Vec<SweepValue>>, ExpandError> {
        let mut axes: Vec<Vec<SweepValue>> = Vec::new();
        if let Some(v) = &self.prn {
            axes.push(v.iter().copied().map(SweepValue::Prn).collect());
        }
        if let Some(v) = &self.mtu {
            axes.push(v.iter().copied().map(SweepValue::Mtu).collect());
        }
        if let Some(v) = &self.transport {
            axes.push(v.iter().copied().map(SweepValue::Transport).collect());
        }
        if let Some(v) = &self.fault_action {
            axes.push(v.iter().copied().map(SweepValue::FaultAction).collect());
        }
        if let Some(v) = &self.fault_at {
            axes.push(v.iter().cloned().map(SweepValue::FaultAt).collect());
        }
        match &self.flash_op {
            None => {}
            Some(FlashOps::List(v)) => {
                axes.push(v.iter().copied().map(SweepValue::FlashOp).collect())
            }
            Some(FlashOps::All) => {
                let n = flash_ops.ok_or_else(|| ExpandError::FlashOpsUnknown {
                    case: case.to_string(),
                })?;
                axes.push((0..n).map(SweepValue::FlashOp).collect());
            }
        }
        Ok(axes)
    }

    /// Sub-cases this sweep makes, if known without a run (`flash_op: all` is not).
    pub fn count(&self) -> Option<u64> {
        if self.flash_op == Some(FlashOps::All) {
            return None;
        }
        let axes = self.axes("", None).ok()?;
        Some(axes.iter().map(|a| a.len() as u64).product())
    }
}

impl Case {
    /// The case's sub-cases. `flash_ops` is the number of flash operations of one update,
    /// needed only for `flash_op: all`.
    pub fn sub_cases(
        &self,
        case_index: usize,
        flash_ops: Option<u32>,
    ) -> Result<Vec<SubCase>, ExpandError> {
        let axes = match &self.sweep {
            Some(s) => s.axes(&self.name, flash_ops)?,
            None => Vec::new(),
        };
        // Cartesian product, the last axis varying fastest.
        let mut combos: Vec<Vec<SweepValue>> = vec![Vec::new()];
        for axis in &axes {
            combos = combos
                .iter()
                .flat_map(|prefix| {
                    axis.iter().map(move |v| {
                        let mut c = prefix.clone();
                        c.push(v.clone());
                        c
                    })
                })
                .collect();
        }
        Ok(combos
            .into_iter()
            .map(|params| {
                let mut steps = self.steps.clone();
                for p in &params {
                    p.apply(&mut steps);
                }
                SubCase {
                    case_index,
                    case: self.name.clone(),
                    name: sub_case_name(&self.name, &params),
                    params,
                    steps,
                    iterations: self.iterations,
                }
            })
            .collect())
    }
}

fn sub_case_name(case: &str, params: &[SweepValue]) -> String {
    if params.is_empty() {
        return case.to_string();
    }
    let inner: Vec<String> = params.iter().map(|p| format!("{}={p}", p.key())).collect();
    format!("{case}[{}]", inner.join(","))
}

impl Serialize for FlashOps {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FlashOps::All => s.serialize_str("all"),
            FlashOps::List(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for FlashOps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FlashOps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`all` or a list of flash operation indices")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FlashOps, E> {
                if v == "all" {
                    Ok(FlashOps::All)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FlashOps, A::Error> {
                let mut v = Vec::new();
                while let Some(n) = seq.next_element::<u32>()? {
                    v.push(n);
                }
                Ok(FlashOps::List(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for FlashOps {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FlashOps".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`all` (every flash operation of one update and its activation) or a list of 0-based flash operation indices",
            "anyOf": [
                { "type": "string", "const": "all" },
                { "type": "array", "items": { "type": "integer", "minimum": 0, "maximum": u32::MAX } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::phase::Phase;
    use crate::campaign::suite::fault::{Fault, FixedPoint};
    use rstest::rstest;

    fn case(yaml: &str) -> Case {
        crate::campaign::suite::yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn cartesian_product_with_readable_names() {
        let c = case(
            "{ name: env, iterations: 4, sweep: { prn: [0, 12], mtu: [23, 247], fault_action: [reset, { power-cut: { off_ms: 100 } }] },
               steps: [ { dfu: { image: a.hex, fault: { action: link-drop, at: { percent: 50 } } } }, { dfu: { resume: true } } ] }",
        );
        let subs = c.sub_cases(3, None).unwrap();
        assert_eq!(subs.len(), 8);
        let names: Vec<&str> = subs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names[0], "env[prn=0,mtu=23,fault_action=reset]");
        assert_eq!(names[1], "env[prn=0,mtu=23,fault_action=power-cut-100ms]");
        assert_eq!(names[7], "env[prn=12,mtu=247,fault_action=power-cut-100ms]");
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), 8);
        let last = &subs[7];
        assert_eq!(
            (last.case_index, last.iterations, last.case.as_str()),
            (3, 4, "env")
        );
        // prn/mtu go to both dfu steps, the fault action only to the one with a fault.
        let Step::Dfu(d0) = &last.steps[0] else {
            panic!()
        };
        let Step::Dfu(d1) = &last.steps[1] else {
            panic!()
        };
        assert_eq!(
            (d0.prn, d0.mtu, d1.prn, d1.mtu),
            (Some(12), Some(247), Some(12), Some(247))
        );
        assert_eq!(
            d0.fault,
            Some(Fault {
                action: FaultAction::PowerCut { off_ms: 100 },
                at: FaultAt::Percent(50.0)
            })
        );
        assert_eq!(d1.fault, None);
        assert_eq!(last.param_map().get("mtu").map(String::as_str), Some("247"));
        assert_eq!(c.sweep.as_ref().unwrap().count(), Some(8));
    }

    #[test]
    fn no_sweep_is_one_sub_case_named_as_the_case() {
        let c = case("{ name: smoke, steps: [ { dfu: { image: a.hex } } ] }");
        let subs = c.sub_cases(0, None).unwrap();
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].name, "smoke");
        assert_eq!(subs[0].steps, c.steps);
    }

    #[rstest]
    #[case(Some(5), 5)]
    #[case(Some(0), 0)]
    fn flash_op_all_needs_the_count(#[case] ops: Option<u32>, #[case] want: usize) {
        let c = case(
            "{ name: cut, sweep: { flash_op: all }, steps: [ { dfu: { image: a.hex, fault: { action: { power-cut: { off_ms: 10 } }, at: { after-ms: 0 } } } } ] }",
        );
        assert_eq!(c.sweep.as_ref().unwrap().count(), None);
        assert_eq!(
            c.sub_cases(0, None).unwrap_err(),
            ExpandError::FlashOpsUnknown { case: "cut".into() }
        );
        let subs = c.sub_cases(0, ops).unwrap();
        assert_eq!(subs.len(), want);
        if let Some(last) = subs.last() {
            assert_eq!(last.name, format!("cut[flash_op={}]", want - 1));
            let Step::Dfu(d) = &last.steps[0] else {
                panic!()
            };
            assert_eq!(
                d.fault.as_ref().unwrap().at,
                FaultAt::FlashOp(want as u32 - 1)
            );
        }
    }

    #[test]
    fn fault_points_in_names() {
        let c = case(
            "{ name: at, sweep: { fault_at: [ { fixed: { phase: create, object: init } }, { fixed: { phase: write, object: 2, byte: 512 } }, { percent: 99.5 } ], flash_op: [3, 9] },
               steps: [ { dfu: { image: a.hex, fault: { action: reset, at: { percent: 1 } } } } ] }",
        );
        let names: Vec<String> = c
            .sub_cases(0, None)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                "at[fault_at=create-init,flash_op=3]",
                "at[fault_at=create-init,flash_op=9]",
                "at[fault_at=write-obj2+512,flash_op=3]",
                "at[fault_at=write-obj2+512,flash_op=9]",
                "at[fault_at=99.5%,flash_op=3]",
                "at[fault_at=99.5%,flash_op=9]",
            ]
        );
        let _ = FixedPoint {
            phase: Phase::Write,
            object: None,
            byte: None,
            image: None,
        };
    }

    #[test]
    fn flash_ops_forms() {
        assert_eq!(
            crate::campaign::suite::yaml::from_str::<FlashOps>("all").unwrap(),
            FlashOps::All
        );
        assert_eq!(
            crate::campaign::suite::yaml::from_str::<FlashOps>("[1, 2]").unwrap(),
            FlashOps::List(vec![1, 2])
        );
        let e = crate::campaign::suite::yaml::from_str::<FlashOps>("every")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`all` or a list"), "{e}");
        assert_eq!(
            crate::campaign::suite::yaml::to_string(&FlashOps::All)
                .unwrap()
                .trim(),
            "all"
        );
    }
}
