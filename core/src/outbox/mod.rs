//! One protocol for every outbox table (the text line's `outbox`, `email_outbox`,
//! `webhook_deliveries`). A row is written in the transaction of its cause, then drained by
//! workers on any instance:
//!
//! - **claim**: a compare-and-set from a due row (`pending` and due, or `sending` with its
//!   lease run out) to `sending`, with a lease and a fresh fencing token;
//! - **settle**: `Sent`, `Retry(at)`, `Defer(at)` (the provider asked us to slow down: not a
//!   failed attempt) or `Dead(reason)`, matched on the claim's token, so a worker whose lease
//!   ran out and whose row was claimed again changes nothing;
//! - **release**: a worker that stops hands its claims back untouched;
//! - **retry policy**: one type, exponential with a cap (or an explicit schedule), and a
//!   maximum number of attempts;
//! - **purge**: finished rows go after a configured delay;
//! - **waking**: an enqueue marks its table on the current thread; the edge reads the marks
//!   after its storage call returns and wakes that table's worker (see [`take_enqueued`]).
//!
//! Each table keeps only what is its own (text line: head-of-chat order and pacing; webhooks:
//! attempt logs, dead letters and replay). Statements are plain SQL over the shared columns
//! (`id`, `status`, `attempts`, `next_attempt_at`, `locked_until`, `claim_token`,
//! `last_error`, `created_at`), with numbered placeholders for either backend.

use std::cell::RefCell;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

/// Where a row is in the protocol. A table spells the two ends its own way ([`Table`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Sending,
    Sent,
    Dead,
}

/// One outbox table: its name and how it spells its statuses.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    /// The spelling of [`Status::Sent`] (`sent`, or `delivered` for partners).
    pub sent: &'static str,
    /// The spelling of [`Status::Dead`] (`failed`, or `dead` for partners).
    pub dead: &'static str,
    /// The column stamped when a row is sent, if the table has one.
    pub sent_at: Option<&'static str>,
    /// Whether rows still waiting are purged too, once older than the delay (partners'
    /// messages that never had an endpoint to go to).
    pub purge_waiting: bool,
    /// Rows that hang off this table's rows and go with them: (table, column naming the row).
    pub children: &'static [(&'static str, &'static str)],
    /// An extra SQL condition a row must meet to be claimable (empty, or ` AND …`).
    pub ready: &'static str,
    /// The order rows are claimed in.
    pub order: &'static str,
}

impl Table {
    /// A table that spells `sent` and `failed`, stamps `sent_at`, keeps waiting rows and has
    /// nothing hanging off its rows.
    pub const fn new(name: &'static str, order: &'static str) -> Self {
        Self {
            name,
            sent: "sent",
            dead: "failed",
            sent_at: Some("sent_at"),
            purge_waiting: false,
            children: &[],
            ready: "",
            order,
        }
    }

    pub fn spell(&self, status: Status) -> &'static str {
        match status {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => self.sent,
            Status::Dead => self.dead,
        }
    }

    pub fn status(&self, text: &str) -> Result<Status> {
        [Status::Pending, Status::Sending, Status::Sent, Status::Dead]
            .into_iter()
            .find(|s| self.spell(*s) == text)
            .ok_or_else(|| Error::Internal(format!("{}: unknown status {text:?}", self.name)))
    }
}

/// What a worker holds after a claim: the row, its attempts so far and the fencing token
/// every settle must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: String,
    pub token: String,
    /// Attempts finished before this one.
    pub attempts: i32,
}

/// The fate of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; try again at this time (a counted attempt).
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Not tried for good (the provider asked to wait): again at this time, not counted.
    Defer {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed for good.
    Dead(String),
}

/// How many times to try, and how long to wait between tries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    waits: Waits,
    max_attempts: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Waits {
    /// `first`, doubled after each failure, never more than `cap`.
    Exponential { first: Duration, cap: Duration },
    /// The wait after the n-th failure is the n-th entry.
    Schedule(Vec<Duration>),
}

