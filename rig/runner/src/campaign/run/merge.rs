//! The journal of DUTs that run on threads of their own, in the order one thread would have
//! written it: by simulated time of writing, then DUT index, each DUT's lines in their order.
//! A line goes out once every DUT still running has a line waiting (so none can come earlier).

use std::collections::VecDeque;
use std::time::Duration;

pub(super) struct Merge {
    queues: Vec<VecDeque<(Duration, Vec<u8>)>>,
    done: Vec<bool>,
}

impl Merge {
    pub(super) fn new(duts: usize) -> Merge {
        Merge {
            queues: (0..duts).map(|_| VecDeque::new()).collect(),
            done: vec![false; duts],
        }
    }

    /// DUT `dut` wrote `line` at simulated time `t` (never earlier than its previous line).
    pub(super) fn push(&mut self, dut: usize, t: Duration, line: Vec<u8>) {
        self.queues[dut].push_back((t, line));
    }

    /// DUT `dut` writes no more lines.
    pub(super) fn finish(&mut self, dut: usize) {
        self.done[dut] = true;
    }

    /// The next line in order, if it is known yet.
    pub(super) fn pop(&mut self) -> Option<Vec<u8>> {
        let mut best: Option<(Duration, usize)> = None;
        for (k, q) in self.queues.iter().enumerate() {
            match q.front() {
                None if !self.done[k] => return None,
                None => {}
                Some((t, _)) => {
                    if best.is_none_or(|(bt, _)| *t < bt) {
                        best = Some((*t, k));
                    }
                }
            }
        }
        let (_, k) = best?;
        self.queues[k].pop_front().map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn drain(m: &mut Merge) -> Vec<String> {
        std::iter::from_fn(|| m.pop())
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn waits_for_every_running_dut_then_orders_by_time_then_index() {
        let mut m = Merge::new(3);
        m.push(2, ms(5), b"c5".to_vec());
        m.push(0, ms(7), b"a7".to_vec());
        // DUT 1 has written nothing yet: it may still write something before 5 ms.
        assert_eq!(m.pop(), None);
        m.push(1, ms(5), b"b5".to_vec());
        m.push(1, ms(9), b"b9".to_vec());
        // Equal times: the lower index first; then a DUT with no line waiting blocks again.
        assert_eq!(drain(&mut m), ["b5", "c5"]);
        m.finish(2);
        // DUT 0 still runs and may write before 9 ms: b9 waits for it.
        assert_eq!(drain(&mut m), ["a7"]);
        assert_eq!(m.pop(), None);
        m.push(0, ms(9), b"a9".to_vec());
        m.finish(1);
        // One DUT's own lines keep their order whatever their times.
        m.push(0, ms(9), b"a9b".to_vec());
        m.finish(0);
        assert_eq!(drain(&mut m), ["a9", "a9b", "b9"]);
    }
}
