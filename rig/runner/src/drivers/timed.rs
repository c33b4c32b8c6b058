//! Bounding blocking hardware calls in time. A library such as probe-rs blocks inside USB
//! transfers; the only way to never hang on it is to run it on a thread of its own and stop
//! waiting. A call that overran leaves the worker unusable: later calls fail at once, and the
//! caller re-opens the hardware.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

type Job<T> = Box<dyn FnOnce(&mut T) + Send>;

/// Why a timed call did not give a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("{what} did not finish within {limit:?}")]
    TimedOut { what: String, limit: Duration },
    #[error("{what} is not possible: an earlier call ({earlier}) overran or failed and left the worker unusable")]
    Poisoned { what: String, earlier: String },
    #[error("{what} panicked inside the hardware library: {message}")]
    Panicked { what: String, message: String },
}

/// How long dropping a worker waits for its thread to drop the state. probe-rs' `Session`
/// drop halts the core, clears the breakpoints, resumes it and disables halting debug
/// (probe-rs 0.32 src/session.rs `impl Drop for Session`, `halted_access`): a process that
/// exits in the middle of that leaves the DUT halted, silent until its next reset.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// A thread owning a `T` (a probe session, a port) that runs one call at a time. Dropping it
/// ends the thread and waits (at most [`CLOSE_LIMIT`]) until the state has been dropped there.
pub struct Worker<T: Send + 'static> {
    tx: Option<mpsc::Sender<Job<T>>>,
    poisoned: Option<String>,
    /// Closed by the thread once its state is dropped.
    closed: Option<mpsc::Receiver<()>>,
}

impl<T: Send + 'static> Worker<T> {
    /// Start the worker thread with its state.
    pub fn spawn(name: &str, state: T) -> Worker<T> {
        let (tx, rx) = mpsc::channel::<Job<T>>();
        let (closed_tx, closed) = mpsc::channel::<()>();
        let spawned = thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let mut state = state;
                while let Ok(job) = rx.recv() {
                    job(&mut state);
                }
                drop(state);
                drop(closed_tx);
            });
        match spawned {
            Ok(_) => Worker {
                tx: Some(tx),
                poisoned: None,
                closed: Some(closed),
            },
            Err(e) => Worker {
                tx: None,
                poisoned: Some(format!("starting thread {name}: {e}")),
                closed: None,
            },
        }
    }

    /// Run `f` on the worker's state; give up after `limit`.
    pub fn call<R: Send + 'static>(
        &mut self,
        what: &str,
        limit: Duration,
        f: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        if let Some(earlier) = &self.poisoned {
            return Err(CallError::Poisoned {
                what: what.to_string(),
                earlier: earlier.clone(),
            });
        }
        let (rtx, rrx) = mpsc::channel();
        let job: Job<T> = Box::new(move |state: &mut T| {
            let r = catch_unwind(AssertUnwindSafe(|| f(state)));
            let _ = rtx.send(r.map_err(|p| {
                p.downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into())
            }));
        });
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send(job).is_ok())
            .unwrap_or(false);
        if !sent {
            self.poison(what);
            return Err(CallError::Poisoned {
                what: what.to_string(),
                earlier: "worker thread gone".into(),
            });
        }
        match rrx.recv_timeout(limit) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(message)) => {
                self.poison(what);
                Err(CallError::Panicked {
                    what: what.to_string(),
                    message,
                })
            }
            Err(_) => {
                self.poison(what);
                Err(CallError::TimedOut {
                    what: what.to_string(),
                    limit,
                })
            }
        }
    }

    fn poison(&mut self, what: &str) {
        self.poisoned = Some(what.to_string());
        // Dropping the sender lets the thread end once the stuck call returns.
        self.tx = None;
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }
}

impl<T: Send + 'static> Drop for Worker<T> {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(closed) = self.closed.take() {
            // Disconnected once the thread dropped its state; a call stuck in the library
            // (a poisoned worker) is waited for no longer than the bound.
            let _ = closed.recv_timeout(CLOSE_LIMIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_run_in_order_on_the_state() {
        let mut w = Worker::spawn("t", 0u32);
        for i in 1..=3 {
            let v = w
                .call("inc", Duration::from_secs(5), move |s| {
                    *s += i;
                    *s
                })
                .unwrap();
            assert_eq!(v, [1, 3, 6][i as usize - 1]);
        }
    }

    #[test]
    fn overrun_poisons() {
        let mut w = Worker::spawn("t", ());
        let e = w
            .call("slow", Duration::from_millis(20), |_| {
                thread::sleep(Duration::from_millis(300))
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "slow did not finish within 20ms");
        assert!(w.is_poisoned());
        let e = w.call("next", Duration::from_secs(1), |_| 1).unwrap_err();
        assert!(matches!(e, CallError::Poisoned { ref earlier, .. } if earlier == "slow"));
    }

    /// `rig inspect` exited while its probe-rs session was still being dropped on the worker
    /// thread (halt, clear breakpoints, resume): the lab showed the DUT left halted.
    #[test]
    fn dropping_the_worker_waits_until_its_state_is_dropped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        struct SlowClose(Arc<AtomicBool>);
        impl Drop for SlowClose {
            fn drop(&mut self) {
                thread::sleep(Duration::from_millis(200));
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let done = Arc::new(AtomicBool::new(false));
        let mut w = Worker::spawn("t", SlowClose(done.clone()));
        w.call("touch", Duration::from_secs(5), |_| ()).unwrap();
        drop(w);
        assert!(
            done.load(Ordering::SeqCst),
            "the state was dropped before the worker's drop returned"
        );
    }

    #[test]
    fn panics_are_reported_not_propagated() {
        let mut w = Worker::spawn("t", ());
        let e = w
            .call("boom", Duration::from_secs(5), |_| -> u8 {
                panic!("not implemented here")
            })
            .unwrap_err();
        assert_eq!(
            e,
            CallError::Panicked {
                what: "boom".into(),
                message: "not implemented here".into()
            }
        );
    }
}
