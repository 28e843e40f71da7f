//! Every timestamp is UTC. The database stores naive UTC values (portable `TIMESTAMP`);
//! conversion happens here only.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// Now, truncated to microseconds so a value read back from either database equals it.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
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
        now() + chrono::Duration::seconds(self.offset_seconds.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock forward (tests only have a use for it).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }
}
