//! Login throttling, kept in the database so it holds across instances. Keyed by an HMAC of
//! the normalised email whether or not an account exists: throttling says nothing about
//! which emails have accounts.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::login_throttle;
use crate::error::Result;
use crate::time;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures allowed before each further attempt must wait.
    pub free_failures: i32,
    /// After this many failures in a row the subject is locked for `lockout`.
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

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = login_throttle, treat_none_as_null = true)]
struct Row {
    subject: String,
    failures: i32,
    last_failure_at: chrono::NaiveDateTime,
    locked_until: Option<chrono::NaiveDateTime>,
}

/// When the subject may try again, if not now.
pub fn blocked_until(
    conn: &mut DbConn,
    policy: &Policy,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let row: Option<Row> = login_throttle::table
        .find(subject)
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if let Some(until) = row.locked_until.map(time::from_db)
        && until > now
    {
        return Ok(Some(until));
    }
    let last = time::from_db(row.last_failure_at);
    if now - last > policy.window || row.failures <= policy.free_failures {
        return Ok(None);
    }
    let exponent = u32::try_from((row.failures - policy.free_failures - 1).clamp(0, 6)).unwrap_or(6);
    let wait = Duration::seconds(1i64 << exponent);
    let next = last + wait;
    Ok((next > now).then_some(next))
}

/// Counts one failure; returns whether this failure locked the subject.
pub fn record_failure(conn: &mut DbConn, policy: &Policy, subject: &str, now: DateTime<Utc>) -> Result<bool> {
    let existing: Option<Row> = login_throttle::table
        .find(subject)
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    let failures = match &existing {
        Some(row) if now - time::from_db(row.last_failure_at) <= policy.window => row.failures + 1,
        _ => 1,
    };
    let locked = failures >= policy.lockout_after;
    let row = Row {
        subject: subject.to_owned(),
        failures: if locked { 0 } else { failures },
        last_failure_at: time::to_db(now),
        locked_until: locked.then(|| time::to_db(now + policy.lockout)),
    };
    if existing.is_some() {
        diesel::update(login_throttle::table.find(subject))
            .set(&row)
            .execute(conn)?;
    } else {
        diesel::insert_into(login_throttle::table).values(&row).execute(conn)?;
    }
    Ok(locked)
}

pub fn clear(conn: &mut DbConn, subject: &str) -> Result<()> {
    diesel::delete(login_throttle::table.find(subject)).execute(conn)?;
    Ok(())
}
