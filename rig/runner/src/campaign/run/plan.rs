//! An iteration's fault plan: the suite's fault (fixed, percent, random with a distribution,
//! flash operation, time) made concrete from the iteration's seed, and the test of whether a
//! progress event of the client has reached it.

use super::error::{object_of, phase_of};
use super::rng::SplitMix64;
use crate::campaign::phase::{ObjectRef, Phase};
use crate::campaign::suite::{Distribution, Fault, FaultAction, FaultAt};
use nrf_dfu::client::{DfuImage, ProgressEvent};
use nrf_dfu::wire::ObjectType;
use std::fmt;
use std::time::Duration;

/// The bootloader's data object size (NRF_DFU_DATA_OBJ_MAX_SIZE, 4096 in every SDK version's
/// default configuration); used only to pick object indices before SELECT says.
const DATA_OBJECT_SIZE: u64 = 4096;

/// Where a fault lands.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// The first progress event at this protocol point (and at or past `byte` in it).
    Point {
        image: Option<u32>,
        phase: Phase,
        object: Option<ObjectRef>,
        byte: Option<u32>,
    },
    /// The first firmware write at or past this byte, counted over all images in send order.
    Byte(u64),
    /// In the middle of the n-th flash operation from the start of the update (virtual bench).
    FlashOp(u32),
    /// The first progress event this long after the update started.
    After(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFault {
    pub action: FaultAction,
    pub trigger: Trigger,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Point {
                image,
                phase,
                object,
                byte,
            } => {
                if let Some(i) = image {
                    write!(f, "image {i} ")?;
                }
                write!(f, "{phase}")?;
                match object {
                    Some(ObjectRef::Init) => f.write_str(" of the init packet")?,
                    Some(ObjectRef::Data(n)) => write!(f, " of data object {n}")?,
                    None => {}
                }
                if let Some(b) = byte {
                    write!(f, " at byte {b}")?;
                }
                Ok(())
            }
            Trigger::Byte(b) => write!(f, "firmware byte {b}"),
            Trigger::FlashOp(n) => write!(f, "flash operation {n}"),
            Trigger::After(d) => write!(f, "{} ms into the update", d.as_millis()),
        }
    }
}

impl fmt::Display for PlannedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.action, self.trigger)
    }
}

/// Make `fault` concrete for an update of `images`.
pub fn plan(fault: &Fault, images: &[DfuImage], rng: &mut SplitMix64) -> PlannedFault {
    let total: u64 = images.iter().map(|i| i.firmware.len() as u64).sum();
    let objects = |img: usize| -> u64 {
        let len = images.get(img).map_or(0, |i| i.firmware.len() as u64);
        len.div_ceil(DATA_OBJECT_SIZE).max(1)
    };
    let trigger = match &fault.at {
        FaultAt::Fixed(p) => Trigger::Point {
            image: p.image,
            phase: p.phase,
            object: p.object,
            byte: p.byte,
        },
        FaultAt::Percent(pct) => {
            let pct = pct.clamp(0.0, 100.0);
            let b = (total as f64 * pct / 100.0).floor() as u64;
            Trigger::Byte(b.min(total.saturating_sub(1)))
        }
        FaultAt::FlashOp(n) => Trigger::FlashOp(*n),
        FaultAt::AfterMs(ms) => Trigger::After(Duration::from_millis(*ms)),
        FaultAt::Random(r) => {
            let phases = r.phases.clone().unwrap_or_default();
            let img = rng.below(images.len() as u64) as usize;
            let image = (images.len() > 1).then_some(img as u32);
            let data = |rng: &mut SplitMix64| ObjectRef::Data(rng.below(objects(img)) as u32);
            match r.distribution {
                Distribution::Uniform if phases.is_empty() || phases.contains(&Phase::Write) => {
                    Trigger::Byte(rng.below(total.max(1)))
                }
                Distribution::Uniform => {
                    let phase = phases[rng.below(phases.len() as u64) as usize];
                    let object = match phase {
                        Phase::Select | Phase::Create | Phase::Crc | Phase::Execute => {
                            Some(data(rng))
                        }
                        _ => None,
                    };
                    Trigger::Point {
                        image,
                        phase,
                        object,
                        byte: None,
                    }
                }
                Distribution::ProtocolPoints => {
                    // Every request the client makes is one point: init SELECT/CREATE/EXECUTE,
                    // then per data object CREATE, first write, CRC and EXECUTE, then activation.
                    let n = objects(img);
                    let points = 3 + 4 * n + 1;
                    let k = rng.below(points);
                    let (phase, object) = if k < 3 {
                        (
                            [Phase::Select, Phase::Create, Phase::Execute][k as usize],
                            Some(ObjectRef::Init),
                        )
                    } else if k < 3 + 4 * n {
                        let j = k - 3;
                        (
                            [Phase::Create, Phase::Write, Phase::Crc, Phase::Execute]
                                [(j % 4) as usize],
                            Some(ObjectRef::Data((j / 4) as u32)),
                        )
                    } else {
                        (Phase::Activation, None)
                    };
                    Trigger::Point {
                        image,
                        phase,
                        object,
                        byte: None,
                    }
                }
                Distribution::ObjectBoundaries => {
                    let phase = if rng.below(2) == 0 {
                        Phase::Create
                    } else {
                        Phase::Execute
                    };
                    Trigger::Point {
                        image,
                        phase,
                        object: Some(data(rng)),
                        byte: None,
                    }
                }
            }
        }
    };
    PlannedFault {
        action: fault.action,
        trigger,
    }
}

