//! The evidence an iteration keeps: a bounded tail of protocol events and RTT log lines on one
//! timeline (milliseconds of the runtime clock since the iteration started). Bounded so a
//! chatty device cannot make a journal line megabytes long; what was dropped is counted.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Lines kept per kind.
pub const MAX_LINES: usize = 64;
/// Characters kept per line.
pub const MAX_LINE_CHARS: usize = 240;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Protocol events, faults, read-backs: the last [`MAX_LINES`].
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub events: VecDeque<Line>,
    /// RTT (or UART log) lines from the device: the last [`MAX_LINES`].
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub rtt: VecDeque<Line>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_events: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_rtt: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub t_ms: u64,
    pub text: String,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.rtt.is_empty()
            && self.dropped_events == 0
            && self.dropped_rtt == 0
    }

    pub fn event(&mut self, t_ms: u64, text: impl Into<String>) {
        push(
            &mut self.events,
            &mut self.dropped_events,
            t_ms,
            text.into(),
        );
    }

    pub fn rtt_line(&mut self, t_ms: u64, text: impl Into<String>) {
        push(&mut self.rtt, &mut self.dropped_rtt, t_ms, text.into());
    }

    /// Events and RTT lines merged in time order, as text for JUnit `system-out`.
    pub fn timeline(&self) -> String {
        let mut lines: Vec<(u64, u8, &str)> = self
            .events
            .iter()
            .map(|l| (l.t_ms, 0u8, l.text.as_str()))
            .chain(self.rtt.iter().map(|l| (l.t_ms, 1u8, l.text.as_str())))
            .collect();
        // Stable: equal times keep events before RTT, each in arrival order.
        lines.sort_by_key(|(t, k, _)| (*t, *k));
        let mut out = String::new();
        if self.dropped_events + self.dropped_rtt > 0 {
            out.push_str(&format!(
                "({} earlier events and {} earlier RTT lines dropped)\n",
                self.dropped_events, self.dropped_rtt
            ));
        }
        for (t, k, text) in lines {
            let tag = if k == 0 { "event" } else { "rtt" };
            out.push_str(&format!("{:>9.3} s {tag:<5} {text}\n", t as f64 / 1000.0));
        }
        out
    }
}

fn push(lines: &mut VecDeque<Line>, dropped: &mut u64, t_ms: u64, text: String) {
    let text = if text.chars().count() > MAX_LINE_CHARS {
        let mut t: String = text.chars().take(MAX_LINE_CHARS - 1).collect();
        t.push('…');
        t
    } else {
        text
    };
    if lines.len() == MAX_LINES {
        lines.pop_front();
        *dropped += 1;
    }
    lines.push_back(Line { t_ms, text });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_and_counts_the_rest() {
        let mut e = Evidence::default();
        assert!(e.is_empty());
        for i in 0..(MAX_LINES as u64 + 10) {
            e.event(i, format!("event {i}"));
        }
        assert_eq!(e.events.len(), MAX_LINES);
        assert_eq!(e.dropped_events, 10);
        assert_eq!(e.events.front().unwrap().text, "event 10");
        assert!(!e.is_empty());
    }

    #[test]
    fn long_lines_are_cut() {
        let mut e = Evidence::default();
        e.rtt_line(0, "x".repeat(1000));
        assert_eq!(e.rtt[0].text.chars().count(), MAX_LINE_CHARS);
        assert!(e.rtt[0].text.ends_with('…'));
    }

    #[test]
    fn timeline_merges_in_time_order() {
        let mut e = Evidence::default();
        e.event(1500, "CREATE data #3");
        e.rtt_line(1200, "<info> app: erase");
        e.event(100, "connected");
        assert_eq!(
            e.timeline(),
            "    0.100 s event connected\n    1.200 s rtt   <info> app: erase\n    1.500 s event CREATE data #3\n"
        );
    }
}