impl RetryPolicy {
    /// Waits of `first`, then twice as long each time up to `cap`; dead after `max_attempts`.
    pub fn exponential(first: Duration, cap: Duration, max_attempts: i32) -> Self {
        Self {
            waits: Waits::Exponential { first, cap },
            max_attempts: max_attempts.max(1),
        }
    }

    /// These waits in turn; dead after the last (so one attempt more than waits).
    pub fn schedule(waits: Vec<Duration>) -> Self {
        let max_attempts = i32::try_from(waits.len()).unwrap_or(i32::MAX - 1) + 1;
        Self {
            waits: Waits::Schedule(waits),
            max_attempts,
        }
    }

    pub fn max_attempts(&self) -> i32 {
        self.max_attempts
    }

    /// The wait after `failed` attempts (this one included), or None when they are spent.
    pub fn wait_after(&self, failed: i32) -> Option<Duration> {
        if failed >= self.max_attempts || failed < 1 {
            return None;
        }
        match &self.waits {
            Waits::Exponential { first, cap } => {
                let doublings = u32::try_from(failed - 1).unwrap_or(0).min(30);
                let wait = first.checked_mul(1 << doublings).unwrap_or(*cap);
                Some(wait.min(*cap))
            }
            Waits::Schedule(waits) => waits.get(usize::try_from(failed - 1).ok()?).copied(),
        }
    }

    /// The outcome of a failed attempt of `claim`: retried later, or dead.
    pub fn failed(&self, claim: &Claim, now: DateTime<Utc>, error: &str) -> Outcome {
        match self.wait_after(claim.attempts + 1) {
            Some(wait) => Outcome::Retry {
                at: now + wait,
                error: error.to_owned(),
            },
            None => Outcome::Dead(error.to_owned()),
        }
    }
}

/// Numbered placeholders for the backend: `$n` on PostgreSQL, `?n` on SQLite (where `$n`
/// would be a *named* parameter, numbered by first appearance rather than by `n`).
pub fn numbered(conn: &DbConn, sql: &str) -> String {
    match conn {
        DbConn::Pg(_) => sql.to_owned(),
        DbConn::Sqlite(_) => sql.replace('$', "?"),
    }
}