impl Trigger {
    /// Whether `e` (seen `elapsed` after the update started) has reached this point.
    /// `image_starts[i]` is the firmware byte at which image `i` starts, in send order.
    pub fn reached(&self, e: &ProgressEvent, image_starts: &[u64], elapsed: Duration) -> bool {
        match self {
            Trigger::Point {
                image,
                phase,
                object,
                byte,
            } => {
                image.is_none_or(|i| i as usize == e.image_index)
                    && phase_of(e.phase) == *phase
                    && object.is_none_or(|o| object_of(e.object, e.object_index) == Some(o))
                    && byte.is_none_or(|b| e.offset >= b)
            }
            Trigger::Byte(b) => {
                e.object == Some(ObjectType::Data)
                    && phase_of(e.phase) == Phase::Write
                    && image_starts.get(e.image_index).copied().unwrap_or(0) + u64::from(e.offset)
                        >= *b
            }
            Trigger::FlashOp(_) => false,
            Trigger::After(d) => elapsed >= *d,
        }
    }
}

/// Where each image starts in the firmware bytes of the whole update.
pub fn image_starts(images: &[DfuImage]) -> Vec<u64> {
    let mut at = 0;
    images
        .iter()
        .map(|i| {
            let s = at;
            at += i.firmware.len() as u64;
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::suite::RandomPoint;
    use nrf_dfu::client::{ImageKind, Phase as CP};

    fn images(len: usize) -> Vec<DfuImage> {
        vec![DfuImage::new(
            ImageKind::Application,
            vec![0; 100],
            vec![0; len],
        )]
    }

    fn event(phase: CP, object: Option<ObjectType>, index: u32, offset: u32) -> ProgressEvent {
        ProgressEvent {
            image_index: 0,
            image_count: 1,
            image_kind: ImageKind::Application,
            phase,
            object,
            object_index: index,
            object_count: 3,
            attempt: 1,
            offset,
            total: 10_000,
            bytes_per_second: 0.0,
        }
    }

    /// Whether `t` fires at `e`, for a single image starting at 0 and no time elapsed.
    fn fires(t: &Trigger, e: ProgressEvent) -> bool {
        t.reached(&e, &[0], Duration::ZERO)
    }

    #[test]
    fn percent_lands_on_the_byte_and_a_write_past_it_triggers() {
        let f: Fault =
            crate::campaign::suite::yaml::from_str("{ action: reset, at: { percent: 50 } }")
                .unwrap();
        let p = plan(&f, &images(10_000), &mut SplitMix64::new(1));
        assert_eq!(p.trigger, Trigger::Byte(5000));
        let t = p.trigger;
        assert!(!fires(
            &t,
            event(CP::Write, Some(ObjectType::Data), 1, 4999)
        ));
        assert!(!fires(
            &t,
            event(CP::Create, Some(ObjectType::Data), 1, 5000)
        ));
        assert!(fires(&t, event(CP::Write, Some(ObjectType::Data), 1, 5000)));
    }

    #[test]
    fn fixed_points_match_phase_and_object() {
        let f: Fault = crate::campaign::suite::yaml::from_str(
            "{ action: link-drop, at: { fixed: { phase: create, object: 1 } } }",
        )
        .unwrap();
        let t = plan(&f, &images(10_000), &mut SplitMix64::new(1)).trigger;
        assert!(!fires(&t, event(CP::Create, Some(ObjectType::Data), 0, 0)));
        assert!(!fires(
            &t,
            event(CP::Create, Some(ObjectType::Command), 0, 0)
        ));
        assert!(fires(
            &t,
            event(CP::Create, Some(ObjectType::Data), 1, 4096)
        ));
    }

    #[test]
    fn random_points_are_seeded_and_stay_inside_the_update() {
        for dist in [
            Distribution::Uniform,
            Distribution::ProtocolPoints,
            Distribution::ObjectBoundaries,
        ] {
            let f = Fault {
                action: FaultAction::Reset,
                at: FaultAt::Random(RandomPoint {
                    distribution: dist,
                    phases: None,
                }),
            };
            let mut seen = std::collections::BTreeSet::new();
            for seed in 0..200 {
                let a = plan(&f, &images(10_000), &mut SplitMix64::new(seed));
                let b = plan(&f, &images(10_000), &mut SplitMix64::new(seed));
                assert_eq!(a, b, "same seed, same point");
                match &a.trigger {
                    Trigger::Byte(x) => assert!(*x < 10_000),
                    Trigger::Point {
                        object: Some(ObjectRef::Data(n)),
                        ..
                    } => assert!(*n < 3),
                    Trigger::Point { .. } => {}
                    other => panic!("{other:?}"),
                }
                seen.insert(a.trigger.to_string());
            }
            assert!(seen.len() > 5, "{dist:?}: only {seen:?}");
        }
    }
}
