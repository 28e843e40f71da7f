//! Every timestamp is UTC. The database stores naive UTC values (portable `TIMESTAMP`);
//! conversion happens here only.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// Now by the clock this work runs under: the instance's [`Clock`] while one is set on this
/// thread ([`Clock::run`]: the api sets its `AppState` clock around every storage call and
/// every worker step), the real time otherwise (start-up, the command line). Truncated to
/// microseconds so a value read back from either database equals it.
///
/// Core never reads the system time itself: this is the one door, so that a test that moves
/// the instance's clock moves every stamp and every deadline of the work it does.
pub fn now() -> DateTime<Utc> {
    CURRENT
        .with(|current| current.borrow().as_ref().map(Clock::now))
        .unwrap_or_else(real_now)
}

fn real_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

thread_local! {
    /// The clock of the work running on this thread, if any (see [`Clock::run`]).
    static CURRENT: std::cell::RefCell<Option<Clock>> = const { std::cell::RefCell::new(None) };
}

pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The server's clock: the real time, moved forward by an offset that tests set to reach
/// reminders and notice periods without waiting. Shared by every part of one instance.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_seconds: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        real_now() + chrono::Duration::seconds(self.offset_seconds.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Runs `f` with this clock as the one [`now`] reads on this thread, and restores the one
    /// before (if any) when `f` returns or panics. Core is synchronous: everything `f` does
    /// runs on this thread.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<Clock>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|current| *current.borrow_mut() = previous);
            }
        }
        let _restore = Restore(CURRENT.with(|current| current.replace(Some(self.clone()))));
        f()
    }

    /// Moves this clock forward (tests only have a use for it).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::{Clock, now};

    #[test]
    fn now_reads_the_clock_the_work_runs_under_and_the_real_time_outside() {
        let moved = Clock::default();
        moved.advance(chrono::Duration::days(30));
        let real = now();
        let inside = moved.run(|| {
            let other = Clock::default();
            other.advance(chrono::Duration::days(400));
            // Nested: the inner clock while it runs, the outer one again after.
            let nested = other.run(now);
            assert!(nested - real >= chrono::Duration::days(400));
            now()
        });
        assert!(inside - real >= chrono::Duration::days(30) && inside - real < chrono::Duration::days(31));
        assert!(
            now() - real < chrono::Duration::days(1),
            "the clock is restored after the run"
        );
        // And after a panic inside a run.
        let _ = std::panic::catch_unwind(|| moved.run(|| panic!("inside")));
        assert!(now() - real < chrono::Duration::days(1));
    }
}
