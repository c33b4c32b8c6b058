//! The client's progress hook: records the update's course in the evidence and fires the
//! planned fault.

use super::*;

/// The progress hook: records the update's course and fires the planned fault.
pub(super) struct FaultSink<'e, I> {
    pub(super) planned: Option<PlannedFault>,
    pub(super) injector: I,
    pub(super) starts: Vec<u64>,
    pub(super) started: Instant,
    /// Where the fault fired.
    pub(super) fired: Option<String>,
    /// The data object (0-based) and firmware offset it fired at; `None` as object outside the
    /// data transfer.
    pub(super) fired_point: Option<(Option<u32>, u32)>,
    /// The bench could not inject it (a power switch that did not answer): an infra fault.
    pub(super) inject_failure: Option<StepFailure>,
    pub(super) t0: Instant,
    pub(super) evidence: &'e mut Evidence,
    pub(super) observer: &'e dyn RunObserver,
    pub(super) dut: String,
    pub(super) last_phase: Option<(Phase, Option<nrf_dfu::wire::ObjectType>, u32)>,
}

impl<I: FaultInjector> ProgressSink for FaultSink<'_, I> {
    async fn on_progress(&mut self, e: &ProgressEvent) -> Control {
        let t = self.t0.elapsed().as_millis() as u64;
        let phase = phase_of(e.phase);
        let key = (phase, e.object, e.object_index);
        if self.last_phase != Some(key) && phase != Phase::Write {
            self.last_phase = Some(key);
            trace_dfu_object(e);
            let what = match e.object {
                Some(nrf_dfu::wire::ObjectType::Command) => "init packet".to_string(),
                Some(nrf_dfu::wire::ObjectType::Data) => {
                    format!("data object {}/{}", e.object_index, e.object_count)
                }
                None => String::new(),
            };
            self.evidence.event(
                t,
                format!("{phase} {what} at {}/{}", e.offset, e.total).replace("  ", " "),
            );
            let percent = if e.total > 0 && e.object == Some(nrf_dfu::wire::ObjectType::Data) {
                (u64::from(e.offset) * 100 / u64::from(e.total)) as u8
            } else {
                0
            };
            self.observer.event(RunEvent::Phase {
                dut: &self.dut,
                phase,
                percent,
            });
        }
        let Some(p) = &self.planned else {
            return Control::Continue;
        };
        if self.fired.is_some() || !p.trigger.reached(e, &self.starts, self.started.elapsed()) {
            return Control::Continue;
        }
        let at = format!(
            "{phase} image {} object {:?} #{} offset {}",
            e.image_index, e.object, e.object_index, e.offset
        );
        self.evidence
            .event(t, format!("FAULT {} at {at}", p.action));
        self.fired_point = Some(match e.object {
            Some(nrf_dfu::wire::ObjectType::Data) => (Some(e.object_index), e.offset),
            _ => (None, 0),
        });
        match p.action {
            FaultAction::LinkDrop => {
                self.fired = Some(at);
            }
            action => {
                if let Err(f) = self.injector.inject(action).await {
                    self.inject_failure = Some(StepFailure::infra(
                        InfraFault::PowerSwitch,
                        format!("failed to inject {action} at {at}: {}", f.message),
                    ));
                }
                self.fired = Some(at);
            }
        }
        Control::Abort
    }
}

/// The trace event of one DFU object phase (`rig -vv`), the same from `rig dfu` and a campaign.
pub fn trace_dfu_object(e: &ProgressEvent) {
    tracing::trace!(
        image = e.image_index,
        phase = %e.phase,
        object = ?e.object,
        index = e.object_index,
        offset = e.offset,
        "dfu object"
    );
}
