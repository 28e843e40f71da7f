//! The email outbox: a notification to a centre is a row here, written in the transaction
//! of what it tells (a referral, a booking, a cancellation, a no-show), then sent by a worker
//! on any instance through the one outbox protocol ([`crate::outbox`]). Bodies carry an
//! alias and a link, never a person's detail. `{base}` in a body is the public URL, filled in
//! when the mail is sent.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::email_outbox;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::outbox::{self, Claim, Outcome, Status, Table};
use crate::time;

pub const TABLE: Table = Table::new("email_outbox", "created_at");

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_outbox)]
pub struct Email {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub locked_until: Option<chrono::NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
}

/// Queues a mail. Call inside the transaction of its cause.
pub fn enqueue(conn: &mut DbConn, to: &str, subject: &str, body: &str) -> Result<()> {
    enqueue_at(conn, time::now(), to, subject, body)
}

/// Queues a mail due at `now` (the caller's clock).
pub fn enqueue_at(conn: &mut DbConn, now: DateTime<Utc>, to: &str, subject: &str, body: &str) -> Result<()> {
    write_tx(conn, |conn| {
        let now = time::to_db(now);
        diesel::insert_into(email_outbox::table)
            .values(&Email {
                id: uuid::Uuid::new_v4().to_string(),
                to_address: to.to_owned(),
                subject: subject.to_owned(),
                body: body.to_owned(),
                status: TABLE.spell(Status::Pending).to_owned(),
                attempts: 0,
                next_attempt_at: now,
                locked_until: None,
                last_error: None,
                created_at: now,
                sent_at: None,
            })
            .execute(conn)?;
        outbox::mark_enqueued(&TABLE);
        Ok(())
    })
}

/// Claims up to `limit` due mails for `lease` (a crashed sender's mails come back after it).
pub fn claim(conn: &mut DbConn, now: DateTime<Utc>, lease: Duration, limit: i64) -> Result<Vec<(Claim, Email)>> {
    write_tx(conn, |conn| {
        let claims = outbox::claim_due(conn, &TABLE, now, lease, limit)?;
        let mut claimed = Vec::with_capacity(claims.len());
        for claim in claims {
            let mail = email_outbox::table
                .find(&claim.id)
                .select(Email::as_select())
                .first(conn)?;
            claimed.push((claim, mail));
        }
        Ok(claimed)
    })
}

/// Records a mail's fate; false when `claim` no longer holds it (nothing changed).
pub fn settle(conn: &mut DbConn, claim: &Claim, outcome: &Outcome, now: DateTime<Utc>) -> Result<bool> {
    outbox::settle(conn, &TABLE, claim, outcome, now)
}

/// Erases the mails sent or given up before `before` (they name their recipient).
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize> {
    outbox::purge(conn, &TABLE, before)
}