#[derive(QueryableByName)]
struct Attempts {
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

#[derive(QueryableByName)]
pub(crate) struct Id {
    #[diesel(sql_type = Text)]
    pub(crate) id: String,
}

#[derive(QueryableByName)]
struct At {
    #[diesel(sql_type = Nullable<Timestamp>)]
    at: Option<NaiveDateTime>,
}

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Claims row `id` if it is due at `now`, for `lease`. None when it is not (another worker
/// has it, or it was settled meanwhile).
pub fn claim(conn: &mut DbConn, table: &Table, id: &str, now: DateTime<Utc>, lease: Duration) -> Result<Option<Claim>> {
    write_tx(conn, |conn| {
        let token = new_token();
        let t = table.name;
        let sql = format!(
            "UPDATE {t} SET status = 'sending', claim_token = $1, locked_until = $2 \
             WHERE id = $3 AND ((status = 'pending' AND next_attempt_at <= $4) \
               OR (status = 'sending' AND locked_until < $4)) \
             RETURNING attempts"
        );
        let taken: Option<Attempts> = diesel::sql_query(numbered(conn, &sql))
            .bind::<Text, _>(&token)
            .bind::<Timestamp, _>(time::to_db(now + lease))
            .bind::<Text, _>(id)
            .bind::<Timestamp, _>(time::to_db(now))
            .get_result(conn)
            .optional()?;
        Ok(taken.map(|row| Claim {
            id: id.to_owned(),
            token,
            attempts: row.attempts,
        }))
    })
}

/// The predicate of the tables' partial indexes of unfinished rows, written word for word in
/// the queries that should use them (SQLite's planner matches it as text, not with bound
/// parameters).
pub const UNFINISHED: &str = "status IN ('pending', 'sending')";

/// The query of [`due_ids`]: unfinished rows in claim order, through the table's partial
/// index, so that it stops after `limit` due rows whatever the backlog.
pub fn due_query(table: &Table) -> String {
    format!(
        "SELECT id FROM {t} WHERE {UNFINISHED} AND ((status = 'pending' AND next_attempt_at <= $1) \
           OR (status = 'sending' AND locked_until < $1)){ready} \
         ORDER BY {order} LIMIT $2",
        t = table.name,
        ready = table.ready,
        order = table.order
    )
}

/// The oldest due rows (up to `limit`), for tables with no order of their own.
pub fn due_ids(conn: &mut DbConn, table: &Table, now: DateTime<Utc>, limit: i64) -> Result<Vec<String>> {
    let sql = due_query(table);
    let rows: Vec<Id> = diesel::sql_query(numbered(conn, &sql))
        .bind::<Timestamp, _>(time::to_db(now))
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Claims the oldest due rows, one compare-and-set each.
pub fn claim_due(
    conn: &mut DbConn,
    table: &Table,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Claim>> {
    write_tx(conn, |conn| {
        let mut claimed = Vec::new();
        for id in due_ids(conn, table, now, limit)? {
            claimed.extend(claim(conn, table, &id, now, lease)?);
        }
        Ok(claimed)
    })
}

/// Records the outcome of `claim`'s attempt. False when the claim no longer holds the row
/// (its lease ran out and another worker claimed it, or it was released): nothing changed.
pub fn settle(conn: &mut DbConn, table: &Table, claim: &Claim, outcome: &Outcome, now: DateTime<Utc>) -> Result<bool> {
    write_tx(conn, |conn| {
        let (status, counted, next, error) = match outcome {
            Outcome::Sent => (Status::Sent, 1, now, None),
            Outcome::Retry { at, error } => (Status::Pending, 1, *at, Some(error.as_str())),
            Outcome::Defer { at, error } => (Status::Pending, 0, *at, Some(error.as_str())),
            Outcome::Dead(reason) => (Status::Dead, 1, now, Some(reason.as_str())),
        };
        let stamp = match (status, table.sent_at) {
            (Status::Sent, Some(column)) => format!(", {column} = $4"),
            _ => String::new(),
        };
        let t = table.name;
        let sql = format!(
            "UPDATE {t} SET status = $1, attempts = attempts + $2, next_attempt_at = $3, \
               last_error = COALESCE($5, last_error), locked_until = NULL, claim_token = NULL{stamp} \
             WHERE id = $6 AND status = 'sending' AND claim_token = $7"
        );
        let updated = diesel::sql_query(numbered(conn, &sql))
            .bind::<Text, _>(table.spell(status))
            .bind::<Integer, _>(counted)
            .bind::<Timestamp, _>(time::to_db(next))
            .bind::<Timestamp, _>(time::to_db(now))
            .bind::<Nullable<Text>, _>(error)
            .bind::<Text, _>(&claim.id)
            .bind::<Text, _>(&claim.token)
            .execute(conn)?;
        Ok(updated == 1)
    })
}

/// Hands a claimed row back, untried: it is due again at once for any worker.
pub fn release(conn: &mut DbConn, table: &Table, claim: &Claim) -> Result<bool> {
    write_tx(conn, |conn| {
        let t = table.name;
        let sql = format!(
            "UPDATE {t} SET status = 'pending', locked_until = NULL, claim_token = NULL \
             WHERE id = $1 AND status = 'sending' AND claim_token = $2"
        );
        let updated = diesel::sql_query(numbered(conn, &sql))
            .bind::<Text, _>(&claim.id)
            .bind::<Text, _>(&claim.token)
            .execute(conn)?;
        Ok(updated == 1)
    })
}

/// When the next row falls due (a retry's time, or a lease running out), if any is waiting.
pub fn next_due(conn: &mut DbConn, table: &Table) -> Result<Option<DateTime<Utc>>> {
    let t = table.name;
    let sql = format!(
        "SELECT MIN(CASE WHEN status = 'pending' THEN next_attempt_at ELSE locked_until END) AS at \
         FROM {t} WHERE status IN ('pending', 'sending'){ready}",
        ready = table.ready
    );
    let row: At = diesel::sql_query(sql).get_result(conn)?;
    Ok(row.at.map(time::from_db))
}

/// Erases the rows finished before `before` (and, for a table that says so, those still
/// waiting), with the rows that hang off them. Never a row being sent.
pub fn purge(conn: &mut DbConn, table: &Table, before: DateTime<Utc>) -> Result<usize> {
    let t = table.name;
    let statuses = if table.purge_waiting {
        format!("'pending', '{}', '{}'", table.sent, table.dead)
    } else {
        format!("'{}', '{}'", table.sent, table.dead)
    };
    let rows = format!("SELECT id FROM {t} WHERE created_at < $1 AND status IN ({statuses})");
    crate::db::write_tx(conn, |conn| {
        for (child, column) in table.children {
            diesel::sql_query(numbered(
                conn,
                &format!("DELETE FROM {child} WHERE {column} IN ({rows})"),
            ))
            .bind::<Timestamp, _>(time::to_db(before))
            .execute(conn)?;
        }
        Ok(
            diesel::sql_query(numbered(conn, &format!("DELETE FROM {t} WHERE id IN ({rows})")))
                .bind::<Timestamp, _>(time::to_db(before))
                .execute(conn)?,
        )
    })
}

thread_local! {
    static ENQUEUED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Notes that a row was queued in `table` on this thread (called by each table's enqueue).
pub fn mark_enqueued(table: &Table) {
    ENQUEUED.with(|marks| {
        let mut marks = marks.borrow_mut();
        if !marks.contains(&table.name) {
            marks.push(table.name);
        }
    });
}

/// The tables a row was queued in on this thread since the last call. The edge calls it
/// right after a storage call returns (its transaction is over), then wakes their workers.
/// A mark left by a transaction that rolled back only wakes a worker for nothing.
pub fn take_enqueued() -> Vec<&'static str> {
    ENQUEUED.with(|marks| std::mem::take(&mut *marks.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(attempts: i32) -> Claim {
        Claim {
            id: "x".into(),
            token: "t".into(),
            attempts,
        }
    }

    #[test]
    fn exponential_waits_double_up_to_the_cap_then_the_row_is_dead() {
        let policy = RetryPolicy::exponential(Duration::seconds(1), Duration::seconds(5), 5);
        let waits: Vec<Option<i64>> = (1..=5).map(|n| policy.wait_after(n).map(|w| w.num_seconds())).collect();
        assert_eq!(waits, [Some(1), Some(2), Some(4), Some(5), None]);
        let now = time::now();
        assert!(
            matches!(policy.failed(&claim(3), now, "e"), Outcome::Retry { at, .. } if at == now + Duration::seconds(5))
        );
        assert_eq!(policy.failed(&claim(4), now, "e"), Outcome::Dead("e".into()));
    }

    #[test]
    fn a_schedule_gives_its_waits_in_turn_and_one_attempt_more_than_waits() {
        let policy = RetryPolicy::schedule(vec![Duration::seconds(5), Duration::seconds(300)]);
        assert_eq!(policy.max_attempts(), 3);
        assert_eq!(policy.wait_after(1), Some(Duration::seconds(5)));
        assert_eq!(policy.wait_after(2), Some(Duration::seconds(300)));
        assert_eq!(policy.wait_after(3), None);
    }

    #[test]
    fn marks_are_taken_once() {
        let table = Table::new("t", "created_at");
        mark_enqueued(&table);
        mark_enqueued(&table);
        assert_eq!(take_enqueued(), ["t"]);
        assert!(take_enqueued().is_empty());
    }
}
