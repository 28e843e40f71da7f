//! Login throttling, kept in the database so it holds across instances. Subjects are HMACs
//! (of the normalised email whether or not an account exists, of the client address, of the
//! account for one-time codes): throttling says nothing about which emails have accounts.
//!
//! An attempt is counted *before* it is checked, by one conditional `UPDATE … RETURNING`
//! that only passes while the subject is not blocked: a burst of parallel attempts is
//! counted one by one, and an attempt refused while blocked changes nothing, so failing
//! again never lifts a lock. A success clears the account's count; the client address only
//! gets its one attempt back.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use crate::db::schema::login_throttle;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::time;

/// The longest a subject stays locked, however often it was locked before.
const LONGEST_LOCK: Duration = Duration::hours(24);
/// Locks are forgotten (the next one is short again) after this long without an attempt.
const LOCK_MEMORY: Duration = Duration::hours(24);

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts allowed before each further attempt must wait (1 s, 2 s, 4 s, … up to 64 s).
    pub free_failures: i32,
    /// The attempt that reaches this count locks the subject for `lockout`, doubled for each
    /// lock already served within a day (at most 24 h).
    pub lockout_after: i32,
    pub lockout: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            lockout_after: 10,
            lockout: Duration::minutes(15),
            window: Duration::hours(1),
        }
    }
}

impl Policy {
    /// How long the subject must wait after its `count`-th attempt, given the locks it has
    /// already served (`lockouts`); `None` when it may try again at once.
    fn wait_after(&self, count: i32, lockouts: i32) -> Option<Duration> {
        if count >= self.lockout_after {
            let doubling = u32::try_from(lockouts.clamp(0, 16)).unwrap_or(16);
            let lock = self.lockout.checked_mul(1 << doubling).unwrap_or(LONGEST_LOCK);
            return Some(lock.min(LONGEST_LOCK));
        }
        if count > self.free_failures {
            let exponent = u32::try_from((count - self.free_failures - 1).clamp(0, 6)).unwrap_or(6);
            return Some(Duration::seconds(1i64 << exponent));
        }
        None
    }
}

/// Numbered placeholders for the backend: `$n` on PostgreSQL, `?n` on SQLite (where `$n`
/// would be a *named* parameter, numbered by first appearance rather than by `n`).
fn numbered(conn: &DbConn, sql: &str) -> String {
    match conn {
        DbConn::Pg(_) => sql.to_owned(),
        DbConn::Sqlite(_) => sql.replace('$', "?"),
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Integer)]
    lockouts: i32,
}

/// Counts one attempt for `subject` before it is checked. `Ok(Err(until))` when the subject
/// is blocked: nothing is counted then, and the block stays as it is.
pub fn reserve(
    conn: &mut DbConn,
    policy: &Policy,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), DateTime<Utc>>> {
    let at = time::to_db(now);
    write_tx(conn, |conn| {
        diesel::sql_query(numbered(
            conn,
            "INSERT INTO login_throttle (subject, failures, last_failure_at, locked_until, lockouts) \
             VALUES ($1, 0, $2, NULL, 0) ON CONFLICT DO NOTHING",
        ))
        .bind::<Text, _>(subject)
        .bind::<Timestamp, _>(at)
        .execute(conn)?;
        // One statement decides and counts: on PostgreSQL concurrent attempts queue on the
        // row lock and each re-reads the row it counts; on SQLite the write lock is held.
        let counted: Option<Counted> = diesel::sql_query(numbered(
            conn,
            "UPDATE login_throttle SET \
               failures = CASE WHEN last_failure_at < $3 THEN 1 ELSE failures + 1 END, \
               lockouts = CASE WHEN last_failure_at < $4 THEN 0 ELSE lockouts END, \
               last_failure_at = $2 \
             WHERE subject = $1 AND (locked_until IS NULL OR locked_until <= $2) \
             RETURNING failures, lockouts",
        ))
        .bind::<Text, _>(subject)
        .bind::<Timestamp, _>(at)
        .bind::<Timestamp, _>(time::to_db(now - policy.window))
        .bind::<Timestamp, _>(time::to_db(now - LOCK_MEMORY))
        .get_result(conn)
        .optional()?;
        let Some(counted) = counted else {
            return Ok(Err(blocked_until(conn, subject)?.unwrap_or(now + Duration::seconds(1))));
        };
        if let Some(wait) = policy.wait_after(counted.failures, counted.lockouts) {
            let locks = counted.failures >= policy.lockout_after;
            // Still under the row lock taken by the update above.
            diesel::sql_query(numbered(
                conn,
                "UPDATE login_throttle SET locked_until = $2, \
                   failures = CASE WHEN $3 = 1 THEN 0 ELSE failures END, \
                   lockouts = lockouts + $3 \
                 WHERE subject = $1",
            ))
            .bind::<Text, _>(subject)
            .bind::<Nullable<Timestamp>, _>(Some(time::to_db(now + wait)))
            .bind::<Integer, _>(i32::from(locks))
            .execute(conn)?;
        }
        Ok(Ok(()))
    })
}

/// When the subject may try again, if it is blocked now.
pub fn blocked_until(conn: &mut DbConn, subject: &str) -> Result<Option<DateTime<Utc>>> {
    let until: Option<Option<chrono::NaiveDateTime>> = login_throttle::table
        .find(subject)
        .select(login_throttle::locked_until)
        .first(conn)
        .optional()?;
    let now = time::now();
    Ok(until.flatten().map(time::from_db).filter(|u| *u > now))
}

/// Whether the subject is locked (not merely slowed down) right now: for the audit.
pub fn is_locked(conn: &mut DbConn, subject: &str) -> Result<bool> {
    let lockouts: Option<(i32, Option<chrono::NaiveDateTime>)> = login_throttle::table
        .find(subject)
        .select((login_throttle::lockouts, login_throttle::locked_until))
        .first(conn)
        .optional()?;
    let now = time::to_db(time::now());
    Ok(lockouts.is_some_and(|(n, until)| n > 0 && until.is_some_and(|u| u > now)))
}

/// A success: the subject's count and locks are forgotten.
pub fn clear(conn: &mut DbConn, subject: &str) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(login_throttle::table.find(subject)).execute(conn)?;
        Ok(())
    })
}

/// A success from a shared subject (a client address): its one attempt is given back, and
/// nothing else, so that one good account cannot wash away the failures against others.
pub fn give_back(conn: &mut DbConn, subject: &str) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(
            login_throttle::table
                .find(subject)
                .filter(login_throttle::failures.gt(0)),
        )
        .set(login_throttle::failures.eq(login_throttle::failures - 1))
        .execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_then_lock_and_locks_double_up_to_a_day() {
        let policy = Policy::default();
        assert_eq!(policy.wait_after(3, 0), None);
        assert_eq!(policy.wait_after(4, 0), Some(Duration::seconds(1)));
        assert_eq!(policy.wait_after(5, 0), Some(Duration::seconds(2)));
        assert_eq!(policy.wait_after(10, 0), Some(Duration::minutes(15)));
        assert_eq!(policy.wait_after(10, 1), Some(Duration::minutes(30)));
        assert_eq!(policy.wait_after(10, 3), Some(Duration::hours(2)));
        assert_eq!(policy.wait_after(10, 16), Some(LONGEST_LOCK));
    }
}
