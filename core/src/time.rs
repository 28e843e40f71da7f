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
