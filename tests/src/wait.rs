//! Waits that fail: every wait has a generous bound and, when it passes, fails with what it
//! waited for and what it saw, instead of handing back whatever happened to be there.

use std::fmt;
use std::future::Future;
use std::time::Duration;

/// The bound of the harness's waits: generous, for a loaded two-core machine.
pub const BOUND: Duration = Duration::from_secs(20);

/// A wait that reached its bound, with what it saw meanwhile.
pub struct TimedOut<T> {
    pub wanted: String,
    pub after: Duration,
    pub seen: Vec<T>,
}

impl<T: fmt::Debug> fmt::Debug for TimedOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:?} waiting for {}; saw {} item(s): {:#?}",
            self.after,
            self.wanted,
            self.seen.len(),
            self.seen
        )
    }
}

impl<T: fmt::Debug> fmt::Display for TimedOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Polls `snapshot` until it holds at least `count` items that `matches`; Ok with the
/// matching items, or Err with every item seen at the bound.
pub async fn collect<T: Clone>(
    wanted: impl Into<String>,
    count: usize,
    bound: Duration,
    snapshot: impl Fn() -> Vec<T>,
    matches: impl Fn(&T) -> bool,
) -> Result<Vec<T>, TimedOut<T>> {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        let all = snapshot();
        let found: Vec<T> = all.iter().filter(|c| matches(c)).cloned().collect();
        if found.len() >= count {
            return Ok(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(TimedOut {
                wanted: format!("{count} × {}", wanted.into()),
                after: bound,
                seen: all,
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls an async probe until `holds` accepts what it returns (within [`BOUND`]); panics
/// with the last value seen otherwise. Replaces fixed sleeps before an exact assertion.
pub async fn until<T: fmt::Debug, F: Future<Output = T>>(
    wanted: &str,
    mut probe: impl FnMut() -> F,
    holds: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        let value = probe().await;
        if holds(&value) {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {BOUND:?} waiting for {wanted}; last seen: {value:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
